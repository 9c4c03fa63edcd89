// The event queue orders a run: by time, and by insertion among equal times, so runs reproduce.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { EventQueue } from '../../sim/event-queue.js'

function drain<E>(queue: EventQueue<E>): Array<[number, E]> {
  const out: Array<[number, E]> = []
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) out.push([next.timeMs, next.event])
  return out
}

const queue = suite('EventQueue')

queue('events come out in time order', () => {
  const q = new EventQueue<string>()
  q.push(30, 'c')
  q.push(10, 'a')
  q.push(20, 'b')
  q.push(0.5, 'first')
  assert.equal(drain(q), [[0.5, 'first'], [10, 'a'], [20, 'b'], [30, 'c']])
})

queue('events at the same time come out in the order they were pushed', () => {
  const q = new EventQueue<number>()
  for (let i = 0; i < 100; i++) q.push(i % 3, i)
  const popped = drain(q)
  for (let time = 0; time < 3; time++) {
    const atTime = popped.filter(([t]) => t === time).map(([, e]) => e)
    assert.equal(atTime, atTime.slice().sort((a, b) => a - b))
    assert.is(atTime.length, time === 0 ? 34 : 33)
  }
})

queue('an empty queue pops undefined and has no next time', () => {
  const q = new EventQueue<number>()
  assert.is(q.pop(), undefined)
  assert.is(q.popEvent(), undefined)
  assert.is(q.peekTime(), undefined)
  assert.is(q.size, 0)
})

queue('peekTime and size follow pushes and pops', () => {
  const q = new EventQueue<string>()
  q.push(5, 'x')
  q.push(2, 'y')
  assert.is(q.peekTime(), 2)
  assert.is(q.size, 2)
  q.pop()
  assert.is(q.peekTime(), 5)
  assert.is(q.size, 1)
  assert.is(q.totalPushed, 2)
})

queue('popEvent returns the event and nowMs its time', () => {
  const q = new EventQueue<string>()
  assert.is(q.nowMs, 0)
  q.push(7, 'a')
  q.push(3, 'b')
  assert.is(q.popEvent(), 'b')
  assert.is(q.nowMs, 3)
  assert.is(q.popEvent(), 'a')
  assert.is(q.nowMs, 7)
})

queue('scheduling before the last popped time, or at a time that is not a number, throws', () => {
  const q = new EventQueue<string>()
  q.push(10, 'a')
  q.pop()
  assert.throws(() => q.push(9.999, 'late'), /already reached 10/)
  assert.throws(() => q.push(NaN, 'nan'), /cannot schedule/)
  assert.throws(() => q.push(Infinity, 'never'), /cannot schedule/)
  q.push(10, 'same time is fine')
  assert.is(q.size, 1)
})

queue('grows past its initial capacity and keeps time order and FIFO ties', () => {
  const q = new EventQueue<number>()
  const times = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 97)
  times.forEach((t, i) => q.push(t, i))
  const expected = times.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1])
  assert.equal(drain(q), expected)
})

queue('clear drops pending events but keeps the clock', () => {
  const q = new EventQueue<number>()
  q.push(1, 1)
  q.pop()
  q.push(4, 2)
  q.clear()
  assert.is(q.size, 0)
  assert.is(q.pop(), undefined)
  assert.throws(() => q.push(0, 3))
})

queue('any interleaving of pushes and pops matches a stably sorted reference', () => {
  // Delays include 0 and repeats so ties are common; pushes are relative to the last pop, as in a run.
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), delay: fc.constantFrom(0, 0, 1, 1, 2, 5, 0.5, 1000) }),
    fc.record({ kind: fc.constant('pop' as const) }),
  )
  fc.assert(fc.property(fc.array(operation, { maxLength: 300 }), (operations) => {
    const q = new EventQueue<number>()
    const reference: Array<{ time: number; id: number }> = []
    let now = 0
    let id = 0
    for (const op of operations) {
      if (op.kind === 'push') {
        q.push(now + op.delay, id)
        reference.push({ time: now + op.delay, id })
        id++
      } else {
        // Stable sort by time: equal times keep insertion order, which is the FIFO promise.
        reference.sort((a, b) => a.time - b.time)
        const expected = reference.shift()
        const got = q.pop()
        if (expected === undefined) {
          if (got !== undefined) return false
          continue
        }
        if (got === undefined || got.timeMs !== expected.time || got.event !== expected.id) return false
        now = got.timeMs
      }
    }
    reference.sort((a, b) => a.time - b.time)
    const rest = drain(q)
    return rest.length === reference.length && rest.every(([t, e], i) => t === reference[i]!.time && e === reference[i]!.id)
  }), { numRuns: 300 })
})

queue('a reserved push comes out where a push made at the reservation would have, ties included', () => {
  const q = new EventQueue<string>()
  q.push(5, 'before')
  const first = q.reserve(2)
  q.push(5, 'after')
  q.pushReserved(5, first + 1, 'reserved second')
  q.pushReserved(5, first, 'reserved first')
  assert.equal(drain(q).map(([, e]) => e), ['before', 'reserved first', 'reserved second', 'after'])
})

queue('pushReserved refuses a number never reserved and a time already passed', () => {
  const q = new EventQueue<string>()
  const first = q.reserve(1)
  assert.throws(() => q.pushReserved(1, first + 1, 'x'), /not reserved/)
  assert.throws(() => q.reserve(-1), /cannot reserve/)
  q.push(10, 'a')
  q.pop()
  assert.throws(() => q.pushReserved(9, first, 'late'), /already reached 10/)
})

queue('batches pushed one at a time from their reservations pop exactly as batches pushed whole', () => {
  // The runner's broadcasts: a batch of arrivals (sorted times) is decided at once; the eager queue
  // pushes every arrival then, the lazy one reserves their numbers and keeps only the next arrival
  // queued, pushing the one after when it pops. Single pushes, with ties, come in between.
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), delay: fc.constantFrom(0, 1, 2, 0.5) }),
    fc.record({ kind: fc.constant('batch' as const), delays: fc.array(fc.constantFrom(0, 0.5, 1, 1, 2, 3), { maxLength: 8 }) }),
    fc.record({ kind: fc.constant('pop' as const) }),
  )
  type Batch = { times: number[]; ids: number[]; first: number; next: number }
  fc.assert(fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
    const eager = new EventQueue<number>()
    const lazy = new EventQueue<{ id: number } | { batch: Batch }>()
    let now = 0
    let id = 0
    const popLazy = (): [number, number] | undefined => {
      const got = lazy.pop()
      if (got === undefined) return undefined
      const event = got.event
      if ('id' in event) return [got.timeMs, event.id]
      const b = event.batch
      const i = b.next++
      if (b.next < b.times.length) lazy.pushReserved(b.times[b.next]!, b.first + b.next, event)
      return [got.timeMs, b.ids[i]!]
    }
    for (const op of operations) {
      if (op.kind === 'push') {
        eager.push(now + op.delay, id)
        lazy.push(now + op.delay, { id })
        id++
      } else if (op.kind === 'batch') {
        const times = op.delays.map((d) => now + d).sort((a, b) => a - b)
        const ids = times.map(() => id++)
        times.forEach((t, i) => eager.push(t, ids[i]!))
        const batch: Batch = { times, ids, first: lazy.reserve(times.length), next: 0 }
        if (times.length > 0) lazy.pushReserved(times[0]!, batch.first, { batch })
      } else {
        const expected = eager.pop()
        const got = popLazy()
        if (expected === undefined || got === undefined) {
          if (expected !== got) return false
          continue
        }
        if (got[0] !== expected.timeMs || got[1] !== expected.event) return false
        now = expected.timeMs
      }
    }
    for (let expected = eager.pop(); expected !== undefined; expected = eager.pop()) {
      const got = popLazy()
      if (got === undefined || got[0] !== expected.timeMs || got[1] !== expected.event) return false
    }
    return popLazy() === undefined
  }), { numRuns: 300 })
})

queue.run()
