// The set of ring owners a candidate walk has passed. A walk asks "seen?" once per probe, over a
// million times in a planning pass of 100k peers, and a JavaScript Set of numbers cost a tenth of
// the walk. This is an open-addressed hash set in typed arrays that outlive the walk: a new walk
// bumps a generation stamp instead of clearing, so it costs O(owners it adds), never O(N), and
// allocates nothing once its arrays have grown to the largest walk.

export class OwnerSet {
  private keys = new Int32Array(64)
  /** The generation in which each slot was written; other slots are empty. */
  private stamps = new Uint32Array(64)
  private generation = 1
  size = 0

  /** Empties the set. */
  clear(): void {
    this.size = 0
    this.generation++
    if (this.generation === 0xffffffff) {
      this.stamps.fill(0)
      this.generation = 1
    }
  }

  has(owner: number): boolean {
    const mask = this.keys.length - 1
    for (let slot = slotOf(owner, mask); ; slot = (slot + 1) & mask) {
      if (this.stamps[slot] !== this.generation) return false
      if (this.keys[slot] === owner) return true
    }
  }

  /** Adds an owner not in the set yet. */
  add(owner: number): void {
    if (2 * (this.size + 1) > this.keys.length) this.grow()
    const mask = this.keys.length - 1
    let slot = slotOf(owner, mask)
    while (this.stamps[slot] === this.generation) slot = (slot + 1) & mask
    this.keys[slot] = owner
    this.stamps[slot] = this.generation
    this.size++
  }

  private grow(): void {
    const keys = this.keys
    const stamps = this.stamps
    const generation = this.generation
    this.keys = new Int32Array(keys.length * 2)
    this.stamps = new Uint32Array(keys.length * 2)
    this.generation = 1
    this.size = 0
    for (let slot = 0; slot < keys.length; slot++) if (stamps[slot] === generation) this.add(keys[slot]!)
  }
}

/** A slot for `owner` in a table of mask + 1 slots (Fibonacci hashing: owners are small integers). */
function slotOf(owner: number, mask: number): number {
  return (Math.imul(owner, 0x9e3779b1) >>> 16) & mask
}
