// Bid-round windows: each round after the first asks the next window of a service's candidate
// sequence, as many peers as round 0, instead of 4× more up to the whole cluster. What the rounds rely
// on: a window never holds more than candidateCount(slots, N, 0) peers whatever the round and N;
// round 0 is the prefix the machines' involvedIn assumes; windows of peers that see different numbers
// of open slots nest; and the rounds walk the whole sequence, so a slot only one far peer can take
// still reaches it.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { buildRing, candidateCount, candidates, hash32, peerId, roundWindow, windowStep, type PeerId, type PeerRing } from '../../../core/index.js'

const ids = (count: number) => Array.from({ length: count }, (_, i) => peerId(`peer-${i}`))
const RINGS = new Map<number, PeerRing>([50, 500, 5_000].map((n) => [n, buildRing(ids(n))]))
const sizes = fc.constantFrom(...RINGS.keys())
const keys = fc.nat(10_000).map((i) => `svc-${i}`)
/** A filter admitting about one peer in `keep`, as a constraint would (1: every peer). */
const filters = fc.integer({ min: 1, max: 4 }).map((keep) => (peer: PeerId) => hash32(peer, 7) % keep === 0)

const Window = suite('roundWindow')

Window('a round asks at most candidateCount(slots, N, 0) distinct admitted peers, whatever the round and N', () => {
  fc.assert(fc.property(sizes, keys, fc.integer({ min: 1, max: 60 }), fc.nat(2_000), filters, (n, key, slots, round, accept) => {
    const ring = RINGS.get(n)!
    const { candidates: chosen } = roundWindow(ring, key, slots, round, accept)
    const bound = candidateCount(slots, n, 0)
    assert.ok(chosen.length <= bound, `${chosen.length} > ${bound}`)
    assert.is(new Set(chosen).size, chosen.length, 'distinct')
    assert.ok(chosen.every(accept), 'only admitted peers')
    // The bound is slots + ⌈log₂(N + 1)⌉ + 2: at 5,000 peers one slot's round asks 16, not thousands.
    assert.ok(bound <= slots + Math.ceil(Math.log2(n + 1)) + 2)
  }), { numRuns: 300 })
})

Window('round 0 is the prefix of the sequence that involvedIn assumes', () => {
  fc.assert(fc.property(sizes, keys, fc.integer({ min: 1, max: 60 }), filters, (n, key, slots, accept) => {
    const ring = RINGS.get(n)!
    assert.equal(roundWindow(ring, key, slots, 0, accept).candidates, candidates(ring, key, candidateCount(slots, n, 0), accept))
  }), { numRuns: 100 })
})

Window('peers that see different numbers of open slots start a round\'s window at one place: the shorter is a prefix of the longer', () => {
  fc.assert(fc.property(sizes, keys, fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.nat(500), filters, (n, key, a, b, round, accept) => {
    const ring = RINGS.get(n)!
    const [few, many] = a <= b ? [a, b] : [b, a]
    const short = roundWindow(ring, key, few, round, accept).candidates
    const long = roundWindow(ring, key, many, round, accept).candidates
    assert.equal(long.slice(0, short.length), short)
  }), { numRuns: 200 })
})

Window('the rounds from one lap end to the next (both included) ask every admitted peer, and a lap ends within ⌈admitted / step⌉ + 1 rounds', () => {
  fc.assert(fc.property(fc.constantFrom(50, 500), keys, fc.integer({ min: 1, max: 60 }), fc.nat(200), filters, (n, key, slots, from, accept) => {
    const ring = RINGS.get(n)!
    const admitted = ring.peers.filter(accept)
    // Find where a lap ends at or after `from`; that round and the rounds up to the next lap end ask
    // everyone (the first one's window wraps to the sequence's start).
    const limit = Math.ceil(admitted.length / windowStep(n)) + 1
    let round = from
    while (!roundWindow(ring, key, slots, round, accept).lapEnds) {
      round++
      assert.ok(round - from <= limit, `no lap end within ${limit} rounds of ${from}`)
    }
    const asked = new Set<PeerId>(roundWindow(ring, key, slots, round, accept).candidates)
    const start = round + 1
    do {
      round++
      assert.ok(round - start < limit, `the lap from ${start} is longer than ${limit} rounds`)
      for (const peer of roundWindow(ring, key, slots, round, accept).candidates) asked.add(peer)
    } while (!roundWindow(ring, key, slots, round, accept).lapEnds)
    assert.is(asked.size, admitted.length, 'every admitted peer was asked in the lap')
  }), { numRuns: 60 })
})

Window('when round 0 already holds every admitted peer, every round is that whole set and ends a lap', () => {
  const ring = buildRing(ids(10))
  for (let round = 0; round < 5; round++) {
    const window = roundWindow(ring, 'web', 10, round)
    assert.equal(new Set(window.candidates), new Set(ring.peers))
    assert.ok(window.lapEnds)
  }
})

Window('an empty ring, or a filter admitting nobody, gives an empty window that ends its lap', () => {
  assert.equal(roundWindow(buildRing([]), 'web', 3, 2), { candidates: [], lapEnds: true })
  assert.equal(roundWindow(RINGS.get(50)!, 'web', 3, 2, () => false), { candidates: [], lapEnds: true })
})

Window.run()
