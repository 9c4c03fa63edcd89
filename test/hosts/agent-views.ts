// Asking the agents of a run what they see, and waiting until it is what a test expects (the edge
// tests: nat, nat-relays, nat-tunnel, mdns, sites): the
// control API's node list (what `peer nodes` prints), polled.

import { ask } from '../../cli/agent-client.js'
import type { NodeRow } from '../../node/control/index.js'
import type { Host } from './hosts.js'

/** `host`'s agent's node list (GET /v1/nodes). */
export async function nodesOf(host: Host): Promise<NodeRow[]> {
  return (await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/nodes')).nodes
}

/** Polls `check` every `intervalMs` until it answers true; throws its last answer (a string, or what it threw) at the deadline. */
export async function until(what: string, check: () => Promise<true | string>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: true | string = 'not checked'
  for (;;) {
    try {
      last = await check()
    } catch (error) {
      last = (error as Error).message
    }
    if (last === true) return
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${last}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * What the agents of `hosts` did from `sinceMs` on, merged in time order: membership verdicts about
 * the peers `nameOf` knows, and task starts and stops. Printed by a test whose figure came out slow,
 * to show where the time went (detection, the auction, the start).
 */
export async function timeline(hosts: readonly Host[], sinceMs: number, nameOf: (peer: string) => string | undefined): Promise<string[]> {
  const lines: Array<{ at: number; text: string }> = []
  for (const host of hosts) {
    const { events } = await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/events').catch(() => ({ events: [] }))
    for (const event of events) {
      if (event.at < sinceMs) continue
      if (event.kind === 'member') lines.push({ at: event.at, text: `${host.name}: ${nameOf(event.peer) ?? event.peer.slice(-6)} ${event.status}` })
      else if (event.kind === 'start') lines.push({ at: event.at, text: `${host.name}: start ${event.slot}` })
      else if (event.kind === 'stop') lines.push({ at: event.at, text: `${host.name}: stop ${event.slot} (${event.reason})` })
    }
  }
  return lines.sort((a, b) => a.at - b.at).map((line) => `+${line.at - sinceMs} ms ${line.text}`)
}
