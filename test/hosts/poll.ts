// Polling the agents of a namespace test: a check asked every 200 ms until it answers true, and one
// agent's member list. Shared by the edge tests (nat.test.ts, sites.test.ts).

import { ask } from '../../cli/agent-client.js'
import type { NodeRow } from '../../node/control/index.js'
import type { Host } from './hosts.js'

/** The agent's member list, as `peer nodes --json` prints it. */
export async function nodesOf(host: Host): Promise<NodeRow[]> {
  return (await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/nodes')).nodes
}

/** Polls `check` every 200 ms until it answers true; throws its last answer (a string) at the deadline. */
export async function until(what: string, check: () => Promise<true | string>, timeoutMs: number): Promise<void> {
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
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
