// The web view's HTTP server: one page (its files from memory), the read-only API under /ui/api/v1/…,
// and the live event stream as Server-Sent Events (`/ui/api/v1/events?follow=1`, the same stream
// `peer events -f` reads as NDJSON). Only GET and HEAD.
//
// Access: with a token (a non-loopback bind, bind-address.ts) every request must carry it, as
// `Authorization: Bearer …`, as the cookie, or as `?token=…` — which sets the cookie and redirects to
// the same URL without it, so the token leaves the address bar and the history. Anything else: 401.
// Without a token (a loopback bind) the Host header must name loopback, against DNS rebinding.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { ControlError } from '../control/index.js'
import { listenHttp, type MetricsListen } from '../metrics/index.js'
import type { PageFile } from './page-files.js'
import { READ_API_PREFIX, type ReadApi } from './read-api.js'
import { writeEventStream } from './event-stream.js'
import { isLoopbackHostHeader } from './bind-address.js'
import { tokenMatches, tokenOfRequest, UI_TOKEN_COOKIE } from './token.js'

export interface WebViewServer {
  /** host:port it listens on (the port picked when 0 was asked). */
  readonly address: string
  close(): Promise<void>
}

export interface WebViewInit {
  readonly listen: MetricsListen
  readonly files: ReadonlyMap<string, PageFile>
  readonly api: ReadApi
  /** Asked of every request when set; undefined serves everyone who reaches the port. */
  readonly token: string | undefined
  /** Where the token file is, for the 401's explanation. */
  readonly tokenFile: string
  readonly log: (line: string) => void
}

/** Every answer: no caching of cluster state, no framing by other sites, no guessing of types. */
const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }

export async function serveWebView(init: WebViewInit): Promise<WebViewServer> {
  const open = new Set<AbortController>()
  const server = createServer((request, response) => {
    const controller = new AbortController()
    open.add(controller)
    response.on('close', () => {
      open.delete(controller)
      controller.abort()
    })
    response.on('error', () => undefined)
    void answer(request, response, controller.signal, init)
  })
  server.on('clientError', (_error, socket) => socket.destroy())
  return {
    address: await listenHttp(server, init.listen),
    close: () => new Promise<void>((resolve) => {
      for (const controller of open) controller.abort()
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}

async function answer(request: IncomingMessage, response: ServerResponse, signal: AbortSignal, init: WebViewInit): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://page')
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...COMMON_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('the page is read-only: GET only\n')
      return
    }
    if (init.token === undefined && !isLoopbackHostHeader(request.headers.host)) {
      response.writeHead(403, { ...COMMON_HEADERS, 'content-type': 'text/plain' }).end('this page answers only to a loopback address (127.0.0.1, localhost, [::1])\n')
      return
    }
    const admitted = init.token === undefined ? 'yes' : admit(request, response, url, init.token)
    if (admitted === 'redirected') return
    if (admitted === 'no') {
      response.writeHead(401, { ...COMMON_HEADERS, 'www-authenticate': 'Bearer realm="peer"', 'content-type': 'text/plain' })
      response.end(`a token is needed here: open this address with ?token=<the token in ${init.tokenFile} on the agent's host>, or send Authorization: Bearer <token>\n`)
      return
    }
    if (url.pathname.startsWith(`${READ_API_PREFIX}/`)) {
      const reply = await init.api.answer(url.pathname, url.searchParams, signal)
      if ('stream' in reply) return await writeEventStream(reply.stream, response, signal)
      sendJson(response, reply.status ?? 200, reply.body)
      return
    }
    const file = init.files.get(url.pathname === '/' || url.pathname === '/ui' || url.pathname === '/ui/' ? '/ui/index.html' : url.pathname)
    if (file === undefined) {
      response.writeHead(404, { ...COMMON_HEADERS, 'content-type': 'text/plain' }).end('not found: the page is at /\n')
      return
    }
    response.writeHead(200, { ...COMMON_HEADERS, 'content-type': file.contentType, 'content-length': file.body.length })
    response.end(request.method === 'HEAD' ? undefined : file.body)
  } catch (error) {
    if (error instanceof ControlError) return sendJson(response, error.status, { error: { code: error.code, message: error.message } })
    if (signal.aborted) return
    init.log(`web view: ${url.pathname} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    sendJson(response, 500, { error: { code: 'internal', message: String(error) } })
  }
}

/**
 * Whether the request carries the token. A right `?token=` is answered here: a redirect that sets
 * the cookie (HttpOnly: the page's scripts never see it; SameSite=Strict: no other site's page can
 * make the browser send it).
 */
function admit(request: IncomingMessage, response: ServerResponse, url: URL, token: string): 'yes' | 'no' | 'redirected' {
  const inQuery = url.searchParams.get('token')
  if (inQuery !== null && tokenMatches(inQuery, token)) {
    url.searchParams.delete('token')
    response.writeHead(303, { ...COMMON_HEADERS, location: `${url.pathname}${url.search}`, 'set-cookie': `${UI_TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` }).end()
    return 'redirected'
  }
  return inQuery === null && tokenMatches(tokenOfRequest(request.headers), token) ? 'yes' : 'no'
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return
  const text = `${JSON.stringify(body)}\n`
  response.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
}
