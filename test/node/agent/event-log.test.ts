// The agent's event ring (node/agent/event-log.ts): it keeps the newest `capacity` events in order, and
// followers get the kept events, then every new one, until their signal aborts.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { AGENT_DEFAULTS } from '../../../node/agent/config.js'
import { EventLog } from '../../../node/agent/event-log.js'
import type { AgentEvent } from '../../../node/control/index.js'

const event = (n: number): AgentEvent => ({ at: n, kind: 'agent', message: `event ${n}` })
const events = (from: number, to: number): AgentEvent[] => Array.from({ length: to - from + 1 }, (_, i) => event(from + i))

/** A promise that rejects if `promise` has not settled within `ms`: a hang fails the test instead of the run. */
function within<T>(promise: Promise<T>, ms = 1_000, what = 'the follower'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Lets pending promise callbacks run (the follower's wake-ups). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

// --- The ring -------------------------------------------------------------------------------------

const ring = suite('EventLog ring')

const RING_CASES: ReadonlyArray<{ capacity: number; pushed: number; kept: AgentEvent[] }> = [
  { capacity: 3, pushed: 0, kept: [] },
  { capacity: 3, pushed: 2, kept: events(1, 2) },
  { capacity: 3, pushed: 3, kept: events(1, 3) },
  { capacity: 3, pushed: 4, kept: events(2, 4) },
  { capacity: 3, pushed: 7, kept: events(5, 7) },
  { capacity: 1, pushed: 5, kept: [event(5)] },
  { capacity: 5, pushed: 10, kept: events(6, 10) },
]

for (const { capacity, pushed, kept } of RING_CASES) {
  ring(`with capacity ${capacity}, after ${pushed} pushes it keeps the newest ${kept.length}, oldest first`, () => {
    const log = new EventLog(capacity)
    for (const e of events(1, pushed)) log.push(e)
    assert.equal(log.recent(), kept)
  })
}

ring('the default capacity is AGENT_DEFAULTS.eventLogCapacity', () => {
  const log = new EventLog()
  for (const e of events(1, AGENT_DEFAULTS.eventLogCapacity + 5)) log.push(e)
  const kept = log.recent()
  assert.is(kept.length, AGENT_DEFAULTS.eventLogCapacity)
  assert.equal(kept[0], event(6))
  assert.equal(kept.at(-1), event(AGENT_DEFAULTS.eventLogCapacity + 5))
})

ring('recent() returns a copy: changing it does not change the log', () => {
  const log = new EventLog(3)
  for (const e of events(1, 2)) log.push(e)
  log.recent().push(event(99))
  assert.equal(log.recent(), events(1, 2))
})

ring('property: recent() is the last min(n, capacity) events pushed, in order', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer(), { maxLength: 80 }), (capacity, values) => {
      const log = new EventLog(capacity)
      const pushed = values.map((value, i): AgentEvent => ({ at: i, kind: 'agent', message: String(value) }))
      for (const e of pushed) log.push(e)
      assert.equal(log.recent(), pushed.slice(Math.max(0, pushed.length - capacity)))
    }),
  )
})

ring('property: reading recent() between pushes never disturbs the order', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.boolean(), { maxLength: 80 }), (capacity, steps) => {
      const log = new EventLog(capacity)
      const pushed: AgentEvent[] = []
      for (const [i, read] of steps.entries()) {
        if (read) assert.equal(log.recent(), pushed.slice(Math.max(0, pushed.length - capacity)))
        else {
          pushed.push(event(i))
          log.push(event(i))
        }
      }
      assert.equal(log.recent(), pushed.slice(Math.max(0, pushed.length - capacity)))
    }),
  )
})

// --- Followers ------------------------------------------------------------------------------------

const follow = suite('EventLog follow')

follow('a follower gets the kept events, then new ones as they are pushed, and ends when its signal aborts', async () => {
  const log = new EventLog(3)
  for (const e of events(1, 5)) log.push(e)
  const controller = new AbortController()
  const follower = log.follow(controller.signal)
  const got: AgentEvent[] = []
  for (let i = 0; i < 3; i++) got.push((await within(follower.next())).value as AgentEvent)
  assert.equal(got, events(3, 5), 'the kept events first')

  const next = follower.next()
  await settle()
  log.push(event(6))
  assert.equal((await within(next)).value, event(6))
  log.push(event(7))
  log.push(event(8))
  assert.equal((await within(follower.next())).value, event(7))
  assert.equal((await within(follower.next())).value, event(8))

  controller.abort()
  assert.equal(await within(follower.next()), { done: true, value: undefined })
})

follow('a follower waiting for an event ends when its signal aborts', async () => {
  const log = new EventLog(3)
  const controller = new AbortController()
  const follower = log.follow(controller.signal)
  const waiting = follower.next()
  await settle()
  controller.abort()
  assert.equal(await within(waiting), { done: true, value: undefined })
})

follow('a for-await loop over a follower ends when the signal aborts while it waits', async () => {
  const log = new EventLog(10)
  log.push(event(1))
  const controller = new AbortController()
  const got: AgentEvent[] = []
  const loop = (async () => {
    for await (const e of log.follow(controller.signal)) {
      got.push(e)
      if (e.at === 3) setTimeout(() => controller.abort(), 5)
    }
  })()
  await settle()
  log.push(event(2))
  log.push(event(3))
  await within(loop)
  assert.equal(got, events(1, 3))
})

follow('events pushed while a follower reads the kept events come after them, once each', async () => {
  const log = new EventLog(3)
  for (const e of events(1, 3)) log.push(e)
  const controller = new AbortController()
  const follower = log.follow(controller.signal)
  assert.equal((await within(follower.next())).value, event(1))
  log.push(event(4))
  log.push(event(5))
  const got: AgentEvent[] = []
  for (let i = 0; i < 4; i++) got.push((await within(follower.next())).value as AgentEvent)
  assert.equal(got, events(2, 5))
  controller.abort()
  assert.ok((await within(follower.next())).done)
})

follow('several followers each get every event', async () => {
  const log = new EventLog(5)
  log.push(event(1))
  const controllers = [new AbortController(), new AbortController(), new AbortController()]
  const received = controllers.map(() => [] as AgentEvent[])
  const loops = controllers.map(async (controller, i) => {
    for await (const e of log.follow(controller.signal)) received[i]!.push(e)
  })
  await settle()
  for (const e of events(2, 6)) {
    log.push(e)
    await settle()
  }
  // Pushed in one burst, with no chance for the followers to run in between.
  for (const e of events(7, 9)) log.push(e)
  await settle()
  for (const controller of controllers) controller.abort()
  await within(Promise.all(loops), 1_000, 'the followers')
  for (const got of received) assert.equal(got, events(1, 9))
})

follow('a follower that broke out of its loop is removed: later pushes reach the others, and nothing hangs', async () => {
  const log = new EventLog(5)
  const quitter = new AbortController()
  const stayer = new AbortController()
  const quitterGot: AgentEvent[] = []
  const stayerGot: AgentEvent[] = []
  const quitting = (async () => {
    for await (const e of log.follow(quitter.signal)) {
      quitterGot.push(e)
      if (e.at === 2) break
    }
  })()
  const staying = (async () => {
    for await (const e of log.follow(stayer.signal)) stayerGot.push(e)
  })()
  await settle()
  log.push(event(1))
  await settle()
  log.push(event(2))
  await within(quitting, 1_000, 'the follower that broke out')
  for (const e of events(3, 6)) log.push(e)
  await settle()
  stayer.abort()
  await within(staying)
  assert.equal(quitterGot, events(1, 2))
  assert.equal(stayerGot, events(1, 6))
  // Aborting the quitter's signal now must not wake or break anything.
  quitter.abort()
  assert.equal(log.recent(), events(2, 6))
})

follow('a follower ended by return() before it was started does not hang, and the log still works', async () => {
  const log = new EventLog(2)
  const controller = new AbortController()
  const follower = log.follow(controller.signal)
  assert.equal(await within(follower.return(undefined)), { done: true, value: undefined })
  log.push(event(1))
  assert.equal(log.recent(), [event(1)])
})

follow('a follower ended by return() between events ends at once and later pushes do not reach it', async () => {
  const log = new EventLog(4)
  log.push(event(1))
  const controller = new AbortController()
  const follower = log.follow(controller.signal)
  assert.equal((await within(follower.next())).value, event(1))
  log.push(event(2))
  assert.equal((await within(follower.next())).value, event(2))
  assert.equal(await within(follower.return(undefined)), { done: true, value: undefined })
  log.push(event(3))
  assert.equal(await within(follower.next()), { done: true, value: undefined })
})

ring.run()
follow.run()
