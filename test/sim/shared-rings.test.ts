// Rings shared between simulated peers (sim/shared-rings.ts): one object for one member set, in any
// order, and always the ring buildRing would give for that set.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { sharedRingBuilder } from '../../sim/shared-rings.js'
import { buildRing } from '../../core/placement/candidates.js'
import { peerId, type PeerId } from '../../core/placement/ids.js'

const ids = (names: readonly string[]): PeerId[] => names.map(peerId)

test('the same members in another order get the same ring object', () => {
  const build = sharedRingBuilder()
  const a = build(ids(['p1', 'p2', 'p3']))
  assert.is(build(ids(['p3', 'p1', 'p2', 'p1'])), a)
  assert.is.not(build(ids(['p1', 'p2'])), a)
})

test('a shared ring is the ring of its member set, whatever was asked before', () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 30 }), (sets) => {
      const build = sharedRingBuilder(3)
      for (const set of sets) {
        const members = ids(set.map((i) => `p${i}`))
        const ring = build(members)
        const fresh = buildRing(members)
        assert.equal(ring.peers, fresh.peers)
        assert.equal([...ring.entries], [...fresh.entries])
      }
    }),
    { numRuns: 200 },
  )
})

test('only the last few rings are kept', () => {
  const build = sharedRingBuilder(2)
  const first = build(ids(['a']))
  build(ids(['b']))
  build(ids(['c']))
  assert.is.not(build(ids(['a'])), first)
})

test.run()
