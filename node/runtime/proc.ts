// What the process driver asks the kernel about processes, through /proc where it can.
// Two traps shape these helpers:
// - a zombie (exited, not yet reaped) still answers kill(pid, 0), and where PID 1 does not reap
//   orphans (some container inits) zombies stay forever: a zombie counts as gone here;
// - pids are reused: a task record names its pid *and* the process's start time (clock ticks since
//   boot, /proc/<pid>/stat field 22), and a live pid with another start time is someone else.
// Without /proc (not Linux) the helpers fall back to kill(pid, 0), which has neither protection.

import { readdirSync, readFileSync } from 'node:fs'

export interface ProcessStat {
  readonly pid: number
  /** R, S, D, Z, T, … */
  readonly state: string
  readonly parent: number
  readonly group: number
  /** Start time in clock ticks since boot: with the pid, identifies one process for its lifetime. */
  readonly startTicks: number
}

export function readStat(pid: number): ProcessStat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const close = text.lastIndexOf(')')
  const fields = text.slice(close + 2).split(' ')
  const state = fields[0]
  const parent = Number(fields[1])
  const group = Number(fields[2])
  const startTicks = Number(fields[19])
  if (state === undefined || !Number.isFinite(group) || !Number.isFinite(startTicks)) return undefined
  return { pid, state, parent, group, startTicks }
}

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/** CPU seconds (user + system, stat fields 14 and 15) a process has used; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return 0
  }
}

const hasProc = ((): boolean => {
  try {
    readFileSync('/proc/self/stat')
    return true
  } catch {
    return false
  }
})()

/** The start time to store with a pid, or undefined where /proc is not available. */
export function startTicksOf(pid: number): number | undefined {
  return readStat(pid)?.startTicks
}

/** Whether the process `pid` (started at `startTicks`, when known) still runs. Zombies do not. */
export function isAlive(pid: number, startTicks?: number): boolean {
  if (hasProc) {
    const stat = readStat(pid)
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false
    return startTicks === undefined || stat.startTicks === startTicks
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Live (non-zombie) members of process group `group`. */
export function groupMembers(group: number): number[] {
  if (!hasProc) {
    try {
      process.kill(-group, 0)
      return [group]
    } catch {
      return []
    }
  }
  // One syscall says whether the group has any process at all, which is the common answer once a
  // task ended; scanning /proc (a file read per process on the host) every few ms for each ending
  // task cost ten agents stopping a hundred tasks seconds of CPU.
  try {
    process.kill(-group, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return []
  }
  const members: number[] = []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  for (const entry of entries) {
    const code = entry.charCodeAt(0)
    if (code < 48 || code > 57) continue
    const stat = readStat(Number(entry))
    if (stat !== undefined && stat.group === group && stat.state !== 'Z' && stat.state !== 'X') members.push(stat.pid)
  }
  return members
}

const ownGroup = readStat(process.pid)?.group

/** Sends `signal` to every process of the group; false when the group no longer exists. */
export function signalGroup(group: number, signal: NodeJS.Signals): boolean {
  // kill(-1) signals every process we may signal and kill(-0) our own group: never let a bad record
  // or an unset pid turn a task's stop into either.
  if (!Number.isSafeInteger(group) || group <= 1 || group === ownGroup) throw new Error(`refusing to signal process group ${group}`)
  try {
    process.kill(-group, signal)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}
