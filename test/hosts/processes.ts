// Which processes live on a host: those whose network namespace is the host's. This is what
// `ip netns pids <ns>` prints, read from /proc in this process instead of starting `ip` for every
// look — the observer looks ten times a second. A host's processes are exactly its agent and the
// tasks the agent started (children inherit the namespace), so a power cut is "kill all of them".

import { readdirSync, readlinkSync, statSync } from 'node:fs'

/** The inode that identifies namespace `namespace` (the target of /proc/<pid>/ns/net is `net:[inode]`). */
export function namespaceInode(namespace: string): number {
  return statSync(`/run/netns/${namespace}`).ino
}

/** Live pids grouped by the network-namespace inode they are in, for the inodes asked about. */
export function processesByNamespace(inodes: readonly number[]): Map<number, number[]> {
  const wanted = new Map(inodes.map((inode) => [`net:[${inode}]`, inode]))
  const found = new Map<number, number[]>(inodes.map((inode) => [inode, []]))
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let link: string
    try {
      // Unreadable for a zombie and for a process that ended meanwhile: neither runs anything.
      link = readlinkSync(`/proc/${name}/ns/net`)
    } catch {
      continue
    }
    const inode = wanted.get(link)
    if (inode !== undefined) found.get(inode)!.push(Number(name))
  }
  return found
}

export function processesIn(namespace: string): number[] {
  const inode = namespaceInode(namespace)
  return processesByNamespace([inode]).get(inode)!
}

/** SIGKILLs `pids`, ignoring those already gone. */
export function killAll(pids: readonly number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // Ended meanwhile.
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4))

/** Blocks the thread for `ms`: teardown in an 'exit' handler cannot await. */
export function sleepSync(ms: number): void {
  Atomics.wait(pause, 0, 0, ms)
}

/**
 * Kills every process in `namespace` until none is left (a task may fork while we look), waiting up
 * to `timeoutMs`. Returns the pids still there after that, which should be none.
 */
export function emptyNamespaceSync(namespace: string, timeoutMs = 5_000): number[] {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = processesIn(namespace)
    if (left.length === 0 || Date.now() > deadline) return left
    killAll(left)
    sleepSync(20)
  }
}
