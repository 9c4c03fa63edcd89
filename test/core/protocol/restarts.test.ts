// The restart policy, through the machine: a failed task restarts on its peer with growing backoff,
// a peer gives a slot up after maxAttempts failures in the window and another peer takes it, and a
// clean exit completes a job (or a service under on-failure) for good.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerId, ServiceSpec } from '../../../core/index.js'
import { Cluster, service, slot, type TaskScript } from './harness.js'

/** A settled cluster running `spec` (one replica); returns the cluster and the peer that runs it. */
function runningOne(peers: number, spec: ServiceSpec): { cluster: Cluster; holder: PeerId } {
  const cluster = new Cluster({ peers })
  cluster.startAll()
  cluster.runUntil(3_000)
  cluster.apply([spec])
  cluster.runUntil(4_000)
  const holders = [...cluster.upSlots(spec.name).values()].flat()
  assert.is(holders.length, 1)
  return { cluster, holder: holders[0]! }
}

/** Every start fails: running after 50 ms, exit code `code` 100 ms after the start. */
const failing = (code: number): TaskScript => () => [{ afterMs: 50, state: 'running' }, { afterMs: 100, state: 'exited', exitCode: code }]

/** Time from each exit of `peer` to its next start there. */
function backoffs(cluster: Cluster, peer: string): number[] {
  const exits = cluster.reports.filter((r) => r.peer === peer && r.state === 'exited').map((r) => r.at)
  const starts = cluster.outputs('start-task', { peer }).map((s) => s.at)
  return exits.flatMap((exit) => {
    const next = starts.find((at) => at > exit)
    return next === undefined ? [] : [next - exit]
  })
}

// ---------------------------------------------------------------------------------------------------

const Backoff = suite('restarts: backoff')

const policies: Array<{ name: string; restart: Record<string, unknown>; delays: number[] }> = [
  { name: 'delay 1s, 4 attempts', restart: { delay: '1s', maxAttempts: 4 }, delays: [1_000, 2_000, 4_000] },
  { name: 'delay 500ms capped at 1s, 5 attempts', restart: { delay: '500ms', maxDelay: '1s', maxAttempts: 5 }, delays: [500, 1_000, 1_000, 1_000] },
  { name: 'delay 200ms, 2 attempts', restart: { delay: '200ms', maxAttempts: 2 }, delays: [200] },
]
for (const { name, restart, delays } of policies) {
  Backoff(`a failing task restarts on its peer after ${delays.join(', ')} ms (${name}), then the peer gives it up`, () => {
    const { cluster, holder } = runningOne(2, service('web', { command: 'serve', restart }))
    cluster.script = failing(1)
    cluster.exit(holder, slot('web', 0), 1)
    cluster.runFor(20_000)
    assert.equal(backoffs(cluster, holder), delays)
    assert.is(cluster.outputs('start-task', { peer: holder }).length, 1 + delays.length, 'no start after it gave up')
  })
}

Backoff('a task waiting out its backoff still holds its slot: nobody else starts it meanwhile', () => {
  const { cluster, holder } = runningOne(3, service('web', { command: 'serve', restart: { delay: '5s' } }))
  const exitedAt = cluster.now
  cluster.exit(holder, slot('web', 0), 1)
  cluster.runFor(4_900)
  assert.equal(cluster.outputs('start-task', { since: exitedAt }), [])
  assert.equal(cluster.machine(holder).localTasks().map((t) => `${t.slot} ${t.state}`), ['web/0 pending'])
  cluster.runFor(200)
  assert.equal(cluster.outputs('start-task', { since: exitedAt }).map((s) => [s.peer, s.at - exitedAt]), [[holder, 5_000]])
})

// ---------------------------------------------------------------------------------------------------

const GiveUp = suite('restarts: giving up')

GiveUp('after maxAttempts failures within the window the peer gives the slot up and another peer takes it', () => {
  const { cluster, holder } = runningOne(2, service('web', { command: 'serve', restart: { delay: '1s', maxAttempts: 3 } }))
  cluster.script = failing(1)
  cluster.exit(holder, slot('web', 0), 1)
  const gaveUpAt = cluster.runUntilTrue(() => cluster.machine(holder).localTasks().length === 0, 20_000)
  assert.ok(gaveUpAt !== undefined, 'it gives up')
  // The give-up is an ownership change: announced at once.
  const adverts = cluster.messages('advert', { peer: holder, since: gaveUpAt! }).filter((m) => m.at === gaveUpAt)
  assert.ok(adverts.some((m) => m.message.advert.tasks.length === 0))
  cluster.script = () => [{ afterMs: 50, state: 'running' }]
  cluster.runFor(2_000)
  const other = cluster.ids().find((id) => id !== holder)!
  assert.equal([...cluster.upSlots('web').entries()], [[slot('web', 0), [other]]])
  assert.is(cluster.outputs('start-task', { peer: holder, since: gaveUpAt! }).length, 0, 'the peer that gave up stays out')
})

GiveUp('failures spread wider apart than the window never add up to a give-up', () => {
  const { cluster, holder } = runningOne(2, service('web', { command: 'serve', restart: { delay: '100ms', maxAttempts: 2, window: '1s' } }))
  for (let i = 0; i < 4; i++) {
    cluster.exit(holder, slot('web', 0), 1)
    cluster.runFor(1_500)
  }
  assert.is(cluster.outputs('start-task', { peer: holder }).length, 5, 'restarted every time, on the same peer')
  assert.equal([...cluster.upSlots('web').values()], [[holder]])
})

// ---------------------------------------------------------------------------------------------------

const Outcome = suite('restarts: exit outcomes')

const outcomes: Array<{ name: string; body: Record<string, unknown>; exitCode: number; restarted: boolean; state?: string }> = [
  { name: 'a job exiting 0 completes', body: { mode: 'job' }, exitCode: 0, restarted: false, state: 'complete' },
  { name: 'a job exiting 1 restarts (on-failure)', body: { mode: 'job' }, exitCode: 1, restarted: true },
  { name: 'a service under on-failure exiting 0 completes', body: { restart: { condition: 'on-failure' } }, exitCode: 0, restarted: false, state: 'complete' },
  { name: 'a service under on-failure exiting 2 restarts', body: { restart: { condition: 'on-failure' } }, exitCode: 2, restarted: true },
  { name: 'a service under always exiting 0 restarts', body: {}, exitCode: 0, restarted: true },
  { name: 'a service under never exiting 1 fails for good', body: { restart: { condition: 'never' } }, exitCode: 1, restarted: false, state: 'failed' },
]
for (const { name, body, exitCode, restarted, state } of outcomes) {
  Outcome(`${name}${restarted ? '' : ' and is never started again, anywhere'}`, () => {
    const { cluster, holder } = runningOne(3, service('task', { command: 'work', restart: { delay: '1s' }, ...body }))
    const exitedAt = cluster.now
    cluster.exit(holder, slot('task', 0), exitCode)
    cluster.runFor(30_000)
    const starts = cluster.outputs('start-task', { since: exitedAt })
    if (restarted) {
      assert.equal(starts.map((s) => [s.peer, s.at - exitedAt]), [[holder, 1_000]])
    } else {
      assert.equal(starts, [])
      assert.equal(cluster.machine(holder).localTasks().map((t) => `${t.slot} ${t.state}`), [`task/0 ${state}`], 'the record stays on its peer')
      for (const id of cluster.ids()) {
        const seen = cluster.machine(id).peerViews().find((v) => v.id === holder)?.tasks.map((t) => t.state)
        assert.equal(seen, [state], `${id} sees it ${state}`)
      }
    }
  })
}

Outcome('a completed job is not run again after its peer restarts', () => {
  const { cluster, holder } = runningOne(3, service('batch', { command: 'work', mode: 'job' }))
  cluster.exit(holder, slot('batch', 0), 0)
  cluster.runFor(2_000)
  cluster.kill(holder)
  cluster.runFor(1_000)
  const restartedAt = cluster.now
  cluster.restart(holder)
  cluster.runFor(10_000)
  assert.equal(cluster.outputs('start-task', { since: restartedAt }), [])
})

Outcome('a completed job is not run again when its peer dies', () => {
  const { cluster, holder } = runningOne(3, service('batch', { command: 'work', mode: 'job' }))
  cluster.exit(holder, slot('batch', 0), 0)
  cluster.runFor(2_000)
  const killedAt = cluster.now
  cluster.kill(holder)
  cluster.runFor(10_000)
  assert.equal(cluster.outputs('start-task', { since: killedAt }), [])
})

Backoff.run()
GiveUp.run()
Outcome.run()
