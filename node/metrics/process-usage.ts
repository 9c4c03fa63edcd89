// CPU time and resident memory of process tasks, from /proc. The process driver starts each task as
// the leader of its own process group (id = its pid), so a task is every process in that group: one
// pass over /proc/<pid>/stat sums them all, children and grandchildren included. A process that left
// the group on purpose (setsid, a double fork into a new session) is not counted, as stop() does not
// reach it either (process-driver.ts).
//
// Resident memory summed over a group counts pages the processes share once per process, as `ps`
// would: for a shell and its children that overstates a little, never understates.

import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** Cumulative CPU time and current resident memory of one process group. */
export interface GroupUsage {
  readonly cpuSeconds: number
  readonly memoryBytes: number
}

/** Clock ticks per second and page size, asked of the system once (Linux defaults when it cannot say). */
const SYSTEM = (() => {
  const ask = (name: string, fallback: number): number => {
    try {
      const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim())
      return Number.isInteger(value) && value > 0 ? value : fallback
    } catch {
      return fallback
    }
  }
  return { ticksPerSecond: ask('CLK_TCK', 100), pageBytes: ask('PAGESIZE', 4096) }
})()

/** Stat files read between two turns of the event loop: a pass over thousands never holds it long. */
const READS_PER_TURN = 256

/**
 * The usage of each of the given process groups that has a live process. Reads every process's
 * stat once: with hundreds of tasks that is one pass, not one per task. Empty where /proc is absent.
 * The reads are synchronous (a stat file is a few hundred bytes from memory, cheaper read at once
 * than through the thread pool) but yield to the event loop every READS_PER_TURN files, so probes
 * and messages are not held up by a pass over a busy machine.
 */
export async function processGroupUsage(groups: ReadonlySet<number>): Promise<Map<number, GroupUsage>> {
  const usage = new Map<number, { cpuTicks: number; pages: number }>()
  if (groups.size === 0) return new Map()
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return new Map()
  }
  let read = 0
  for (const entry of entries) {
    const first = entry.charCodeAt(0)
    if (first < 48 || first > 57) continue
    if (++read % READS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve))
    let text: string
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'latin1')
    } catch {
      continue // gone since readdir
    }
    const parsed = parseStat(text)
    if (parsed === undefined || !groups.has(parsed.group)) continue
    const sum = usage.get(parsed.group) ?? { cpuTicks: 0, pages: 0 }
    sum.cpuTicks += parsed.cpuTicks
    sum.pages += parsed.residentPages
    usage.set(parsed.group, sum)
  }
  const result = new Map<number, GroupUsage>()
  for (const [group, sum] of usage) {
    result.set(group, { cpuSeconds: sum.cpuTicks / SYSTEM.ticksPerSecond, memoryBytes: sum.pages * SYSTEM.pageBytes })
  }
  return result
}

/**
 * Fields of /proc/<pid>/stat (proc(5)): after the command name in parentheses (which may hold spaces
 * and parentheses itself), field 3 is the state, 5 the process group, 14 and 15 user and system time
 * in clock ticks, 16 and 17 those of its children that ended and were waited for, 24 the resident
 * set in pages. The children's time matters: a task that runs short commands in a loop (a shell
 * script) spends its CPU in processes that are gone by the next measurement. A zombie holds no
 * memory and is skipped.
 */
export function parseStat(text: string): { group: number; cpuTicks: number; residentPages: number } | undefined {
  const close = text.lastIndexOf(')')
  if (close < 0) return undefined
  const fields = text.slice(close + 2).split(' ')
  // fields[0] is field 3 (state); field n is fields[n - 3].
  if (fields.length < 22 || fields[0] === 'Z') return undefined
  const group = Number(fields[2])
  const cpuTicks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
  const residentPages = Number(fields[21])
  if (!Number.isFinite(group) || !Number.isFinite(cpuTicks) || !Number.isFinite(residentPages)) return undefined
  return { group, cpuTicks, residentPages }
}
