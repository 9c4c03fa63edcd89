// Running a command inside a task's container (`docker exec`): the Docker driver's healthcheck probes
// and `peer exec` both go through here. Output comes back demultiplexed into lines, bounded, with the
// command's exit status read from the engine once the output stream ends.

import type Docker from 'dockerode'
import { DockerLineDecoder } from './docker-stream.js'

export interface ExecResult {
  /** Null when the command did not finish (timed out, aborted) or the engine did not say. */
  readonly exitCode: number | null
  /** The last `maxLines` lines of stdout and stderr, interleaved as written. */
  readonly lines: readonly string[]
  /** Why there is no exit code, for a person: timed out, could not start, engine error. */
  readonly error?: string
}

export interface ExecOptions {
  readonly timeoutMs: number
  readonly maxLines?: number
  readonly env?: readonly string[]
  readonly signal?: AbortSignal
  /** Called with each completed line as it arrives (for streaming to a user). */
  readonly onLine?: (line: string) => void
}

/**
 * Runs `command` (argv, no shell) in the container. The engine cannot kill an exec'd process on
 * our behalf: on a timeout the stream is closed and the result has no exit code; the process itself
 * ends with the container, as with Docker's own healthchecks.
 */
export async function execInContainer(container: Docker.Container, command: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const maxLines = options.maxLines ?? 200
  const lines: string[] = []
  const keep = (line: string): void => {
    options.onLine?.(line)
    lines.push(line)
    if (lines.length > maxLines) lines.shift()
  }
  let exec: Docker.Exec
  let stream: NodeJS.ReadWriteStream
  try {
    exec = await container.exec({ Cmd: [...command], AttachStdout: true, AttachStderr: true, ...(options.env ? { Env: [...options.env] } : {}) })
    stream = await exec.start({ hijack: true, stdin: false })
  } catch (error) {
    return { exitCode: null, lines, error: `cannot run ${JSON.stringify(command[0] ?? '')} in the container: ${engineMessage(error)}` }
  }
  const decoder = new DockerLineDecoder()
  const ended = await new Promise<string | undefined>((resolve) => {
    const finish = (why: string | undefined): void => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      resolve(why)
    }
    const onAbort = (): void => {
      finish('cancelled')
      ;(stream as unknown as { destroy(): void }).destroy()
    }
    const timer = setTimeout(() => {
      finish(`timed out after ${options.timeoutMs} ms`)
      ;(stream as unknown as { destroy(): void }).destroy()
    }, options.timeoutMs)
    options.signal?.addEventListener('abort', onAbort, { once: true })
    if (options.signal?.aborted) onAbort()
    stream.on('data', (chunk: Buffer) => decoder.push(chunk).forEach(keep))
    stream.on('end', () => finish(undefined))
    stream.on('close', () => finish(undefined))
    stream.on('error', (error: Error) => finish(`output stream failed: ${error.message}`))
  })
  decoder.end().forEach(keep)
  if (ended !== undefined) return { exitCode: null, lines, error: ended }
  try {
    // The stream can end a moment before the engine records the exit code.
    for (let attempt = 0; attempt < 20; attempt++) {
      const info = await exec.inspect()
      if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, lines }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return { exitCode: null, lines, error: 'the engine did not report an exit status' }
  } catch (error) {
    return { exitCode: null, lines, error: `cannot read the exit status: ${engineMessage(error)}` }
  }
}

/** The engine's own words for an error (its JSON `message`), else the error's message. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } } | undefined)?.json
  if (json !== undefined && json !== null && typeof json.message === 'string') return json.message
  return error instanceof Error ? error.message : String(error)
}

/** The HTTP status of an engine error (404 missing, 409 conflict, 304 not modified), if any. */
export function engineStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode
  return typeof status === 'number' ? status : undefined
}
