// Whether and where an agent serves /metrics: the choice `--metrics` made, and what happens when the
// address cannot be bound. The default address is a convenience, not a promise: several agents on one
// machine (`peer up --local`, tests) would all want it, so an agent that finds it taken says so once and
// runs on. An address the operator gave is a promise: failing to bind it stops the agent's start.

import { messageOf } from '../../core/index.js'
import type { AgentMetrics } from './agent-metrics.js'
import { DEFAULT_METRICS_LISTEN, type MetricsListen } from './http.js'

/** Resolves with the address /metrics is served on, or undefined when it is not. */
export async function openMetricsEndpoint(metrics: AgentMetrics, choice: MetricsListen | 'off' | undefined, log: (line: string) => void): Promise<string | undefined> {
  if (choice === 'off') return undefined
  const listen = choice ?? DEFAULT_METRICS_LISTEN
  try {
    const address = await metrics.serve(listen)
    log(`metrics at http://${address}/metrics`)
    return address
  } catch (error) {
    const where = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`
    if (choice !== undefined) throw new Error(`--metrics ${where}: cannot listen there: ${messageOf(error)}`)
    log(`metrics not served: cannot listen on ${where} (${messageOf(error)}); choose an address with --metrics host:port, or --metrics off`)
    return undefined
  }
}
