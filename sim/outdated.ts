// Outdated copies beside the desired one: a slot that runs an old version on one peer while another
// peer already runs the desired version. A start-first update overlaps the two briefly; a copy the
// conflict rule ranks last (rule 1: the desired version first) that stays up for seconds was never
// stopped — on real agents, the old-version orphans of a restarted agent beside the copies the
// cluster placed while it was down (issue 16). Read at each sample, so a stretch is known to the
// sampling interval.

/** A copy as the sample sees it. */
export interface SampledCopy {
  readonly slot: string
  readonly service: string
  readonly specHash: string
}

export class OutdatedLedger {
  /** Since when each slot ran an outdated copy beside a desired one, while it still does. */
  private readonly since = new Map<string, number>()
  private readonly counted = new Set<string>()

  /** `limitMs`: how long an outdated copy may run beside the desired one before the slot counts. */
  constructor(private readonly limitMs: number) {}

  /** One sample: every copy that runs on a live peer, and each service's desired version. */
  sample(copies: readonly SampledCopy[], desiredHash: (service: string) => string | undefined, now: number): void {
    const bySlot = new Map<string, { desired: boolean; outdated: boolean }>()
    for (const copy of copies) {
      const want = desiredHash(copy.service)
      if (want === undefined) continue
      const entry = bySlot.get(copy.slot) ?? { desired: false, outdated: false }
      if (copy.specHash === want) entry.desired = true
      else entry.outdated = true
      bySlot.set(copy.slot, entry)
    }
    for (const [slot, entry] of bySlot) {
      if (!(entry.desired && entry.outdated)) continue
      const from = this.since.get(slot) ?? now
      this.since.set(slot, from)
      if (now - from > this.limitMs) this.counted.add(slot)
    }
    for (const slot of [...this.since.keys()]) {
      const entry = bySlot.get(slot)
      if (entry === undefined || !(entry.desired && entry.outdated)) this.since.delete(slot)
    }
  }

  /** Slots whose outdated copy ran beside the desired one longer than the limit, at least once. */
  get slots(): number {
    return this.counted.size
  }
}
