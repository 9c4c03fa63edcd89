// What the kernel says a process costs, read from /proc (Linux only): CPU time used so far, and
// resident memory split into anonymous (heap, wasm memories, malloc) and file-backed pages (the
// node binary's code, mostly shared with every other node process). Shared by the benchmarks.

import { readFileSync } from 'node:fs'

/** CPU seconds (user + system) a process has used; 0 when it is gone. */
export { cpuSeconds } from '../node/runtime/proc.js'

export interface ResidentMemory {
  /** VmRSS of /proc/<pid>/status: what `ps` and `top` show. */
  readonly rssBytes: number
  /** Anonymous resident pages (smaps_rollup Anonymous): the V8 heap, wasm memories, malloc. */
  readonly anonBytes: number
  /** File-backed resident pages (Rss − Anonymous): the node binary and shared libraries. */
  readonly fileBytes: number
  /** Proportional set size: file pages shared with other processes count a share each. */
  readonly pssBytes: number
  /** VmHWM: the largest RSS the process ever had. */
  readonly peakRssBytes: number
}

function kiBField(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
  if (match === null) throw new Error(`no ${name} in /proc memory figures`)
  return Number(match[1]) * 1024
}

/** The process's resident memory now, or undefined when it is gone. */
export function residentMemory(pid: number): ResidentMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
    const rss = kiBField(rollup, 'Rss')
    const anon = kiBField(rollup, 'Anonymous')
    return { rssBytes: kiBField(status, 'VmRSS'), anonBytes: anon, fileBytes: rss - anon, pssBytes: kiBField(rollup, 'Pss'), peakRssBytes: kiBField(status, 'VmHWM') }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') return undefined
    throw error
  }
}
