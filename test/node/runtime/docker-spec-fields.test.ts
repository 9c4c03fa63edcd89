// The spec's container fields on the real engine: entrypoint, user and workdir as the task sees them;
// bind, volume and tmpfs mounts (a named volume outlives its container, a read-only bind refuses
// writes, a missing bind source fails the start naming the path); capabilities added and dropped;
// the stop grace a spec asks for; a secret with an absolute target readable at that path. Needs
// `dockerd` and `peer-test:latest` (scripts/build-test-image.sh); without them the suite fails.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Docker from 'dockerode'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceSpec } from '../../../core/index.js'
import { stopGraceOf } from '../../../node/agent/config.js'
import { DockerDriver, LABEL } from '../../../node/runtime/docker-driver.js'
import { makeSpec } from '../../core/placement/fixtures.js'
import { dockerAvailable, TEST_IMAGE } from './docker-support.js'
import { Recorder, collect, eventually, slotOf, task } from './helpers.js'

const docker = new Docker()
const available = await dockerAvailable(docker)
const CLUSTER = `test-fields-${process.pid}`
const VOLUME = `peer-test-volume-${process.pid}`
let owners = 0

/** A docker spec as a user writes it (validated), on the test image. */
function container(body: Record<string, unknown>): ServiceSpec {
  return makeSpec({ name: 'box', image: TEST_IMAGE, ...body })
}

interface Harness {
  readonly driver: DockerDriver
  readonly events: Recorder
  /** A scratch directory on the host, for bind mounts. */
  readonly scratch: string
}

async function withDriver(body: (h: Harness) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'peer-docker-fields-'))
  const scratch = await mkdtemp(join(tmpdir(), 'peer-docker-scratch-'))
  const owner = `test-fields-owner-${process.pid}-${++owners}`
  const driver = new DockerDriver({ now: Date.now }, { docker, owner, cluster: CLUSTER, dataDir })
  const events = new Recorder(driver)
  try {
    await body({ driver, events, scratch })
  } finally {
    await driver.close()
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.owner}=${owner}`] } })
    await Promise.all(left.map((each) => docker.getContainer(each.Id).remove({ force: true, v: true }).catch(() => {})))
    await rm(dataDir, { recursive: true, force: true })
    await rm(scratch, { recursive: true, force: true })
  }
}

/** The slot's output once it has at least `count` lines. */
async function lines(driver: DockerDriver, s: ServiceSpec, count: number, timeoutMs = 10_000): Promise<string[]> {
  return eventually(`${count} lines from ${s.name}`, async () => {
    const got = await collect(driver.logs(slotOf(s, 0), { follow: false }))
    return got.length >= count ? got : undefined
  }, timeoutMs)
}

async function inspect(driver: DockerDriver, s: ServiceSpec): Promise<Docker.ContainerInspectInfo> {
  const info = (await driver.list()).find((each) => each.slot === slotOf(s, 0))
  if (info === undefined) throw new Error(`${s.name} does not run`)
  return docker.getContainer(info.handle).inspect()
}

if (available.ok) {
  const fields = suite('docker driver: spec fields')

  fields('entrypoint, user and workdir are what the task runs with', () => withDriver(async ({ driver }) => {
    const s = container({ entrypoint: ['sh', '-c'], command: ['id -u; id -g; pwd; sleep 30'], user: '1234:4321', workdir: '/srv/app' })
    await driver.start(task(s), s)
    assert.equal(await lines(driver, s, 3), ['1234', '4321', '/srv/app'])
    const inspected = await inspect(driver, s)
    assert.equal(inspected.Config.Entrypoint, ['sh', '-c'])
    assert.is(inspected.Config.User, '1234:4321')
    assert.is(inspected.Config.WorkingDir, '/srv/app')
  }))

  fields('bind, volume and tmpfs mounts: a read-only bind refuses writes, a named volume outlives its container', () => withDriver(async ({ driver, events, scratch }) => {
    await mkdir(join(scratch, 'rw'))
    await mkdir(join(scratch, 'ro'))
    await writeFile(join(scratch, 'ro', 'given'), 'from the host\n')
    try {
      const writer = container({
        command: ['sh', '-c', [
          'echo written > /data/out',
          'cat /config/given',
          '{ echo x > /config/other; } 2>/dev/null || echo read-only',
          'echo kept > /vol/file',
          'grep -c " /scratch tmpfs " /proc/mounts',
        ].join('; ')],
        mounts: [
          { type: 'bind', source: join(scratch, 'rw'), target: '/data' },
          { type: 'bind', source: join(scratch, 'ro'), target: '/config', readOnly: true },
          { type: 'volume', source: VOLUME, target: '/vol' },
          { type: 'tmpfs', target: '/scratch' },
        ],
      })
      await driver.start(task(writer), writer)
      const exited = await events.waitFor(slotOf(writer, 0), 'exited', 15_000)
      assert.is(exited.exitCode, 0, exited.detail)
      assert.equal(await collect(driver.logs(slotOf(writer, 0), { follow: false })), ['from the host', 'read-only', '1'])
      assert.is(await readFile(join(scratch, 'rw', 'out'), 'utf8'), 'written\n')

      // The container is gone; its named volume is not, and the next task of the name finds the data.
      assert.is((await docker.getVolume(VOLUME).inspect()).Name, VOLUME)
      const reader = container({ name: 'reader', command: ['cat', '/vol/file'], mounts: [{ type: 'volume', source: VOLUME, target: '/vol', readOnly: true }] })
      await driver.start(task(reader), reader)
      await events.waitFor(slotOf(reader, 0), 'exited', 15_000)
      assert.equal(await collect(driver.logs(slotOf(reader, 0), { follow: false })), ['kept'])
    } finally {
      await docker.getVolume(VOLUME).remove().catch(() => {})
    }
  }))

  fields('a bind source missing on this host fails the start with a detail naming the path', () => withDriver(async ({ driver, events, scratch }) => {
    const missing = join(scratch, 'not-here')
    const s = container({ mounts: [{ type: 'bind', source: missing, target: '/data' }] })
    assert.equal(await driver.start(task(s), s), { ok: true, adopted: false })
    const failed = await events.waitFor(slotOf(s, 0), 'failed', 10_000)
    assert.match(failed.detail ?? '', `bind mount source ${missing} does not exist on this host`)
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'failed'])
    assert.equal(await driver.list(), [])
  }))

  fields('capabilities added and dropped are the container\'s', () => withDriver(async ({ driver }) => {
    const s = container({ command: ['sh', '-c', 'grep CapEff /proc/self/status; sleep 30'], capAdd: ['net_admin'], capDrop: ['CAP_CHOWN'] })
    await driver.start(task(s), s)
    const [line] = await lines(driver, s, 1)
    const effective = BigInt(`0x${line!.split(/\s+/)[1]}`)
    const CHOWN = 0n
    const NET_ADMIN = 12n
    assert.is((effective >> CHOWN) & 1n, 0n, `CHOWN dropped: ${line}`)
    assert.is((effective >> NET_ADMIN) & 1n, 1n, `NET_ADMIN added: ${line}`)
    const inspected = await inspect(driver, s)
    assert.equal([inspected.HostConfig.CapAdd, inspected.HostConfig.CapDrop], [['NET_ADMIN'], ['CHOWN']])
  }))

  fields('a task that ignores SIGTERM is killed once its spec\'s stop grace is over, not before', () => withDriver(async ({ driver, events }) => {
    const s = container({ command: ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done'], stopGrace: '2s' })
    await driver.start(task(s), s)
    await lines(driver, s, 1) // the trap is set
    assert.is(((await inspect(driver, s)).Config as { StopTimeout?: number }).StopTimeout, 2, 'a `docker stop` by hand waits as long')
    const began = Date.now()
    const stopping = driver.stop(slotOf(s, 0), stopGraceOf(s))
    // Still there a while into the grace: SIGTERM alone did not end it.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    assert.equal(events.states(slotOf(s, 0)), ['starting', 'running'])
    await stopping
    const took = Date.now() - began
    const exited = events.of(slotOf(s, 0)).at(-1)!
    assert.is(exited.exitCode, 137, exited.detail)
    assert.ok(took >= 1900, `killed after ${took} ms, before its 2 s grace`)
  }))

  fields('a secret with an absolute target is readable, read-only, at that path; the rest stay under /run/secrets', () => withDriver(async ({ driver, scratch }) => {
    // What the agent writes (node/agent/secret-files.ts): one file per secret, an absolute target's under its name.
    const secrets = join(scratch, 'secrets')
    await mkdir(secrets, { mode: 0o755 })
    await writeFile(join(secrets, 'prom-config'), 'scrape_interval: 5s', { mode: 0o444 })
    await writeFile(join(secrets, 'key.pem'), 'private', { mode: 0o444 })
    const s = container({
      command: ['sh', '-c', 'cat /etc/prometheus/prometheus.yml; echo; cat /run/secrets/key.pem; echo; { echo x > /etc/prometheus/prometheus.yml; } 2>/dev/null || echo read-only; sleep 30'],
      secrets: [{ name: 'prom-config', target: '/etc/prometheus/prometheus.yml' }, { name: 'tls', target: 'key.pem' }],
    })
    await driver.start(task(s), s, { secretsDir: secrets })
    assert.equal(await lines(driver, s, 3), ['scrape_interval: 5s', 'private', 'read-only'])
    const mount = (await inspect(driver, s)).Mounts.find((m) => m.Destination === '/etc/prometheus/prometheus.yml')
    assert.equal([mount?.Source, mount?.RW], [join(secrets, 'prom-config'), false])
  }))

  fields.run()
} else {
  const missing = suite('docker driver: spec fields')
  missing('a Docker engine and the test image are available', () => {
    assert.unreachable(`no Docker engine or test image: ${available.error} (start dockerd, then run scripts/build-test-image.sh)`)
  })
  missing.run()
}
