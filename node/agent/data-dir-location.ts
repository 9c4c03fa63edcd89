// Where an agent's data directory and control socket are, without what opens them: the CLI's
// client commands (status, ps, nodes, …) need only these, and importing data-dir.ts would load
// libp2p, the runtime and the web view into every short-lived command (≈ 0.7 s of CPU each).

import { homedir } from 'node:os'
import { join } from 'node:path'

export const CONTROL_SOCKET_FILE = 'control.sock'

/** Where the agent keeps its state when --data is not given: $PEER_DATA, else ~/.peer. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['PEER_DATA'] !== undefined && env['PEER_DATA'] !== '' ? env['PEER_DATA'] : join(homedir(), '.peer')
}
