// A slot's placement history (node/agent/slot-history.ts), derived from successive peer views built by
// hand: an entry when the holder changes, with the reason read from the last holder's fate, and the
// bounds on entries and slots.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SlotHistory } from '../../../node/agent/slot-history.js'
import { peerId, type MemberStatus, type PeerId, type PeerState, type PeerView, type Resources, type SlotId, type TaskState, type TaskView } from '../../../core/index.js'

const NONE: Resources = { cpuMilli: 0, memoryMiB: 0, extended: {} }
const A = peerId('a')
const B = peerId('b')
const C = peerId('c')
const SLOT = 'web/0' as SlotId

function task(peer: PeerId, state: TaskState = 'running', options: { slot?: SlotId; specHash?: string; epoch?: number } = {}): TaskView {
  const slot = options.slot ?? SLOT
  return { slot, service: slot.split('/')[0] as TaskView['service'], peer, specHash: options.specHash ?? 'h1', state, since: 0, resources: NONE, ports: [], epoch: options.epoch ?? 1 }
}

function view(id: PeerId, tasks: TaskView[], state: PeerState = 'alive'): PeerView {
  return { id, state, capacity: NONE, allocated: NONE, labels: {}, drivers: ['process'], tasks }
}

/** A history fed by a scripted cluster: `step` replaces some peers' views and statuses, then observes. */
function cluster(history = new SlotHistory()) {
  const views = new Map<PeerId, PeerView>()
  const statuses = new Map<PeerId, MemberStatus>()
  let clock = 1000
  return {
    history,
    step(changes: Array<[PeerView, MemberStatus?]>) {
      for (const [v, status] of changes) {
        views.set(v.id, v)
        statuses.set(v.id, status ?? 'alive')
      }
      history.observe([...views.values()], (peer) => statuses.get(peer), (clock += 1000))
    },
  }
}

const reasons = (history: SlotHistory, slot = SLOT) => history.of(slot).map((p) => `${p.peer}:${p.reason}`)

const test = suite('slot history')

test('the first holder is first-seen; a failover after its death is peer-dead, from the dead peer', () => {
  const c = cluster()
  c.step([[view(A, [task(A)])], [view(B, [])]])
  c.step([[view(A, [task(A)], 'dead'), 'dead']])
  c.step([[view(B, [task(B, 'starting', { epoch: 2 })])]])
  c.step([[view(B, [task(B, 'running', { epoch: 2 })])]])
  const placements = c.history.of(SLOT)
  assert.equal(reasons(c.history), [`${A}:first-seen`, `${B}:peer-dead`])
  assert.is(placements[1]!.from, A)
  assert.equal(placements.map((p) => p.text), ['first seen', 'peer dead'])
  assert.is(placements[1]!.state, 'running', 'the current placement follows its task state')
  assert.is(placements[0]!.at < placements[1]!.at, true)
})

test('a holder that left, drained, or whose task failed gives its own reason', () => {
  const left = cluster()
  left.step([[view(A, [task(A)])]])
  left.step([[view(A, [task(A)], 'dead'), 'left']])
  left.step([[view(B, [task(B)])]])
  assert.equal(reasons(left.history), [`${A}:first-seen`, `${B}:peer-left`])

  // A drain starts the replacement before the drained copy stops: no conflict.
  const drained = cluster()
  drained.step([[view(A, [task(A)])]])
  drained.step([[view(A, [task(A)], 'draining')], [view(B, [task(B, 'running', { epoch: 2 })])]])
  drained.step([[view(A, [], 'draining')]])
  assert.equal(reasons(drained.history), [`${A}:first-seen`, `${B}:drained`])

  const failed = cluster()
  failed.step([[view(A, [task(A)])]])
  failed.step([[view(A, [task(A, 'failed')])]])
  assert.is(failed.history.of(SLOT)[0]!.state, 'failed')
  failed.step([[view(B, [task(B)])]])
  assert.equal(reasons(failed.history), [`${A}:first-seen`, `${B}:task-failed`])
})

test('a conflict resolved for the newcomer is conflict; resolved for the holder, no move', () => {
  const won = cluster()
  won.step([[view(A, [task(A)])]])
  won.step([[view(B, [task(B, 'running', { epoch: 2 })])]])
  won.step([[view(A, [])]])
  assert.equal(reasons(won.history), [`${A}:first-seen`, `${B}:conflict`])

  const kept = cluster()
  kept.step([[view(A, [task(A)])]])
  kept.step([[view(B, [task(B)])]])
  kept.step([[view(B, [])]])
  assert.equal(reasons(kept.history), [`${A}:first-seen`])
})

test('a copy seen before its holder was declared dead is peer-dead once the verdict arrives', () => {
  const c = cluster()
  c.step([[view(A, [task(A)])]])
  c.step([[view(B, [task(B, 'running', { epoch: 2 })])]])
  c.step([[view(A, [task(A)], 'dead'), 'dead']])
  assert.equal(reasons(c.history), [`${A}:first-seen`, `${B}:peer-dead`])
})

test('a new version is updated, in place or on another peer; an unexplained move is unknown', () => {
  const c = cluster()
  c.step([[view(A, [task(A)])]])
  c.step([[view(A, [task(A, 'starting', { specHash: 'h2' })])]])
  c.step([[view(A, [])], [view(B, [task(B, 'running', { specHash: 'h3' })])]])
  c.step([[view(B, [])], [view(C, [task(C, 'running', { specHash: 'h3' })])]])
  assert.equal(reasons(c.history), [`${A}:first-seen`, `${A}:updated`, `${B}:updated`, `${C}:unknown`])
})

test('a slot with no holder keeps its history; the same holder seen again adds nothing', () => {
  const c = cluster()
  c.step([[view(A, [task(A)])]])
  c.step([[view(A, [])]])
  c.step([[view(A, [task(A)])]])
  c.step([[view(B, [])]])
  assert.equal(reasons(c.history), [`${A}:first-seen`])
  assert.equal(c.history.of('web/9' as SlotId), [])
})

test('at most perSlot placements per slot, the newest kept', () => {
  const c = cluster(new SlotHistory({ perSlot: 3, slots: 100 }))
  const peers = [A, B, C, peerId('d'), peerId('e')]
  for (const [i, peer] of peers.entries()) {
    c.step([[view(peer, [task(peer, 'running', { epoch: i + 1 })])]])
    c.step([[view(peer, [], 'dead'), 'dead']])
  }
  assert.equal(c.history.of(SLOT).map((p) => p.peer), peers.slice(-3))
})

test('only slots of desired services are kept, and at most `slots` of them, the stalest dropped first', () => {
  const c = cluster(new SlotHistory({ perSlot: 20, slots: 2 }))
  c.history.keepServices(new Set(['web', 'db'] as TaskView['service'][]))
  c.step([[view(A, [task(A), task(A, 'running', { slot: 'cache/0' as SlotId })])]])
  assert.is(c.history.size, 1, 'cache is not desired')
  c.step([[view(B, [task(B, 'running', { slot: 'db/0' as SlotId }), task(B, 'running', { slot: 'db/1' as SlotId })])]])
  assert.is(c.history.size, 2)
  assert.equal(c.history.of(SLOT), [], 'web/0 changed least recently')
  c.history.keepServices(new Set(['web'] as TaskView['service'][]))
  assert.is(c.history.size, 0)
})

test.run()
