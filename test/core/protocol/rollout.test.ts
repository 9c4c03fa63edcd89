// Rolling updates through the machines: waves of `parallelism` slots, stop-first and start-first
// order, and automatic rollback when a new version misses its health deadline.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { placementRequest, type ServiceSpec, type SlotId } from '../../../core/index.js'
import { Cluster, service, type TaskScript } from './harness.js'

const web = (image: string, replicas: number, update: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): ServiceSpec =>
  service('web', { image, replicas, update, ...extra })

/** A settled cluster of `peers` running `spec`, every slot up. */
function deployed(peers: number, spec: ServiceSpec, seed = 1): Cluster {
  const cluster = new Cluster({ peers, seed })
  cluster.startAll()
  cluster.runUntil(3_000)
  cluster.apply([spec])
  cluster.runUntil(5_000)
  assert.is(cluster.upSlots('web').size, spec.replicas)
  return cluster
}

/** Slots moving now: not exactly one task, or their one task not up. */
function inFlight(cluster: Cluster, spec: ServiceSpec): number {
  const tasks = cluster.tasks('web')
  let count = 0
  for (let i = 0; i < spec.replicas; i++) {
    const here = tasks.filter((t) => t.task.slot === `web/${i}`)
    if (here.length !== 1 || (here[0]!.state !== 'running' && here[0]!.state !== 'healthy')) count++
  }
  return count
}

/** Every slot runs once, up, on `image`. */
function allOn(cluster: Cluster, spec: ServiceSpec, image: string): void {
  const tasks = cluster.tasks('web')
  assert.is(tasks.length, spec.replicas)
  for (const task of tasks) {
    assert.is(task.spec.image, image, `${task.task.slot}@${task.peer}`)
    assert.ok(task.state === 'running' || task.state === 'healthy')
  }
  assert.is(new Set(tasks.map((t) => t.task.slot)).size, spec.replicas)
}

/** For each slot, [time of the new version's start, time of the old version's stop]. */
function slotTimeline(cluster: Cluster, since: number, newHash: string): Map<SlotId, { start?: number; stop?: number }> {
  const timeline = new Map<SlotId, { start?: number; stop?: number }>()
  const entry = (slotId: SlotId) => {
    let found = timeline.get(slotId)
    if (found === undefined) timeline.set(slotId, (found = {}))
    return found
  }
  for (const s of cluster.outputs('start-task', { since })) if (s.output.task.specHash === newHash) entry(s.output.task.slot).start ??= s.at
  for (const s of cluster.outputs('stop-task', { since })) if (s.output.reason === 'superseded') entry(s.output.slot).stop ??= s.at
  return timeline
}

// ---------------------------------------------------------------------------------------------------

const StopFirst = suite('rollout: stop-first waves')

const waves: Array<{ peers: number; replicas: number; parallelism: number }> = [
  { peers: 3, replicas: 3, parallelism: 1 },
  { peers: 5, replicas: 3, parallelism: 1 },
  { peers: 4, replicas: 4, parallelism: 2 },
  { peers: 6, replicas: 6, parallelism: 3 },
]
for (const { peers, replicas, parallelism } of waves) {
  StopFirst(`${replicas} replicas on ${peers} peers with parallelism ${parallelism} never have more than ${parallelism} slots in flight`, () => {
    const v1 = web('app:1', replicas, { parallelism })
    const cluster = deployed(peers, v1)
    const v2 = web('app:2', replicas, { parallelism })
    cluster.apply([v2])
    let most = 0
    cluster.runObserving(() => { most = Math.max(most, inFlight(cluster, v2)) }, 25_000)
    allOn(cluster, v2, 'app:2')
    assert.ok(most >= 1, 'the update ran')
    assert.ok(most <= parallelism, `at most ${parallelism} in flight, saw ${most}`)
    const timeline = slotTimeline(cluster, 5_000, placementRequest(v2).specHash)
    assert.is(timeline.size, replicas)
    for (const [slotId, { start, stop }] of timeline) {
      assert.ok(start !== undefined && stop !== undefined, `${slotId} stopped and started`)
      assert.ok(stop! <= start!, `${slotId}: the old task stops before the new one starts`)
    }
  })
}

StopFirst('waves go in slot order, each after the previous one is up', () => {
  const v1 = web('app:1', 3)
  const cluster = deployed(5, v1)
  const v2 = web('app:2', 3)
  cluster.apply([v2])
  cluster.runFor(10_000)
  const starts = cluster.outputs('start-task', { since: 5_000 })
  assert.equal(starts.map((s) => s.output.task.slot), ['web/0', 'web/1', 'web/2'])
  const ups = starts.map((s) => cluster.reports.find((r) => r.peer === s.peer && r.slot === s.output.task.slot && r.state === 'running' && r.at > s.at)?.at)
  const stops = cluster.outputs('stop-task', { since: 5_000 }).map((s) => s.at)
  assert.ok(stops[1]! > ups[0]! && stops[2]! > ups[1]!, 'the next wave starts only when the previous task is up')
})

StopFirst('update.delay holds the next wave until the previous one has been up that long', () => {
  const v1 = web('app:1', 2, { delay: '2s' })
  const cluster = deployed(4, v1)
  const v2 = web('app:2', 2, { delay: '2s' })
  cluster.apply([v2])
  cluster.runFor(15_000)
  const starts = cluster.outputs('start-task', { since: 5_000 })
  assert.is(starts.length, 2)
  const firstUp = cluster.reports.find((r) => r.slot === 'web/0' && r.state === 'running' && r.at > starts[0]!.at)!.at
  const secondStop = cluster.outputs('stop-task', { since: 5_000 }).find((s) => s.output.slot === 'web/1')!.at
  assert.ok(secondStop - firstUp >= 2_000, `waited ${secondStop - firstUp} ms`)
})

for (const seed of [1, 2, 3]) {
  StopFirst(`the peer that stops a slot's old task starts its new version, in the same step (seed ${seed})`, () => {
    const v1 = web('app:1', 6)
    const cluster = deployed(4, v1, seed)
    const v2 = web('app:2', 6)
    cluster.apply([v2])
    cluster.runFor(15_000)
    allOn(cluster, v2, 'app:2')
    const newHash = placementRequest(v2).specHash
    const stops = cluster.outputs('stop-task', { since: 5_000 })
    const starts = cluster.outputs('start-task', { since: 5_000 })
    assert.is(stops.length, 6)
    for (const stop of stops) {
      const start = starts.find((s) => s.output.task.slot === stop.output.slot && s.output.task.specHash === newHash)
      assert.ok(start !== undefined, `${stop.output.slot} started again`)
      assert.is(start!.peer, stop.peer, `${stop.output.slot}: on the peer that stopped it`)
      assert.is(start!.at, stop.at, `${stop.output.slot}: no round between the stop and the start`)
      const old = cluster.outputs('start-task').find((s) => s.output.task.slot === stop.output.slot && s.output.task.specHash !== newHash)!
      assert.ok((start!.output.task.epoch ?? 0) > (old.output.task.epoch ?? 0), `${stop.output.slot}: a later placement than the task it replaces`)
    }
    // No bid went out for a slot that was only updated.
    assert.equal(cluster.messages('bid', { since: 5_000 }), [])
  })
}

StopFirst('a new version its holder may no longer run is placed by auction where it may', () => {
  const cluster = new Cluster({ peers: [{ id: 'p0', labels: { role: 'a' } }, { id: 'p1', labels: { role: 'b' } }, { id: 'p2', labels: { role: 'b' } }], seed: 1 })
  cluster.startAll()
  cluster.runUntil(3_000)
  cluster.apply([web('app:1', 3)])
  cluster.runUntil(5_000)
  const onP0 = cluster.tasks('web').filter((t) => t.peer === 'p0').map((t) => t.task.slot)
  assert.is(onP0.length, 1, 'spread: one slot on each peer')
  const v2 = web('app:2', 3, {}, { constraints: ['role == b'] })
  cluster.apply([v2])
  cluster.runFor(15_000)
  allOn(cluster, v2, 'app:2')
  const moved = cluster.tasks('web').find((t) => t.task.slot === onP0[0])!
  assert.ok(moved.peer !== 'p0', `${onP0[0]} left p0`)
  assert.ok(cluster.messages('bid', { since: 5_000 }).length > 0, 'its new version went to auction')
})

StopFirst('a change that keeps the spec hash (update and restart policy) restarts nothing', () => {
  const v1 = web('app:1', 3)
  const cluster = deployed(4, v1)
  cluster.apply([web('app:1', 3, { parallelism: 2 }, { restart: { delay: '3s' } })])
  cluster.runFor(5_000)
  assert.equal(cluster.outputs('stop-task', { since: 5_000 }), [])
  assert.equal(cluster.outputs('start-task', { since: 5_000 }), [])
})

// ---------------------------------------------------------------------------------------------------

const StartFirst = suite('rollout: start-first')

for (const seed of [1, 2]) {
  StartFirst(`start-first starts each slot’s new task before its old one stops, and stops the old only once the new is up (seed ${seed})`, () => {
    const v1 = web('app:1', 3, { order: 'start-first' })
    const cluster = deployed(5, v1, seed)
    const early: string[] = []
    cluster.hooks.push((peer, output, now) => {
      if (output.kind !== 'stop-task') return
      const up = cluster.tasks('web').filter((t) => t.task.slot === output.slot && t.peer !== peer && t.spec.image === 'app:2' && t.state === 'running')
      if (up.length === 0) early.push(`${now} ${peer} ${output.slot}`)
    })
    const v2 = web('app:2', 3, { order: 'start-first' })
    cluster.apply([v2])
    cluster.runFor(20_000)
    allOn(cluster, v2, 'app:2')
    assert.equal(early, [], 'no old task stopped before its replacement was up')
    const timeline = slotTimeline(cluster, 5_000, placementRequest(v2).specHash)
    for (const [slotId, { start, stop }] of timeline) {
      assert.ok(start !== undefined && stop !== undefined && start < stop, `${slotId}: start ${start} before stop ${stop}`)
    }
  })
}

// Found while writing these tests: under start-first, the auction for a slot's new version may be won
// by the peer that runs the slot's old version (with as many replicas as peers, every peer has one, so
// the tie-break decides). That peer cannot hold two tasks of one slot (its tasks are keyed by slot) and
// skips its award; nobody else claims; every later round repeats the same result. The update never
// moves and `peer why` shows the slot pending with no rejection.
// Input: 3 peers (seed 1), web { image: app:1, replicas: 3, update.order: start-first } running,
// then image app:2: after 60 s no task has been started; pendingServices() = [{ slots: [web/0], round: 8, rejections: [] }].
StartFirst('start-first updates finish when every peer already runs a replica', () => {
  const v1 = web('app:1', 3, { order: 'start-first' })
  const cluster = deployed(3, v1)
  const v2 = web('app:2', 3, { order: 'start-first' })
  cluster.apply([v2])
  cluster.runFor(30_000)
  allOn(cluster, v2, 'app:2')
})

// Found while writing these tests: the peer whose new task comes up first learns that the next wave
// is open at once, the others only from its debounced advert; they drop its bid (their view has no
// open slot) and it runs the auction alone and wins. So one peer takes every wave: after the update
// all three replicas run on one of five equal peers (spread promises at most one apart).
// Input: 5 peers (seed 2), web { image: app:1, replicas: 3, update.order: start-first } on p4, p1, p2,
// then image app:2: p0 starts web/0, web/1 and web/2.
StartFirst('a start-first update keeps the replicas spread over the peers', () => {
  const v1 = web('app:1', 3, { order: 'start-first' })
  const cluster = deployed(5, v1, 2)
  const v2 = web('app:2', 3, { order: 'start-first' })
  cluster.apply([v2])
  cluster.runFor(20_000)
  allOn(cluster, v2, 'app:2')
  assert.is(new Set(cluster.tasks('web').map((t) => t.peer)).size, 3, 'three replicas on three peers')
})

// Questionable: a slot counts as settled once its new task is up, before its old task has stopped,
// so the next wave starts while the previous slot still runs two tasks: with parallelism 1 there are
// two slots in flight and replicas + 2 tasks at once (Swarm's start-first finishes a slot when the old
// task is gone). Input: 5 peers (seed 1), web ×3 start-first, image app:1 → app:2: at 5 260 ms web/0
// runs old and new and web/1's new task starts.
StartFirst('start-first with parallelism 1 never runs more than replicas + 1 tasks', () => {
  const v1 = web('app:1', 3, { order: 'start-first' })
  const cluster = deployed(5, v1)
  const v2 = web('app:2', 3, { order: 'start-first' })
  cluster.apply([v2])
  let most = 0
  cluster.runObserving(() => { most = Math.max(most, cluster.tasks('web').length) }, 20_000)
  assert.ok(most <= 4, `saw ${most} tasks`)
})

// ---------------------------------------------------------------------------------------------------

const Rollback = suite('rollout: automatic rollback')

const checked = (image: string, deadline = '3s') =>
  web(image, 2, { autoRollback: true, healthDeadline: deadline }, { healthcheck: { command: 'check' } })

/** app:1 becomes healthy; app:2 runs but never passes its health check. */
const unhealthyV2: TaskScript = (_peer, _task, spec) =>
  spec.image === 'app:2' ? [{ afterMs: 50, state: 'running' }] : [{ afterMs: 50, state: 'running' }, { afterMs: 100, state: 'healthy' }]

Rollback('a new-version task not healthy within the health deadline emits one rollback, not before the deadline', () => {
  const v1 = checked('app:1')
  const cluster = deployed(3, v1)
  cluster.script = unhealthyV2
  const v2 = checked('app:2')
  cluster.apply([v2])
  cluster.runFor(20_000)
  const rollbacks = cluster.outputs('rollback')
  assert.equal(rollbacks.map((r) => r.output), [{ kind: 'rollback', service: 'web', failedSpecHash: placementRequest(v2).specHash }])
  const started = cluster.outputs('start-task', { since: 5_000 })[0]!
  assert.ok(rollbacks[0]!.at - started.at >= 3_000, `rollback ${rollbacks[0]!.at - started.at} ms after the start`)
  assert.is(cluster.outputs('start-task', { since: 5_000 }).length, 1, 'the failing wave does not spread')
})

Rollback('a new version that becomes healthy is not rolled back', () => {
  const v1 = checked('app:1')
  const cluster = deployed(3, v1)
  cluster.apply([checked('app:2')])
  cluster.runFor(20_000)
  assert.equal(cluster.outputs('rollback'), [])
  assert.is(cluster.tasks('web').filter((t) => t.spec.image === 'app:2' && t.state === 'healthy').length, 2)
})

Rollback('without autoRollback a failing update only stalls', () => {
  const v1 = web('app:1', 2, { healthDeadline: '3s' }, { healthcheck: { command: 'check' } })
  const cluster = deployed(3, v1)
  cluster.script = unhealthyV2
  cluster.apply([web('app:2', 2, { healthDeadline: '3s' }, { healthcheck: { command: 'check' } })])
  cluster.runFor(20_000)
  assert.equal(cluster.outputs('rollback'), [])
  assert.is(cluster.outputs('start-task', { since: 5_000 }).length, 1)
})

// Questionable: the deadline is checked only when the service is reconciled, and nothing schedules a
// reconcile at the deadline, so the rollback waits for the next full reconcile (every 5 s).
// Input: 3 peers, web ×2 with healthcheck, update { autoRollback: true, healthDeadline: 3s }, image
// app:1 → app:2 at 5 s; app:2 is running at 5 167 ms and never healthy: rollback at 10 000 ms, 1.8 s late.
Rollback('the rollback is requested within a second of the health deadline', () => {
  const cluster = deployed(3, checked('app:1'))
  cluster.script = unhealthyV2
  cluster.apply([checked('app:2')])
  cluster.runFor(20_000)
  const up = cluster.reports.find((r) => r.at >= 5_000 && r.state === 'running')!.at
  const rollback = cluster.outputs('rollback')[0]
  assert.ok(rollback !== undefined && rollback.at - up <= 3_000 + 1_000, `rollback ${rollback === undefined ? 'never' : rollback.at - up} ms after the task came up`)
})

StopFirst.run()
StartFirst.run()
Rollback.run()
