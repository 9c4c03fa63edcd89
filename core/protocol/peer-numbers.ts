// Dense numbers for peer ids, and per-peer columns of numbers indexed by them. A machine keeps a few
// facts about every member (when it was last heard from, since when it is alive, where its queued
// update sits): one Map per fact costs ≈ 30–45 bytes a member (an entry, and a boxed number for a
// fractional time), a typed array indexed by a dense number 8. A real agent holds one table and the
// difference is small; the simulator runs N machines in one process and shares one PeerNumbers
// between them (MachineInit.peerNumbers), so the ids are numbered once and each machine's columns
// cost 8 bytes per pair of peers. A column is state of its own machine: only the numbering is shared.

import type { PeerId } from '../placement/ids.js'

/** Numbers peer ids 0, 1, 2, … in the order first seen; a number is never reused. */
export class PeerNumbers {
  private readonly numbers = new Map<PeerId, number>()

  /** The peer's number, given now if it has none. */
  of(peer: PeerId): number {
    let number = this.numbers.get(peer)
    if (number === undefined) this.numbers.set(peer, (number = this.numbers.size))
    return number
  }

  /** The peer's number, or undefined when it was never given one (then no column holds it). */
  find(peer: PeerId): number | undefined {
    return this.numbers.get(peer)
  }

  get size(): number {
    return this.numbers.size
  }
}

/** A number per peer, or none (a Map<PeerId, number> without iteration). */
export class PeerColumn {
  /** NaN where a peer has no value. */
  private values = new Float64Array(0)

  constructor(private readonly numbers: PeerNumbers) {}

  get(peer: PeerId): number | undefined {
    const number = this.numbers.find(peer)
    if (number === undefined || number >= this.values.length) return undefined
    const value = this.values[number]!
    return Number.isNaN(value) ? undefined : value
  }

  has(peer: PeerId): boolean {
    return this.get(peer) !== undefined
  }

  set(peer: PeerId, value: number): void {
    if (Number.isNaN(value)) throw new RangeError(`a peer column holds numbers, not NaN (peer ${peer})`)
    const number = this.numbers.of(peer)
    if (number >= this.values.length) this.grow()
    this.values[number] = value
  }

  delete(peer: PeerId): void {
    const number = this.numbers.find(peer)
    if (number !== undefined && number < this.values.length) this.values[number] = NaN
  }

  /** Room for every numbered peer, and for as many again: doubling keeps the copies linear. */
  private grow(): void {
    const grown = new Float64Array(Math.max(16, 2 * this.values.length, this.numbers.size))
    grown.fill(NaN, this.values.length)
    grown.set(this.values)
    this.values = grown
  }
}

/** A set of peers (a Set<PeerId> without iteration), one byte a numbered peer. */
export class PeerFlags {
  private flags = new Uint8Array(0)
  private count = 0

  constructor(private readonly numbers: PeerNumbers) {}

  has(peer: PeerId): boolean {
    const number = this.numbers.find(peer)
    return number !== undefined && number < this.flags.length && this.flags[number] === 1
  }

  add(peer: PeerId): void {
    const number = this.numbers.of(peer)
    if (number >= this.flags.length) {
      const grown = new Uint8Array(Math.max(16, 2 * this.flags.length, this.numbers.size))
      grown.set(this.flags)
      this.flags = grown
    }
    if (this.flags[number] === 1) return
    this.flags[number] = 1
    this.count++
  }

  get size(): number {
    return this.count
  }
}
