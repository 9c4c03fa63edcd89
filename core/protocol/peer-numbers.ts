// Dense numbers for peer ids, and per-peer tables and columns indexed by them. A machine keeps a few
// facts about every member (its record, its advert, its status, when it was last heard from, since
// when it is alive, where its queued update sits): a Map per fact costs ≈ 28 bytes a member for the
// entry, and 16 more for a fractional time boxed as a heap number; a typed array indexed by a dense
// number costs 1–8. A real agent holds one such set of tables and the difference is small; the
// simulator runs N machines in one process, where each of those bytes is one per pair of peers. It
// shares one PeerNumbers between its machines (MachineInit.peerNumbers), so the ids are numbered
// once. Every table and column is its own machine's state: only the numbering is shared.

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

/**
 * Grows `values` to hold every numbered peer and an eighth more: growing by a fixed share keeps the
 * copies linear in the peers, and a small share keeps what is never used small (a column of a
 * machine is one of N in the simulator, where doubling left up to half of each unused).
 */
function grown<T extends Float64Array | Int32Array | Uint8Array>(values: T, numbers: PeerNumbers, make: (length: number) => T, absent: number): T {
  const next = make(Math.max(16, numbers.size + (numbers.size >> 3)))
  if (absent !== 0) next.fill(absent, values.length)
  next.set(values)
  return next
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
    if (number >= this.values.length) this.values = grown(this.values, this.numbers, (n) => new Float64Array(n), NaN)
    this.values[number] = value
  }

  delete(peer: PeerId): void {
    const number = this.numbers.find(peer)
    if (number !== undefined && number < this.values.length) this.values[number] = NaN
  }
}

/** A small whole number (1–255) per peer, or none: 0 is none. */
export class PeerBytes {
  private values = new Uint8Array(0)

  constructor(private readonly numbers: PeerNumbers) {}

  /** The peer's value, 0 when it has none. */
  get(peer: PeerId): number {
    const number = this.numbers.find(peer)
    return number === undefined || number >= this.values.length ? 0 : this.values[number]!
  }

  set(peer: PeerId, value: number): void {
    if (!Number.isInteger(value) || value < 1 || value > 255) throw new RangeError(`a peer byte is 1–255, not ${value} (peer ${peer})`)
    const number = this.numbers.of(peer)
    if (number >= this.values.length) this.values = grown(this.values, this.numbers, (n) => new Uint8Array(n), 0)
    this.values[number] = value
  }
}

/** A set of peers (a Set<PeerId> without iteration), one byte a numbered peer. */
export class PeerFlags {
  private readonly flags: PeerBytes
  private count = 0

  constructor(numbers: PeerNumbers) {
    this.flags = new PeerBytes(numbers)
  }

  has(peer: PeerId): boolean {
    return this.flags.get(peer) === 1
  }

  add(peer: PeerId): void {
    if (this.has(peer)) return
    this.flags.set(peer, 1)
    this.count++
  }

  get size(): number {
    return this.count
  }
}

/**
 * A value per peer kept in the order peers were first set, as a Map<PeerId, V> that never deletes
 * iterates (the member table's records, the adverts): an array of values and each peer's place in
 * it, ≈ 12 bytes a peer where a Map entry costs ≈ 28.
 */
export class PeerTable<V extends { readonly peer: PeerId }> {
  private readonly entries: V[] = []
  /** Each peer's place in `entries`. */
  private readonly places: PeerPlaces

  constructor(numbers: PeerNumbers) {
    this.places = new PeerPlaces(numbers)
  }

  get(peer: PeerId): V | undefined {
    const place = this.places.get(peer)
    return place === undefined ? undefined : this.entries[place]
  }

  has(peer: PeerId): boolean {
    return this.places.get(peer) !== undefined
  }

  /** Stores `value` as its peer's: in that peer's place, or last for a peer not held yet. */
  set(value: V): void {
    const place = this.places.get(value.peer)
    if (place !== undefined) {
      this.entries[place] = value
      return
    }
    this.places.set(value.peer, this.entries.length)
    this.entries.push(value)
  }

  /** The values in the order their peers were first set (a value set during the iteration is seen, as with a Map). */
  values(): IterableIterator<V> {
    return this.entries.values()
  }

  get size(): number {
    return this.entries.length
  }
}

/** A place per peer (a whole number ≥ 0), or none: the piggyback queue's index of each peer's update. */
export class PeerPlaces {
  /** -1 where a peer has none. */
  private places = new Int32Array(0)

  constructor(private readonly numbers: PeerNumbers) {}

  get(peer: PeerId): number | undefined {
    const number = this.numbers.find(peer)
    if (number === undefined || number >= this.places.length) return undefined
    const place = this.places[number]!
    return place < 0 ? undefined : place
  }

  set(peer: PeerId, place: number): void {
    if (!Number.isInteger(place) || place < 0 || place > 0x7fffffff) throw new RangeError(`a place is a whole number ≥ 0, not ${place} (peer ${peer})`)
    const number = this.numbers.of(peer)
    if (number >= this.places.length) this.places = grown(this.places, this.numbers, (n) => new Int32Array(n), -1)
    this.places[number] = place
  }

  delete(peer: PeerId): void {
    const number = this.numbers.find(peer)
    if (number !== undefined && number < this.places.length) this.places[number] = -1
  }
}
