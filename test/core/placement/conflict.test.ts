// Claim conflicts: two peers running one slot. Every peer must keep the same claim from the claims
// alone, and losers stop only once the kept claim is up.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  claimTieBreak, compareClaims, peerId, resolveClaims, type Claim, type PeerId, type SlotId, type TaskState,
} from '../../../core/index.js'
import { makeSpec, makeTask, shuffled } from './fixtures.js'

const DESIRED = 'new-version'
const OLD = 'old-version'
const everyone = () => true

const claim = (peer: string, overrides: Partial<Claim> = {}): Claim => ({
  slot: 'web/0' as SlotId, peer: peerId(peer), specHash: DESIRED, state: 'running', ...overrides,
})

/** Two peers, ordered so that `first` wins the hash tie-break for `slot`. */
function hashOrdered(slot: string): [string, string] {
  const a = 'peer-a'
  const b = 'peer-b'
  const ta = claimTieBreak(slot as SlotId, peerId(a))
  const tb = claimTieBreak(slot as SlotId, peerId(b))
  return ta > tb ? [a, b] : [b, a]
}

const Rules = suite('resolveClaims rules')

Rules('a claim on the desired version beats one on an old version, whatever the hash says', () => {
  const [hashWinner, hashLoser] = hashOrdered('web/0')
  const result = resolveClaims([claim(hashWinner, { specHash: OLD }), claim(hashLoser)], DESIRED, everyone)
  assert.is(result.keep.peer, hashLoser)
  assert.equal(result.losers.map((c) => c.peer), [hashWinner])
})

Rules('a claim on an eligible peer beats one on an ineligible peer, whatever the hash says', () => {
  const [hashWinner, hashLoser] = hashOrdered('web/0')
  const eligible = (peer: PeerId) => peer === hashLoser
  const result = resolveClaims([claim(hashWinner), claim(hashLoser)], DESIRED, eligible)
  assert.is(result.keep.peer, hashLoser)
})

Rules('the desired version counts before eligibility', () => {
  const result = resolveClaims([claim('old-on-good-peer', { specHash: OLD }), claim('new-on-draining-peer')], DESIRED, (peer) => peer === 'old-on-good-peer')
  assert.is(result.keep.peer, 'new-on-draining-peer')
})

Rules('two old-version claims are decided by eligibility, then hash', () => {
  const [hashWinner, hashLoser] = hashOrdered('web/0')
  const both = [claim(hashWinner, { specHash: OLD }), claim(hashLoser, { specHash: 'older' })]
  assert.is(resolveClaims(both, DESIRED, everyone).keep.peer, hashWinner)
  assert.is(resolveClaims(both, DESIRED, (p) => p === hashLoser).keep.peer, hashLoser)
})

Rules('a claim of a later placement (higher epoch) beats an earlier one, whatever the hash says', () => {
  const [hashWinner, hashLoser] = hashOrdered('web/0')
  const result = resolveClaims([claim(hashWinner, { epoch: 1 }), claim(hashLoser, { epoch: 2 })], DESIRED, everyone)
  assert.is(result.keep.peer, hashLoser)
  assert.is(resolveClaims([claim(hashWinner), claim(hashLoser, { epoch: 1 })], DESIRED, everyone).keep.peer, hashLoser, 'no epoch counts as 0')
  assert.is(resolveClaims([claim(hashWinner, { epoch: 3 }), claim(hashLoser, { epoch: 3 })], DESIRED, everyone).keep.peer, hashWinner, 'equal epochs: the hash')
})

Rules('the desired version and eligibility count before the epoch', () => {
  const [hashWinner, hashLoser] = hashOrdered('web/0')
  assert.is(resolveClaims([claim(hashWinner, { specHash: OLD, epoch: 9 }), claim(hashLoser, { epoch: 1 })], DESIRED, everyone).keep.peer, hashLoser)
  assert.is(resolveClaims([claim(hashWinner, { epoch: 9 }), claim(hashLoser, { epoch: 1 })], DESIRED, (p) => p === hashLoser).keep.peer, hashLoser)
})

Rules('otherwise the claim with the higher hash of (slot, peer) is kept', () => {
  for (let i = 0; i < 50; i++) {
    const slot = `web/${i}`
    const [hashWinner, hashLoser] = hashOrdered(slot)
    const result = resolveClaims([claim(hashLoser, { slot: slot as SlotId }), claim(hashWinner, { slot: slot as SlotId })], DESIRED, everyone)
    assert.is(result.keep.peer, hashWinner, slot)
  }
})

Rules('the hash winner differs between slots, so one peer does not win every conflict', () => {
  const wins = new Set<string>()
  for (let i = 0; i < 20; i++) wins.add(hashOrdered(`web/${i}`)[0])
  assert.is(wins.size, 2)
})

Rules('the task state does not decide which claim is kept', () => {
  const [hashWinner, hashLoser] = hashOrdered('web/0')
  const result = resolveClaims([claim(hashWinner, { state: 'starting' }), claim(hashLoser, { state: 'healthy' })], DESIRED, everyone)
  assert.is(result.keep.peer, hashWinner)
})

Rules('the same claims in any order keep the same claim and list the losers in the same order', () => {
  const claims = [
    claim('p1'), claim('p2', { specHash: OLD }), claim('p3'), claim('p4', { state: 'starting' }), claim('p5'), claim('p6', { specHash: OLD }),
  ]
  const eligible = (peer: PeerId) => peer !== 'p3'
  const expected = resolveClaims(claims, DESIRED, eligible)
  for (let seed = 1; seed <= 20; seed++) {
    const result = resolveClaims(shuffled(claims, seed), DESIRED, eligible)
    assert.equal(result, expected, `seed ${seed}`)
  }
  assert.is(expected.losers.length, 5)
  // Old versions lose to every desired-version claim.
  assert.equal(expected.losers.slice(-2).map((c) => c.specHash), [OLD, OLD])
})

Rules('compareClaims is antisymmetric and zero only for the same peer', () => {
  const a = claim('p1')
  const b = claim('p2')
  assert.is(Math.sign(compareClaims(a, b, DESIRED, everyone)), -Math.sign(compareClaims(b, a, DESIRED, everyone)))
  assert.is.not(compareClaims(a, b, DESIRED, everyone), 0)
  assert.is(compareClaims(a, { ...a }, DESIRED, everyone), 0)
})

Rules('a single claim is kept with no losers', () => {
  const only = claim('p1')
  assert.equal(resolveClaims([only], DESIRED, everyone), { keep: only, losers: [], mayStopLosers: true })
})

Rules('the kept claim is the caller\'s own object, with its extra fields', () => {
  const spec = makeSpec({})
  const tasks = [makeTask(spec, 0, 'p1'), makeTask(spec, 0, 'p2')]
  const result = resolveClaims(tasks, tasks[0]!.specHash, everyone)
  assert.ok(tasks.includes(result.keep))
  assert.is(result.keep.resources, spec.resources)
})

Rules('resolving no claims is a bug and throws', () => {
  assert.throws(() => resolveClaims([], DESIRED, everyone), /at least one claim/)
})

Rules.run()

const Stop = suite('resolveClaims mayStopLosers')

const states: Array<{ state: TaskState; mayStop: boolean }> = [
  { state: 'running', mayStop: true },
  { state: 'healthy', mayStop: true },
  { state: 'pending', mayStop: false },
  { state: 'starting', mayStop: false },
  { state: 'unhealthy', mayStop: false },
]
for (const { state, mayStop } of states) {
  Stop(`losers may stop ${mayStop ? 'now' : 'only later'} when the kept claim is ${state}`, () => {
    const [hashWinner, hashLoser] = hashOrdered('web/0')
    const result = resolveClaims([claim(hashWinner, { state }), claim(hashLoser, { state: 'running' })], DESIRED, everyone)
    assert.is(result.keep.peer, hashWinner)
    assert.is(result.mayStopLosers, mayStop)
  })
}

Stop('a starting replacement on the desired version keeps the running old task alive for now', () => {
  const result = resolveClaims([claim('old', { specHash: OLD, state: 'healthy' }), claim('new', { state: 'starting' })], DESIRED, everyone)
  assert.is(result.keep.peer, 'new')
  assert.is(result.mayStopLosers, false)
})

Stop.run()
