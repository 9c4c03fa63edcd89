// Every system command the host harness runs (ip, iptables), checked: a command that fails throws an
// error naming it, its exit status and what it printed on stderr, so a fault that was never injected
// cannot pass for one the cluster survived.

import { execFile, execFileSync } from 'node:child_process'

export class CommandError extends Error {
  constructor(readonly command: readonly string[], readonly status: number | string | null, readonly stderr: string) {
    super(`${command.join(' ')} failed (${status ?? 'no status'}): ${stderr.trim() || '(nothing on stderr)'}`)
    this.name = 'CommandError'
  }
}

/** Runs `command` (argv, no shell) and resolves with its stdout; rejects with a CommandError. */
export function run(command: readonly string[]): Promise<string> {
  return runWithInput(command, undefined)
}

/** The same, with `input` written to its stdin (undefined: nothing, stdin closed). */
export function runWithInput(command: readonly string[], input: string | undefined): Promise<string> {
  const [file, ...args] = command
  return new Promise((resolve, reject) => {
    const child = execFile(file!, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout)
      const status = typeof error.code === 'number' ? error.code : (error.signal ?? error.code ?? null)
      reject(new CommandError(command, status, stderr || error.message))
    })
    child.stdin?.end(input)
  })
}

/**
 * The same, blocking: for teardown from a process 'exit' handler, where nothing asynchronous runs
 * any more.
 */
export function runSync(command: readonly string[]): string {
  const [file, ...args] = command
  try {
    return execFileSync(file!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const failure = error as { status?: number | null; signal?: string | null; stderr?: string; message: string }
    throw new CommandError(command, failure.status ?? failure.signal ?? null, failure.stderr || failure.message)
  }
}

/** `command` run inside network namespace `namespace`. */
export function inNamespace(namespace: string, command: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', namespace, ...command]
}
