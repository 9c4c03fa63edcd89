// The UDP flow table: least recently active first, idle flows expire, the cap evicts the oldest.

import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FlowTable } from '../../../../node/discovery/proxy/flow-table.js'

const table = suite('FlowTable')

table('expire() removes the flows idle for the whole window, and only those', () => {
  const flows = new FlowTable<string>(10)
  flows.add('a', 'A', 0)
  flows.add('b', 'B', 10)
  flows.add('c', 'C', 20)
  flows.touch('a', 25)
  assert.equal(flows.expire(40, 30), ['B'])
  assert.equal(flows.expire(55, 30), ['C', 'A'])
  assert.is(flows.size, 0)
})

table('past the cap, the least recently active flow is evicted', () => {
  const flows = new FlowTable<string>(2)
  assert.equal(flows.add('a', 'A', 0), [])
  assert.equal(flows.add('b', 'B', 1), [])
  flows.touch('a', 2)
  assert.equal(flows.add('c', 'C', 3), ['B'])
  assert.equal([flows.get('a'), flows.get('b'), flows.get('c')], ['A', undefined, 'C'])
})

table('delete() leaves a flow that replaced the one named', () => {
  const flows = new FlowTable<string>(4)
  flows.add('a', 'old', 0)
  flows.add('a', 'new', 1)
  flows.delete('a', 'old')
  assert.is(flows.get('a'), 'new')
  flows.delete('a', 'new')
  assert.is(flows.size, 0)
})

table('never more flows than the cap; every flow added is held, evicted or expired, exactly once', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.constantFrom('add', 'touch', 'expire'), fc.nat(7)), { maxLength: 60 }), (cap, operations) => {
    const flows = new FlowTable<number>(cap)
    const out: number[] = []
    let now = 0
    let serial = 0
    const added: number[] = []
    for (const [operation, client] of operations) {
      now += 1
      if (operation === 'add' && flows.get(String(client)) === undefined) {
        added.push(serial)
        out.push(...flows.add(String(client), serial++, now))
      } else if (operation === 'touch') flows.touch(String(client), now)
      else if (operation === 'expire') out.push(...flows.expire(now, 5))
      assert.ok(flows.size <= cap)
    }
    assert.equal([...out, ...flows.clear()].sort((x, y) => x - y), added)
  }))
})

table.run()
