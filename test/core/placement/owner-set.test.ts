// The candidate walk's set of seen owners must answer as a Set would, across clears and growth.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { OwnerSet } from '../../../core/placement/owner-set.js'

const owners = suite('owner set')

owners('answers as a Set, walk after walk, small and past its first size', () => {
  const set = new OwnerSet()
  fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 2 ** 21 - 1 }), { maxLength: 300 }), { maxLength: 5 }), (walks) => {
    for (const walk of walks) {
      set.clear()
      const reference = new Set<number>()
      for (const owner of walk) {
        assert.is(set.has(owner), reference.has(owner))
        if (!reference.has(owner)) {
          set.add(owner)
          reference.add(owner)
        }
        assert.is(set.size, reference.size)
      }
      for (let probe = 0; probe < 50; probe++) assert.is(set.has(probe), reference.has(probe))
    }
  }), { numRuns: 200 })
})

owners('a cleared set holds nothing', () => {
  const set = new OwnerSet()
  for (let owner = 0; owner < 1000; owner++) set.add(owner)
  set.clear()
  assert.is(set.size, 0)
  for (let owner = 0; owner < 1000; owner++) assert.not.ok(set.has(owner))
})

owners.run()
