// Desired state through the machine: digests carried by probes trigger syncs (with a cooldown), a
// removed service stops everywhere, and a drain moves tasks away replacement-first.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defaultConfig, type Message } from '../../../core/index.js'
import { Cluster, describePlacement, makeMachine, p, services } from './harness.js'

function settled(peers: number, options: { syncDesired?: boolean } = {}): Cluster {
  const cluster = new Cluster({ peers, ...options })
  cluster.startAll()
  cluster.runUntil(3_000)
  assert.ok(cluster.converged())
  return cluster
}

// ---------------------------------------------------------------------------------------------------

const Sync = suite('desired: digest comparison')

const ping = (desired: string, seq = 1): Message => ({ kind: 'ping', seq, desired, updates: [] })
const ack = (desired: string, seq = 1): Message => ({ kind: 'ack', seq, desired, updates: [] })
const syncs = (outputs: ReturnType<ReturnType<typeof makeMachine>['receive']>) => outputs.filter((o) => o.kind === 'sync-desired')

Sync('a ping or ack carrying another digest asks for a sync once the difference outlasts the grace, at most once per cooldown', () => {
  const machine = makeMachine({ self: 'a' })
  machine.start(0)
  machine.desiredChanged({ digest: 'mine', services: [], peers: new Map() }, 0)
  const { desiredSyncCooldownMs: cooldown, desiredSyncGraceMs: grace } = defaultConfig(3) // makeMachine's config
  assert.equal(syncs(machine.receive(p('b'), ping('theirs'), 100)), [], 'at first sight the change may still be on its way by gossip')
  assert.equal(syncs(machine.receive(p('b'), ack('theirs'), 100 + grace - 1)), [], 'within the grace')
  const due = 100 + grace
  assert.equal(syncs(machine.receive(p('b'), ack('theirs'), due)), [{ kind: 'sync-desired', peer: 'b' }], 'the same difference after the grace')
  assert.equal(syncs(machine.receive(p('b'), ack('theirs'), due + cooldown - 1)), [], 'within the cooldown')
  assert.equal(syncs(machine.receive(p('b'), ack('theirs'), due + cooldown)), [{ kind: 'sync-desired', peer: 'b' }], 'after the cooldown')
  assert.equal(syncs(machine.receive(p('c'), ack('theirs'), 200)), [], 'the grace is per peer')
  assert.equal(syncs(machine.receive(p('c'), ack('theirs'), 200 + grace)), [{ kind: 'sync-desired', peer: 'c' }])
  assert.equal(syncs(machine.receive(p('e'), ack('one'), 300)), [])
  assert.equal(syncs(machine.receive(p('e'), ack('two'), 300 + grace)), [], 'their digest moved: the grace starts again')
  assert.equal(syncs(machine.receive(p('e'), ack('two'), 300 + 2 * grace)), [{ kind: 'sync-desired', peer: 'e' }])
  assert.equal(syncs(machine.receive(p('d'), ping('mine'), 1_000)), [], 'equal digests need no sync')
})

Sync('a digest message (start, a new connection, push-pull) carrying another digest asks for a sync at once', () => {
  const machine = makeMachine({ self: 'a' })
  machine.start(0)
  const outputs = machine.receive(p('b'), { kind: 'digest', members: [], adverts: [], desired: 'theirs', reply: false }, 10)
  assert.equal(syncs(outputs), [{ kind: 'sync-desired', peer: 'b' }])
})

Sync('in a cluster, peers with differing digests ask each other for syncs no more often than the cooldown', () => {
  const cluster = settled(4, { syncDesired: false })
  cluster.apply(services({ web: { command: 'serve' } }), { to: ['p0'] })
  cluster.runFor(5_000)
  const requests = cluster.outputs('sync-desired')
  assert.ok(requests.some((r) => r.peer === 'p0'), 'the changed peer asks')
  assert.ok(requests.some((r) => r.output.peer === 'p0'), 'and is asked')
  const last = new Map<string, number>()
  for (const r of requests) {
    const key = `${r.peer}→${r.output.peer}`
    const previous = last.get(key)
    if (previous !== undefined) assert.ok(r.at - previous >= cluster.config.desiredSyncCooldownMs, `${key} after ${r.at - previous} ms`)
    last.set(key, r.at)
    assert.ok(r.peer === 'p0' || r.output.peer === 'p0', 'only pairs whose digests differ')
  }
})

Sync('a change given to one peer reaches all through syncs, and its service is placed', () => {
  const cluster = settled(4)
  cluster.apply(services({ web: { command: 'serve', replicas: 2 } }), { to: ['p2'] })
  cluster.runFor(3_000)
  for (const id of cluster.ids()) assert.is(cluster.machine(id).desiredDigest(), 'v1', id)
  assert.is(cluster.upSlots('web').size, 2)
  assert.is(cluster.outputs('start-task').length, 2)
  const after = cluster.outputs('sync-desired', { since: 4_500 })
  assert.equal(after, [], 'once all agree, no more syncs')
})

// ---------------------------------------------------------------------------------------------------

const Removal = suite('desired: removing a service')

Removal('removing a service stops its tasks everywhere and leaves other services alone', () => {
  const cluster = settled(4)
  const both = services({ web: { command: 'serve', replicas: 4 }, api: { command: 'api', replicas: 2 } })
  cluster.apply(both)
  cluster.runFor(2_000)
  assert.is(cluster.placement('web').size, 4)
  const removedAt = cluster.now
  cluster.apply(both.filter((s) => s.name === 'api'))
  cluster.runFor(2_000)
  const stops = cluster.outputs('stop-task', { since: removedAt })
  assert.equal(stops.map((s) => s.output.slot).sort(), ['web/0', 'web/1', 'web/2', 'web/3'])
  assert.ok(stops.every((s) => s.output.reason === 'not-desired'))
  assert.is(cluster.placement('web').size, 0)
  assert.is(cluster.placement('api').size, 2)
  assert.equal(cluster.outputs('start-task', { since: removedAt }), [])
  for (const id of cluster.ids()) assert.equal(cluster.machine(id).localTasks().filter((t) => t.service === 'web'), [])
})

Removal('scaling down stops the highest slots only', () => {
  const cluster = settled(4)
  cluster.apply(services({ web: { command: 'serve', replicas: 4 } }))
  cluster.runFor(2_000)
  const before = describePlacement(cluster.placement())
  const scaledAt = cluster.now
  cluster.apply(services({ web: { command: 'serve', replicas: 2 } }))
  cluster.runFor(2_000)
  assert.equal(cluster.outputs('stop-task', { since: scaledAt }).map((s) => `${s.output.slot} ${s.output.reason}`).sort(), ['web/2 scaled-down', 'web/3 scaled-down'])
  assert.equal(describePlacement(cluster.placement()), before.filter((entry) => entry.startsWith('web/0') || entry.startsWith('web/1')))
})

// ---------------------------------------------------------------------------------------------------

const Drain = suite('desired: drain')

for (const seed of [1, 2]) {
  Drain(`draining a peer moves its tasks away replacement-first (seed ${seed})`, () => {
    const cluster = new Cluster({ peers: 4, seed })
    cluster.startAll()
    cluster.runUntil(3_000)
    const web = services({ web: { command: 'serve', replicas: 3 } })
    cluster.apply(web)
    cluster.runUntil(5_000)
    const drained = [...cluster.placement('web').values()][0]![0]!
    const moved = [...cluster.placement('web')].filter(([, peers]) => peers.includes(drained)).map(([slotId]) => slotId)
    let gaps = 0
    cluster.hooks.push((peer, output) => {
      if (output.kind === 'stop-task' && !(cluster.upSlots('web').get(output.slot) ?? []).some((holder) => holder !== peer)) gaps++
    })
    cluster.apply(web, { settings: { [drained]: { drain: true } } })
    cluster.runFor(5_000)
    assert.is(gaps, 0, 'no task stopped before its replacement was up')
    const stops = cluster.outputs('stop-task', { since: 5_000 })
    assert.equal(stops.map((s) => `${s.peer} ${s.output.slot} ${s.output.reason}`).sort(), moved.map((slotId) => `${drained} ${slotId} ineligible`).sort())
    const placement = cluster.placement('web')
    assert.is(placement.size, 3)
    for (const [slotId, peers] of placement) {
      assert.is(peers.length, 1, `${slotId} once`)
      assert.not.equal(peers[0], drained)
    }
    for (const s of cluster.outputs('start-task', { since: 5_000 })) assert.ok(moved.includes(s.output.task.slot), 'only the drained slots move')
  })
}

Drain('a drained peer takes no new work', () => {
  const cluster = settled(3)
  cluster.apply(services({ web: { command: 'serve', replicas: 6 } }), { settings: { p1: { drain: true } } })
  cluster.runFor(3_000)
  assert.is(cluster.placement('web').size, 6)
  assert.not.ok([...cluster.placement('web').values()].flat().includes(p('p1')))
})

Sync.run()
Removal.run()
Drain.run()
