// Running iptables-save and iptables-restore. `-w` waits for the xtables lock instead of failing when
// another program (Docker, a firewall) edits rules at the same moment.

import { spawn } from 'node:child_process'

export interface IptablesCommands {
  /** argv of iptables-save; `-c` and `-t` are appended. */
  readonly save: readonly string[]
  /** argv of iptables-restore that keeps what it is not told to change. */
  readonly restore: readonly string[]
}

export const IPTABLES: IptablesCommands = { save: ['iptables-save'], restore: ['iptables-restore', '-w', '--noflush'] }

export class IptablesError extends Error {
  constructor(readonly command: readonly string[], readonly status: number | string | null, readonly stderr: string, readonly input?: string) {
    super(`${command.join(' ')} failed (${status ?? 'no status'}): ${stderr.trim() || '(nothing on stderr)'}`)
    this.name = 'IptablesError'
  }
}

/** Runs `command`, writing `input` to its stdin; resolves with stdout, rejects with an IptablesError. */
export function runCommand(command: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', (error: NodeJS.ErrnoException) => reject(new IptablesError(command, error.code ?? null, error.code === 'ENOENT' ? `${command[0]} is not installed` : error.message, input)))
    child.on('close', (code, signal) => (code === 0 ? resolve(stdout) : reject(new IptablesError(command, code ?? signal, stderr, input))))
    child.stdin.on('error', () => {}) // A command that exits early closes its stdin; its status says why.
    child.stdin.end(input ?? '')
  })
}

export const iptablesSave = (commands: IptablesCommands, counters = false): Promise<string> => runCommand([...commands.save, ...(counters ? ['-c'] : [])])

export const iptablesRestore = (commands: IptablesCommands, input: string): Promise<string> => runCommand(commands.restore, input)
