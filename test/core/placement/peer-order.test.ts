// A view's peers in id order, remembered for the last list: the answer must be the list sorted,
// whether it is the list seen last, a new one, or the last one changed in place.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { peersInIdOrder } from '../../../core/placement/peer-order.js'
import { makePeer } from './fixtures.js'

const order = suite('peersInIdOrder')

const sortedById = <T extends { id: string }>(peers: readonly T[]) => [...peers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

order('gives the list sorted by id, stably, for new lists and repeated ones alike', () => {
  const pool = ['p3', 'p1', 'p2', 'p1', 'p10', 'a'].map((id, i) => ({ ...makePeer(id), tag: i }))
  fc.assert(fc.property(fc.array(fc.array(fc.nat(pool.length - 1), { maxLength: 12 }), { minLength: 1, maxLength: 5 }), fc.boolean(), (lists, repeat) => {
    for (const list of lists) {
      const peers = list.map((i) => pool[i]!)
      for (let time = 0; time < (repeat ? 2 : 1); time++) assert.equal(peersInIdOrder(peers), sortedById(peers))
    }
  }), { numRuns: 300 })
})

order('a list changed in place since the last call is sorted anew', () => {
  const peers = [makePeer('b'), makePeer('a')]
  assert.equal(peersInIdOrder(peers).map((p) => p.id), ['a', 'b'])
  peers[0] = makePeer('c')
  assert.equal(peersInIdOrder(peers).map((p) => p.id), ['a', 'c'])
})

order.run()
