// The runtime driver contract (node/runtime/driver.ts) as tests that every driver must pass: the
// process driver, its in-memory twin, and the Docker driver when it comes. Tasks are specs whose
// commands really do what the test needs (sh, sleep, test), so a real driver runs them as they are;
// a twin, whose tasks run nothing, gets the same effects through the harness's hooks (exit, print,
// health). The suite also leaves files in a scratch directory that commands wait on or test.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceSpec, SlotId } from '../../../core/index.js'
import type { RunningTaskInfo, RuntimeDriver } from '../../../node/runtime/index.js'
import { Recorder, collect, delay, eventually, rejects, slotOf, spec, task } from './helpers.js'

export interface DriverHarness {
  readonly driver: RuntimeDriver
  /** Ends everything the test started (kill by pid, remove containers), closes drivers, removes state. */
  cleanup(): Promise<void>
  /** For twins: the task exits with `code` (real drivers run commands that exit by themselves). */
  exit?(slot: SlotId, code: number): Promise<void>
  /** For twins: the task writes a line (real tasks echo it). */
  print?(slot: SlotId, line: string): Promise<void>
  /** For twins: the task's healthcheck starts passing or failing (real ones test a marker file). */
  health?(slot: SlotId, healthy: boolean): Promise<void>
  /** Whether what list() reported still runs (a pid, a container); for drivers with something real behind them. */
  alive?(info: RunningTaskInfo): boolean
  /** A second driver over the same state, as after an agent restart; cleanup() closes it too. */
  reopen?(): Promise<RuntimeDriver>
  /** Turns the suite's process-style spec into one this driver runs (e.g. add a Docker image). */
  adapt?(spec: ServiceSpec): ServiceSpec
}

const GRACE_MS = 2000

export function driverConformance(name: string, makeDriver: () => Promise<DriverHarness>): void {
  const test = suite(`runtime driver conformance: ${name}`)

  /** Runs a test body with a fresh driver, a recorder and a scratch directory, and always cleans up. */
  async function withDriver(body: (h: DriverHarness, events: Recorder, scratch: string, make: (o?: Record<string, unknown>) => ServiceSpec) => Promise<void>): Promise<void> {
    const scratch = await mkdtemp(join(tmpdir(), 'peer-conformance-'))
    const harness = await makeDriver()
    const events = new Recorder(harness.driver)
    const make = (overrides: Record<string, unknown> = {}): ServiceSpec => (harness.adapt ?? ((s) => s))(spec(overrides))
    try {
      await body(harness, events, scratch, make)
    } finally {
      events.unsubscribe()
      await harness.cleanup()
      await rm(scratch, { recursive: true, force: true })
    }
  }

  test('start reports starting, then running, before start() resolves', () => withDriver(async ({ driver }, events, _scratch, make) => {
    const s = make()
    const result = await driver.start(task(s), s)
    assert.equal(result, { ok: true, adopted: false })
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'running'])
    for (const event of events.events) assert.type(event.atMs, 'number')
    const [info] = await driver.list()
    assert.is(info?.slot, slotOf(s, 0))
    assert.is(info?.state, 'running')
  }))

  test('stop ends the task: exited (143 after SIGTERM) is reported and nothing of it runs any more', () => withDriver(async (h, events, _scratch, make) => {
    const s = make()
    await h.driver.start(task(s), s)
    const [info] = await h.driver.list()
    await h.driver.stop(slotOf(s, 0), GRACE_MS)
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'running', 'exited'])
    assert.is(events.of(slotOf(s, 0))[2]?.exitCode, 143)
    assert.is(events.of(slotOf(s, 0))[2]?.stopRequested, true)
    assert.equal(await h.driver.list(), [])
    if (h.alive !== undefined) assert.is(h.alive(info!), false, 'the task still runs after stop() resolved')
  }))

  test('stop is idempotent: concurrent and repeated stops end the task once', () => withDriver(async ({ driver }, events, _scratch, make) => {
    const s = make()
    await driver.start(task(s), s)
    await Promise.all([driver.stop(slotOf(s, 0), GRACE_MS), driver.stop(slotOf(s, 0), GRACE_MS)])
    await driver.stop(slotOf(s, 0), GRACE_MS)
    await delay(30)
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'running', 'exited'])
  }))

  test('stopping a slot the driver does not run is a no-op', () => withDriver(async ({ driver }, events, _scratch, make) => {
    const s = make()
    await driver.stop(slotOf(s, 7), GRACE_MS)
    await driver.stop('not a slot' as SlotId, GRACE_MS)
    await delay(20)
    assert.equal(events.events, [])
  }))

  test('a task that exits by itself reports its exit code', () => withDriver(async (h, events, _scratch, make) => {
    for (const [index, code] of [[0, 3], [1, 0]] as const) {
      const s = make({ command: ['sh', '-c', `sleep 0.05; exit ${code}`] })
      await h.driver.start(task(s, index), s)
      await h.exit?.(slotOf(s, index), code)
      const exited = await events.waitFor(slotOf(s, index), 'exited')
      assert.is(exited.exitCode, code)
      assert.is(exited.stopRequested, undefined, 'an exit nobody asked for is not marked as requested')
      assert.equal(events.states(slotOf(s, index)), ['starting', 'running', 'exited'])
    }
    assert.equal(await h.driver.list(), [])
  }))

  test('logs hold the output: all of it, the last lines, and new lines while following', () => withDriver(async (h, _events, scratch, make) => {
    const trigger = join(scratch, 'print-four')
    // The pauses around the stderr line: Docker reads a container's stdout and stderr separately, so
    // lines written within the same instant to both can be recorded in either order (driver.ts).
    const script = 'echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three; while [ ! -e "$0" ]; do sleep 0.02; done; echo four; exec sleep 30'
    const s = make({ command: ['sh', '-c', script, trigger] })
    const slot = slotOf(s, 0)
    await h.driver.start(task(s), s)
    for (const line of ['one', 'two', 'three']) await h.print?.(slot, line)
    await eventually('three lines of output', async () => (await collect(h.driver.logs(slot, { follow: false }))).length === 3)
    assert.equal(await collect(h.driver.logs(slot, { follow: false })), ['one', 'two', 'three'])
    assert.equal(await collect(h.driver.logs(slot, { follow: false, tailLines: 2 })), ['two', 'three'])
    assert.equal(await collect(h.driver.logs(slot, { follow: false, tailLines: 0 })), [])

    const following = h.driver.logs(slot, { follow: true, tailLines: 1 })[Symbol.asyncIterator]()
    assert.equal(await following.next(), { done: false, value: 'three' })
    const next = following.next()
    await h.print?.(slot, 'four')
    await writeFile(trigger, '')
    assert.equal(await next, { done: false, value: 'four' })
    const end = following.next()
    await h.driver.stop(slot, GRACE_MS)
    assert.equal(await end, { done: true, value: undefined })

    // Logs outlive the task; a follow of an ended task ends at once.
    assert.equal(await collect(h.driver.logs(slot, { follow: false })), ['one', 'two', 'three', 'four'])
    assert.equal(await collect(h.driver.logs(slot, { follow: true, tailLines: 1 }), 1000), ['four'])
    assert.equal(await collect(h.driver.logs(slotOf(s, 9), { follow: true })), [])
  }))

  test('a follow ends when its signal aborts', () => withDriver(async ({ driver }, _events, _scratch, make) => {
    const s = make()
    await driver.start(task(s), s)
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 50)
    assert.equal(await collect(driver.logs(slotOf(s, 0), { follow: true, signal: abort.signal }), 2000), [])
  }))

  test('list reports what runs, in slot order, and forgets what stopped', () => withDriver(async ({ driver }, _events, _scratch, make) => {
    const web = make()
    const api = make({ name: 'api', mode: 'global' })
    await driver.start(task(web, 1), web)
    await driver.start(task(web, 0), web)
    await driver.start(task(api, 'api@peer-a'), api)
    const listed = await driver.list()
    assert.equal(listed.map((info) => info.slot), ['api@peer-a', 'web/0', 'web/1'])
    for (const info of listed) {
      assert.is(info.state, 'running')
      assert.is(info.stopping, false)
      assert.is(info.specHash, task(info.slot.startsWith('api') ? api : web).specHash)
      assert.is(info.spec.name, info.service)
      assert.ok(info.handle !== '')
    }
    await driver.stop(slotOf(web, 0), GRACE_MS)
    assert.equal((await driver.list()).map((info) => info.slot), ['api@peer-a', 'web/1'])
  }))

  test('a healthcheck reports healthy and unhealthy on each transition, once', () => withDriver(async (h, events, scratch, make) => {
    const marker = join(scratch, 'healthy')
    await writeFile(marker, '')
    const s = make({ healthcheck: { command: ['test', '-e', marker], interval: '30ms', timeout: '1s', retries: 2 } })
    const slot = slotOf(s, 0)
    await h.driver.start(task(s), s)
    await h.health?.(slot, true)
    await events.waitFor(slot, 'healthy')
    await rm(marker)
    await h.health?.(slot, false)
    await events.waitFor(slot, 'unhealthy')
    assert.is((await h.driver.list())[0]?.state, 'unhealthy')
    await writeFile(marker, '')
    await h.health?.(slot, true)
    await events.waitFor(slot, 'healthy', 3000, 2)
    await delay(80) // a few more passing probes: still no repeated event
    assert.equal(events.states(slot), ['starting', 'running', 'healthy', 'unhealthy', 'healthy'])
  }))

  test('starting a running slot adopts the same version and refuses another', () => withDriver(async ({ driver }, events, _scratch, make) => {
    const s = make()
    await driver.start(task(s), s)
    assert.equal(await driver.start(task(s), s), { ok: true, adopted: true })
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'running', 'running'])
    const other = await driver.start(task(s, 0, { specHash: 'another-version' }), s)
    assert.is(other.ok, false)
    if (!other.ok) assert.is(other.error, 'slot-busy')
    assert.is((await driver.list()).length, 1)
  }))

  test('a malformed slot or a spec for another driver is refused as a value, with no events', () => withDriver(async ({ driver }, events, _scratch, make) => {
    const s = make()
    const malformed = await driver.start(task(s, '../../etc/passwd'), s)
    assert.is(malformed.ok === false && malformed.error, 'malformed-slot')
    const elsewhere: ServiceSpec = { ...s, driver: driver.name === 'process' ? 'docker' : 'process' }
    const wrong = await driver.start(task(elsewhere), elsewhere)
    assert.is(wrong.ok === false && wrong.error, 'wrong-driver')
    assert.equal(events.events, [])
    assert.equal(await driver.list(), [])
  }))

  test('a start made while the slot is being stopped waits for the stop to finish', () => withDriver(async ({ driver }, events, _scratch, make) => {
    const s = make()
    await driver.start(task(s), s)
    const stopping = driver.stop(slotOf(s, 0), GRACE_MS)
    const restarted = await driver.start(task(s), s)
    await stopping
    assert.equal(restarted, { ok: true, adopted: false })
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'running', 'exited', 'starting', 'running'])
    assert.is(events.of(slotOf(s, 0))[2]?.stopRequested, true)
    assert.is((await driver.list()).length, 1)
  }))

  test('a stop made while a start waits for the slot\'s previous task cancels that start: nothing is launched', () => withDriver(async ({ driver }, events, _scratch, make) => {
    const s = make()
    await driver.start(task(s), s)
    const stopping = driver.stop(slotOf(s, 0), GRACE_MS)
    const waiting = driver.start(task(s), s)
    const stoppingAgain = driver.stop(slotOf(s, 0), GRACE_MS)
    const [restarted] = await Promise.all([waiting, stopping, stoppingAgain])
    assert.is(restarted.ok === false && restarted.error, 'cancelled')
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'running', 'exited'])
    assert.equal(await driver.list(), [])
  }))

  test('a stop made while the task is still starting ends it once it runs', () => withDriver(async (h, events, _scratch, make) => {
    const s = make()
    const starting = h.driver.start(task(s), s)
    const stopping = h.driver.stop(slotOf(s, 0), GRACE_MS)
    await Promise.all([starting, stopping])
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'running', 'exited'])
    assert.equal(await h.driver.list(), [])
  }))

  test('no event reaches a listener once close() has been called, and the driver refuses further use', () => withDriver(async (h, events, scratch, make) => {
    const marker = join(scratch, 'healthy')
    await writeFile(marker, '')
    const s = make({
      command: ['sh', '-c', 'sleep 0.15'],
      healthcheck: { command: ['test', '-e', marker], interval: '20ms', timeout: '1s', retries: 1 },
    })
    await h.driver.start(task(s), s)
    let late = 0
    await h.driver.close()
    h.driver.onEvent(() => late++)
    const seen = events.events.length
    await h.exit?.(slotOf(s, 0), 0)
    await delay(300) // the task ends, probes would have run
    assert.is(events.events.length, seen)
    assert.is(late, 0)
    await rejects(() => h.driver.list())
  }))

  test('close leaves tasks running; a new driver lists, adopts and stops them', async () => {
    const probe = await makeDriver()
    const supported = probe.reopen !== undefined
    await probe.cleanup()
    if (!supported) return
    await withDriver(async (h, _events, _scratch, make) => {
      const s = make()
      await h.driver.start(task(s, 0), s)
      await h.driver.start(task(s, 1), s)
      const before = await h.driver.list()
      await h.driver.close()
      const next = await h.reopen!()
      const events = new Recorder(next)
      const after = await next.list()
      assert.equal(after.map((info) => [info.slot, info.handle, info.state, info.specHash]), before.map((info) => [info.slot, info.handle, info.state, info.specHash]))
      assert.equal(await next.start(task(s, 0), s), { ok: true, adopted: true })
      assert.equal(events.states(slotOf(s, 0)), ['running'])
      await next.stop(slotOf(s, 0), GRACE_MS)
      await next.stop(slotOf(s, 1), GRACE_MS)
      assert.equal(events.states(slotOf(s, 1)), ['exited'])
      assert.equal(await next.list(), [])
      if (h.alive !== undefined) for (const info of before) assert.is(h.alive(info), false)
    })
  })

  test.run()
}
