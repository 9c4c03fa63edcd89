import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apply, desiredState, LOG_FILE, remove, scale, SNAPSHOT_FILE, type DesiredDoc } from '../../../crdt/index.js'
import { peerId, type PeerId } from '../../../core/placement/ids.js'
import { DesiredReplica } from '../../../node/agent/desired-replica.js'
import { DESIRED_SYNC_PROTOCOL, DESIRED_TOPIC, generateSwarmKey, RequestError, type SwarmKey } from '../../../p2p/index.js'
import { sleep, startPeer, stopAll, waitFor, type TestPeer } from '../../p2p/helpers.js'
import { ok, spec } from '../../crdt/support.mjs'

interface Node {
  peer: TestPeer
  replica: DesiredReplica
  self: PeerId
  dir: string
  logs: string[]
}

/** Everything a test started, stopped in `finally` whatever happened. */
class World {
  readonly nodes: Node[] = []
  private readonly dirs: string[] = []
  readonly swarmKey: SwarmKey = generateSwarmKey()

  async dir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'peer-desired-'))
    this.dirs.push(dir)
    return dir
  }

  /** A host, transport and replica; `dir` reuses a store directory (a restart). */
  async start(seed: string, options: { join?: Node; dir?: string } = {}): Promise<Node> {
    const peer = await startPeer({ swarmKey: this.swarmKey, seed, join: options.join === undefined ? [] : options.join.peer.host.addresses() })
    const dir = options.dir ?? (await this.dir())
    const logs: string[] = []
    const self = peerId(peer.host.peerId)
    let replica: DesiredReplica
    try {
      replica = await DesiredReplica.open({ dir, self, host: peer.host, transport: peer.transport, log: (line) => logs.push(line) })
    } catch (error) {
      await stopAll([peer])
      throw error
    }
    const node = { peer, replica, self, dir, logs }
    this.nodes.push(node)
    return node
  }

  async stop(node: Node): Promise<void> {
    const index = this.nodes.indexOf(node)
    if (index >= 0) this.nodes.splice(index, 1)
    await node.replica.close()
    await stopAll([node.peer])
  }

  async stopAll(): Promise<void> {
    for (const node of [...this.nodes]) {
      try {
        await this.stop(node)
      } catch (error) {
        console.error('cleanup failed:', error)
      }
    }
    await Promise.all(this.dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  }
}

/** Waits until every node sees every other as a subscriber of the desired-state topic. */
async function waitForTopic(nodes: readonly Node[], timeoutMs = 8_000): Promise<void> {
  await waitFor(
    () =>
      nodes.every((node) => {
        const subscribers = new Set(node.peer.host.pubsub.getSubscribers(DESIRED_TOPIC).map(String))
        return nodes.every((other) => other === node || subscribers.has(other.self))
      }),
    timeoutMs,
    'every peer subscribed to the desired topic',
  )
}

async function waitForConvergence(nodes: readonly Node[], timeoutMs = 5_000): Promise<void> {
  await waitFor(() => nodes.every((node) => node.replica.digest() === nodes[0]!.replica.digest()), timeoutMs, 'equal digests')
}

/** 40 KiB of random bytes as text (~55 KiB): it does not compress, so changes carrying it stay large. */
function noise(): string {
  return randomBytes(40 * 1024).toString('base64')
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size
  } catch {
    return undefined
  }
}

function serviceNames(doc: DesiredDoc): string[] {
  return desiredState(doc).services.map((service) => service.spec.name)
}

/** Longer than gossipsub's IHAVE window (GossipsubHistoryGossip = 3 heartbeats of 1 s), with margin. */
const GOSSIP_HISTORY_MS = 4_000

const web = spec({ name: 'web', image: 'nginx:1', replicas: 2 })
const api = spec({ name: 'api', command: 'server --port 80', replicas: 1 })

function applyOn(node: Node, ...specs: ReturnType<typeof spec>[]) {
  return node.replica.edit((doc) => apply(doc, specs, node.self, Date.now()))
}

const replica = suite('desired replica')

replica('an edit on one peer reaches the others by gossip and is persisted there', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    const b = await world.start('desired-b', { join: a })
    const c = await world.start('desired-c', { join: a })
    await waitForTopic([a, b, c])
    const before = a.replica.digest()
    const heard: string[] = []
    b.replica.onChange((doc) => heard.push(serviceNames(doc).join(',')))

    const result = ok(await applyOn(a, web))
    assert.is(result.services[0]!.outcome, 'created')
    assert.is.not(a.replica.digest(), before)
    await waitForConvergence([a, b, c])
    assert.equal(serviceNames(b.replica.doc), ['web'])
    assert.equal(serviceNames(c.replica.doc), ['web'])
    assert.equal(heard, ['web'])
    assert.is(b.replica.stats().gossipReceived, 1)
    assert.is(c.replica.stats().syncsRun, 0, 'gossip alone, no sync needed')
    // Received changes are acted on at once and persisted in the same step: the log grows beyond its
    // magic (a change from the store's own frame, at least) by the time the step settles.
    const deadline = Date.now() + 5_000
    while ((await stat(join(b.dir, LOG_FILE))).size <= 8 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.ok((await stat(join(b.dir, LOG_FILE))).size > 8, 'the received change reached the disk')
  } finally {
    await world.stopAll()
  }
})

replica('a peer stopped while edits happened catches up by syncWith after its restart', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    const b = await world.start('desired-b', { join: a })
    let c = await world.start('desired-c', { join: a })
    await waitForTopic([a, b, c])
    ok(await applyOn(a, web))
    await waitForConvergence([a, b, c])

    const cDir = c.dir
    await world.stop(c)
    ok(await applyOn(a, api))
    ok(await b.replica.edit((doc) => scale(doc, 'web', 4, b.self, Date.now())))
    await waitForConvergence([a, b])
    // Gossipsub advertises (IHAVE) the messages of its last 3 heartbeats (1 s each) to peers that
    // join, so a peer back within ~3 s may still get them by gossip. Stay down longer than that.
    await sleep(GOSSIP_HISTORY_MS)

    c = await world.start('desired-c', { join: a, dir: cDir })
    await waitForTopic([a, b, c])
    assert.equal(serviceNames(c.replica.doc), ['web'], 'reloaded from its own disk')
    assert.is.not(c.replica.digest(), a.replica.digest(), 'gossip published while C was down is lost to it')

    const outcome = await c.replica.syncWith(a.self)
    assert.ok(outcome.ok, JSON.stringify(outcome))
    assert.ok(outcome.ok && outcome.received && outcome.rounds >= 2 && outcome.rounds <= 4, JSON.stringify(outcome))
    assert.is(c.replica.digest(), a.replica.digest())
    assert.is(c.replica.digest(), b.replica.digest())
    assert.equal(serviceNames(c.replica.doc), ['api', 'web'])
    assert.is(desiredState(c.replica.doc).services.find((s) => s.spec.name === 'web')!.spec.replicas, 4)
    assert.is(a.replica.stats().syncsServed, 1)

    // Nothing left to exchange: the next run is short and receives nothing.
    const again = await c.replica.syncWith(a.self)
    assert.ok(again.ok && !again.received, JSON.stringify(again))
  } finally {
    await world.stopAll()
  }
})

replica('a change too large to gossip is left to sync, which the next gossip starts by itself', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    const b = await world.start('desired-b', { join: a })
    await waitForTopic([a, b])
    // Random text does not compress: one change of ~215 KiB, over the 64 KiB broadcast limit.
    ok(await applyOn(a, spec({ name: 'big', image: 'nginx:1', replicas: 1, env: { ONE: noise(), TWO: noise() } })))
    assert.ok(a.logs.some((line) => line.includes('over the gossip limit')), a.logs.join('\n'))

    // This change depends on the one B never got: Automerge holds it back, and B syncs with A.
    ok(await applyOn(a, web))
    await waitForConvergence([a, b])
    assert.equal(serviceNames(b.replica.doc), ['big', 'web'])
    assert.is(b.replica.stats().syncsRun, 1)
    assert.is(b.replica.stats().syncFailures, 0)
  } finally {
    await world.stopAll()
  }
})

replica('concurrent edits on two peers converge to equal heads after one sync', async () => {
  const world = new World()
  try {
    // Not connected: neither sees the other's edits until they sync.
    const a = await world.start('desired-a')
    const b = await world.start('desired-b')
    ok(await applyOn(a, web))
    ok(await applyOn(b, api, { ...web, replicas: 7 }))
    ok(await a.replica.edit((doc) => scale(doc, 'web', 3, a.self, Date.now())))
    assert.is.not(a.replica.digest(), b.replica.digest())

    await b.peer.host.dial(a.peer.host.addresses()[0]!)
    const outcome = await b.replica.syncWith(a.self)
    assert.ok(outcome.ok && outcome.received, JSON.stringify(outcome))
    // The sync runs both ways in one run: A received B's changes as the responder.
    assert.is(a.replica.digest(), b.replica.digest())
    assert.equal(serviceNames(a.replica.doc), ['api', 'web'])
    const replicas = (doc: DesiredDoc) => desiredState(doc).services.find((s) => s.spec.name === 'web')!.spec.replicas
    assert.is(replicas(a.replica.doc), replicas(b.replica.doc), 'the concurrent writes resolve the same way on both')
  } finally {
    await world.stopAll()
  }
})

replica('edits issued at once and gossip arriving meanwhile are all kept', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    const b = await world.start('desired-b', { join: a })
    await waitForTopic([a, b])
    const count = 15
    const edits = [
      ...Array.from({ length: count }, (_, i) => applyOn(a, spec({ name: `a-${i}`, image: 'nginx:1', replicas: 1 }))),
      ...Array.from({ length: count }, (_, i) => applyOn(b, spec({ name: `b-${i}`, image: 'nginx:1', replicas: 1 }))),
    ]
    for (const result of await Promise.all(edits)) ok(result)
    await waitForConvergence([a, b])
    assert.is(serviceNames(a.replica.doc).length, 2 * count)
    assert.equal(serviceNames(a.replica.doc), serviceNames(b.replica.doc))
  } finally {
    await world.stopAll()
  }
})

replica('a replica reopened from its directory has the same digest and services, compacted or not', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    ok(await applyOn(a, web, api))
    ok(await a.replica.edit((doc) => remove(doc, ['api'], a.self, Date.now())))
    assert.is(await sizeOf(join(a.dir, SNAPSHOT_FILE)), undefined, 'small logs are not compacted')
    // Each of these changes is ~215 KiB (the spec is stored in the entry and in its version record):
    // the second takes the log over the store's 256 KiB threshold and it compacts; the third goes to
    // the new log, which stays smaller than the snapshot.
    for (let i = 0; i < 3; i++) ok(await applyOn(a, spec({ name: `big-${i}`, image: 'nginx:1', replicas: 1, env: { ONE: noise(), TWO: noise() } })))
    const snapshotBytes = await sizeOf(join(a.dir, SNAPSHOT_FILE))
    assert.ok(snapshotBytes !== undefined && snapshotBytes > 0, `compacted into a snapshot (${snapshotBytes} bytes)`)
    assert.ok((await sizeOf(join(a.dir, LOG_FILE)))! < snapshotBytes)
    ok(await applyOn(a, { ...web, replicas: 9 }))
    const digest = a.replica.digest()
    // A second replica on the same host is refused, and the first keeps working.
    const second = await world.dir()
    await DesiredReplica.open({ dir: second, self: a.self, host: a.peer.host, transport: a.peer.transport }).then(
      () => assert.unreachable('a second replica opened on one host'),
      (error: Error) => assert.match(error.message, /another desired-state replica is open/),
    )
    assert.ok(a.peer.host.pubsub.getTopics().includes(DESIRED_TOPIC))
    await a.replica.close()
    assert.not.ok(a.peer.host.pubsub.getTopics().includes(DESIRED_TOPIC))

    // Same host: close() gave up the topic validator and the protocol handler, so they can be taken again.
    const reopened = await DesiredReplica.open({ dir: a.dir, self: a.self, host: a.peer.host, transport: a.peer.transport })
    a.replica = reopened
    assert.is(reopened.digest(), digest)
    assert.equal(serviceNames(reopened.doc), ['big-0', 'big-1', 'big-2', 'web'])
    ok(await applyOn(a, api))
    assert.equal(serviceNames(reopened.doc), ['api', 'big-0', 'big-1', 'big-2', 'web'])
  } finally {
    await world.stopAll()
  }
})

replica('garbage published on the topic is rejected and counted; gossip keeps working', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    const b = await world.start('desired-b', { join: a })
    await waitForTopic([a, b])
    // A third host with no replica (no validator of its own) publishes raw bytes.
    const rogue = await startPeer({ swarmKey: world.swarmKey, seed: 'desired-rogue', join: a.peer.host.addresses() })
    try {
      await waitFor(() => rogue.host.pubsub.getSubscribers(DESIRED_TOPIC).map(String).includes(a.self), 8_000, 'the rogue to see A subscribed')
      const before = a.replica.digest()
      await rogue.host.pubsub.publish(DESIRED_TOPIC, new Uint8Array([1, 2, 3]))
      // A valid envelope around a "change" that does not parse.
      await rogue.host.pubsub.publish(DESIRED_TOPIC, new Uint8Array([1, 1, 0, 1, 0, 0, 0, 3, 9, 9, 9]))
      await waitFor(() => a.replica.stats().gossipRejected >= 2, 5_000, 'the rejections counted')
      assert.is(a.replica.stats().gossipReceived, 0)
      assert.is(a.replica.digest(), before)
      assert.ok(a.logs.some((line) => line.includes('rejected gossip')), a.logs.join('\n'))

      ok(await applyOn(b, web))
      await waitForConvergence([a, b])
      assert.equal(serviceNames(a.replica.doc), ['web'])
    } finally {
      await stopAll([rogue])
    }
  } finally {
    await world.stopAll()
  }
})

replica('a garbage sync request gets a remote error; the responder keeps serving', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    ok(await applyOn(a, web))
    const b = await world.start('desired-b', { join: a })
    await waitFor(() => b.peer.transport.peers().length === 1, 5_000, 'B connected to A')
    const before = a.replica.digest()
    const session = new Uint8Array(8).fill(7)
    const garbage = [
      new Uint8Array([1, 2, 3]), // shorter than the session id
      Uint8Array.from([...session, 1, 1, 0]), // a broadcast payload, not a sync message
      Uint8Array.from([...session, 1, 2, 0xff, 0xff, 0xff]), // a sync envelope around noise
    ]
    for (const body of garbage) {
      try {
        await b.peer.transport.request(a.self, DESIRED_SYNC_PROTOCOL, body)
        assert.unreachable('garbage was answered')
      } catch (error) {
        assert.instance(error, RequestError)
        assert.is((error as RequestError).code, 'remote-error', (error as Error).message)
      }
    }
    assert.is(a.replica.stats().syncFailures, garbage.length)
    assert.is(a.replica.digest(), before)

    const outcome = await b.replica.syncWith(a.self)
    assert.ok(outcome.ok && outcome.received, JSON.stringify(outcome))
    assert.is(b.replica.digest(), a.replica.digest())
  } finally {
    await world.stopAll()
  }
})

replica('an invalid edit returns the crdt error and changes nothing', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    ok(await applyOn(a, web))
    const digest = a.replica.digest()
    const logBytes = (await stat(join(a.dir, LOG_FILE))).size
    let heard = 0
    a.replica.onChange(() => heard++)

    const invalid = await applyOn(a, { ...web, replicas: -1 })
    assert.is(invalid.ok, false)
    assert.is(!invalid.ok && invalid.error.kind, 'invalid-spec')
    const unknown = await a.replica.edit((doc) => remove(doc, ['nope'], a.self, Date.now()))
    assert.equal(!unknown.ok && unknown.error, { kind: 'unknown-service', service: 'nope' })
    const unchanged = ok(await applyOn(a, web))
    assert.is(unchanged.change, null)

    assert.is(a.replica.digest(), digest)
    assert.is(heard, 0)
    assert.is((await stat(join(a.dir, LOG_FILE))).size, logBytes)
  } finally {
    await world.stopAll()
  }
})

replica('a late joiner syncs 100 services; concurrent calls share one run', async () => {
  const world = new World()
  try {
    const a = await world.start('desired-a')
    const services = 100
    for (let i = 0; i < services; i++) ok(await applyOn(a, spec({ name: `svc-${i}`, image: `nginx:${i}`, replicas: 1 + (i % 3), env: { INDEX: String(i) } })))
    const b = await world.start('desired-b', { join: a })
    await waitFor(() => b.peer.transport.peers().length === 1, 5_000, 'B connected to A')

    const started = performance.now()
    const [first, second] = await Promise.all([b.replica.syncWith(a.self), b.replica.syncWith(a.self)])
    const elapsedMs = performance.now() - started
    assert.ok(first.ok && first.received, JSON.stringify(first))
    assert.equal(second, first)
    assert.is(b.replica.stats().syncsRun, 1)
    assert.is(b.replica.digest(), a.replica.digest())
    assert.is(serviceNames(b.replica.doc).length, services)
    console.log(`    (syncWith of ${services} services in ${services} changes: ${elapsedMs.toFixed(1)} ms, ${first.ok ? first.rounds : '?'} rounds)`)
  } finally {
    await world.stopAll()
  }
})

replica.run()
