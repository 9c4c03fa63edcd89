// One healthcheck probe of the process driver: the spec's healthcheck command, run like the task (no
// shell, the task's environment and directory) in its own process group so a probe that hangs can be
// killed whole when its timeout passes. Exit status 0 passes; anything else fails.

import { spawn } from 'node:child_process'
import { signalGroup } from './proc.js'

export interface ProbeResult {
  readonly passed: boolean
  /** The end of the probe's output, or why it failed without any. */
  readonly detail: string
}

export interface RunningProbe {
  readonly result: Promise<ProbeResult>
  /** Kills the probe; its result then fails with "cancelled". */
  cancel(): void
}

const MAX_DETAIL_CHARS = 500

export function runProbe(
  command: readonly string[],
  env: Readonly<Record<string, string>>,
  cwd: string,
  timeoutMs: number,
): RunningProbe {
  const [file, ...args] = command
  if (file === undefined) return { result: Promise.resolve({ passed: false, detail: 'healthcheck has no command' }), cancel: () => {} }
  let child: ReturnType<typeof spawn>
  try {
    child = spawn(file, args, { env: { ...env }, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    return { result: Promise.resolve({ passed: false, detail: `cannot run healthcheck: ${(error as Error).message}` }), cancel: () => {} }
  }
  let output = ''
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-MAX_DETAIL_CHARS * 2)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  let settle: (result: ProbeResult) => void = () => {}
  const result = new Promise<ProbeResult>((resolve) => {
    settle = resolve
  })
  let done = false
  const finish = (passed: boolean, detail: string): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    // Whatever the probe left behind in its group goes with it; its pipes are ours to close.
    try {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL')
    } catch {
      // EPERM: the group id was reused by someone else's process; nothing of the probe is left.
    }
    child.stdout?.destroy()
    child.stderr?.destroy()
    settle({ passed, detail: detail.trim().slice(-MAX_DETAIL_CHARS) })
  }
  const timer = setTimeout(() => finish(false, `healthcheck timed out after ${timeoutMs} ms`), timeoutMs)
  child.on('error', (error: NodeJS.ErrnoException) => {
    finish(false, `cannot run healthcheck ${JSON.stringify(file)}: ${describeSpawnError(error)}`)
  })
  child.on('exit', (code, signal) => {
    const conclude = (): void => {
      if (code === 0) finish(true, output)
      else finish(false, `healthcheck ${code !== null ? `exited with ${code}` : `killed by ${signal}`}${output.trim() === '' ? '' : `: ${output.trim()}`}`)
    }
    // Output may still be in the pipes; wait for them to close, but not for a grandchild holding them.
    const grace = setTimeout(conclude, 50)
    child.once('close', () => {
      clearTimeout(grace)
      conclude()
    })
  })
  return { result, cancel: () => finish(false, 'cancelled') }
}

/** A spawn error as a person would say it: what went wrong, then the code to search for. */
export function describeSpawnError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT': return 'command or working directory not found (ENOENT)'
    case 'EACCES': return 'permission denied (EACCES)'
    case 'ENOEXEC': return 'not an executable file (ENOEXEC)'
    default: return error.code !== undefined ? `${error.message} (${error.code})` : error.message
  }
}
