// Failover: a dead peer's slots go to auction among the living — only once it is dead, never on
// suspicion alone — and a peer that leaves gracefully is replaced at once.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { serviceName, suspicionTimeoutMs, toRanges, type PeerId, type SlotId } from '../../../core/index.js'
import { Cluster, services } from './harness.js'

/** Five settled peers running web ×3, one replica each. */
function running(seed = 1): Cluster {
  const cluster = new Cluster({ peers: 5, seed })
  cluster.startAll()
  cluster.runUntil(3_000)
  cluster.apply(services({ web: { command: 'serve', replicas: 3 } }))
  cluster.runUntil(5_000)
  assert.is(cluster.upSlots('web').size, 3)
  return cluster
}

function slotsOn(cluster: Cluster, peer: PeerId): SlotId[] {
  return [...cluster.placement('web')].filter(([, peers]) => peers.includes(peer)).map(([slotId]) => slotId)
}

/** Records each start of a slot of `victim` made while the starter did not yet hold the victim dead or left. */
function watchEarlyStarts(cluster: Cluster, victim: PeerId, slots: readonly SlotId[]): string[] {
  const early: string[] = []
  cluster.hooks.push((peer, output, now) => {
    if (output.kind !== 'start-task' || !slots.includes(output.task.slot) || peer === victim) return
    const status = cluster.record(peer, victim)?.status
    if (status !== 'dead' && status !== 'left') early.push(`${now} ${peer} ${output.task.slot} while ${victim} was ${status}`)
  })
  return early
}

// ---------------------------------------------------------------------------------------------------

const Kill = suite('failover: a killed peer')

for (const seed of [1, 2, 3]) {
  Kill(`a killed peer’s slot runs elsewhere after it is declared dead, and nothing else moves (seed ${seed})`, () => {
    const cluster = running(seed)
    const before = cluster.placement('web')
    const victim = [...before.values()][0]![0]!
    const lost = slotsOn(cluster, victim)
    const early = watchEarlyStarts(cluster, victim, lost)
    const killedAt = cluster.now
    cluster.kill(victim)
    const { replaceAfterMs, probeIntervalMs } = cluster.config
    const back = cluster.runUntilTrue(() => lost.every((s) => cluster.upSlots('web').has(s)), killedAt + 10_000)
    assert.ok(back !== undefined, 'its slots run again')
    assert.equal(early, [], 'no start before the starter holds the peer dead')
    // Death is declared within replaceAfter (detection ≤ two probe intervals, then the suspicion);
    // then a reconcile, a bid window and the task's start.
    assert.ok(back! - killedAt >= suspicionTimeoutMs(cluster.config) + probeIntervalMs / 2, `not before it can be dead (${back! - killedAt} ms)`)
    assert.ok(back! - killedAt <= replaceAfterMs + 500, `within replaceAfter and a placement (${back! - killedAt} ms)`)
    cluster.runFor(5_000)
    const after = cluster.placement('web')
    assert.is(after.size, 3)
    for (const [slotId, peers] of after) {
      assert.is(peers.length, 1, `${slotId} once`)
      if (!lost.includes(slotId)) assert.equal(peers, before.get(slotId), `${slotId} stayed`)
    }
    assert.equal(cluster.outputs('stop-task', { since: killedAt }), [])
    assert.is(cluster.outputs('start-task', { since: killedAt }).length, lost.length, 'one start per lost slot')
  })
}

Kill('with two peers killed at once, every slot still runs once on the survivors', () => {
  const cluster = running()
  const victims = [...new Set([...cluster.placement('web').values()].flat())].slice(0, 2)
  for (const victim of victims) cluster.kill(victim)
  cluster.runFor(8_000)
  const placement = cluster.placement('web')
  assert.is(placement.size, 3)
  for (const [slotId, peers] of placement) {
    assert.is(peers.length, 1, `${slotId} once`)
    assert.not.ok(victims.includes(peers[0]!))
  }
})

// ---------------------------------------------------------------------------------------------------

const Suspicion = suite('failover: suspicion alone')

Suspicion('a peer that is suspected but refutes keeps its work: nothing starts or stops', () => {
  const cluster = running()
  const victim = [...cluster.placement('web').values()][0]![0]!
  const restore = cluster.drop((from, _to, message) => from === victim && message.kind === 'ack')
  cluster.runFor(4_000)
  restore()
  const suspicions = cluster.messages('member', { since: 5_000 }).filter((m) => m.message.record.peer === victim && m.message.record.status === 'suspect')
  assert.ok(suspicions.length > 0, 'it was suspected')
  cluster.runFor(4_000)
  assert.equal(cluster.outputs('start-task', { since: 5_000 }), [])
  assert.equal(cluster.outputs('stop-task', { since: 5_000 }), [])
})

Suspicion('a killed peer’s slots do not move during its suspicion', () => {
  const cluster = running()
  const victim = [...cluster.placement('web').values()][0]![0]!
  cluster.kill(victim)
  const suspectedAt = cluster.runUntilTrue(() => cluster.ids().some((id) => id !== victim && cluster.record(id, victim)?.status === 'suspect'), 10_000)
  assert.ok(suspectedAt !== undefined)
  const deadAt = cluster.runUntilTrue(() => cluster.ids().some((id) => id !== victim && cluster.record(id, victim)?.status === 'dead'), 10_000)
  assert.ok(deadAt !== undefined)
  assert.ok(deadAt! - suspectedAt! >= suspicionTimeoutMs(cluster.config) - 1, 'a whole suspicion period')
  assert.equal(cluster.outputs('start-task', { since: 5_000 }).filter((s) => s.at < deadAt!), [])
})

// ---------------------------------------------------------------------------------------------------

const Leave = suite('failover: graceful leave')

Leave('a leaving peer’s slots run elsewhere at once, long before replaceAfter', () => {
  const cluster = running()
  const victim = [...cluster.placement('web').values()][0]![0]!
  const lost = slotsOn(cluster, victim)
  const leftAt = cluster.now
  cluster.leave(victim)
  const back = cluster.runUntilTrue(() => lost.every((s) => cluster.upSlots('web').has(s)), leftAt + 5_000)
  assert.ok(back !== undefined)
  assert.ok(back! - leftAt < cluster.config.replaceAfterMs / 4, `replaced after ${back! - leftAt} ms`)
  const suspicions = cluster.messages('member', { since: leftAt }).filter((m) => m.message.record.peer === victim && m.message.record.status === 'suspect')
  assert.equal(suspicions, [])
})

// Questionable, found while writing these tests: leave() emits no stop-task for the peer's own tasks,
// and the machine is inert afterwards, so nothing the machine says ever stops them — while the others
// start replacements at once. A host that keeps them running after `leave` runs every slot twice.
// Input: a peer running web/0 calls leave(now): its outputs are only the 'left' member broadcast.
Leave('leave stops the peer’s own tasks', () => {
  const cluster = running()
  const victim = [...cluster.placement('web').values()][0]![0]!
  const lost = slotsOn(cluster, victim)
  const outputs = cluster.machine(victim).leave(cluster.now)
  assert.equal(outputs.filter((o) => o.kind === 'stop-task').map((o) => (o.kind === 'stop-task' ? o.slot : '')).sort(), [...lost].sort())
})

const Lagging = suite('failover: a bid that lags a claim')

// A bidder whose view lacks a claim sees the slot open; alone in a wider round it would take it.
Lagging('a candidate that sees the slot held answers the bid with the holder\'s advert', () => {
  const cluster = running()
  const [slot, [holder]] = [...cluster.placement('web')][0]!
  const [bidder, candidate] = cluster.ids().filter((peer) => peer !== holder)
  const specHash = cluster.tasks('web').find((running) => running.task.slot === slot)!.task.specHash
  const index = Number(slot.split('/')[1])
  const outputs = cluster.inject(bidder!, candidate!, {
    kind: 'bid', slots: toRanges([index]),
    bid: {
      peer: bidder!, service: serviceName('web'), specHash, round: 1, domain: '', domainCount: 0, existing: 0, offered: 1,
      cpuCapacityMilli: 4000, cpuAllocatedMilli: 0, memoryCapacityMiB: 8192, memoryAllocatedMiB: 0,
    },
  })
  const answers = outputs.flatMap((o) => (o.kind === 'send' && o.to === bidder && o.message.kind === 'state' ? [o.message] : []))
  assert.equal(answers.map((m) => m.adverts.map((a) => a.peer)), [[holder]])
  assert.ok(answers[0]!.adverts[0]!.tasks.some((task) => task.slot === slot))
})

Kill.run()
Suspicion.run()
Leave.run()
Lagging.run()
