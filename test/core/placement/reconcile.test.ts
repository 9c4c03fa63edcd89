// Level-based reconcile: desired services and the actual view in, what must change out (place, stop,
// keep, wait). Scenarios are written as the view a peer would see, and the result is compared in a
// compact text form: place "slot reason [@peer]", stop "slot@peer reason", keep "slot@peer",
// wait "slot why".

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  claimTieBreak, peerId, reconcile, specHash,
  type PeerView, type ReconcileResult, type ServiceSpec, type SlotId, type TaskView,
} from '../../../core/index.js'
import { makePeer, makeSpec, makeTask, shuffled } from './fixtures.js'

interface Summary {
  place: string[]
  stop: string[]
  keep: string[]
  wait: string[]
}

function summary(result: ReconcileResult): Summary {
  return {
    place: result.place.map((p) => `${p.slot} ${p.reason}${p.peer ? ` @${p.peer}` : ''}`),
    stop: result.stop.map((s) => `${s.task.slot}@${s.task.peer} ${s.reason}`),
    keep: result.keep.map((t) => `${t.slot}@${t.peer}`),
    wait: result.wait.map((w) => `${w.slot} ${w.why}`),
  }
}

const run = (services: ServiceSpec[], peers: PeerView[], now = 1_000_000) => reconcile({ services, peers, now })
const NONE: Summary = { place: [], stop: [], keep: [], wait: [] }

/** A peer running the given tasks (each already made for that peer). */
const host = (id: string, tasks: TaskView[], overrides: Partial<PeerView> = {}) => makePeer(id, { tasks, ...overrides })

/** Of two peers, the one the conflict rule keeps for `slot` when nothing else decides. */
function hashWinner(slot: string, a: string, b: string): [winner: string, loser: string] {
  return claimTieBreak(slot as SlotId, peerId(a)) > claimTieBreak(slot as SlotId, peerId(b)) ? [a, b] : [b, a]
}

const web3 = makeSpec({ replicas: 3 })

// ---------------------------------------------------------------------------------------------------

const Scenarios = suite('reconcile scenarios')

const scenarios: Array<{ name: string; services: ServiceSpec[]; peers: PeerView[]; expected: Partial<Summary> }> = [
  {
    name: 'a new service places all its slots with reason new',
    services: [web3],
    peers: [makePeer('p1'), makePeer('p2')],
    expected: { place: ['web/0 new', 'web/1 new', 'web/2 new'] },
  },
  {
    name: 'a service with every slot running needs nothing and keeps its tasks',
    services: [web3],
    peers: [host('p1', [makeTask(web3, 0, 'p1'), makeTask(web3, 2, 'p1')]), host('p2', [makeTask(web3, 1, 'p2')])],
    expected: { keep: ['web/0@p1', 'web/1@p2', 'web/2@p1'] },
  },
  {
    name: 'the slot of a dead peer is placed again with reason failover',
    services: [web3],
    peers: [host('p1', [makeTask(web3, 0, 'p1'), makeTask(web3, 2, 'p1')]), host('p2', [makeTask(web3, 1, 'p2')], { state: 'dead' })],
    expected: { place: ['web/1 failover'], keep: ['web/0@p1', 'web/2@p1'] },
  },
  {
    name: 'a suspect peer keeps its tasks (no failover)',
    services: [web3],
    peers: [host('p1', [makeTask(web3, 0, 'p1'), makeTask(web3, 2, 'p1')]), host('p2', [makeTask(web3, 1, 'p2')], { state: 'suspect' })],
    expected: { keep: ['web/0@p1', 'web/1@p2', 'web/2@p1'] },
  },
  {
    name: 'a cordoned peer keeps its tasks (cordon takes nothing new but moves nothing)',
    services: [web3],
    peers: [host('p1', [makeTask(web3, 0, 'p1'), makeTask(web3, 1, 'p1'), makeTask(web3, 2, 'p1')], { state: 'cordoned' })],
    expected: { keep: ['web/0@p1', 'web/1@p1', 'web/2@p1'] },
  },
  {
    name: 'scaling down stops the slots at or past the replica count as scaled-down',
    services: [makeSpec({ replicas: 2 })],
    peers: [host('p1', [0, 1, 2, 3].map((i) => makeTask(web3, i, 'p1')))],
    expected: { stop: ['web/2@p1 scaled-down', 'web/3@p1 scaled-down'], keep: ['web/0@p1', 'web/1@p1'] },
  },
  {
    name: 'scaling to zero stops every slot as scaled-down',
    services: [makeSpec({ replicas: 0 })],
    peers: [host('p1', [makeTask(web3, 0, 'p1'), makeTask(web3, 1, 'p1')])],
    expected: { stop: ['web/0@p1 scaled-down', 'web/1@p1 scaled-down'] },
  },
  {
    name: 'scaling up places only the new slots',
    services: [makeSpec({ replicas: 4 })],
    peers: [host('p1', [makeTask(web3, 0, 'p1'), makeTask(web3, 1, 'p1')])],
    expected: { place: ['web/2 new', 'web/3 new'], keep: ['web/0@p1', 'web/1@p1'] },
  },
  {
    name: 'the tasks of a removed service stop as not-desired',
    services: [],
    peers: [host('p1', [makeTask(web3, 0, 'p1')]), host('p2', [makeTask(web3, 1, 'p2')], { state: 'suspect' })],
    expected: { stop: ['web/0@p1 not-desired', 'web/1@p2 not-desired'] },
  },
  {
    name: 'a removed service\'s task on a dead peer is neither stopped nor kept',
    services: [],
    peers: [host('p1', [makeTask(web3, 0, 'p1')], { state: 'dead' })],
    expected: {},
  },
  {
    name: 'a slot whose task exited or failed is placed again',
    services: [web3],
    peers: [host('p1', [makeTask(web3, 0, 'p1', { state: 'exited' }), makeTask(web3, 1, 'p1', { state: 'failed' }), makeTask(web3, 2, 'p1')])],
    expected: { place: ['web/0 new', 'web/1 new'], keep: ['web/2@p1'] },
  },
  {
    name: 'pending, starting and unhealthy tasks still hold their slots',
    services: [web3],
    peers: [host('p1', [makeTask(web3, 0, 'p1', { state: 'pending' }), makeTask(web3, 1, 'p1', { state: 'starting' }), makeTask(web3, 2, 'p1', { state: 'unhealthy' })])],
    expected: { keep: ['web/0@p1', 'web/1@p1', 'web/2@p1'] },
  },
  {
    name: 'a task with a malformed slot id is stopped as not-desired',
    services: [web3],
    peers: [host('p1', [makeTask(web3, 0, 'p1'), makeTask(web3, 1, 'p1'), makeTask(web3, 2, 'p1'), makeTask(web3, 'web', 'p1')])],
    expected: { stop: ['web@p1 not-desired'], keep: ['web/0@p1', 'web/1@p1', 'web/2@p1'] },
  },
  {
    name: 'a task whose slot names another service is stopped as not-desired',
    services: [web3, makeSpec({ name: 'api', replicas: 0 })],
    peers: [host('p1', [makeTask(web3, 0, 'p1'), makeTask(web3, 1, 'p1'), makeTask(web3, 2, 'p1'), makeTask(web3, 'api/0', 'p1')])],
    expected: { stop: ['api/0@p1 not-desired'], keep: ['web/0@p1', 'web/1@p1', 'web/2@p1'] },
  },
  {
    name: 'two services are reconciled independently',
    services: [makeSpec({ name: 'api', replicas: 1 }), makeSpec({ name: 'web', replicas: 1 })],
    peers: [host('p1', [makeTask(web3, 0, 'p1')])],
    expected: { place: ['api/0 new'], keep: ['web/0@p1'] },
  },
]
for (const { name, services, peers, expected } of scenarios) {
  Scenarios(name, () => {
    assert.equal(summary(run(services, peers)), { ...NONE, ...expected })
  })
}

Scenarios('a failover placement carries no peer: where it goes is the auction\'s choice', () => {
  const result = run([web3], [host('p2', [makeTask(web3, 1, 'p2')], { state: 'dead' })])
  assert.ok(result.place.every((p) => p.peer === undefined && p.replaces === undefined))
})

Scenarios('the result does not depend on the order of peers, services or tasks', () => {
  const api = makeSpec({ name: 'api', replicas: 2, image: 'api:2', update: { parallelism: 1 } })
  const apiOld = makeSpec({ name: 'api', replicas: 2, image: 'api:1' })
  const peers = [
    host('p1', [makeTask(web3, 0, 'p1'), makeTask(apiOld, 0, 'p1')]),
    host('p2', [makeTask(web3, 0, 'p2', { state: 'starting' }), makeTask(web3, 5, 'p2')], { state: 'draining' }),
    host('p3', [makeTask(apiOld, 1, 'p3'), makeTask(web3, 1, 'p3')], { state: 'dead' }),
    host('p4', [makeTask(makeSpec({ name: 'gone' }), 0, 'p4')]),
  ]
  const expected = JSON.stringify(run([web3, api], peers))
  for (let seed = 1; seed <= 10; seed++) {
    const mixed = shuffled(peers, seed).map((p) => ({ ...p, tasks: shuffled(p.tasks, seed + 100) }))
    assert.is(JSON.stringify(run(shuffled([web3, api], seed), mixed)), expected, `seed ${seed}`)
  }
})

Scenarios.run()

// ---------------------------------------------------------------------------------------------------

const Duplicates = suite('reconcile duplicate claims')

Duplicates('two running tasks on one slot: one is kept and the other stops as duplicate', () => {
  const spec = makeSpec({ replicas: 1 })
  const [winner, loser] = hashWinner('web/0', 'p1', 'p2')
  const result = run([spec], [host('p1', [makeTask(spec, 0, 'p1')]), host('p2', [makeTask(spec, 0, 'p2')])])
  assert.equal(summary(result), { ...NONE, keep: [`web/0@${winner}`], stop: [`web/0@${loser} duplicate`] })
})

Duplicates('the loser is not stopped while the kept task is still starting: both run and the slot waits', () => {
  const spec = makeSpec({ replicas: 1 })
  const [winner, loser] = hashWinner('web/0', 'p1', 'p2')
  const result = run([spec], [
    host(winner, [makeTask(spec, 0, winner, { state: 'starting' })]),
    host(loser, [makeTask(spec, 0, loser, { state: 'healthy' })]),
  ])
  assert.equal(summary(result), { ...NONE, keep: ['web/0@p1', 'web/0@p2'], wait: ['web/0 replacement-starting'] })
})

Duplicates('three tasks on one slot: the two losers stop together once the kept one is up', () => {
  const spec = makeSpec({ replicas: 1 })
  const result = run([spec], ['p1', 'p2', 'p3'].map((p) => host(p, [makeTask(spec, 0, p)])))
  assert.is(result.keep.length, 1)
  assert.is(result.stop.length, 2)
  assert.ok(result.stop.every((s) => s.reason === 'duplicate'))
})

Duplicates('an old-version duplicate loses to the desired version and stops as superseded', () => {
  const v1 = makeSpec({ image: 'app:1' })
  const v2 = makeSpec({ image: 'app:2' })
  const result = run([v2], [host('p1', [makeTask(v1, 0, 'p1')]), host('p2', [makeTask(v2, 0, 'p2')])])
  assert.equal(summary(result), { ...NONE, keep: ['web/0@p2'], stop: ['web/0@p1 superseded'] })
})

Duplicates.run()

// ---------------------------------------------------------------------------------------------------

const Migrate = suite('reconcile draining and constraints')

Migrate('a task on a draining peer gets a replacement (reason migrate) and is kept until it is up', () => {
  const spec = makeSpec({ replicas: 1 })
  const old = makeTask(spec, 0, 'p1')
  const result = run([spec], [host('p1', [old], { state: 'draining' }), makePeer('p2')])
  assert.equal(summary(result), { ...NONE, place: ['web/0 migrate'], keep: ['web/0@p1'] })
  assert.is(result.place[0]!.replaces, old)
})

Migrate('while the replacement starts, the drained task keeps running and the slot waits', () => {
  const spec = makeSpec({ replicas: 1 })
  const result = run([spec], [
    host('p1', [makeTask(spec, 0, 'p1')], { state: 'draining' }),
    host('p2', [makeTask(spec, 0, 'p2', { state: 'starting' })]),
  ])
  assert.equal(summary(result), { ...NONE, keep: ['web/0@p1', 'web/0@p2'], wait: ['web/0 replacement-starting'] })
})

Migrate('once the replacement is up, the drained task stops and the replacement is kept', () => {
  const spec = makeSpec({ replicas: 1 })
  const result = run([spec], [
    host('p1', [makeTask(spec, 0, 'p1')], { state: 'draining' }),
    host('p2', [makeTask(spec, 0, 'p2')]),
  ])
  const s = summary(result)
  assert.equal(s.place, [])
  assert.equal(s.keep, ['web/0@p2'])
  assert.equal(result.stop.map((x) => `${x.task.slot}@${x.task.peer}`), ['web/0@p1'])
})

Migrate('the replacement wins the slot whatever the hash says, because its peer is eligible', () => {
  const spec = makeSpec({ replicas: 1 })
  for (const [draining, alive] of [['p1', 'p2'], ['p2', 'p1']] as const) {
    const result = run([spec], [host(draining, [makeTask(spec, 0, draining)], { state: 'draining' }), host(alive, [makeTask(spec, 0, alive)])])
    assert.equal(result.keep.map((t) => t.peer), [alive])
  }
})

Migrate('a task on a peer that no longer matches the constraints is migrated the same way', () => {
  const spec = makeSpec({ replicas: 1, constraints: ['zone == eu'] })
  const old = makeTask(spec, 0, 'p1')
  const result = run([spec], [host('p1', [old], { labels: { zone: 'ap' } }), makePeer('p2', { labels: { zone: 'eu' } })])
  assert.equal(summary(result), { ...NONE, place: ['web/0 migrate'], keep: ['web/0@p1'] })
  assert.is(result.place[0]!.replaces, old)
})

Migrate('a task on a peer that lost the service\'s driver is migrated', () => {
  const spec = makeSpec({ replicas: 1 })
  const result = run([spec], [host('p1', [makeTask(spec, 0, 'p1')], { drivers: ['docker'] })])
  assert.equal(summary(result).place, ['web/0 migrate'])
})

Migrate('a constraint change alone does not change the version, so matching peers keep their tasks', () => {
  const before = makeSpec({ replicas: 1 })
  const after = makeSpec({ replicas: 1, constraints: ['zone == eu'] })
  assert.is(specHash(after), specHash(before))
  const result = run([after], [host('p1', [makeTask(before, 0, 'p1')], { labels: { zone: 'eu' } })])
  assert.equal(summary(result), { ...NONE, keep: ['web/0@p1'] })
})

Migrate.run()

// ---------------------------------------------------------------------------------------------------

const Update = suite('reconcile rolling update')

const v1 = (update: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  makeSpec({ replicas: 5, image: 'app:1', update: { parallelism: 2, ...update }, ...extra })
const v2 = (update: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  makeSpec({ replicas: 5, image: 'app:2', update: { parallelism: 2, ...update }, ...extra })

/** Five peers p0..p4; slot i on peer pi, on the old version unless `current(i)` gives a task. */
function fleet(old: ServiceSpec, current: (i: number) => TaskView | undefined = () => undefined): PeerView[] {
  return [0, 1, 2, 3, 4].map((i) => host(`p${i}`, [current(i) ?? makeTask(old, i, `p${i}`)]))
}

Update('a new version with parallelism 2 (stop-first) replaces exactly 2 slots, stopping their old tasks first', () => {
  const result = run([v2()], fleet(v1()))
  const s = summary(result)
  assert.equal(s.place, ['web/0 update', 'web/1 update'])
  assert.equal(s.stop, ['web/0@p0 superseded', 'web/1@p1 superseded'])
  assert.equal(s.wait, ['web/2 update-wave', 'web/3 update-wave', 'web/4 update-wave'])
})

Update('each update placement names the old task it replaces', () => {
  const peers = fleet(v1())
  const result = run([v2()], peers)
  assert.equal(result.place.map((p) => p.replaces), [peers[0]!.tasks[0], peers[1]!.tasks[0]])
  assert.ok(result.place.every((p) => p.peer === undefined))
})

// A stop-first update stops the old task, yet reconcile also lists it under `keep` (every slot's kept
// claim is pushed before the rolling update decides to stop it). With v1 = { image: app:1, replicas: 5,
// update.parallelism: 2 } running on p0..p4 and desired v2 = { image: app:2, ... }, web/0@p0 and
// web/1@p1 are in both `stop` and `keep`; `peer plan` then reports them as stopped and as kept.
Update('a task stopped for a stop-first update is not also listed as kept', () => {
  const result = run([v2()], fleet(v1()))
  const stopped = new Set(result.stop.map((s) => s.task))
  assert.equal(result.keep.filter((task) => stopped.has(task)).map((t) => `${t.slot}@${t.peer}`), [])
})

Update('a new version with start-first places 2 updates and stops nothing yet', () => {
  const s = summary(run([v2({ order: 'start-first' })], fleet(v1())))
  assert.equal(s.place, ['web/0 update', 'web/1 update'])
  assert.equal(s.stop, [])
  assert.equal(s.wait, ['web/2 update-wave', 'web/3 update-wave', 'web/4 update-wave'])
})

Update('parallelism larger than the service updates every slot at once', () => {
  const s = summary(run([v2({ parallelism: 10 })], fleet(v1())))
  assert.is(s.place.length, 5)
  assert.equal(s.wait, [])
})

Update('the rollout reports settled, in-flight and waiting slots', () => {
  const result = run([v2()], fleet(v1()))
  assert.equal(result.rollouts, [{ service: 'web', specHash: specHash(v2()), settled: 0, inFlight: 2, waiting: 3 }])
})

/** The fleet after the first wave: slots 0 and 1 on the new version in `state` since `since`. */
const afterFirstWave = (spec: ServiceSpec, state: TaskView['state'], since: number, since1 = since) =>
  fleet(v1(), (i) => (i === 0 ? makeTask(spec, 0, 'p0', { state, since }) : i === 1 ? makeTask(spec, 1, 'p1', { state, since: since1 }) : undefined))

const NOW = 1_000_000

const waves: Array<{ name: string; spec: ServiceSpec; state: TaskView['state']; since: number; since1?: number; next: string[] }> = [
  { name: 'the next wave waits while the new tasks are starting', spec: v2(), state: 'starting', since: 0, next: [] },
  { name: 'without a healthcheck, the next wave starts once the new tasks are running', spec: v2(), state: 'running', since: NOW, next: ['web/2 update', 'web/3 update'] },
  { name: 'with a healthcheck, running is not enough: the next wave waits for healthy', spec: v2({}, { healthcheck: { command: 'true' } }), state: 'running', since: 0, next: [] },
  { name: 'with a healthcheck, the next wave starts once the new tasks are healthy', spec: v2({}, { healthcheck: { command: 'true' } }), state: 'healthy', since: NOW, next: ['web/2 update', 'web/3 update'] },
  { name: 'an unhealthy new task holds the next wave', spec: v2({}, { healthcheck: { command: 'true' } }), state: 'unhealthy', since: 0, next: [] },
  { name: 'the next wave waits until the new tasks have been up for update.delay', spec: v2({ delay: '10s' }), state: 'running', since: NOW - 9_999, next: [] },
  { name: 'the next wave starts once now - since reaches update.delay', spec: v2({ delay: '10s' }), state: 'running', since: NOW - 10_000, next: ['web/2 update', 'web/3 update'] },
  { name: 'healthy for update.delay with a healthcheck starts the next wave', spec: v2({ delay: '10s' }, { healthcheck: { command: 'true' } }), state: 'healthy', since: NOW - 10_000, next: ['web/2 update', 'web/3 update'] },
  { name: 'one settled and one unsettled slot leave room for one more update', spec: v2({ delay: '10s' }), state: 'running', since: NOW - 10_000, since1: NOW - 5_000, next: ['web/2 update'] },
]
for (const { name, spec, state, since, since1, next } of waves) {
  Update(name, () => {
    const s = summary(run([spec], afterFirstWave(spec, state, since, since1), NOW))
    assert.equal(s.place, next)
    const waiting = ['web/2', 'web/3', 'web/4'].filter((slot) => !next.includes(`${slot} update`)).map((slot) => `${slot} update-wave`)
    assert.equal(s.wait, waiting)
  })
}

Update('the last wave finishes the rollout: everything settled, nothing to do', () => {
  const spec = v2()
  const peers = [0, 1, 2, 3, 4].map((i) => host(`p${i}`, [makeTask(spec, i, `p${i}`)]))
  const result = run([spec], peers)
  assert.equal(summary(result).place, [])
  assert.equal(result.rollouts, [{ service: 'web', specHash: specHash(spec), settled: 5, inFlight: 0, waiting: 0 }])
})

Update('start-first: once the new task is up the old one stops as superseded, and the next wave waits until it is gone', () => {
  const spec = v2({ order: 'start-first' })
  const peers = [
    ...fleet(v1()),
    host('n0', [makeTask(spec, 0, 'n0', { since: 0 })]), host('n1', [makeTask(spec, 1, 'n1', { since: 0 })]),
  ]
  const s = summary(run([spec], peers))
  assert.equal(s.stop, ['web/0@p0 superseded', 'web/1@p1 superseded'])
  // Slots whose old copy still runs stay in flight, so no more than `parallelism` slots move at once.
  assert.equal(s.place, [])
})

Update('start-first: while the new task starts, the old one keeps running and the slot waits', () => {
  const spec = v2({ order: 'start-first' })
  const peers = [
    ...fleet(v1()),
    host('n0', [makeTask(spec, 0, 'n0', { state: 'starting' })]), host('n1', [makeTask(spec, 1, 'n1', { state: 'starting' })]),
  ]
  const s = summary(run([spec], peers))
  assert.equal(s.stop, [])
  assert.equal(s.place, [])
  assert.equal(s.wait, ['web/0 replacement-starting', 'web/1 replacement-starting', 'web/2 update-wave', 'web/3 update-wave', 'web/4 update-wave'])
})

Update('new placements in flight count against parallelism', () => {
  // Slot 4 lost its task (peer dead): placing it uses one of the two update places.
  const peers = [...fleet(v1()).slice(0, 4), host('p4', [makeTask(v1(), 4, 'p4')], { state: 'dead' })]
  const s = summary(run([v2()], peers))
  assert.equal(s.place, ['web/0 update', 'web/4 failover'])
})

Update('slots move in slot order: web/2 before web/10', () => {
  const old = makeSpec({ replicas: 12, image: 'app:1' })
  const spec = makeSpec({ replicas: 12, image: 'app:2', update: { parallelism: 3 } })
  const peers = [host('p1', Array.from({ length: 12 }, (_, i) => makeTask(old, i, 'p1')))]
  assert.equal(summary(run([spec], peers)).place, ['web/0 update', 'web/1 update', 'web/2 update'])
})

Update('scaling, constraints, restart or update policy changes are not updates (same specHash)', () => {
  const old = makeSpec({ replicas: 2 })
  const scaled = makeSpec({ replicas: 2, restart: { delay: '5s' }, update: { parallelism: 5 }, maxPerNode: 3 })
  const result = run([scaled], [host('p1', [makeTask(old, 0, 'p1'), makeTask(old, 1, 'p1')])])
  assert.equal(summary(result), { ...NONE, keep: ['web/0@p1', 'web/1@p1'] })
})

Update.run()

// ---------------------------------------------------------------------------------------------------

const Global = suite('reconcile global services')

const agent = makeSpec({ name: 'agent', mode: 'global', constraints: ['role != storage'] })
const at = (peer: string, overrides: Partial<TaskView> = {}) => makeTask(agent, `agent@${peer}`, peer, overrides)

Global('a global service places one slot on every alive matching peer, each bound to its peer', () => {
  const result = run([agent], [makePeer('a'), makePeer('b'), makePeer('c', { labels: { role: 'storage' } }), makePeer('d', { drivers: ['docker'] })])
  assert.equal(summary(result), { ...NONE, place: ['agent@a new @a', 'agent@b new @b'] })
})

Global('a peer already running its global slot keeps it', () => {
  const result = run([agent], [host('a', [at('a')]), makePeer('b')])
  assert.equal(summary(result), { ...NONE, place: ['agent@b new @b'], keep: ['agent@a@a'] })
})

Global('a draining peer gets no global slot and its global task stops as ineligible', () => {
  const result = run([agent], [host('a', [at('a')], { state: 'draining' }), makePeer('b', { state: 'draining' })])
  assert.equal(summary(result), { ...NONE, stop: ['agent@a@a ineligible'] })
})

Global('a cordoned peer keeps the global task it runs but is not given one', () => {
  const result = run([agent], [host('a', [at('a')], { state: 'cordoned' }), makePeer('b', { state: 'cordoned' })])
  assert.equal(summary(result), { ...NONE, keep: ['agent@a@a'] })
})

Global('a suspect peer keeps its global task', () => {
  const result = run([agent], [host('a', [at('a')], { state: 'suspect' })])
  assert.equal(summary(result), { ...NONE, keep: ['agent@a@a'] })
})

Global('a dead peer\'s global slot is neither placed elsewhere nor stopped', () => {
  const result = run([agent], [host('a', [at('a')], { state: 'dead' }), host('b', [at('b')])])
  assert.equal(summary(result), { ...NONE, keep: ['agent@b@b'] })
})

Global('a peer that stops matching the constraint loses its global task as ineligible', () => {
  const result = run([agent], [host('a', [at('a')], { labels: { role: 'storage' } })])
  assert.equal(summary(result), { ...NONE, stop: ['agent@a@a ineligible'] })
})

Global('a new version of a global service updates in place on the same peer, one wave at a time', () => {
  const old = makeSpec({ name: 'agent', mode: 'global', image: 'agent:1' })
  const spec = makeSpec({ name: 'agent', mode: 'global', image: 'agent:2', update: { parallelism: 1 } })
  const peers = ['a', 'b'].map((p) => host(p, [makeTask(old, `agent@${p}`, p)]))
  const s = summary(run([spec], peers))
  assert.equal(s.place, ['agent@a update @a'])
  assert.equal(s.stop, ['agent@a@a superseded'])
  assert.equal(s.wait, ['agent@b update-wave'])
})

Global('replicas do not matter for a global service', () => {
  const many = makeSpec({ name: 'agent', mode: 'global', replicas: 7 })
  assert.equal(summary(run([many], [makePeer('a')])).place, ['agent@a new @a'])
})

Global.run()

// ---------------------------------------------------------------------------------------------------

const Jobs = suite('reconcile jobs and completed tasks')

const job = makeSpec({ name: 'migrate', mode: 'job', replicas: 2, image: 'migrate:1' })
const jobV2 = makeSpec({ name: 'migrate', mode: 'job', replicas: 2, image: 'migrate:2' })

Jobs('a completed job slot is not placed again for the same version', () => {
  const result = run([job], [host('p1', [makeTask(job, 0, 'p1', { state: 'complete' })])])
  assert.equal(summary(result), { ...NONE, place: ['migrate/1 new'] })
})

Jobs('a completed job slot is not placed again even after its peer died', () => {
  const result = run([job], [host('p1', [makeTask(job, 0, 'p1', { state: 'complete' }), makeTask(job, 1, 'p1', { state: 'complete' })], { state: 'dead' })])
  assert.equal(summary(result), NONE)
})

Jobs('a job slot completed on an old version runs again for a new version', () => {
  const result = run([jobV2], [host('p1', [makeTask(job, 0, 'p1', { state: 'complete' }), makeTask(job, 1, 'p1', { state: 'complete' })])])
  assert.equal(summary(result).place, ['migrate/0 new', 'migrate/1 new'])
})

Jobs('a failed job slot (restart on-failure) is placed again so another peer may try', () => {
  const result = run([job], [host('p1', [makeTask(job, 0, 'p1', { state: 'failed' }), makeTask(job, 1, 'p1', { state: 'complete' })])])
  assert.equal(summary(result).place, ['migrate/0 new'])
})

Jobs('a failed job slot with restart never is not placed again', () => {
  const never = makeSpec({ name: 'migrate', mode: 'job', replicas: 1, image: 'migrate:1', restart: { condition: 'never' } })
  assert.equal(summary(run([never], [host('p1', [makeTask(never, 0, 'p1', { state: 'failed' })])])).place, [])
})

Jobs('a running job slot is kept like any other', () => {
  const result = run([job], [host('p1', [makeTask(job, 0, 'p1'), makeTask(job, 1, 'p1', { state: 'complete' })])])
  assert.equal(summary(result), { ...NONE, keep: ['migrate/0@p1'] })
})

// reconcile.ts: "A slot is done, and not placed again on this version, when its task completed (jobs;
// and services whose restart condition let a clean exit stand)". A replicated service with restart
// condition `always` does not let a clean exit stand, yet isDone() treats any `complete` task as done:
// with spec { name: web, command: sleep 1000, replicas: 1 } (restart always) and the only task of
// web/0 in state complete on peer p1 (alive, or dead), reconcile places nothing and web/0 stays empty
// for good (a Swarm or Nomad service with restart always gets its replica back).
Jobs('a completed task of a restart-always service is placed again', () => {
  const service = makeSpec({ replicas: 1 })
  assert.is(service.restart.condition, 'always')
  for (const state of ['alive', 'dead'] as const) {
    const result = run([service], [host('p1', [makeTask(service, 0, 'p1', { state: 'complete' })], { state })])
    assert.equal(summary(result).place, ['web/0 new'], `peer ${state}`)
  }
})

// Ended tasks are recorded per `${slot}#${specHash}` in a map, last writer wins, so when one slot has
// a complete attempt on one peer and a failed attempt on another, the answer depends on peer order:
// job { name: migrate, mode: job, replicas: 1, image: migrate:1 } with peers
// [a: migrate/0 complete, b: migrate/0 failed] places migrate/0 again (the job runs twice), while
// [b, a] places nothing. A slot that completed on this version should be done whatever else failed.
Jobs('a job slot that completed is done even if another attempt failed, in any peer order', () => {
  const a = host('a', [makeTask(job, 0, 'a', { state: 'complete' }), makeTask(job, 1, 'a', { state: 'complete' })])
  const b = host('b', [makeTask(job, 0, 'b', { state: 'failed' })])
  assert.equal(summary(run([job], [a, b])), NONE)
  assert.equal(summary(run([job], [b, a])), NONE)
})

Jobs('a completed task of a restart on-failure service stands (not placed again)', () => {
  const service = makeSpec({ replicas: 1, restart: { condition: 'on-failure' } })
  assert.equal(summary(run([service], [host('p1', [makeTask(service, 0, 'p1', { state: 'complete' })])])).place, [])
})

Jobs.run()
