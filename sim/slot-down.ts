// How long slots run nowhere once they have run: the stretches between a slot's last copy going
// down (stopped, exited, lost with its peer) and a copy of it being up again. A first placement is
// not such a stretch (the slot never ran); a slot scaled away or no longer desired ends its stretch
// unmeasured. Each stretch is kept with the start time of the copy that ended it, since a stop-first
// update cannot do better than one task start: what it adds beyond that is the protocol's doing.

export interface SlotDownStretch {
  readonly slot: string
  readonly fromMs: number
  readonly toMs: number
  /** How long the copy that ended the stretch took to start (start-task to up), ms. */
  readonly startMs: number
}

interface SlotEntry {
  /** Peers with an up copy of the slot. */
  readonly up: Set<string>
  /** Since when no copy is up (the slot ran before). */
  downSince?: number
}

export class SlotDownLedger {
  private readonly slots = new Map<string, SlotEntry>()
  private readonly ended: SlotDownStretch[] = []

  /** A copy of `slot` on `peer` is up; it was asked to start at `startedAt`. */
  up(slot: string, peer: string, startedAt: number, now: number): void {
    let entry = this.slots.get(slot)
    if (entry === undefined) this.slots.set(slot, (entry = { up: new Set() }))
    if (entry.up.size === 0 && entry.downSince !== undefined) {
      this.ended.push({ slot, fromMs: entry.downSince, toMs: now, startMs: now - startedAt })
      delete entry.downSince
    }
    entry.up.add(peer)
  }

  /** The copy of `slot` on `peer` is no longer up (stopped, exited, or lost with its peer). */
  down(slot: string, peer: string, now: number): void {
    const entry = this.slots.get(slot)
    if (entry === undefined || !entry.up.delete(peer)) return
    if (entry.up.size === 0) entry.downSince = now
  }

  /**
   * Every stretch that ended, and those still open at `now` for slots that are still desired (their
   * start time unknown: 0, so the whole stretch counts beyond a start).
   */
  stretches(now: number, desired: (slot: string) => boolean): SlotDownStretch[] {
    const open: SlotDownStretch[] = []
    for (const [slot, entry] of this.slots) {
      if (entry.downSince !== undefined && desired(slot)) open.push({ slot, fromMs: entry.downSince, toMs: now, startMs: 0 })
    }
    return [...this.ended, ...open]
  }
}

/** The longest a slot ran nowhere, ms, and the stretch that ran longest beyond its copy's start. */
export function slotDownSummary(stretches: readonly SlotDownStretch[]): { longestMs: number; longestBeyondStartMs: number; worst?: SlotDownStretch } {
  let longestMs = 0
  let worst: SlotDownStretch | undefined
  const beyond = (s: SlotDownStretch) => s.toMs - s.fromMs - s.startMs
  for (const stretch of stretches) {
    longestMs = Math.max(longestMs, stretch.toMs - stretch.fromMs)
    if (worst === undefined || beyond(stretch) > beyond(worst)) worst = stretch
  }
  return { longestMs, longestBeyondStartMs: worst === undefined ? 0 : Math.max(0, beyond(worst)), ...(worst ? { worst } : {}) }
}
