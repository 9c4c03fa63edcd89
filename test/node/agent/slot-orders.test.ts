import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SlotId } from '../../../core/index.js'
import { SlotOrders } from '../../../node/agent/slot-orders.js'

const orders = suite('agent: the order of a slot\'s start and stop outputs')
const web0 = 'web/0' as SlotId
const web1 = 'web/1' as SlotId

orders('a start followed by a stop of the same slot no longer goes ahead: the stop is the last word', () => {
  const slots = new SlotOrders()
  const start = slots.issue(web0)
  slots.issue(web0) // the stop, issued in the same turn
  assert.not.ok(slots.isLatest(web0, start))
})

orders('a start followed by another start of the slot gives way to the later one', () => {
  const slots = new SlotOrders()
  const first = slots.issue(web0)
  const second = slots.issue(web0)
  assert.not.ok(slots.isLatest(web0, first))
  assert.ok(slots.isLatest(web0, second))
})

orders('outputs for other slots do not count', () => {
  const slots = new SlotOrders()
  const start = slots.issue(web0)
  slots.issue(web1)
  assert.ok(slots.isLatest(web0, start))
})

orders('a start issued after a stop of its slot goes ahead (a replacement)', () => {
  const slots = new SlotOrders()
  slots.issue(web0)
  const start = slots.issue(web0)
  assert.ok(slots.isLatest(web0, start))
  slots.settle(web0, start)
  // Settled, the slot starts afresh; a stale ticket is never taken for the latest.
  assert.not.ok(slots.isLatest(web0, start))
})

orders.run()
