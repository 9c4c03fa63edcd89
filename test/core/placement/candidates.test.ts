// Candidates: the bounded, deterministic set of peers asked to bid for a service. Every peer must
// compute the same set from its membership view, and the set must move little when membership does.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {
  VIRTUAL_POINTS, WIDEN_FACTOR, buildRing, candidateCount, candidates, hash32, isCandidate, peerId, type PeerId, type PeerRing,
} from '../../../core/index.js'
import { candidateOwners } from '../../../core/placement/candidates.js'
import { shuffled } from './fixtures.js'

const ids = (count: number, prefix = 'peer-') => Array.from({ length: count }, (_, i) => peerId(`${prefix}${i}`))
const PEERS_1000 = ids(1000)
const RING_1000 = buildRing(PEERS_1000)
const KEYS = Array.from({ length: 200 }, (_, i) => `svc-${i}`)

const Count = suite('candidateCount')

const counts: Array<{ name: string; unplaced: number; cluster: number; round: number; expected: number }> = [
  // k = slots + ⌈log₂(N + 1)⌉ + 2
  { name: 'one slot in 1000 peers asks 1 + 10 + 2', unplaced: 1, cluster: 1000, round: 0, expected: 13 },
  { name: 'three slots in 1000 peers ask 3 + 10 + 2', unplaced: 3, cluster: 1000, round: 0, expected: 15 },
  { name: 'zero slots count as one', unplaced: 0, cluster: 1000, round: 0, expected: 13 },
  { name: 'one slot in 1 peer asks that peer', unplaced: 1, cluster: 1, round: 0, expected: 1 },
  { name: 'a small cluster is asked whole', unplaced: 5, cluster: 10, round: 0, expected: 10 },
  { name: 'one slot in 100,000 peers asks 1 + 17 + 2', unplaced: 1, cluster: 100_000, round: 0, expected: 20 },
  { name: 'round 1 asks 4× round 0', unplaced: 3, cluster: 1000, round: 1, expected: 60 },
  { name: 'round 2 asks 16× round 0', unplaced: 3, cluster: 1000, round: 2, expected: 240 },
  { name: 'round 4 is capped at the cluster size', unplaced: 3, cluster: 1000, round: 4, expected: 1000 },
  { name: 'an empty cluster asks nobody', unplaced: 3, cluster: 0, round: 0, expected: 0 },
  { name: 'a negative round counts as round 0', unplaced: 1, cluster: 1000, round: -1, expected: 13 },
]
for (const { name, unplaced, cluster, round, expected } of counts) {
  Count(`${name}: candidateCount(${unplaced}, ${cluster}, ${round}) = ${expected}`, () => {
    assert.is(candidateCount(unplaced, cluster, round), expected)
  })
}

Count(`the count grows ${WIDEN_FACTOR}× per round until it reaches the cluster size, then stays there`, () => {
  for (const cluster of [50, 1000, 100_000]) {
    let previous = candidateCount(2, cluster, 0)
    let reachedAll = previous === cluster
    for (let round = 1; round < 12; round++) {
      const current = candidateCount(2, cluster, round)
      assert.is(current, Math.min(cluster, previous * WIDEN_FACTOR), `cluster ${cluster}, round ${round}`)
      previous = current
      reachedAll ||= current === cluster
    }
    assert.ok(reachedAll, `cluster ${cluster} is eventually covered`)
  }
})

Count('more slots never ask fewer peers', () => {
  for (let unplaced = 1; unplaced < 100; unplaced++) {
    assert.ok(candidateCount(unplaced + 1, 1000, 0) >= candidateCount(unplaced, 1000, 0))
  }
})

Count.run()

const Sets = suite('candidates')

Sets('candidates returns `count` distinct peers of the ring', () => {
  const members = new Set<PeerId>(PEERS_1000)
  for (const count of [1, 14, 100, 499, 500, 501, 999, 1000]) {
    for (const key of KEYS.slice(0, 20)) {
      const chosen = candidates(RING_1000, key, count)
      assert.is(chosen.length, count, `count ${count}`)
      assert.is(new Set(chosen).size, count, `distinct at count ${count}`)
      for (const peer of chosen) assert.ok(members.has(peer))
    }
  }
})

Sets('candidates are bounded by the cluster size', () => {
  const ring = buildRing(ids(7))
  assert.is(candidates(ring, 'web', 100).length, 7)
  assert.equal(new Set(candidates(ring, 'web', 100)), new Set(ids(7)))
})

Sets('a count of zero, or an empty ring, gives no candidates', () => {
  assert.equal(candidates(RING_1000, 'web', 0), [])
  assert.equal(candidates(buildRing([]), 'web', 5), [])
})

Sets('the same key always gives the same candidates in the same order', () => {
  for (const key of KEYS.slice(0, 20)) assert.equal(candidates(RING_1000, key, 20), candidates(RING_1000, key, 20))
})

Sets('a ring built from the peers in any order gives the same candidates', () => {
  for (const seed of [1, 2, 3]) {
    const ring = buildRing(shuffled(PEERS_1000, seed))
    assert.equal(ring, RING_1000)
    for (const key of KEYS.slice(0, 20)) {
      assert.equal(candidates(ring, key, 20), candidates(RING_1000, key, 20))
      assert.equal(candidates(ring, key, 800), candidates(RING_1000, key, 800))
    }
  }
})

Sets('duplicate peers in the membership list count once', () => {
  const ring = buildRing([...ids(10), ...ids(10)])
  assert.is(ring.peers.length, 10)
  assert.equal(ring, buildRing(ids(10)))
})

/** The ring's positions and owners as two arrays (the ring keeps them side by side). */
const pointsOf = (ring: PeerRing): number[] => Array.from({ length: ring.size }, (_, i) => ring.entries[2 * i]!)
const ownersOf = (ring: PeerRing): number[] => Array.from({ length: ring.size }, (_, i) => ring.entries[2 * i + 1]!)

Sets('the ring places each peer at VIRTUAL_POINTS positions, ascending', () => {
  const ring = buildRing(ids(50))
  const points = pointsOf(ring)
  assert.is(ring.peers.length, 50)
  assert.is(ring.entries.length, 2 * ring.size)
  assert.is(points.length, 50 * VIRTUAL_POINTS)
  for (let i = 1; i < points.length; i++) assert.ok(points[i - 1]! <= points[i]!)
  const perOwner = new Map<number, number>()
  for (const owner of ownersOf(ring)) perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1)
  assert.ok([...perOwner.values()].every((n) => n === VIRTUAL_POINTS))
})

Sets('different services get different candidate sets (load is spread over the cluster)', () => {
  const firsts = new Set(KEYS.map((key) => candidates(RING_1000, key, 1)[0]))
  assert.ok(firsts.size >= 150, `${firsts.size} distinct first candidates for 200 services`)
})

Sets('removing one peer from a 1000-peer ring keeps at least 80% of each key\'s 20 candidates', () => {
  for (const removed of ['peer-17', 'peer-500', 'peer-999']) {
    const smaller = buildRing(PEERS_1000.filter((p) => p !== removed))
    let total = 0
    for (const key of KEYS) {
      const before = candidates(RING_1000, key, 20)
      const after = new Set(candidates(smaller, key, 20))
      const kept = before.filter((peer) => after.has(peer)).length
      assert.ok(kept >= 16, `${key} kept ${kept} of 20 after removing ${removed}`)
      total += kept
    }
    assert.ok(total / (KEYS.length * 20) >= 0.95, `mean overlap ${total / (KEYS.length * 20)}`)
  }
})

Sets('removing one of a key\'s candidates keeps all its other candidates', () => {
  for (const key of KEYS.slice(0, 50)) {
    const before = candidates(RING_1000, key, 20)
    const smaller = buildRing(PEERS_1000.filter((p) => p !== before[0]))
    const after = new Set(candidates(smaller, key, 20))
    assert.ok(before.slice(1).every((peer) => after.has(peer)), key)
  }
})

Sets('adding one peer to a 1000-peer ring changes at most a few of a key\'s candidates', () => {
  const larger = buildRing([...PEERS_1000, peerId('newcomer')])
  for (const key of KEYS) {
    const before = candidates(RING_1000, key, 20)
    const after = new Set(candidates(larger, key, 20))
    assert.ok(before.filter((peer) => after.has(peer)).length >= 16, key)
  }
})

Sets('while under half the ring, a larger count extends the smaller count\'s candidates', () => {
  for (const key of KEYS.slice(0, 50)) {
    const small = candidates(RING_1000, key, 14)
    const large = candidates(RING_1000, key, 56)
    assert.equal(large.slice(0, 14), small, key)
  }
})

// candidates() documents "the first `count` candidates for key", and each bid round "widens" the
// set. Below half the ring the set comes from ring probes; above half from a rendezvous ranking, and
// the two orders differ. So on a 100-peer ring, candidates(ring, 'svc-0', 51) keeps only about half
// of candidates(ring, 'svc-0', 50) (24.5 of 50 on average over 200 keys), and the planner's round 0
// (k = 15) → round 1 (k = 60) loses about 6 of the 15 round-0 candidates.
Sets('a larger count always starts with the candidates of a smaller count (widening never drops a candidate)', () => {
  const ring = buildRing(ids(100))
  for (const key of KEYS.slice(0, 50)) {
    const small = candidates(ring, key, 50)
    assert.equal(candidates(ring, key, 51).slice(0, 50), small, key)
    assert.ok(small.slice(0, 15).every((peer) => candidates(ring, key, 60).includes(peer)), key)
  }
})

// Each probe takes the peer after its own point, so a peer is chosen in proportion to the ring arc in
// front of it; with one point per peer those arcs vary by orders of magnitude. Measured: 1000 peers,
// 10,000 services, 14 candidates each (mean 140 per peer): median 96, 99th percentile 613, maximum
// 1227, and 2 peers are never asked. Multi-probe consistent hashing as published balances load by
// taking, per key, the nearest peer over all probes; this variant does not. Placement still spreads
// (the spread score prefers emptier candidates), but bid traffic and first-round choice are skewed.
Sets('every peer is asked about equally often: none more than 4× the mean, none never', () => {
  const asked = new Map<PeerId, number>()
  for (let i = 0; i < 10_000; i++) for (const peer of candidates(RING_1000, `svc-${i}`, 14)) asked.set(peer, (asked.get(peer) ?? 0) + 1)
  const mean = (10_000 * 14) / 1000
  for (const peer of PEERS_1000) {
    const times = asked.get(peer) ?? 0
    assert.ok(times > 0 && times <= 4 * mean, `${peer} asked ${times} times (mean ${mean})`)
  }
})

Sets.run()

const Member = suite('isCandidate')

Member('isCandidate agrees with candidates() for every peer, at counts below and above half the ring', () => {
  const ring = buildRing(ids(60))
  for (const key of KEYS.slice(0, 10)) {
    for (const count of [1, 10, 30, 31, 60]) {
      const chosen = new Set(candidates(ring, key, count))
      for (const peer of ring.peers) assert.is(isCandidate(ring, key, count, peer), chosen.has(peer), `${key} ${count} ${peer}`)
    }
  }
})

Member('a peer outside the ring is never a candidate', () => {
  assert.is(isCandidate(RING_1000, 'web', 1000, peerId('stranger')), false)
})

Member('exactly `count` peers consider themselves candidates', () => {
  const ring = buildRing(ids(200))
  for (const key of KEYS.slice(0, 10)) {
    assert.is(ring.peers.filter((peer) => isCandidate(ring, key, 14, peer)).length, 14)
  }
})

Member.run()

// ---------------------------------------------------------------------------------------------------

const Index = suite('ring slices')

/** The candidate walk as first written: a binary search over all points per probe, a Set of seen peers. */
function reference(ring: PeerRing, key: string, count: number, accept: (peer: PeerId) => boolean): PeerId[] {
  const size = ring.peers.length
  const wanted = Math.min(count, size)
  if (wanted <= 0) return []
  const ringPoints = pointsOf(ring)
  const owners = ownersOf(ring)
  const lowerBound = (value: number) => {
    let low = 0
    let high = ringPoints.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (ringPoints[mid]! < value) low = mid + 1
      else high = mid
    }
    return low
  }
  const points = ringPoints.length
  const seen = new Set<number>()
  const out: PeerId[] = []
  const visit = (owner: number) => {
    seen.add(owner)
    if (accept(ring.peers[owner]!)) out.push(ring.peers[owner]!)
  }
  for (let probe = 0; out.length < wanted && seen.size < Math.floor(size / 2); probe++) {
    let index = lowerBound(hash32(key, probe)) % points
    while (seen.has(owners[index]!)) index = (index + 1) % points
    visit(owners[index]!)
  }
  if (out.length < wanted) {
    let index = lowerBound(hash32(key, 0x5eed)) % points
    for (let step = 0; step < points && out.length < wanted; step++, index = (index + 1) % points) {
      if (!seen.has(owners[index]!)) visit(owners[index]!)
    }
  }
  return out
}

Index('candidates are those of a binary search over every point, for any ring size, key, count and filter', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 3000 }), fc.string(), fc.integer({ min: 0, max: 3100 }), fc.integer({ min: 1, max: 5 }),
    (size, key, count, keep) => {
      const ring = buildRing(ids(size))
      const accept = (peer: PeerId) => hash32(peer) % keep === 0
      const expected = reference(ring, key, count, accept)
      assert.equal(candidates(ring, key, count, accept), expected)
      assert.equal(candidateOwners(ring, key, count, (owner) => accept(ring.peers[owner]!)).map((owner) => ring.peers[owner]), expected)
    },
  ), { numRuns: 60 })
})

Index('every slice starts at the first point at or after its start, and holds the points from there', () => {
  const fields = 2 + 2 * 3
  for (const size of [0, 1, 2, 3, 100, 5000]) {
    const ring = buildRing(ids(size))
    const slices = 2 ** ring.bucketBits
    const points = pointsOf(ring)
    const owners = ownersOf(ring)
    assert.is(ring.slices.length, fields * slices)
    assert.is(ring.slices[fields * (slices - 1) + 1], points.length)
    for (let slice = 0; slice < slices; slice++) {
      const start = slice * 2 ** (32 - ring.bucketBits)
      const first = ring.slices[fields * slice]!
      assert.ok(first === points.length || points[first]! >= start)
      assert.ok(first === 0 || points[first - 1]! < start)
      if (slice + 1 < slices) assert.is(ring.slices[fields * slice + 1], ring.slices[fields * (slice + 1)])
      for (let k = 0; k < 3 && first + k < points.length; k++) {
        assert.is(ring.slices[fields * slice + 2 + 2 * k], points[first + k])
        assert.is(ring.slices[fields * slice + 3 + 2 * k], owners[first + k])
      }
    }
  }
})

Index.run()
