// A round's bids as columns: what the auction reads of each bid (bid.ts), one typed array per field,
// plus the auction's own state per bidder. The auction of a message round fills it from Bid objects;
// the planner fills it straight from its packed peer table, so a planning pass at 100k peers makes no
// Bid, no result wrapper and no heap entry per candidate (1.2M of each, most of its garbage). One
// sheet is cleared and refilled round after round: its arrays grow to the largest round and stay.

import { hash32 } from '../hash.js'
import type { Bid } from './bid.js'
import type { PeerId } from './ids.js'
import type { ScoringState } from './scoring.js'

export class BidSheet {
  /** Bidders in the sheet; each column is valid below this. */
  size = 0
  /** Each bidder's id, or undefined when it was added by ref alone (peerAt finds it in `names`). */
  private readonly peers: (PeerId | undefined)[] = []
  readonly domains: string[] = []
  readonly extended: ScoringState['extended'][] = []
  /** The caller's own index for each bidder (the planner's ring index), -1 when it gave none. */
  ref = new Int32Array(0)
  /** hash32 of the bidder's id, for the auction's tie-break. */
  peerHash = new Uint32Array(0)
  existing = new Float64Array(0)
  offered = new Float64Array(0)
  domainCount = new Float64Array(0)
  cpuCapacity = new Float64Array(0)
  cpuAllocated = new Float64Array(0)
  memoryCapacity = new Float64Array(0)
  memoryAllocated = new Float64Array(0)

  // The auction's state of each bidder's next replica (its one heap entry), written by the auction.
  ordinal = new Float64Array(0)
  /** The domain term (spreadBy only) and the two score components, highest first. */
  domainTerm = new Float64Array(0)
  first = new Float64Array(0)
  second = new Float64Array(0)
  tie = new Uint32Array(0)
  /** Wins in the bidder's domain when domainTerm was computed; stale once the domain wins again. */
  domainWins = new Float64Array(0)
  /** The auction's heap of bidders (each holds one entry at a time: its next replica). */
  heap = new Int32Array(0)

  /** Bidder i's numbers as the ScoringState its Bid would carry (for explain's reports). */
  scoringState(i: number): ScoringState {
    const extended = this.extended[i]
    return {
      cpuCapacityMilli: this.cpuCapacity[i]!, cpuAllocatedMilli: this.cpuAllocated[i]!,
      memoryCapacityMiB: this.memoryCapacity[i]!, memoryAllocatedMiB: this.memoryAllocated[i]!,
      ...(extended === undefined ? {} : { extended }),
    }
  }

  /**
   * `names`: the caller's peers by ref, for bidders added without an id. The planner's bids name
   * peers by ring index: reading the id of each of a pass's million candidates from a 100k-entry
   * array was a cache miss each, and the auction needs an id only to break a tie of hashes.
   */
  constructor(private readonly names: readonly PeerId[] = []) {}

  /** Bidder i's peer id. */
  peerAt(i: number): PeerId {
    return this.peers[i] ?? this.names[this.ref[i]!]!
  }

  clear(): void {
    this.size = 0
  }

  /** Appends a bidder; returns its index in the sheet. */
  add(
    peer: PeerId | undefined, peerHash: number, ref: number, existing: number, offered: number, domain: string, domainCount: number,
    cpuCapacity: number, cpuAllocated: number, memoryCapacity: number, memoryAllocated: number, extended: ScoringState['extended'],
  ): number {
    const i = this.size
    if (i === this.ref.length) this.grow()
    this.peers[i] = peer
    this.domains[i] = domain
    this.extended[i] = extended
    this.ref[i] = ref
    this.peerHash[i] = peerHash
    this.existing[i] = existing
    this.offered[i] = offered
    this.domainCount[i] = domainCount
    this.cpuCapacity[i] = cpuCapacity
    this.cpuAllocated[i] = cpuAllocated
    this.memoryCapacity[i] = memoryCapacity
    this.memoryAllocated[i] = memoryAllocated
    this.size = i + 1
    return i
  }

  /** Appends a Bid; `peerHash` when the caller already has hash32(bid.peer). */
  addBid(bid: Bid, ref = -1, peerHash = hash32(bid.peer)): number {
    return this.add(
      bid.peer, peerHash, ref, bid.existing, bid.offered, bid.domain, bid.domainCount,
      bid.cpuCapacityMilli, bid.cpuAllocatedMilli, bid.memoryCapacityMiB, bid.memoryAllocatedMiB, bid.extended,
    )
  }

  private grow(): void {
    const capacity = Math.max(64, this.ref.length * 2)
    const int32 = (old: Int32Array) => { const next = new Int32Array(capacity); next.set(old); return next }
    const uint32 = (old: Uint32Array) => { const next = new Uint32Array(capacity); next.set(old); return next }
    const float64 = (old: Float64Array) => { const next = new Float64Array(capacity); next.set(old); return next }
    this.ref = int32(this.ref)
    this.peerHash = uint32(this.peerHash)
    this.existing = float64(this.existing)
    this.offered = float64(this.offered)
    this.domainCount = float64(this.domainCount)
    this.cpuCapacity = float64(this.cpuCapacity)
    this.cpuAllocated = float64(this.cpuAllocated)
    this.memoryCapacity = float64(this.memoryCapacity)
    this.memoryAllocated = float64(this.memoryAllocated)
    this.ordinal = float64(this.ordinal)
    this.domainTerm = float64(this.domainTerm)
    this.first = float64(this.first)
    this.second = float64(this.second)
    this.tie = uint32(this.tie)
    this.domainWins = float64(this.domainWins)
    this.heap = int32(this.heap)
  }
}
