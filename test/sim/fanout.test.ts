// One broadcast in flight as one queued event: it reaches each recipient in arrival order, at the
// place among other events that a separate push per recipient would have had.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EventQueue } from '../../sim/event-queue.js'
import { Fanout } from '../../sim/fanout.js'

type Event = { t: 'other'; name: string } | { t: 'fanout'; fanout: Fanout<string> }

const fanout = suite('Fanout')

function drain(queue: EventQueue<Event>): string[] {
  const out: string[] = []
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const event = next.event
    if (event.t === 'other') out.push(`${event.name}@${next.timeMs}`)
    else out.push(`${event.fanout.payload}->${event.fanout.to[event.fanout.advance(queue, event)]}@${next.timeMs}`)
  }
  return out
}

fanout('delivers to each recipient in arrival order, one queue entry at a time', () => {
  const queue = new EventQueue<Event>()
  const f = new Fanout(queue, 'm', Int32Array.of(3, 1, 2), Int32Array.of(0, 0, 0), Float64Array.of(1, 2, 2))
  f.start(queue, { t: 'fanout', fanout: f })
  assert.is(queue.size, 1)
  assert.is(f.size, 3)
  assert.equal(drain(queue), ['m->3@1', 'm->1@2', 'm->2@2'])
})

fanout('ties with events pushed after the broadcast go to the broadcast, with those pushed before to them', () => {
  const queue = new EventQueue<Event>()
  queue.push(2, { t: 'other', name: 'earlier' })
  const f = new Fanout(queue, 'm', Int32Array.of(1, 2), Int32Array.of(0, 0), Float64Array.of(2, 2))
  queue.push(2, { t: 'other', name: 'later' })
  f.start(queue, { t: 'fanout', fanout: f })
  assert.equal(drain(queue), ['earlier@2', 'm->1@2', 'm->2@2', 'later@2'])
})

fanout('an empty fanout schedules nothing', () => {
  const queue = new EventQueue<Event>()
  const f = new Fanout(queue, 'm', new Int32Array(0), new Int32Array(0), new Float64Array(0))
  f.start(queue, { t: 'fanout', fanout: f })
  assert.is(queue.size, 0)
})

fanout('refuses arrival times out of order, arrays of different lengths and an advance past the end', () => {
  const queue = new EventQueue<Event>()
  assert.throws(() => new Fanout(queue, 'm', Int32Array.of(1, 2), Int32Array.of(0, 0), Float64Array.of(2, 1)), /before arrival 0/)
  assert.throws(() => new Fanout(queue, 'm', Int32Array.of(1, 2), Int32Array.of(0), Float64Array.of(1, 2)), /differ in length/)
  const f = new Fanout(queue, 'm', Int32Array.of(1), Int32Array.of(0), Float64Array.of(1))
  const event: Event = { t: 'fanout', fanout: f }
  f.advance(queue, event)
  assert.throws(() => f.advance(queue, event), /past its last recipient/)
})

fanout.run()
