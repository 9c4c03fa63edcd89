// How many copies of each slot really run, kept up to date at every start and stop, so that a
// duplicate is seen the moment it begins rather than at the next sample: the exact form of the
// at-most-one-majority-copy invariant, and the time slots spent running twice (what `partition:
// serve` costs during a partition).

import type { ServiceSpec } from '../core/index.js'
import { AT_MOST_ONE_MAJORITY_COPY, type Violation } from './invariants.js'

interface SlotCopies {
  readonly peers: Set<string>
  readonly service: string
  readonly majority: boolean
  /** Since when more than one copy runs. */
  duplicatedSince?: number
}

export class CopyLedger {
  private readonly slots = new Map<string, SlotCopies>()
  /** Ended stretches of slot time run twice, by service. */
  private readonly duplicateMs = new Map<string, number>()

  constructor(private readonly violation: (v: Violation) => void) {}

  started(slot: string, peer: string, spec: ServiceSpec, now: number): void {
    let entry = this.slots.get(slot)
    if (entry === undefined) this.slots.set(slot, (entry = { peers: new Set(), service: spec.name, majority: spec.partition === 'majority' && spec.mode !== 'global' }))
    entry.peers.add(peer)
    if (entry.peers.size > 1 && entry.duplicatedSince === undefined) {
      entry.duplicatedSince = now
      if (entry.majority) {
        this.violation({ invariant: AT_MOST_ONE_MAJORITY_COPY, atMs: now, detail: `${slot} runs on ${[...entry.peers].sort().join(', ')}` })
      }
    }
  }

  stopped(slot: string, peer: string, now: number): void {
    const entry = this.slots.get(slot)
    if (entry === undefined || !entry.peers.delete(peer)) return
    if (entry.peers.size <= 1 && entry.duplicatedSince !== undefined) {
      this.duplicateMs.set(entry.service, (this.duplicateMs.get(entry.service) ?? 0) + now - entry.duplicatedSince)
      delete entry.duplicatedSince
    }
    if (entry.peers.size === 0) this.slots.delete(slot)
  }

  /** Slot-milliseconds spent with more than one copy running up to `now`, by service (sorted by name). */
  duplicateSlotMsByService(now: number): Record<string, number> {
    const totals = new Map(this.duplicateMs)
    for (const entry of this.slots.values()) {
      if (entry.duplicatedSince !== undefined) totals.set(entry.service, (totals.get(entry.service) ?? 0) + now - entry.duplicatedSince)
    }
    return Object.fromEntries([...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([service, ms]) => [service, Math.round(ms)]))
  }
}
