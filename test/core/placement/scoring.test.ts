// Scores: tuples compared lexicographically, highest first. Spread ranks fewer replicas first, then
// more free capacity; binpack ranks fuller peers first.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  compareScores, domainScore, marginalScore, placementRequest, type PeerView, type Score, type ScoringState,
} from '../../../core/index.js'
import { makePeer, makeSpec, resources } from './fixtures.js'

const stateOf = (peer: PeerView): ScoringState => ({
  cpuCapacityMilli: peer.capacity.cpuMilli,
  cpuAllocatedMilli: peer.allocated.cpuMilli,
  memoryCapacityMiB: peer.capacity.memoryMiB,
  memoryAllocatedMiB: peer.allocated.memoryMiB,
})

const spread = placementRequest(makeSpec({ resources: { cpu: '100m', memory: 64 } }))
const binpack = placementRequest(makeSpec({ resources: { cpu: '100m', memory: 64 }, strategy: 'binpack' }))

const empty = stateOf(makePeer('empty', { capacity: resources(1000, 1024) }))
const half = stateOf(makePeer('half', { capacity: resources(1000, 1024), allocated: resources(500, 512) }))
const nearlyFull = stateOf(makePeer('full', { capacity: resources(1000, 1024), allocated: resources(800, 896) }))

/** Negative when `a` ranks before `b`. */
const ranksBefore = (a: Score, b: Score) => compareScores(a, b) < 0

const Marginal = suite('marginalScore')

Marginal('a spread score is [1/(1 + replicas on the peer), mean free fraction after placing]', () => {
  // cpu (1000 - 100) / 1000 = 0.9, memory (1024 - 64) / 1024 = 0.9375
  assert.equal(marginalScore(empty, spread, 0, 0), [1, (0.9 + 0.9375) / 2])
  assert.equal(marginalScore(empty, spread, 2, 0), [1 / 3, (0.9 + 0.9375) / 2])
})

Marginal('a binpack score is [mean used fraction after placing, 1/(1 + replicas on the peer)]', () => {
  // after one more: cpu 600/1000 used, memory 576/1024 used
  const [used, fewer] = marginalScore(half, binpack, 1, 0)
  assert.ok(Math.abs(used! - (0.6 + 576 / 1024) / 2) < 1e-12)
  assert.is(fewer, 0.5)
})

Marginal('the extra replicas of one bid count as replicas on the peer and as used capacity', () => {
  // the third additional replica: 2 already added in this bid, 300m and 192 MiB in total
  assert.equal(marginalScore(empty, spread, 0, 2), [1 / 3, (0.7 + (1024 - 192) / 1024) / 2])
})

Marginal('spread ranks a peer with fewer replicas first, however full it is', () => {
  assert.ok(ranksBefore(marginalScore(nearlyFull, spread, 0, 0), marginalScore(empty, spread, 1, 0)))
})

Marginal('spread ranks the emptier of two peers with equal replica counts first', () => {
  assert.ok(ranksBefore(marginalScore(empty, spread, 1, 0), marginalScore(half, spread, 1, 0)))
  assert.ok(ranksBefore(marginalScore(half, spread, 1, 0), marginalScore(nearlyFull, spread, 1, 0)))
})

Marginal('binpack ranks the fuller of two peers first', () => {
  assert.ok(ranksBefore(marginalScore(half, binpack, 0, 0), marginalScore(empty, binpack, 0, 0)))
  assert.ok(ranksBefore(marginalScore(nearlyFull, binpack, 0, 0), marginalScore(half, binpack, 0, 0)))
})

Marginal('binpack breaks a tie in fullness by fewer replicas', () => {
  assert.ok(ranksBefore(marginalScore(half, binpack, 0, 0), marginalScore(half, binpack, 3, 0)))
})

Marginal('spread marginal scores are non-increasing from one extra replica to the next', () => {
  for (const state of [empty, half, nearlyFull]) {
    for (const existing of [0, 1, 5]) {
      for (let extra = 0; extra < 10; extra++) {
        const now = marginalScore(state, spread, existing, extra)
        const next = marginalScore(state, spread, existing, extra + 1)
        assert.ok(compareScores(now, next) <= 0, `existing ${existing}, extra ${extra}: ${now} then ${next}`)
      }
    }
  }
})

Marginal('binpack marginal scores rise with each extra replica, so one peer fills before the next opens', () => {
  for (let extra = 0; extra < 5; extra++) {
    const now = marginalScore(empty, binpack, 0, extra)
    const next = marginalScore(empty, binpack, 0, extra + 1)
    assert.ok(compareScores(next, now) < 0, `extra ${extra}: ${now} then ${next}`)
  }
})

Marginal('every score component lies in [0, 1], even on an over-allocated peer', () => {
  const over = stateOf(makePeer('over', { capacity: resources(1000, 1024), allocated: resources(1500, 2048) }))
  for (const want of [spread, binpack]) {
    for (const state of [empty, half, nearlyFull, over]) {
      for (const component of marginalScore(state, want, 0, 3)) assert.ok(component >= 0 && component <= 1, String(component))
    }
  }
})

Marginal('a dimension the peer has none of is left out of the free fraction', () => {
  const cpuOnly = stateOf(makePeer('cpu-only', { capacity: resources(1000, 0) }))
  assert.equal(marginalScore(cpuOnly, spread, 0, 0), [1, 0.9])
  const nothing = stateOf(makePeer('nothing', { capacity: resources(0, 0) }))
  assert.equal(marginalScore(nothing, spread, 0, 0), [1, 0])
})

Marginal('the score depends only on the numbers, so any peer computes the same one', () => {
  assert.equal(marginalScore({ ...half }, spread, 2, 1), marginalScore(half, spread, 2, 1))
})

Marginal.run()

const Compare = suite('compareScores and domainScore')

const comparisons: Array<{ name: string; a: Score; b: Score; sign: -1 | 0 | 1 }> = [
  { name: 'a higher first component ranks first', a: [1, 0], b: [0.5, 1], sign: -1 },
  { name: 'equal first components fall to the second', a: [0.5, 0.7], b: [0.5, 0.6], sign: -1 },
  { name: 'a lower score ranks after', a: [0.2], b: [0.3], sign: 1 },
  { name: 'equal tuples compare equal', a: [0.5, 0.25], b: [0.5, 0.25], sign: 0 },
  { name: 'a missing component ranks below any present one', a: [0.5], b: [0.5, 0], sign: 1 },
  { name: 'two empty tuples compare equal', a: [], b: [], sign: 0 },
]
for (const { name, a, b, sign } of comparisons) {
  Compare(`${name}: [${a}] vs [${b}]`, () => {
    assert.is(Math.sign(compareScores(a, b)), sign)
    assert.is(Math.sign(compareScores(b, a)), -sign || 0)
  })
}

Compare('sorting by compareScores puts the best score first', () => {
  const scores: Score[] = [[0.5, 0.1], [1, 0], [0.5, 0.9], [0, 1]]
  assert.equal([...scores].sort(compareScores), [[1, 0], [0.5, 0.9], [0.5, 0.1], [0, 1]])
})

Compare('a domain\'s score is 1/(1 + replicas in it) and falls with every replica', () => {
  assert.is(domainScore(0), 1)
  assert.is(domainScore(1), 0.5)
  assert.is(domainScore(3), 0.25)
  for (let n = 0; n < 20; n++) assert.ok(domainScore(n + 1) < domainScore(n))
})

Compare.run()

const Extended = suite('marginalScore with extended resources')

const gpuSpread = placementRequest(makeSpec({ resources: { cpu: '100m', memory: 64, gpu: 1 } }))
const gpuBinpack = placementRequest(makeSpec({ resources: { cpu: '100m', memory: 64, gpu: 1 }, strategy: 'binpack' }))
const withGpus = (state: ScoringState, capacity: number, allocated: number): ScoringState => ({ ...state, extended: { gpu: [capacity, allocated] } })

Extended('the free fraction of a gpu service is the mean over cpu, memory and gpu', () => {
  assert.equal(marginalScore(withGpus(empty, 4, 1), gpuSpread, 0, 0), [1, (0.9 + 0.9375 + 0.5) / 3])
})

Extended('spread sends a gpu task to the peer with the most gpus free when cpu and memory are equal', () => {
  assert.ok(ranksBefore(marginalScore(withGpus(empty, 8, 0), gpuSpread, 0, 0), marginalScore(withGpus(empty, 8, 6), gpuSpread, 0, 0)))
})

Extended('binpack sends a gpu task to the peer whose gpus are fullest when cpu and memory are equal', () => {
  assert.ok(ranksBefore(marginalScore(withGpus(empty, 8, 6), gpuBinpack, 0, 0), marginalScore(withGpus(empty, 8, 0), gpuBinpack, 0, 0)))
})

Extended('a service without extended resources scores the same whatever gpus the peer has', () => {
  assert.equal(marginalScore(withGpus(half, 8, 7), spread, 1, 2), marginalScore(half, spread, 1, 2))
  assert.equal(marginalScore(withGpus(half, 8, 0), binpack, 0, 0), marginalScore(half, binpack, 0, 0))
})

Extended('an extended resource the bid does not carry is left out of the mean', () => {
  assert.equal(marginalScore(half, gpuSpread, 0, 0), marginalScore(half, spread, 0, 0))
})

Extended('further replicas in one bid use up the extended resource too', () => {
  const [, first] = marginalScore(withGpus(empty, 4, 0), gpuSpread, 0, 0)
  const [, third] = marginalScore(withGpus(empty, 4, 0), gpuSpread, 0, 2)
  assert.is(third, (0.7 + (1024 - 192) / 1024 + 0.25) / 3)
  assert.ok(third! < first!)
})

Extended.run()
