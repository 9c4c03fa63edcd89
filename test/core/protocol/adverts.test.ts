// Load adverts through the machine: a claim goes out at once, state-only changes are debounced and
// coalesced, stale adverts are ignored, and anti-entropy (digest / state) repairs a lost advert.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Advert, Message, TaskView } from '../../../core/index.js'
import { Cluster, DEFAULT_CAPACITY, makeMachine, p, service, services, slot } from './harness.js'

function settled(peers: ConstructorParameters<typeof Cluster>[0]['peers'], seed = 1): Cluster {
  const cluster = new Cluster({ peers, seed })
  cluster.startAll()
  cluster.runUntil(3_000)
  assert.ok(cluster.converged())
  return cluster
}

/** Adverts `peer` broadcast at or after `since`, as [time, that advert's tasks]. */
function advertsOf(cluster: Cluster, peer: string, since: number): Array<{ at: number; tasks: readonly TaskView[] }> {
  return cluster.messages('advert', { peer, since }).filter((m) => m.to === undefined).map((m) => ({ at: m.at, tasks: m.message.advert.tasks }))
}

// ---------------------------------------------------------------------------------------------------

const Publish = suite('adverts: claims and debounce')

Publish('a claim broadcasts the advert in the same outputs as the start, listing the task as starting', () => {
  const cluster = settled(3)
  cluster.apply(services({ web: { command: 'serve' } }))
  cluster.runFor(1_000)
  const starts = cluster.outputs('start-task')
  assert.is(starts.length, 1)
  const { at, peer } = starts[0]!
  const adverts = advertsOf(cluster, peer, 3_000)
  assert.is(adverts[0]?.at, at, 'the advert goes out at the claim')
  assert.equal(adverts[0]?.tasks.map((t) => `${t.slot} ${t.state}`), ['web/0 starting'])
})

Publish('running and healthy are coalesced into one advert, sent advertDebounceMs after the first change', () => {
  const cluster = settled(3)
  cluster.apply(services({ web: { command: 'serve', healthcheck: { command: 'check' } } }))
  cluster.runFor(2_000)
  const [start] = cluster.outputs('start-task')
  assert.ok(start !== undefined)
  const reports = cluster.reports.filter((r) => r.peer === start.peer)
  assert.equal(reports.map((r) => [r.at - start.at, r.state]), [[50, 'running'], [100, 'healthy']])
  const adverts = advertsOf(cluster, start.peer, start.at)
  assert.equal(
    adverts.map((a) => [a.at - start.at, a.tasks.map((t) => t.state).join()]),
    [[0, 'starting'], [50 + cluster.config.advertDebounceMs, 'healthy']],
  )
})

Publish('a stop goes out at once', () => {
  const cluster = settled(3)
  const web = services({ web: { command: 'serve' } })
  cluster.apply(web)
  cluster.runFor(2_000)
  cluster.apply([])
  cluster.runFor(1)
  assert.is(cluster.outputs('stop-task', { since: 5_000 }).length, 0, 'the stop waits for the reconcile (a few ms to coalesce)')
  cluster.runFor(100)
  const [stop] = cluster.outputs('stop-task', { since: 5_000 })
  assert.ok(stop !== undefined)
  assert.equal(advertsOf(cluster, stop.peer, stop.at).map((a) => [a.at, a.tasks.length]), [[stop.at, 0]])
})

Publish('the next wake of a machine with a debounced advert is the advert’s due time', () => {
  const web = service('web', { command: 'serve' })
  const machine = makeMachine({ self: 'a', restored: [] })
  machine.start(0)
  machine.desiredChanged({ digest: 'd1', services: [web], peers: new Map() }, 0)
  // Run its timers until it claims the slot alone.
  let now = 0
  let started: TaskView | undefined
  while (started === undefined && now < 2_000) {
    now = Math.max(now, machine.nextWakeAt())
    for (const o of machine.tick(now)) if (o.kind === 'start-task') started = o.task
  }
  assert.ok(started !== undefined, 'a lone peer places its service')
  const outputs = machine.taskChanged(started.slot, 'running', now + 50)
  assert.not.ok(outputs.some((o) => o.kind === 'broadcast' && o.message.kind === 'advert'), 'not at once')
  assert.ok(machine.nextWakeAt() <= now + 50 + 250)
  const later = machine.tick(now + 50 + 250)
  assert.ok(later.some((o) => o.kind === 'broadcast' && o.message.kind === 'advert' && o.message.advert.tasks[0]?.state === 'running'))
})

// ---------------------------------------------------------------------------------------------------

const Stale = suite('adverts: ordering')

const web = service('web', { command: 'serve', replicas: 2 })

function advert(peer: string, incarnation: number, version: number, slots: number[]): Advert {
  return {
    peer: p(peer), incarnation, version, capacity: DEFAULT_CAPACITY, allocated: { cpuMilli: 100 * slots.length, memoryMiB: 64 * slots.length, extended: {} },
    labels: {}, drivers: ['process'],
    tasks: slots.map((i) => ({
      slot: slot('web', i), service: web.name, peer: p(peer), specHash: 'h', state: 'running' as const, since: 0, resources: web.resources, ports: [],
    })),
  }
}

const orderings: Array<{ name: string; sequence: Advert[]; slots: string[] }> = [
  { name: 'an older version after a newer one is ignored', sequence: [advert('x', 1, 5, [0, 1]), advert('x', 1, 4, [])], slots: ['web/0', 'web/1'] },
  { name: 'a repeat of the same version is ignored', sequence: [advert('x', 1, 5, [0]), advert('x', 1, 5, [1])], slots: ['web/0'] },
  { name: 'a newer version replaces the older', sequence: [advert('x', 1, 4, [0]), advert('x', 1, 5, [1])], slots: ['web/1'] },
  { name: 'a newer incarnation wins whatever its version', sequence: [advert('x', 1, 50, [0, 1]), advert('x', 2, 1, [])], slots: [] },
  { name: 'an older incarnation loses whatever its version', sequence: [advert('x', 2, 1, [1]), advert('x', 1, 99, [0])], slots: ['web/1'] },
]
for (const { name, sequence, slots } of orderings) {
  Stale(name, () => {
    const machine = makeMachine({ self: 'a' })
    machine.start(0)
    sequence.forEach((a, i) => machine.receive(p('x'), { kind: 'advert', advert: a }, 10 + i))
    const view = machine.peerViews().find((v) => v.id === 'x')
    assert.ok(view !== undefined)
    assert.equal(view.tasks.map((t) => t.slot), slots)
  })
}

Stale('an advert from an unknown peer makes it a member, alive at the advert’s incarnation', () => {
  const machine = makeMachine({ self: 'a' })
  machine.start(0)
  machine.receive(p('x'), { kind: 'advert', advert: advert('x', 4, 1, []) }, 10)
  assert.equal(machine.memberRecords().find((r) => r.peer === 'x'), { peer: 'x', incarnation: 4, status: 'alive' })
})

Stale('a machine ignores adverts about itself', () => {
  const machine = makeMachine({ self: 'a' })
  machine.start(0)
  machine.receive(p('x'), { kind: 'advert', advert: advert('a', 9, 9, [0]) }, 10)
  assert.equal(machine.peerViews().find((v) => v.id === 'a')?.tasks, [])
})

// ---------------------------------------------------------------------------------------------------

const Repair = suite('adverts: anti-entropy')

Repair('push-pull repairs an advert whose broadcast was lost', () => {
  const cluster = settled([{ id: 'p0' }, { id: 'p1', labels: { role: 'db' } }, { id: 'p2' }])
  // Every advert broadcast from p1 to p2 is lost from now on; only digest / state exchanges can tell it.
  cluster.drop((from, to, message) => from === 'p1' && to === 'p2' && message.kind === 'advert')
  cluster.apply(services({ db: { command: 'serve', constraints: ['role == db'] } }))
  cluster.runFor(500)
  const seen = () => cluster.machine('p2').peerViews().find((v) => v.id === 'p1')?.tasks.map((t) => `${t.slot} ${t.state}`) ?? []
  assert.equal(seen(), [], 'p2 missed the claim')
  const at = cluster.runUntilTrue(() => seen().join() === 'db/0 running', 30_000)
  assert.ok(at !== undefined, 'p2 learns of p1’s task')
  const states = cluster.log.filter((e) => e.output.kind === 'send' && e.output.to === 'p2' && e.output.message.kind === 'state' && e.at <= at!)
  assert.ok(states.some((e) => e.output.kind === 'send' && e.output.message.kind === 'state' && e.output.message.adverts.some((a) => a.peer === 'p1')),
    'through a state message')
})

Repair('a digest that shows the sender lacks something is answered with state, and one that shows we lack something with a reply digest', () => {
  const machine = makeMachine({ self: 'a' })
  machine.start(0)
  machine.receive(p('x'), { kind: 'advert', advert: advert('x', 1, 3, [0]) }, 5)
  // y knows of nobody, but has a newer advert of x than we do.
  const digest: Message = { kind: 'digest', members: [[p('x'), 1, 'alive']], adverts: [[p('x'), 1, 7]], desired: 'empty', reply: false }
  const outputs = machine.receive(p('y'), digest, 10)
  const sends = outputs.flatMap((o) => (o.kind === 'send' && o.to === 'y' ? [o.message] : []))
  const state = sends.find((m) => m.kind === 'state')
  assert.ok(state !== undefined && state.kind === 'state')
  assert.ok(state.members.some((r) => r.peer === 'a'), 'it tells y about itself')
  assert.ok(state.adverts.some((a) => a.peer === 'a') && !state.adverts.some((a) => a.peer === 'x'), 'and sends only adverts y lacks')
  const reply = sends.find((m) => m.kind === 'digest')
  assert.ok(reply !== undefined && reply.kind === 'digest' && reply.reply, 'it asks for x’s newer advert')
  // A reply digest is never answered with another digest.
  const again = machine.receive(p('y'), { ...digest, reply: true } as Message, 20)
  assert.not.ok(again.some((o) => o.kind === 'send' && o.message.kind === 'digest'))
})

Publish.run()
Stale.run()
Repair.run()
