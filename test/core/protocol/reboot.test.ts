// Offline reboot: a machine built with `restored` tasks restarts them at start, before it hears from
// anyone, and keeps them while it knows of no desired state that says otherwise.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, placementRequest, type TaskState, type TaskView } from '../../../core/index.js'
import { Cluster, makeMachine, p, service, services, slot } from './harness.js'

const web = service('web', { command: 'serve', replicas: 4 })

function task(index: number, state: TaskState, peer = 'a'): { task: TaskView; spec: typeof web } {
  return {
    task: {
      slot: slot('web', index), service: web.name, peer: peerId(peer), specHash: placementRequest(web).specHash,
      state, since: 0, resources: web.resources, ports: [],
    },
    spec: web,
  }
}

// ---------------------------------------------------------------------------------------------------

const Reboot = suite('offline reboot')

Reboot('start restarts the restored active tasks of this peer, and only those, with no peer reachable', () => {
  const machine = makeMachine({
    self: 'a',
    seeds: [p('gone')],
    restored: [task(0, 'running'), task(1, 'healthy'), task(2, 'complete'), task(3, 'failed'), task(0, 'running', 'b')],
  })
  const outputs = machine.start(1_000)
  const starts = outputs.flatMap((o) => (o.kind === 'start-task' ? [o] : []))
  assert.equal(starts.map((s) => `${s.task.slot} ${s.task.peer} ${s.task.state} ${s.task.since}`), ['web/0 a starting 1000', 'web/1 a starting 1000'])
  assert.ok(starts.every((s) => s.spec === web), 'with the spec it ran under')
  const advert = outputs.find((o) => o.kind === 'broadcast' && o.message.kind === 'advert')
  assert.ok(advert?.kind === 'broadcast' && advert.message.kind === 'advert')
  const listed = advert.message.advert.tasks.filter((t) => t.state === 'starting').map((t) => t.slot)
  assert.equal(listed, ['web/0', 'web/1'], 'and advertises them as its own')
})

// Questionable, found while writing these tests: before any desiredChanged the machine holds
// EMPTY_DESIRED, and the first reconcile of a restored task's service — triggered by anything, here
// the runtime reporting it running — stops it as not desired. Without that report it would run on. So
// an offline reboot keeps its work only if the host delivers the persisted desired state first.
// Input: makeMachine({ self: 'a', restored: [web/0 running] }), start(0), taskChanged(web/0, 'running', 50),
// tick(55): [{ kind: 'stop-task', slot: 'web/0', reason: 'not-desired' }].
Reboot('restored tasks keep running while no desired state is known', () => {
  const machine = makeMachine({ self: 'a', restored: [task(0, 'running')] })
  const all = [...machine.start(0)]
  all.push(...machine.taskChanged(slot('web', 0), 'running', 50))
  for (let now = 0; now < 20_000;) {
    now = Math.min(20_000, Math.max(now + 1, machine.nextWakeAt()))
    all.push(...machine.tick(now))
  }
  assert.equal(all.filter((o) => o.kind === 'stop-task'), [])
  assert.equal(machine.localTasks().map((t) => `${t.slot} ${t.state}`), ['web/0 running'])
})

Reboot('restored tasks keep running once the persisted desired state that lists them is loaded', () => {
  const machine = makeMachine({ self: 'a', restored: [task(0, 'running')] })
  const all = [...machine.start(0)]
  all.push(...machine.desiredChanged({ digest: 'd1', services: [web], peers: new Map() }, 0))
  all.push(...machine.taskChanged(slot('web', 0), 'running', 50))
  for (let now = 0; now < 5_000;) {
    now = Math.min(5_000, Math.max(now + 1, machine.nextWakeAt()))
    all.push(...machine.tick(now))
  }
  assert.equal(all.filter((o) => o.kind === 'stop-task'), [])
  assert.ok(machine.localTasks().some((t) => t.slot === 'web/0' && t.state === 'running'))
})

// It hears from nobody, so it cannot learn whether its slots were replaced: it waits rejoinLimitMs for
// the members it knew (none answers, and silence alone proves no one gone), then restarts its own
// tasks from local state. After the heal the replacements, a later placement, are kept.
Reboot('a peer rebooted while cut off from everyone restarts its tasks once the rejoin limit passes, and after the heal each slot runs once', () => {
  const cluster = new Cluster({ peers: 4 })
  cluster.startAll()
  cluster.runUntil(3_000)
  cluster.apply(services({ web: { command: 'serve', replicas: 3 } }))
  cluster.runUntil(5_000)
  const victim = [...cluster.placement('web').values()][0]![0]!
  const ran = [...cluster.placement('web')].filter(([, peers]) => peers.includes(victim)).map(([slotId]) => slotId)
  cluster.kill(victim)
  const others = cluster.ids().filter((id) => id !== victim)
  cluster.partition([victim], others)
  cluster.runUntil(6_000)
  const rebootedAt = cluster.now
  cluster.restart(victim)
  const limit = cluster.config.rejoinLimitMs
  cluster.runUntil(rebootedAt + limit - 1)
  assert.equal(cluster.outputs('start-task', { peer: victim, since: rebootedAt }), [], 'not while it may yet hear from the others')
  cluster.runUntil(rebootedAt + limit + 1)
  assert.equal(cluster.outputs('start-task', { peer: victim, since: rebootedAt }).map((s) => s.output.task.slot), ran, 'at the limit, from local state')
  cluster.runUntil(rebootedAt + limit + 1_000)
  const alone = [...cluster.upSlots('web')].filter(([, peers]) => peers.includes(victim)).map(([slotId]) => slotId)
  for (const slotId of ran) assert.ok(alone.includes(slotId), `${slotId} runs while it is alone`)
  cluster.heal()
  cluster.runUntil(rebootedAt + limit + 25_000)
  const placement = cluster.placement('web')
  assert.is(placement.size, 3)
  for (const [slotId, peers] of placement) assert.is(peers.length, 1, `${slotId} once`)
  assert.ok(cluster.converged())
})

// Found on five real agents: after all of them stopped and started again, each one loaded the desired
// state before it heard from the others, saw every other peer's slots unowned, and placed the whole
// service on itself: 210 starts for 50 slots, then duplicates stopped again.
for (const seed of [1, 2, 3]) {
  Reboot(`after a full restart, peers coming back up to 1.5 s apart restart only their own tasks (seed ${seed})`, () => {
    const cluster = new Cluster({ peers: 5, seed })
    cluster.startAll()
    cluster.runUntil(3_000)
    cluster.apply(services({ web: { command: 'serve', replicas: 20 } }))
    cluster.runUntil(8_000)
    const before = cluster.placement('web')
    assert.is(before.size, 20)
    for (const id of cluster.ids()) cluster.kill(id)
    cluster.runFor(5_000)
    const restartedAt = cluster.now
    cluster.ids().forEach((id, i) => cluster.at(restartedAt + i * 375, () => void cluster.restart(id)))
    cluster.runFor(15_000)
    const starts = cluster.outputs('start-task', { since: restartedAt })
    assert.is(starts.length, 20, `one start per slot, each on its old peer (${starts.length} starts)`)
    assert.equal(cluster.outputs('stop-task', { since: restartedAt }), [])
    assert.equal(cluster.placement('web'), before)
  })
}

Reboot('a peer that just started bids for nothing during its startup grace, then places what is unowned', () => {
  const machine = makeMachine({ self: 'a' })
  const all = [...machine.start(0)]
  all.push(...machine.desiredChanged({ digest: 'd1', services: [web], peers: new Map() }, 10))
  let placedAt: number | undefined
  for (let now = 10; now < 5_000 && placedAt === undefined;) {
    now = Math.min(5_000, Math.max(now + 1, machine.nextWakeAt()))
    if (machine.tick(now).some((o) => o.kind === 'start-task')) placedAt = now
  }
  assert.equal(all.filter((o) => o.kind === 'start-task'), [], 'nothing at once')
  assert.ok(placedAt !== undefined && placedAt >= 2_000 && placedAt < 2_500, `placed when the grace ends (${placedAt} ms)`)
})

Reboot.run()
