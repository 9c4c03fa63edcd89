// The in-memory twin: the driver conformance suite, then what only the twin does (test controls,
// automatic health, modelled launch failures, a host shared across restarts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { RuntimeDriver } from '../../../node/runtime/index.js'
import { MemoryDriver, MemoryHost } from '../../../node/runtime/index.js'
import { driverConformance } from './conformance.js'
import { Recorder, collect, rejects, slotOf, spec, task } from './helpers.js'

driverConformance('memory', async () => {
  const host = new MemoryHost()
  let clock = 1_000
  const now = (): number => clock++
  const driver = new MemoryDriver({ now }, { host, health: 'manual' })
  const opened: RuntimeDriver[] = [driver]
  return {
    driver,
    exit: (slot, code) => driver.exit(slot, code),
    print: async (slot, line) => driver.print(slot, line),
    health: (slot, healthy) => driver.setHealth(slot, healthy),
    reopen: async () => {
      const next = new MemoryDriver({ now }, { host, health: 'manual' })
      opened.push(next)
      return next
    },
    cleanup: async () => {
      for (const each of opened) await each.close()
    },
  }
})

const twin = suite('memory driver')

twin('event times come from the injected clock', async () => {
  let clock = 5_000
  const driver = new MemoryDriver({ now: () => clock })
  const events = new Recorder(driver)
  const s = spec()
  await driver.start(task(s), s)
  clock = 7_500
  await driver.exit(slotOf(s, 0), 1)
  assert.equal(events.events.map((e) => [e.state, e.atMs]), [['starting', 5_000], ['running', 5_000], ['exited', 7_500]])
  await driver.close()
})

twin('with automatic health, a task with a healthcheck is healthy as soon as it runs; one without never reports health', async () => {
  const driver = new MemoryDriver({ now: () => 0 })
  const events = new Recorder(driver)
  const checked = spec({ healthcheck: { command: ['true'] } })
  const plain = spec({ name: 'plain' })
  await driver.start(task(checked), checked)
  await driver.start(task(plain), plain)
  assert.equal(events.states(slotOf(checked, 0)), ['starting', 'running', 'healthy'])
  assert.equal(events.states(slotOf(plain, 0)), ['starting', 'running'])
  await rejects(() => driver.setHealth(slotOf(plain, 0), true), /no healthcheck/)
  await driver.close()
})

twin('failStart models a task that cannot launch: starting, then failed with the detail', async () => {
  const driver = new MemoryDriver({ now: () => 0 }, { failStart: (s) => (s.name === 'broken' ? 'image not found' : undefined) })
  const events = new Recorder(driver)
  const broken = spec({ name: 'broken' })
  assert.equal(await driver.start(task(broken), broken), { ok: true, adopted: false })
  assert.equal(events.of(slotOf(broken, 0)).map((e) => [e.state, e.detail]), [['starting', undefined], ['failed', 'image not found']])
  assert.equal(await driver.list(), [])
  await driver.close()
})

twin('fail() reports a lost task as failed; stops are recorded with their grace', async () => {
  const driver = new MemoryDriver({ now: () => 0 })
  const events = new Recorder(driver)
  const s = spec()
  await driver.start(task(s, 0), s)
  await driver.start(task(s, 1), s)
  await driver.fail(slotOf(s, 0), 'container vanished')
  await driver.stop(slotOf(s, 1), 1234)
  assert.equal(events.of(slotOf(s, 0)).at(-1), { slot: slotOf(s, 0), state: 'failed', atMs: 0, detail: 'container vanished' })
  assert.equal(driver.host.stops, [{ slot: slotOf(s, 1), graceMs: 1234 }])
  await rejects(() => driver.exit(slotOf(s, 1), 0), /not running/)
  await driver.close()
})

twin('listeners are called after the driver method that caused the event, never inside it', async () => {
  const driver = new MemoryDriver({ now: () => 0 })
  let inside = true
  const seenInside: boolean[] = []
  driver.onEvent(() => seenInside.push(inside))
  const s = spec()
  const starting = driver.start(task(s), s)
  inside = false
  await starting
  assert.equal(seenInside, [false, false])
  await driver.close()
})

twin('a follow of a closed driver ends', async () => {
  const driver = new MemoryDriver({ now: () => 0 })
  const s = spec()
  await driver.start(task(s), s)
  driver.print(slotOf(s, 0), 'hello')
  const reading = collect(driver.logs(slotOf(s, 0), { follow: true }), 1000)
  await new Promise((resolve) => setTimeout(resolve, 10))
  await driver.close()
  assert.equal(await reading, ['hello'])
})

twin.run()
