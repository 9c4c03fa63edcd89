// An echo service for service-traffic tests across sites (nat-tunnel.test.ts, nat-punch.test.ts):
// the task greets with its slot and echoes; the client runs in a host's namespace
// (tunnel-client.mjs) and says what it got as one JSON line.

import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../cli/run-cli.js'
import { inNamespace } from './command.js'
import type { Host } from './hosts.js'

/** The task: greets with its slot, then echoes. */
export const ECHO = `require('node:net').createServer({ allowHalfOpen: true }, (socket) => { socket.write('hello from ' + process.env.PEER_SLOT + '\\n'); socket.pipe(socket) }).listen(Number(process.env.PORT))`

export interface ClientResult {
  readonly greeting?: string
  readonly connectMs?: number
  readonly echoed?: number
  readonly mismatch?: boolean
  readonly echoMs?: number
  readonly mibPerSecond?: number | null
  readonly error?: string
}

/** Runs the echo client in `host`'s namespace against address:port. */
export async function echoClient(host: Host, address: string, port: number, bytes = 0): Promise<ClientResult> {
  const [file, ...args] = inNamespace(host.namespace, ['timeout', '60', process.execPath, join(repoRoot, 'test', 'hosts', 'tunnel-client.mjs'), address, String(port), String(bytes)])
  // Its JSON line is on stdout whether it succeeded or not.
  const output = await new Promise<string>((resolve) => execFile(file!, args, { encoding: 'utf8' }, (error, stdout, stderr) => resolve(stdout || `${error?.message ?? ''} ${stderr}`)))
  const line = output.trim().split('\n').at(-1) ?? ''
  try {
    return JSON.parse(line) as ClientResult
  } catch {
    return { error: output.trim() }
  }
}
