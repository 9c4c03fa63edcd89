// Whether and where an agent serves its web view: what `--ui` chose, the token a non-loopback bind
// asks for, and what happens when the address cannot be bound — the same promise as /metrics
// (node/metrics/endpoint.ts): the default address is a convenience (an agent that finds it taken says
// so and runs on), an address the operator gave must be bound or the agent does not start.

import { join } from 'node:path'
import { messageOf } from '../../core/index.js'
import type { ControlRoute } from '../control/index.js'
import type { MetricsListen } from '../metrics/index.js'
import { DEFAULT_UI_LISTEN, isLoopbackHost } from './bind-address.js'
import { loadPageFiles } from './page-files.js'
import { readApi } from './read-api.js'
import { serveWebView, type WebViewServer } from './server.js'
import { ensureUiToken, UI_TOKEN_FILE } from './token.js'

export interface WebViewOptions {
  readonly choice: MetricsListen | 'off' | undefined
  readonly dataDir: string
  /** The agent's control routes; only the read-only ones are reachable (read-api.ts). */
  readonly routes: readonly ControlRoute[]
  readonly log: (line: string) => void
}

/** Resolves with the server, or undefined when the page is off or its default address is taken. */
export async function openWebView(options: WebViewOptions): Promise<WebViewServer | undefined> {
  if (options.choice === 'off') return undefined
  const listen = options.choice ?? DEFAULT_UI_LISTEN
  // Written even while the page is on loopback, so it is there when the operator opens the page up.
  const token = await ensureUiToken(options.dataDir)
  const tokenFile = join(options.dataDir, UI_TOKEN_FILE)
  const needsToken = !isLoopbackHost(listen.host)
  const files = await loadPageFiles()
  try {
    const server = await serveWebView({ listen, files, api: readApi(options.routes), token: needsToken ? token : undefined, tokenFile, log: options.log })
    options.log(`web view at http://${server.address}/${needsToken ? ` (token: ${tokenFile})` : ''}`)
    return server
  } catch (error) {
    const where = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`
    if (options.choice !== undefined) throw new Error(`--ui ${where}: cannot listen there: ${messageOf(error)}`)
    options.log(`web view not served: cannot listen on ${where} (${messageOf(error)}); choose an address with --ui host:port, or --ui off`)
    return undefined
  }
}
