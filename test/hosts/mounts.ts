// Small tmpfs file systems for hosts' data directories: real file systems with a real size limit, so
// a full disk is a write that fails with ENOSPC in the kernel, not a mocked error. Mounted in this
// machine's mount namespace (the hosts share it: only their networks are separate), and unmounted
// before a run's directory is removed — also for runs that were killed (sweepStale).

import { mkdirSync, readFileSync } from 'node:fs'
import { runSync } from './command.js'

/** Mounts a tmpfs of `sizeMiB` at `dir` (made if missing). */
export function mountTmpfs(dir: string, sizeMiB: number): void {
  if (!(Number.isSafeInteger(sizeMiB) && sizeMiB >= 1)) throw new RangeError(`tmpfs size: a whole number of MiB ≥ 1, not ${sizeMiB}`)
  mkdirSync(dir, { recursive: true })
  runSync(['mount', '-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir])
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    // Fields are space-separated; a space in a path is written \040.
    .map((line) => (line.split(' ')[1] ?? '').replaceAll('\\040', ' '))
    .filter((point) => point === dir || point.startsWith(prefix))
    .sort((a, b) => b.length - a.length)
}

/** Unmounts everything mounted at or under `dir`; answers what could not be unmounted. */
export function unmountUnder(dir: string): string[] {
  const problems: string[] = []
  for (const point of mountsUnder(dir)) {
    try {
      // Lazy: a task that still has a file open there must not keep the run's directory alive.
      runSync(['umount', '-l', point])
    } catch (error) {
      problems.push(`umount ${point}: ${(error as Error).message}`)
    }
  }
  return problems
}
