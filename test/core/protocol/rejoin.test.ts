// A restarted peer learns before it acts (rejoin.ts): it restarts nothing from local state and bids
// for nothing until each member it knew has been heard from or found dead, and then restarts only
// what is still its own. The wait itself, then the machine around it.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Rejoin } from '../../../core/protocol/rejoin.js'
import { Cluster, p, services } from './harness.js'

const Wait = suite('rejoin: the wait')

Wait('with no member known there is nothing to wait for', () => {
  const rejoin = new Rejoin(p('a'), [p('a')])
  assert.is(rejoin.start(0, 6_000), false)
  assert.is(rejoin.waiting, false)
  assert.is(rejoin.nextWakeAt(), Infinity)
})

Wait('it ends once every member is settled, or at the limit', () => {
  const rejoin = new Rejoin(p('a'), [p('b'), p('c')])
  assert.ok(rejoin.start(0, 6_000))
  assert.is(rejoin.settle(10, (peer) => peer === 'b'), false)
  assert.is(rejoin.settle(20, () => false), false, 'b stays settled; c is still awaited')
  assert.is(rejoin.settle(30, (peer) => peer === 'c'), true)
  assert.is(rejoin.waiting, false)

  const limited = new Rejoin(p('a'), [p('b')])
  limited.start(0, 6_000)
  assert.is(limited.settle(5_999, () => false), false)
  assert.is(limited.settle(6_000, () => false), true)
})

Wait('it asks three members at a time, in turn, once per interval', () => {
  const rejoin = new Rejoin(p('a'), ['b', 'c', 'd', 'e'].map(p))
  rejoin.start(0, 6_000)
  assert.equal(rejoin.askNow(0, 500), ['b', 'c', 'd'])
  assert.equal(rejoin.askNow(100, 500), [], 'not again within the interval')
  assert.equal(rejoin.askNow(500, 500), ['e', 'b', 'c'])
  assert.is(rejoin.nextWakeAt(), 1_000)
})

const Machine = suite('rejoin: a restarted machine')

/** Four settled peers running web ×6; returns the cluster and the peer holding the most slots. */
function running(): { cluster: Cluster; victim: string; ran: string[] } {
  const cluster = new Cluster({ peers: 4 })
  cluster.startAll()
  cluster.runUntil(3_000)
  cluster.apply(services({ web: { command: 'serve', replicas: 6 } }))
  cluster.runUntil(6_000)
  const counts = new Map<string, string[]>()
  for (const [slotId, peers] of cluster.placement('web')) for (const peer of peers) counts.set(peer, [...(counts.get(peer) ?? []), slotId])
  const [victim, ran] = [...counts].sort((x, y) => y[1].length - x[1].length)[0]!
  return { cluster, victim, ran }
}

Machine('a quick restart, before anyone replaced its slots, restarts them once it has heard from every member, and no one else starts them', () => {
  const { cluster, victim, ran } = running()
  cluster.kill(victim)
  cluster.runFor(300)
  const restartedAt = cluster.now
  cluster.restart(victim)
  assert.equal(cluster.outputs('start-task', { since: restartedAt }), [], 'nothing at once')
  cluster.runFor(5_000)
  assert.equal(cluster.outputs('start-task', { since: restartedAt }).map((s) => `${s.peer} ${s.output.task.slot}`).sort(), ran.map((slotId) => `${victim} ${slotId}`).sort())
  const startedAt = Math.min(...cluster.outputs('start-task', { since: restartedAt }).map((s) => s.at))
  assert.ok(startedAt - restartedAt < cluster.config.replaceAfterMs, `once heard from everyone, not at a timer (${startedAt - restartedAt} ms)`)
  assert.equal(cluster.outputs('stop-task', { since: restartedAt }), [])
})

Machine('a restart after an agent-only crash gives up the held slots the cluster replaced, and the host is told to stop them', () => {
  const { cluster, victim, ran } = running()
  cluster.kill(victim)
  cluster.runFor(8_000)
  const restartedAt = cluster.now
  cluster.restart(victim)
  cluster.runFor(5_000)
  const stops = cluster.outputs('stop-task', { since: restartedAt })
  assert.equal(stops.map((s) => `${s.peer} ${s.output.slot} ${s.output.reason}`).sort(), ran.map((slotId) => `${victim} ${slotId} replaced`).sort())
  assert.equal(cluster.outputs('start-task', { since: restartedAt }), [])
})

Machine('a restarted peer that knew a member now gone for good waits until it is declared dead, not until the limit', () => {
  const { cluster, victim, ran } = running()
  const gone = cluster.ids().find((id) => id !== victim)!
  cluster.kill(gone)
  cluster.runFor(300)
  cluster.kill(victim)
  cluster.runFor(300)
  const restartedAt = cluster.now
  cluster.restart(victim)
  cluster.runFor(cluster.config.rejoinLimitMs)
  const starts = cluster.outputs('start-task', { peer: victim, since: restartedAt })
  assert.ok(ran.every((slotId) => starts.some((s) => s.output.task.slot === slotId)), 'its own slots, still its own, restart')
  const waitedMs = Math.min(...starts.map((s) => s.at)) - restartedAt
  assert.ok(waitedMs < cluster.config.rejoinLimitMs - cluster.config.probeIntervalMs, `before the limit (${waitedMs} ms)`)
})

Wait.run()
Machine.run()
