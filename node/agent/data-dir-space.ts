// Whether the agent can write to its data directory. A full disk (ENOSPC, or a quota: EDQUOT) must
// not take the agent down: it keeps running its tasks, but it cannot record a new task (the process
// driver writes a record before it starts one), save assignments.json or members.json, or persist
// desired-state changes. So it says so — one log line and one event when the condition starts and
// when it ends, a warning in `peer status`, and a flag in its advert, which makes every peer place
// around it as around a cordoned one — and keeps checking, so it recovers on its own when space frees.
//
// Found two ways: a write of the agent's own that fails with ENOSPC, and a look at the free space
// every check (statfs), so a full disk is known before a task start fails on it. While full, a check
// writes a small probe file: room in statfs alone is not proof that a write goes through.

import { statfs, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '../../io/index.js'
import type { StatusWarning } from '../control/index.js'
import { messageOf } from '../../core/index.js'

/** Below this many free bytes the directory counts as full: a task record and a desired-state frame need a few KiB each. */
export const MIN_FREE_BYTES = 64 * 1024
const PROBE_FILE = '.space-probe'
const PROBE_BYTES = new Uint8Array(4096)

const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT'])

/**
 * Whether `error` says the file system is out of space (or the user out of quota): its code, or for
 * a failure that reached here as text (a driver's start result), the code in its message.
 */
export function isNoSpace(error: unknown): boolean {
  if (typeof error === 'string') return /\b(ENOSPC|EDQUOT)\b/.test(error)
  return typeof error === 'object' && error !== null && NO_SPACE_CODES.has(String((error as { code?: unknown }).code))
}

export interface DataDirSpaceInit {
  readonly root: string
  readonly log: (line: string) => void
  /** One line for the agent's event feed. */
  readonly event: (message: string) => void
  /** The condition began (true) or ended (false). */
  readonly changed: (full: boolean) => void
  readonly minFreeBytes?: number
}

export class DataDirSpace {
  private fullSince: number | undefined
  private reason = ''
  private checking: Promise<void> | undefined

  constructor(private readonly init: DataDirSpaceInit) {}

  get full(): boolean {
    return this.fullSince !== undefined
  }

  /** A write of `what` failed: the directory is full when the error says so; other errors are not this file's. */
  failed(what: string, error: unknown): void {
    if (isNoSpace(error)) this.becameFull(`writing ${what}: ${typeof error === 'string' ? error : messageOf(error)}`)
  }

  /** Looks at the free space (and, while full, tries a write); one check at a time. */
  check(): Promise<void> {
    this.checking ??= this.look().finally(() => (this.checking = undefined))
    return this.checking
  }

  warnings(): StatusWarning[] {
    if (this.fullSince === undefined) return []
    return [{ at: this.fullSince, source: 'data-dir', message: `data directory ${this.init.root} is full (${this.reason}): running tasks go on, no new task starts here, state changes are not saved until space frees` }]
  }

  private async look(): Promise<void> {
    const minFree = this.init.minFreeBytes ?? MIN_FREE_BYTES
    let freeBytes: number
    try {
      const stats = await statfs(this.init.root)
      freeBytes = Number(stats.bavail) * Number(stats.bsize)
    } catch (error) {
      this.init.log(`cannot read the free space of ${this.init.root}: ${messageOf(error)}`)
      return
    }
    if (!this.full) {
      if (freeBytes < minFree) this.becameFull(`${freeBytes} bytes free, under ${minFree}`)
      return
    }
    if (freeBytes < minFree) return
    try {
      await writeFileDurably(this.init.root, PROBE_FILE, PROBE_BYTES)
      await unlink(join(this.init.root, PROBE_FILE))
    } catch (error) {
      await unlink(join(this.init.root, PROBE_FILE)).catch(() => undefined)
      if (!isNoSpace(error)) this.init.log(`probing ${this.init.root} for space failed: ${messageOf(error)}`)
      return
    }
    const since = this.fullSince!
    this.fullSince = undefined
    this.reason = ''
    const line = `data directory ${this.init.root} has room again (${freeBytes} bytes free) after ${Math.round((Date.now() - since) / 1000)} s full: starting tasks and saving state again`
    this.init.log(line)
    this.init.event(line)
    this.init.changed(false)
  }

  private becameFull(reason: string): void {
    if (this.full) return
    this.fullSince = Date.now()
    this.reason = reason
    const line = `data directory ${this.init.root} is full (${reason}): keeping running tasks, starting none here until space frees`
    this.init.log(line)
    this.init.event(line)
    this.init.changed(true)
  }
}
