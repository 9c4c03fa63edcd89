// The process driver: the driver conformance suite against real processes, then what is particular
// to processes (process groups, the grace period, environment, log files, adoption after a restart,
// commands that cannot run). Every test kills what it started by pid in `finally`, and the last test
// checks that no process of this run is left.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SlotId } from '../../../core/index.js'
import { ProcessDriver, type ProcessDriverInit, type RuntimeDriver } from '../../../node/runtime/index.js'
import { driverConformance, type DriverHarness } from './conformance.js'
import {
  Recorder, collect, commandLine, delay, eventually, killMarkedProcesses, markedProcesses, processAlive, slotOf, spec, task,
} from './helpers.js'

interface ProcessHarness extends DriverHarness {
  readonly driver: ProcessDriver
  readonly dataDir: string
  reopen(): Promise<ProcessDriver>
}

async function processHarness(init: Partial<ProcessDriverInit> = {}): Promise<ProcessHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'peer-process-driver-'))
  const open = (): ProcessDriver => new ProcessDriver({ now: Date.now }, { dataDir, adoptedPollMs: 50, logPollMs: 20, ...init })
  const driver = open()
  const opened: RuntimeDriver[] = [driver]
  return {
    driver,
    dataDir,
    alive: (info) => processAlive(Number(info.handle)),
    reopen: async () => {
      const next = open()
      opened.push(next)
      return next
    },
    cleanup: async () => {
      for (const each of opened) await each.close()
      await killMarkedProcesses()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** Runs a test with a fresh driver and always cleans up (closing it, killing what it started). */
async function withProcessDriver(body: (h: ProcessHarness, events: Recorder) => Promise<void>, init: Partial<ProcessDriverInit> = {}): Promise<void> {
  const harness = await processHarness(init)
  const events = new Recorder(harness.driver)
  try {
    await body(harness, events)
  } finally {
    await harness.cleanup()
  }
}

/** The task's log lines, once there are at least `count`. */
async function linesOf(driver: RuntimeDriver, slot: SlotId, count: number): Promise<string[]> {
  return eventually(`${count} lines of output from ${slot}`, async () => {
    const lines = await collect(driver.logs(slot, { follow: false }))
    return lines.length >= count ? lines : undefined
  })
}

driverConformance('process', () => processHarness())

const processes = suite('process driver')

processes('stop kills the whole process group, grandchildren included', () => withProcessDriver(async ({ driver }, events) => {
  const s = spec({ command: ['sh', '-c', 'sleep 30 & echo $!; sleep 30 & echo $!; wait'] })
  await driver.start(task(s), s)
  const [info] = await driver.list()
  const grandchildren = (await linesOf(driver, slotOf(s, 0), 2)).map(Number)
  assert.ok(grandchildren.every(processAlive))
  const began = Date.now()
  await driver.stop(slotOf(s, 0), 5000)
  assert.ok(Date.now() - began < 2500, 'SIGTERM alone should have ended the group (grace is 5 s)')
  for (const pid of [Number(info!.handle), ...grandchildren]) assert.is(processAlive(pid), false, `pid ${pid} survived the stop`)
  assert.equal(events.states(slotOf(s, 0)), ['starting', 'running', 'exited'])
}))

processes('a task whose main process exits takes what it left in its group with it', () => withProcessDriver(async ({ driver }, events) => {
  const s = spec({ command: ['sh', '-c', 'sleep 30 & echo $!; exit 5'] })
  await driver.start(task(s), s)
  const exited = await events.waitFor(slotOf(s, 0), 'exited')
  assert.is(exited.exitCode, 5)
  const [leftover] = (await linesOf(driver, slotOf(s, 0), 1)).map(Number)
  assert.is(processAlive(leftover!), false)
}))

processes('a task that ignores SIGTERM is killed with SIGKILL when the grace period ends', () => withProcessDriver(async ({ driver }, events) => {
  const s = spec({ command: ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'] })
  await driver.start(task(s), s)
  const [info] = await driver.list()
  await linesOf(driver, slotOf(s, 0), 1) // the trap is set
  const began = Date.now()
  await driver.stop(slotOf(s, 0), 300)
  const took = Date.now() - began
  assert.ok(took >= 290 && took < 2000, `stop took ${took} ms`)
  const exited = events.of(slotOf(s, 0)).at(-1)!
  assert.is(exited.exitCode, 137)
  assert.match(exited.detail ?? '', /stopped; killed by SIGKILL/)
  assert.is(processAlive(Number(info!.handle)), false)
}))

processes('a task that handles SIGTERM reports its own exit code', () => withProcessDriver(async ({ driver }, events) => {
  const s = spec({ command: ['sh', '-c', 'trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done'] })
  await driver.start(task(s), s)
  await linesOf(driver, slotOf(s, 0), 1)
  await driver.stop(slotOf(s, 0), 2000)
  const { atMs: _atMs, ...exited } = events.of(slotOf(s, 0)).at(-1)!
  assert.equal(exited, { slot: slotOf(s, 0), state: 'exited', exitCode: 7, detail: 'stopped; exited with code 7', stopRequested: true })
}))

processes('a task sees its spec env and PEER_* variables, which the spec cannot forge, and not the agent\'s environment', () => withProcessDriver(async ({ driver }) => {
  process.env.PEER_AGENT_SECRET = 'do-not-leak'
  try {
    const s = spec({
      env: { GREETING: 'hello', PEER_SLOT: 'forged' },
      command: ['sh', '-c', 'echo "$PEER_SLOT|$PEER_SERVICE|$PEER_SPEC_HASH|$GREETING|${PEER_AGENT_SECRET-unset}|$PATH"'],
    })
    await driver.start(task(s, 3), s)
    const [line] = await linesOf(driver, slotOf(s, 3), 1)
    assert.is(line, `web/3|web|${task(s, 3).specHash}|hello|unset|${process.env.PATH}`)
  } finally {
    delete process.env.PEER_AGENT_SECRET
  }
}))

processes('a spec\'s workdir is the task\'s and its healthcheck\'s working directory; a missing one fails the start naming it', () => withProcessDriver(async ({ driver, dataDir }, events) => {
  const workdir = join(dataDir, 'work dir')
  await mkdir(workdir)
  const s = spec({ workdir, command: ['sh', '-c', 'pwd; sleep 30'], healthcheck: { command: ['sh', '-c', 'test "$(pwd)" = "$0"', workdir], interval: '30ms' } })
  await driver.start(task(s), s)
  assert.equal(await linesOf(driver, slotOf(s, 0), 1), [workdir])
  await events.waitFor(slotOf(s, 0), 'healthy', 5000)

  const missing = spec({ name: 'lost', workdir: join(dataDir, 'no-such-dir'), command: ['sh', '-c', 'pwd'] })
  await driver.start(task(missing), missing)
  const failed = await events.waitFor(slotOf(missing, 0), 'failed')
  assert.is(failed.detail, `working directory ${join(dataDir, 'no-such-dir')} does not exist on this host (or is not a directory)`)
  assert.equal(events.states(slotOf(missing, 0)), ['starting', 'failed'])
}))

processes('a start with secret files puts their directory in PEER_SECRETS_DIR; an adopted task\'s healthcheck still sees it', () => withProcessDriver(async (h) => {
  const secrets = join(h.dataDir, 'secrets-of-web-0')
  await mkdir(secrets, { mode: 0o700 })
  await writeFile(join(secrets, 'db'), 'opened', { mode: 0o600 })
  const s = spec({
    command: ['sh', '-c', 'cat "$PEER_SECRETS_DIR/db"; echo; sleep 30'],
    healthcheck: { command: ['sh', '-c', 'test -f "$PEER_SECRETS_DIR/db"'], interval: '30ms', timeout: '1s' },
  })
  const events = new Recorder(h.driver)
  await h.driver.start(task(s), s, { secretsDir: secrets })
  assert.equal(await linesOf(h.driver, slotOf(s, 0), 1), ['opened'])
  await events.waitFor(slotOf(s, 0), 'healthy')
  await h.driver.close()
  const next = await h.reopen()
  const again = new Recorder(next)
  assert.equal((await next.list()).map((info) => info.slot), [slotOf(s, 0)])
  await again.waitFor(slotOf(s, 0), 'healthy')
  // Without the directory the check fails: the adopted task's probes run with PEER_SECRETS_DIR set.
  await rm(secrets, { recursive: true })
  await again.waitFor(slotOf(s, 0), 'unhealthy')
  await next.stop(slotOf(s, 0), 1000)
  // A start without secrets sets no PEER_SECRETS_DIR.
  const plain = spec({ command: ['sh', '-c', 'echo "${PEER_SECRETS_DIR-unset}"'] })
  await next.start(task(plain, 1), plain)
  assert.equal(await linesOf(next, slotOf(plain, 1), 1), ['unset'])
}))

processes('output goes to <dataDir>/logs/<slot>.log, appended across starts; a global slot has its own file', () => withProcessDriver(async ({ driver, dataDir }, events) => {
  for (const [round, word] of ['first', 'second'].entries()) {
    const s = spec({ command: ['sh', '-c', 'echo "run $0"; echo oops >&2', word] })
    await driver.start(task(s), s)
    await events.waitFor(slotOf(s, 0), 'exited', 3000, round + 1)
  }
  assert.is(driver.logPath(slotOf(spec(), 0)), join(dataDir, 'logs', 'web_0.log'))
  assert.is(await readFile(join(dataDir, 'logs', 'web_0.log'), 'utf8'), 'run first\noops\nrun second\noops\n')

  const global = spec({ mode: 'global', command: ['sh', '-c', 'echo global'] })
  await driver.start(task(global, 'web@peer-a'), global)
  await events.waitFor('web@peer-a' as SlotId, 'exited')
  assert.is(await readFile(join(dataDir, 'logs', 'web+peer-a.log'), 'utf8'), 'global\n')
}))

processes('after a restart, an adopted task keeps its healthcheck, and its end is noticed (without an exit status)', () => withProcessDriver(async (h) => {
  const trigger = join(h.dataDir, 'finish')
  const s = spec({
    command: ['sh', '-c', 'while [ ! -e "$0" ]; do sleep 0.02; done', trigger],
    healthcheck: { command: ['true'], interval: '30ms', timeout: '1s' },
  })
  await h.driver.start(task(s), s)
  await h.driver.close()
  const next = await h.reopen()
  const events = new Recorder(next)
  assert.equal((await next.list()).map((info) => info.slot), [slotOf(s, 0)])
  await events.waitFor(slotOf(s, 0), 'healthy')
  await writeFile(trigger, '')
  const exited = await events.waitFor(slotOf(s, 0), 'exited')
  assert.is(exited.exitCode, undefined)
  assert.match(exited.detail ?? '', /exit status is unknown/)
  assert.equal(await readdir(join(h.dataDir, 'tasks')), [])
}))

processes('a record whose process died while no agent watched is dropped, without an event', () => withProcessDriver(async (h) => {
  const s = spec()
  await h.driver.start(task(s), s)
  const [info] = await h.driver.list()
  await h.driver.close()
  process.kill(Number(info!.handle), 'SIGKILL')
  await eventually('the task to die', () => !processAlive(Number(info!.handle)))
  const next = await h.reopen()
  const events = new Recorder(next)
  assert.equal(await next.list(), [])
  assert.equal(await readdir(join(h.dataDir, 'tasks')), [])
  await delay(20)
  assert.equal(events.events, [])
}))

processes('a command that cannot run ends in failed with a clear detail, and the driver carries on', () => withProcessDriver(async ({ driver, dataDir }, events) => {
  const missing = spec({ command: ['/nonexistent/peer-test-binary', '--flag'] })
  assert.equal(await driver.start(task(missing, 0), missing), { ok: true, adopted: false })
  assert.equal(events.states(slotOf(missing, 0)), ['starting', 'failed'])
  assert.is(events.of(slotOf(missing, 0))[1]?.detail, 'cannot start "/nonexistent/peer-test-binary": command or working directory not found (ENOENT)')

  const directory = spec({ command: [dataDir] })
  await driver.start(task(directory, 1), directory)
  assert.match(events.of(slotOf(directory, 1))[1]?.detail ?? '', /permission denied \(EACCES\)/)

  assert.equal(await driver.list(), [])
  const fine = spec()
  await driver.start(task(fine, 2), fine)
  assert.equal(events.states(slotOf(fine, 2)), ['starting', 'running'])
}))

processes('a healthcheck that outlives its timeout fails, with the reason in the detail', () => withProcessDriver(async ({ driver }, events) => {
  const s = spec({ healthcheck: { command: ['sleep', '5'], interval: '20ms', timeout: '50ms', retries: 1 } })
  await driver.start(task(s), s)
  const unhealthy = await events.waitFor(slotOf(s, 0), 'unhealthy')
  assert.is(unhealthy.detail, 'healthcheck timed out after 50 ms')
}))

processes('failures during the start period do not count', () => withProcessDriver(async ({ driver }, events) => {
  const s = spec({ healthcheck: { command: ['false'], interval: '20ms', timeout: '1s', retries: 1, startPeriod: '200ms' } })
  await driver.start(task(s), s)
  const [info] = await driver.list()
  const unhealthy = await events.waitFor(slotOf(s, 0), 'unhealthy')
  assert.ok(unhealthy.atMs - info!.startedAtMs >= 200, `unhealthy ${unhealthy.atMs - info!.startedAtMs} ms after the start`)
  assert.is(unhealthy.detail, 'healthcheck exited with 1')
}))

processes('no process of this run is left behind', async () => {
  const left = markedProcesses().map((pid) => `${pid}: ${commandLine(pid)}`)
  await killMarkedProcesses()
  assert.equal(left, [])
})

processes.run()
