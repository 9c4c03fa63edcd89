// Event delivery: in order, after the emitting call returns, never after close.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SlotId } from '../../../core/index.js'
import type { TaskEvent } from '../../../node/runtime/index.js'
import { EventHub } from '../../../node/runtime/events.js'

const event = (n: number): TaskEvent => ({ slot: `web/${n}` as SlotId, state: 'running', atMs: n })

const hub = suite('EventHub')

hub('delivers in order, asynchronously, to every listener; delivered() waits for it', async () => {
  const events = new EventHub()
  const a: number[] = []
  const b: number[] = []
  events.on((e) => a.push(e.atMs))
  const off = events.on((e) => b.push(e.atMs))
  events.emit(event(1))
  events.emit(event(2))
  assert.equal(a, [])
  await events.delivered()
  assert.equal(a, [1, 2])
  assert.equal(b, [1, 2])
  off()
  events.emit(event(3))
  await events.delivered()
  assert.equal(a, [1, 2, 3])
  assert.equal(b, [1, 2])
})

hub('events a listener causes go out after the ones already queued', async () => {
  const events = new EventHub()
  const seen: number[] = []
  events.on((e) => {
    seen.push(e.atMs)
    if (e.atMs === 1) events.emit(event(3))
  })
  events.emit(event(1))
  events.emit(event(2))
  await events.delivered()
  assert.equal(seen, [1, 2, 3])
})

hub('close drops queued events and refuses new listeners; delivered() still resolves', async () => {
  const events = new EventHub()
  const seen: number[] = []
  events.on((e) => seen.push(e.atMs))
  events.emit(event(1))
  events.close()
  events.on((e) => seen.push(e.atMs))
  events.emit(event(2))
  await events.delivered()
  await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal(seen, [])
})

hub('a throwing listener does not keep events from the others', async () => {
  const events = new EventHub()
  const seen: number[] = []
  const thrown: unknown[] = []
  const onUncaught = (error: unknown): void => {
    thrown.push(error)
  }
  process.on('uncaughtException', onUncaught)
  try {
    events.on(() => {
      throw new Error('listener bug')
    })
    events.on((e) => seen.push(e.atMs))
    events.emit(event(1))
    events.emit(event(2))
    await events.delivered()
    await new Promise((resolve) => setTimeout(resolve, 5))
  } finally {
    process.off('uncaughtException', onUncaught)
  }
  assert.equal(seen, [1, 2])
  assert.is(thrown.length, 2)
})

hub.run()
