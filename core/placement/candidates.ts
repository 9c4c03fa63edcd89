// Candidates: which peers are asked to bid for a service. Asking every peer would make each placement
// cost O(N) messages and O(N) work; Nomad scores only a bounded sample for the same reason. The sample
// must also be the same on every peer, so each peer can tell by itself whether it is a candidate.
//
// Multi-probe consistent hashing (Appleton & O'Reilly, 2015) over a ring with virtual points: each
// peer sits on the ring at VIRTUAL_POINTS positions hash(peer id, v); the service's key is hashed with
// probe seeds 0, 1, 2, … and each probe takes the owner of the first point at or after it whose peer
// is not chosen yet. Once half the peers are chosen, the rest follow in ring order from a point of the
// key. The candidates of a key are therefore the prefix of one fixed sequence: widening a round only
// ever adds peers. The sequence depends only on the key and the membership, moves little when the
// membership changes (peers that disagree about one member still agree on most candidates), and costs
// O(k log N) to compute. Virtual points even out the arcs in front of each peer, so every peer is asked
// about equally often.
//
// Peers that can never take the service — wrong labels for its constraints, or without its driver —
// are skipped in the sequence (every peer knows every peer's labels from adverts), so constrained
// services do not spend rounds asking peers that cannot bid.
//
// Size: k = (slots to place) + ⌈log₂ N⌉ + 2 — one candidate per slot so spread can give each its own
// peer, plus Nomad-style log N for a choice of the emptiest, even for one slot. Every candidate sends
// its bid to every other, so a round costs k² messages: k stays as small as choice allows.
//
// Later bid rounds (roundWindow) keep that size and move along the sequence instead of growing: round
// r asks the k peers from position r·s on (s = ⌈log₂ N⌉ + 3, the size of a one-slot round), wrapping
// at the end. Successive windows overlap or touch, so the rounds walk the whole sequence — a slot that
// only one far peer can take still reaches it — and every round costs at most k² bids whatever N is.
// The first version widened each round 4× up to the whole cluster; a placement wave's leftover slots
// (bidders whose views disagreed, not slots nobody could take) then cost rounds of N² bids, and the
// wave's bids grew as N³ (the simulator: 6.5 M bids at 200 peers). The step is the same on every peer
// whatever its view of the open slots, so windows of different lengths start at one place and the
// shorter is a prefix of the longer, as candidate sets of one round were before.
//
// The planner (plan.ts) and the simulator's fill model still widen 4×: they ask which peers could
// take a service at all and send no messages, so their rounds cost nothing to widen.

import { hash32 } from '../hash.js'
import { compareStrings, type PeerId } from './ids.js'
import { OwnerSet } from './owner-set.js'
import { sameElements } from './same-elements.js'

export interface PeerRing {
  /**
   * The ring's points, ascending, each as two numbers side by side: its position at 2i and the index
   * into `peers` of its owner at 2i + 1. Side by side, a probe reads both from one cache line; in two
   * arrays of 1.6M entries each (100k peers) that was two misses per probe.
   */
  readonly entries: Uint32Array
  /** Number of points (entries.length / 2). */
  readonly size: number
  /** Distinct peers, sorted by id. */
  readonly peers: readonly PeerId[]
  /**
   * The ring cut into 2^bucketBits equal slices of the hash space, a record of SLICE_FIELDS numbers a
   * slice: the index of the first point at or after the slice's start (size when none), the same for
   * the next slice, then the position and owner of the first SLICE_POINTS points from that index on
   * (while the ring has them). A probe finds its point among the one or two of its slice instead of a
   * binary search whose ~21 steps over a 100k-peer ring are each a cache miss; and when its point is
   * one of those the record holds, as for nine probes in ten, the probe costs one 32-byte read
   * instead of two cache misses.
   */
  readonly slices: Uint32Array
  readonly bucketBits: number
}

/** Points whose position and owner a slice record holds, and the record's length. */
const SLICE_POINTS = 3
const SLICE_FIELDS = 2 + 2 * SLICE_POINTS

/** Positions per peer. 16 keeps the most-asked peer within about 2× the mean at 1,000 peers. */
export const VIRTUAL_POINTS = 16

/** Owners are packed below 2^21 in ring construction. */
const OWNER_LIMIT = 2 ** 21

/** Widening factor per round of the planner and the simulator's fill model (not of bid rounds: roundWindow). */
export const WIDEN_FACTOR = 4

export function buildRing(peers: readonly PeerId[]): PeerRing {
  const unique = [...new Set(peers)].sort(compareStrings)
  if (unique.length >= OWNER_LIMIT) throw new RangeError(`a ring holds fewer than ${OWNER_LIMIT} peers`)
  // Point and owner packed into one exact double (32 + 21 bits), so a native numeric sort orders
  // them by point, then owner, without allocating an object per point.
  const packed = new Float64Array(unique.length * VIRTUAL_POINTS)
  unique.forEach((peer, owner) => {
    for (let v = 0; v < VIRTUAL_POINTS; v++) packed[owner * VIRTUAL_POINTS + v] = hash32(peer, v) * OWNER_LIMIT + owner
  })
  packed.sort()
  const size = packed.length
  const entries = new Uint32Array(2 * size)
  for (let i = 0; i < size; i++) {
    const value = packed[i]!
    const owner = value % OWNER_LIMIT
    entries[2 * i] = (value - owner) / OWNER_LIMIT
    entries[2 * i + 1] = owner
  }
  // About one point per slice; at most 2^20 slices (32 MiB of records) however large the ring.
  const bucketBits = Math.min(20, Math.max(0, Math.ceil(Math.log2(Math.max(1, size)))))
  const bucketCount = 2 ** bucketBits
  const slices = new Uint32Array(SLICE_FIELDS * bucketCount)
  for (let bucket = 0, i = 0; bucket < bucketCount; bucket++) {
    const start = bucket * 2 ** (32 - bucketBits)
    while (i < size && entries[2 * i]! < start) i++
    const record = SLICE_FIELDS * bucket
    slices[record] = i
    if (bucket > 0) slices[record - SLICE_FIELDS + 1] = i
    for (let k = 0; k < SLICE_POINTS && i + k < size; k++) {
      slices[record + 2 + 2 * k] = entries[2 * (i + k)]!
      slices[record + 3 + 2 * k] = entries[2 * (i + k) + 1]!
    }
  }
  slices[SLICE_FIELDS * (bucketCount - 1) + 1] = size
  return { entries, size, peers: unique, slices, bucketBits }
}

/**
 * The last ring built by ringOf, with the member list it was built from (as given). A ring depends
 * only on membership, and a planner run again and again over one cluster (the simulator's capacity
 * tools, the benchmark, `peer plan` in a loop) would otherwise hash 16 points per peer and sort them
 * each pass: at 100k peers that is a tenth of the pass. One entry: the caller that plans many
 * clusters in turn only rebuilds as before.
 */
let remembered: { readonly members: readonly PeerId[]; readonly ring: PeerRing } | undefined

/**
 * buildRing(peers), reusing the last ring this built when `peers` lists the same members in the same
 * order: a comparison of N references instead of 16·N hashes and a sort. Callers must not write to
 * the ring's arrays (no code does: a ring is read-only data).
 */
export function ringOf(peers: readonly PeerId[]): PeerRing {
  const last = remembered
  if (last !== undefined && sameElements(last.members, peers)) return last.ring
  const ring = buildRing(peers)
  remembered = { members: [...peers], ring }
  return ring
}

/** Candidate count for `unplaced` slots in a cluster of `clusterSize` peers at bid round `round`. */
export function candidateCount(unplaced: number, clusterSize: number, round: number): number {
  if (clusterSize <= 0) return 0
  const base = Math.max(1, unplaced) + Math.ceil(Math.log2(clusterSize + 1)) + 2
  const widened = base * WIDEN_FACTOR ** Math.max(0, round)
  return Math.min(clusterSize, widened)
}

/**
 * How far each bid round's window moves along the candidate sequence: the size of a one-slot round,
 * ⌈log₂(N + 1)⌉ + 3. It does not depend on how many slots a peer sees open, so every peer puts a
 * round's window at the same place.
 */
export function windowStep(clusterSize: number): number {
  return candidateCount(1, clusterSize, 0)
}

/** One bid round's candidates: a window of the candidate sequence. */
export interface RoundWindow {
  /** The round's candidates, in sequence order; round 0's are the first candidateCount of the sequence. */
  readonly candidates: PeerId[]
  /**
   * Whether the window holds the sequence's last peer: a lap is over. The windows from the previous
   * such round to this one (both included; the previous one's wrapped part held the sequence's
   * start) have then asked every peer the filter admits.
   */
  readonly lapEnds: boolean
}

/**
 * The candidates of bid round `round` for `key` with `unplaced` slots open: the candidateCount(unplaced,
 * N, 0) peers from position round·windowStep(N) of the sequence on, wrapping at its end. A window never
 * holds more than that count, whatever the round and N, so a round's bids stay within its square.
 * Costs O((round·step + k) log N) up to the ring walk's O(N): only the service's peers compute it.
 */
export function roundWindow(ring: PeerRing, key: string, unplaced: number, round: number, accept?: (peer: PeerId) => boolean): RoundWindow {
  const size = ring.peers.length
  const length = candidateCount(unplaced, size, 0)
  const step = windowStep(size)
  const offset = Math.max(0, round) * step
  // One more than the window needs: a sequence that long shows the window does not reach its end.
  const sequence = candidates(ring, key, offset + length + 1, accept)
  if (sequence.length > offset + length) return { candidates: sequence.slice(offset, offset + length), lapEnds: false }
  // The window reaches the sequence's end and wraps to its start. A window as long as the sequence
  // holds all of it, still from the same place, so a shorter window stays its prefix.
  const total = sequence.length
  if (total === 0) return { candidates: [], lapEnds: true }
  const start = offset % total
  const chosen: PeerId[] = []
  for (let i = 0; i < Math.min(length, total); i++) chosen.push(sequence[(start + i) % total]!)
  if (total <= length) return { candidates: chosen, lapEnds: true }
  // Counted on the sequence repeated end to end, the window's last position passes a multiple of its
  // length in this round, not in the one before: windows overlap, so only the first to reach the end
  // ends the lap (the next may reach it too).
  const last = offset + length - 1
  return { candidates: chosen, lapEnds: Math.floor(last / total) > Math.floor((last - step) / total) }
}

/**
 * The first `count` candidates for `key` (a service name) among the peers `accept` admits (all, by
 * default). For a fixed ring and filter, a larger count always extends a smaller one.
 */
export function candidates(ring: PeerRing, key: string, count: number, accept?: (peer: PeerId) => boolean): PeerId[] {
  const owners = candidateOwners(ring, key, count, accept === undefined ? undefined : (owner) => accept(ring.peers[owner]!))
  return owners.map((owner) => ring.peers[owner]!)
}

/**
 * candidates() as indexes into ring.peers, with the filter asked by index too: a caller that keeps
 * its peers in an array beside the ring finds each candidate without a lookup by id.
 */
export function candidateOwners(ring: PeerRing, key: string, count: number, accept?: (owner: number) => boolean): number[] {
  const size = ring.peers.length
  const wanted = Math.min(count, size)
  if (wanted <= 0) return []
  const points = ring.size
  const entries = ring.entries
  // A set, not a bitmap of the ring: the cost must stay O(k), not O(N), per service. One set serves
  // walk after walk; a walk that runs inside another's filter takes a set of its own.
  const seen = spareSet ?? new OwnerSet()
  spareSet = undefined
  seen.clear()
  const batch = spareBatch ?? new ProbeBatch()
  spareBatch = undefined
  const out: number[] = []
  const half = Math.floor(size / 2)
  const slices = ring.slices
  let batchStart = 0
  let batchEnd = 0
  for (let probe = 0; out.length < wanted && seen.size < half; probe++) {
    // Each probe adds at most one candidate, so the walk needs at least as many more probes as
    // candidates it lacks: those are hashed and their slice records read ahead, in one tight loop.
    if (probe === batchEnd) {
      batchStart = probe
      batchEnd = probe + (wanted - out.length)
      batch.fill(ring, key, batchStart, batchEnd)
    }
    const value = batch.values[probe - batchStart]!
    const record = batch.records[probe - batchStart]!
    const first = batch.firsts[probe - batchStart]!
    // The first of the record's points at or after the probe, when it holds one: read from the record.
    let k = 0
    while (k < SLICE_POINTS && first + k < points && slices[record + 2 + 2 * k]! < value) k++
    let index: number
    let owner: number
    if (k < SLICE_POINTS && first + k < points) {
      index = first + k
      owner = slices[record + 3 + 2 * k]!
    } else {
      index = lowerBound(ring, value) % points
      owner = entries[2 * index + 1]!
    }
    // At most half the peers are seen, so an unseen one is a few points away.
    while (seen.has(owner)) {
      index = (index + 1) % points
      owner = entries[2 * index + 1]!
    }
    seen.add(owner)
    if (accept === undefined || accept(owner)) out.push(owner)
  }
  if (out.length < wanted) {
    let index = lowerBound(ring, hash32(key, 0x5eed)) % points
    for (let step = 0; step < points && out.length < wanted; step++, index = (index + 1) % points) {
      const owner = entries[2 * index + 1]!
      if (seen.has(owner)) continue
      seen.add(owner)
      if (accept === undefined || accept(owner)) out.push(owner)
    }
  }
  spareSet = seen
  spareBatch = batch
  return out
}

let spareSet: OwnerSet | undefined = new OwnerSet()

/**
 * A run of a walk's probes read ahead: each probe's position, its slice record and the record's
 * first point index. At 100k peers the slice records take 32 MB, so reading a probe's record is a
 * cache miss; probe by probe, each waited for the one before (the walk decides what to do with a
 * probe from its record). Read in a loop that does nothing else, the misses of a run overlap.
 */
class ProbeBatch {
  values = new Uint32Array(64)
  records = new Uint32Array(64)
  firsts = new Uint32Array(64)

  /** Probes start to end - 1 of `key` on `ring`, at indexes 0 to end - start - 1. */
  fill(ring: PeerRing, key: string, start: number, end: number): void {
    const length = end - start
    if (length > this.values.length) {
      const capacity = Math.max(length, 2 * this.values.length)
      this.values = new Uint32Array(capacity)
      this.records = new Uint32Array(capacity)
      this.firsts = new Uint32Array(capacity)
    }
    const shift = 32 - ring.bucketBits
    for (let i = 0; i < length; i++) {
      const value = hash32(key, start + i)
      this.values[i] = value
      this.records[i] = SLICE_FIELDS * (ring.bucketBits === 0 ? 0 : value >>> shift)
    }
    const slices = ring.slices
    const records = this.records
    const firsts = this.firsts
    for (let i = 0; i < length; i++) firsts[i] = slices[records[i]!]!
  }
}

let spareBatch: ProbeBatch | undefined = new ProbeBatch()

/** Whether `peer` is among the first `count` candidates for `key`. */
export function isCandidate(ring: PeerRing, key: string, count: number, peer: PeerId, accept?: (peer: PeerId) => boolean): boolean {
  return candidates(ring, key, count, accept).includes(peer)
}

/** Index of the first point >= value (ring.size when none): a binary search within value's slice. */
function lowerBound(ring: PeerRing, value: number): number {
  const entries = ring.entries
  const record = SLICE_FIELDS * (ring.bucketBits === 0 ? 0 : value >>> (32 - ring.bucketBits))
  let low = ring.slices[record]!
  let high = ring.slices[record + 1]!
  while (low < high) {
    const mid = (low + high) >>> 1
    if (entries[2 * mid]! < value) low = mid + 1
    else high = mid
  }
  return low
}
