// Reading a task's log file as lines: the last N of them, then (when following) what is appended,
// until the task ends or the reader gives up. The task writes the file itself (its stdout and stderr
// are the file), so following polls the file's size rather than a pipe.

import { open, rename, stat, type FileHandle } from 'node:fs/promises'
import { StringDecoder } from 'node:string_decoder'
import { setTimeout as sleep } from 'node:timers/promises'

const CHUNK_BYTES = 64 * 1024
const NEWLINE = 0x0a

export interface LogFileReadOptions {
  readonly follow: boolean
  readonly tailLines?: number
  readonly signal?: AbortSignal
  /** While true, a follow waits for more; once false (the task ended) it drains the file and ends. */
  readonly isLive: () => boolean
  readonly pollMs: number
}

export async function* readLogLines(path: string, options: LogFileReadOptions): AsyncGenerator<string> {
  let handle: FileHandle | undefined
  // A task still launching may not have created its file yet: a follow waits for it.
  while (handle === undefined) {
    try {
      handle = await open(path, 'r')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      if (!options.follow || !options.isLive() || options.signal?.aborted) return
      try {
        await sleep(options.pollMs, undefined, options.signal ? { signal: options.signal } : {})
      } catch {
        return // aborted
      }
    }
  }
  try {
    const { size } = await handle.stat()
    let offset = options.tailLines === undefined ? 0 : await tailOffset(handle, size, options.tailLines)
    const decoder = new StringDecoder('utf8')
    let partial = ''
    const buffer = Buffer.alloc(CHUNK_BYTES)
    for (;;) {
      if (options.signal?.aborted) return
      // Read whether the task is live *before* draining, so output written just before it ended is
      // still read by the drain that follows.
      const live = options.follow && options.isLive()
      const end = (await handle.stat()).size
      if (end < offset) offset = 0 // truncated under us: start over
      while (offset < end) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK_BYTES, end - offset), offset)
        if (bytesRead === 0) break
        offset += bytesRead
        const lines = (partial + decoder.write(buffer.subarray(0, bytesRead))).split('\n')
        partial = lines.pop()!
        for (const line of lines) {
          if (options.signal?.aborted) return
          yield line
        }
      }
      if (!live) {
        partial += decoder.end()
        if (partial !== '') yield partial
        return
      }
      try {
        await sleep(options.pollMs, undefined, options.signal ? { signal: options.signal } : {})
      } catch {
        return // aborted
      }
    }
  } finally {
    await handle.close()
  }
}

/** Byte offset where the last `lines` lines of the file begin (a final newline ends a line, it does not start one). */
async function tailOffset(handle: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size
  const buffer = Buffer.alloc(CHUNK_BYTES)
  let position = size
  let seen = 0
  while (position > 0) {
    const length = Math.min(CHUNK_BYTES, position)
    position -= length
    const { bytesRead } = await handle.read(buffer, 0, length, position)
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buffer[i] !== NEWLINE) continue
      if (position + i === size - 1) continue // the newline ending the last line
      seen++
      if (seen === lines) return position + i + 1
    }
  }
  return 0
}

/** Renames a log file larger than `maxBytes` to `<path>.1` (the only rotation there is), before a new start appends. */
export async function rotateLogFile(path: string, maxBytes: number): Promise<void> {
  try {
    if ((await stat(path)).size > maxBytes) await rename(path, `${path}.1`)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
