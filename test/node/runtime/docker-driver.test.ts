// The Docker driver against the real engine: the driver conformance suite, then what is particular to
// containers (limits the engine enforces, published ports, a taken port, a missing image, owners that
// share one engine, adoption without close). Needs `dockerd` and the `peer-test:latest` image
// (scripts/build-test-image.sh); without them the suite fails rather than skips.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Docker from 'dockerode'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceSpec } from '../../../core/index.js'
import { DockerDriver, LABEL, type DockerDriverInit } from '../../../node/runtime/docker-driver.js'
import { driverConformance, type DriverHarness } from './conformance.js'
import { Recorder, collect, eventually, slotOf, spec, task } from './helpers.js'
import { dockerAvailable, TEST_IMAGE } from './docker-support.js'

const docker = new Docker()
const available = await dockerAvailable(docker)
const GRACE_MS = 2000

/** Containers of every owner these tests made: removed in cleanup, and checked for at the end. */
const TEST_CLUSTER = `test-${process.pid}`
let owners = 0

function asDocker(s: ServiceSpec): ServiceSpec {
  return { ...s, driver: 'docker', image: TEST_IMAGE }
}

function dockerSpec(overrides: Record<string, unknown> = {}): ServiceSpec {
  return asDocker(spec(overrides))
}

function running(id: string): boolean {
  try {
    return execFileSync('docker', ['inspect', '-f', '{{.State.Running}}', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'true'
  } catch {
    return false
  }
}

async function removeContainers(filter: string): Promise<void> {
  const found = await docker.listContainers({ all: true, filters: { label: [filter] } })
  await Promise.all(found.map((each) => docker.getContainer(each.Id).remove({ force: true, v: true }).catch(() => {})))
}

interface DockerHarness extends DriverHarness {
  readonly driver: DockerDriver
  readonly owner: string
  readonly dataDir: string
  reopen(): Promise<DockerDriver>
}

async function dockerHarness(init: Partial<DockerDriverInit> = {}): Promise<DockerHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'peer-docker-driver-'))
  const owner = `test-owner-${process.pid}-${++owners}`
  // /tmp is shared with the containers: the suite's tasks wait on and test files in its scratch dirs.
  const open = (): DockerDriver => new DockerDriver({ now: Date.now }, { docker, owner, cluster: TEST_CLUSTER, dataDir, binds: ['/tmp:/tmp'], ...init })
  const driver = open()
  const opened: DockerDriver[] = [driver]
  return {
    driver,
    owner,
    dataDir,
    adapt: asDocker,
    alive: (info) => running(info.handle),
    reopen: async () => {
      const next = open()
      opened.push(next)
      return next
    },
    cleanup: async () => {
      for (const each of opened) await each.close()
      await removeContainers(`${LABEL.owner}=${owner}`)
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

async function withDocker(body: (h: DockerHarness, events: Recorder) => Promise<void>, init: Partial<DockerDriverInit> = {}): Promise<void> {
  const harness = await dockerHarness(init)
  const events = new Recorder(harness.driver)
  try {
    await body(harness, events)
  } finally {
    await harness.cleanup()
  }
}

/** A free TCP port on the host, by asking the kernel for one. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

if (available.ok) {
  driverConformance('docker', () => dockerHarness())

  const containers = suite('docker driver')

  containers('the spec\'s limits, init and labels are what the engine runs the container with', () => withDocker(async ({ driver, owner }) => {
    const s = dockerSpec({ resources: { cpu: '500m', memory: '64Mi' }, labels: { tier: 'web' } })
    await driver.start(task(s), s)
    const [info] = await driver.list()
    const inspected = await docker.getContainer(info!.handle).inspect()
    assert.is(inspected.HostConfig.NanoCpus, 500_000_000)
    assert.is(inspected.HostConfig.Memory, 64 * 1024 * 1024)
    assert.is(inspected.HostConfig.MemorySwap, 64 * 1024 * 1024, 'no swap beyond the memory limit')
    assert.is(inspected.HostConfig.Init, true)
    assert.is(inspected.HostConfig.RestartPolicy?.Name, 'no')
    const labels = inspected.Config.Labels
    assert.is(labels[LABEL.owner], owner)
    assert.is(labels[LABEL.slot], 'web/0')
    assert.is(labels[LABEL.specHash], task(s).specHash)
    assert.is(labels.tier, 'web')
    assert.ok(inspected.Config.Env.includes('PEER_SLOT=web/0'))
  }))

  containers('a start with secret files mounts them read-only at /run/secrets, and says so in PEER_SECRETS_DIR', () => withDocker(async ({ driver, dataDir }) => {
    const secrets = join(dataDir, 'secrets-of-web-0')
    await mkdir(secrets, { mode: 0o755 })
    await writeFile(join(secrets, 'db'), 'opened', { mode: 0o444 })
    const s = dockerSpec({ command: ['sh', '-c', 'cat "$PEER_SECRETS_DIR/db"; echo; { echo x > /run/secrets/db; } 2>/dev/null || echo read-only; sleep 30'] })
    await driver.start(task(s), s, { secretsDir: secrets })
    const lines = await eventually('the container to print its secret', async () => {
      const got = await collect(driver.logs(slotOf(s, 0), { follow: false }))
      return got.length >= 2 ? got : undefined
    }, 10_000)
    assert.equal(lines.slice(0, 2), ['opened', 'read-only'])
    const [info] = await driver.list()
    const inspected = await docker.getContainer(info!.handle).inspect()
    const mount = inspected.Mounts.find((m) => m.Destination === '/run/secrets')
    assert.equal([mount?.Source, mount?.RW], [secrets, false])
    assert.ok(inspected.Config.Env.includes('PEER_SECRETS_DIR=/run/secrets'))
    // A directory the engine cannot see fails the start instead of mounting an empty one.
    const missing = dockerSpec({ name: 'other' })
    const events = new Recorder(driver)
    await driver.start(task(missing), missing, { secretsDir: join(dataDir, 'no-such-dir') })
    const failed = await events.waitFor(slotOf(missing, 0), 'failed', 10_000)
    assert.match(failed.detail ?? '', /no-such-dir/)
  }))

  containers('a published port answers on the host, and a taken port fails the start naming the port', () => withDocker(async ({ driver }, events) => {
    const port = await freePort()
    const s = dockerSpec({ command: ['httpd', '-f', '-p', '80', '-h', '/www'], ports: [`${port}:80`] })
    await driver.start(task(s), s)
    const body = await eventually('the published port to answer', async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/`)).text()
      } catch {
        return undefined
      }
    }, 5000)
    assert.match(body, 'hello from peer')
    const second = { ...s, name: 'web2' as ServiceSpec['name'] }
    await driver.start(task(second), second)
    const failed = await events.waitFor(slotOf(second, 0), 'failed')
    assert.match(failed.detail ?? '', `host port ${port}/tcp is already in use on this host`)
    assert.equal((await driver.list()).map((info) => info.slot), ['web/0'], 'the failed container is not left behind')
  }))

  containers('a missing image that cannot be pulled fails the start with a reason a person can act on', () => withDocker(async ({ driver }, events) => {
    const s = { ...dockerSpec(), image: 'peer-test-no-such-image:never' }
    const result = await driver.start(task(s), s)
    assert.equal(result, { ok: true, adopted: false })
    const failed = await events.waitFor(slotOf(s, 0), 'failed', 60_000)
    assert.match(failed.detail ?? '', 'image peer-test-no-such-image:never not present on this host and pull failed')
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'failed'])
  }, { pullTimeoutMs: 30_000 }))

  containers('drivers of different owners on one engine never see each other\'s containers', () => withDocker(async (a) => {
    const b = await dockerHarness()
    try {
      const s = dockerSpec()
      await a.driver.start(task(s), s)
      await b.driver.start(task(s, 1), s)
      assert.equal((await a.driver.list()).map((info) => info.slot), ['web/0'])
      assert.equal((await b.driver.list()).map((info) => info.slot), ['web/1'])
      await b.driver.stop(slotOf(s, 0), GRACE_MS) // not b's: a no-op
      assert.ok(running((await a.driver.list())[0]!.handle))
    } finally {
      await b.cleanup()
    }
  }))

  containers('a driver that vanished without close (agent kill -9) is replaced by one that adopts its containers', () => withDocker(async (h) => {
    const s = dockerSpec()
    await h.driver.start(task(s), s)
    const [before] = await h.driver.list()
    const next = await h.reopen() // the first one is never closed, as after kill -9
    const events = new Recorder(next)
    const [after] = await next.list()
    assert.is(after?.handle, before?.handle)
    assert.equal(await next.start(task(s), s), { ok: true, adopted: true })
    // The task's own process must be up before the SIGTERM: sent while the container's init had not
    // yet started it (a loaded host, right after the start), the signal found nothing to end, and
    // after the grace Docker's SIGKILL made the exit 137.
    await eventually('the container\'s sleep to run', () => execFileSync('docker', ['top', after!.handle], { encoding: 'utf8' }).includes('sleep'), 10_000)
    // A grace far past a SIGTERM's effect: under load 2 s ran out once and Docker's SIGKILL made it 137.
    await next.stop(slotOf(s, 0), 10_000)
    assert.equal(events.states(slotOf(s, 0)), ['running', 'exited'])
    assert.is(events.of(slotOf(s, 0))[1]?.exitCode, 143, 'the exit code of an adopted container is known')
  }))

  containers('an ended container is removed and its output kept in the slot\'s log file', () => withDocker(async ({ driver, dataDir }, events) => {
    // The pause: Docker reads stdout and stderr separately, so lines written to both at one instant may swap.
    const s = dockerSpec({ command: ['sh', '-c', 'echo out; sleep 0.05; echo err >&2; exit 4'] })
    await driver.start(task(s), s)
    const exited = await events.waitFor(slotOf(s, 0), 'exited', 5000)
    assert.is(exited.exitCode, 4)
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.slot}=web/0`, `${LABEL.cluster}=${TEST_CLUSTER}`] } })
    assert.equal(left.filter((each) => each.Labels[LABEL.owner] === driver['init'].owner), [])
    assert.equal(await collect(driver.logs(slotOf(s, 0), { follow: false })), ['out', 'err'])
    assert.match(await readFile(join(dataDir, 'logs', 'web_0.log'), 'utf8'), 'out\nerr\n')
  }))

  containers('a task over its memory limit is reported as killed for memory', () => withDocker(async ({ driver }, events) => {
    // busybox's `tail` keeps its input in memory: /dev/zero has no newline, so it grows until killed.
    const s = dockerSpec({ command: ['sh', '-c', 'cat /dev/zero | tail'], resources: { memory: '8Mi' } })
    await driver.start(task(s), s)
    const exited = await events.waitFor(slotOf(s, 0), 'exited', 20_000)
    assert.match(exited.detail ?? '', 'out of memory (limit 8 MiB)')
  }))

  containers('exec runs a command in the task\'s container and returns its output and status', () => withDocker(async ({ driver }) => {
    const s = dockerSpec()
    await driver.start(task(s), s)
    const result = await driver.exec(slotOf(s, 0), ['sh', '-c', 'echo $PEER_SLOT; exit 3'], { timeoutMs: 5000 })
    assert.equal(result, { exitCode: 3, lines: ['web/0'] })
    assert.is(await driver.exec(slotOf(s, 5), ['true'], { timeoutMs: 5000 }), undefined)
  }))

  containers('engineAnswers tells an engine that does not answer from one that does', async () => {
    assert.is((await DockerDriver.engineAnswers(docker)).ok, true)
    const nowhere = await DockerDriver.engineAnswers(new Docker({ socketPath: '/nonexistent/docker.sock' }))
    assert.is(nowhere.ok, false)
  })

  containers.run()
} else {
  const missing = suite('docker driver')
  missing('a Docker engine and the test image are available', () => {
    assert.unreachable(`no Docker engine or test image: ${available.error} (start dockerd, then run scripts/build-test-image.sh)`)
  })
  missing.run()
}
