// The control API's answers (node/agent/views.ts), built by hand from peer views, membership, the
// desired state and the machine's pending slots: which tasks are listed and in what order, how services
// and nodes are counted, and what `peer why` says.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ServiceState } from '../../../crdt/index.js'
import { nodeRows, serviceRows, taskRows, whyAnswer } from '../../../node/agent/views.js'
import type { TaskRow } from '../../../node/control/index.js'
import {
  peerId,
  REJECTION_TEXT,
  serviceName,
  validateServices,
  type MemberRecord,
  type PeerId,
  type PeerState,
  type PeerView,
  type PendingInfo,
  type Resources,
  type ServiceSpec,
  type SlotId,
  type TaskState,
  type TaskView,
} from '../../../core/index.js'

// --- Fixtures -------------------------------------------------------------------------------------

const NONE: Resources = { cpuMilli: 0, memoryMiB: 0, extended: {} }
const P1 = peerId('p1')
const P2 = peerId('p2')
const P3 = peerId('p3')

function specOf(document: unknown): ServiceSpec {
  const result = validateServices(document)
  if (!result.ok || result.services.length !== 1) throw new Error(`test spec is invalid: ${JSON.stringify(result)}`)
  return result.services[0]!
}

const WEB_SPEC = specOf({ name: 'web', command: ['sleep', '1'], replicas: 3 })
const API_SPEC = specOf({ name: 'api', command: ['sleep', '1'], replicas: 1, driver: 'process' })
const NODE_EXPORTER_SPEC = specOf({ name: 'exporter', command: ['sleep', '1'], mode: 'global' })

function service(spec: ServiceSpec, specHash: string, version = 1): ServiceState {
  return { spec, version, specDigest: `digest-${specHash}`, specHash, author: 'p1', timeMs: 1_000 * version }
}

const WEB = service(WEB_SPEC, 'web-v2', 2)
const API = service(API_SPEC, 'api-v1')
const EXPORTER = service(NODE_EXPORTER_SPEC, 'exp-v1')

function task(slot: string, peer: PeerId, state: TaskState = 'running', specHash?: string): TaskView {
  const at = slot.search(/[/@]/)
  const name = slot.slice(0, at)
  return {
    slot: slot as SlotId,
    service: serviceName(name),
    peer,
    specHash: specHash ?? `${name === 'exporter' ? 'exp' : name}-${name === 'web' ? 'v2' : 'v1'}`,
    state,
    since: 500,
    resources: { cpuMilli: 100, memoryMiB: 64, extended: {} },
    ports: [],
  }
}

function view(id: PeerId, state: PeerState, tasks: TaskView[], extra: Partial<PeerView> = {}): PeerView {
  return {
    id,
    state,
    capacity: { cpuMilli: 4_000, memoryMiB: 8_192, extended: {} },
    allocated: { cpuMilli: 100 * tasks.length, memoryMiB: 64 * tasks.length, extended: {} },
    labels: {},
    drivers: ['process'],
    tasks: tasks.map((t) => ({ ...t, peer: id })),
    ...extra,
  }
}

const row = (t: TaskView): TaskRow => ({ slot: t.slot, service: t.service, peer: t.peer, state: t.state, specHash: t.specHash, since: t.since })
const slotsAndPeers = (rows: readonly TaskRow[]): string[] => rows.map((r) => `${r.slot}@${r.peer}`)

function pending(name: string, slots: string[], rejections: PendingInfo['rejections'] = [], round = 4): PendingInfo {
  return { service: serviceName(name), slots: slots as SlotId[], round, since: 7_000, rejections }
}

// --- taskRows -------------------------------------------------------------------------------------

const tasks = suite('taskRows')

tasks('lists the active tasks of every peer that is not dead', () => {
  const views = [
    view(P1, 'alive', [task('web/0', P1), task('api/0', P1, 'starting')]),
    view(P2, 'suspect', [task('web/1', P2, 'healthy')]),
    view(P3, 'dead', [task('web/2', P3)]),
  ]
  assert.equal(slotsAndPeers(taskRows(views)), ['api/0@p1', 'web/0@p1', 'web/1@p2'])
})

const PEER_STATES: ReadonlyArray<{ state: PeerState; listed: boolean }> = [
  { state: 'alive', listed: true },
  { state: 'suspect', listed: true },
  { state: 'draining', listed: true },
  { state: 'cordoned', listed: true },
  { state: 'dead', listed: false },
]

for (const { state, listed } of PEER_STATES) {
  tasks(`tasks of a ${state} peer are ${listed ? '' : 'not '}listed`, () => {
    assert.is(taskRows([view(P1, state, [task('web/0', P1)])]).length, listed ? 1 : 0)
  })
}

const TASK_STATES: ReadonlyArray<{ state: TaskState; listed: boolean }> = [
  { state: 'pending', listed: true },
  { state: 'starting', listed: true },
  { state: 'running', listed: true },
  { state: 'healthy', listed: true },
  { state: 'unhealthy', listed: true },
  { state: 'exited', listed: false },
  { state: 'failed', listed: false },
  { state: 'complete', listed: false },
]

for (const { state, listed } of TASK_STATES) {
  tasks(`a ${state} task is ${listed ? '' : 'not '}listed`, () => {
    assert.is(taskRows([view(P1, 'alive', [task('web/0', P1, state)])]).length, listed ? 1 : 0)
  })
}

tasks('a row carries the task\'s slot, service, peer, state, specHash and since, and nothing else', () => {
  const t = task('web/0', P1, 'healthy', 'h')
  assert.equal(taskRows([view(P1, 'alive', [t])]), [row(t)])
})

tasks('filters by service', () => {
  const views = [view(P1, 'alive', [task('web/0', P1), task('api/0', P1), task('webx/0', P1)])]
  assert.equal(slotsAndPeers(taskRows(views, 'web')), ['web/0@p1'])
  assert.equal(slotsAndPeers(taskRows(views, 'api')), ['api/0@p1'])
  assert.equal(taskRows(views, 'nope'), [])
})

tasks('sorts by slot, replica index numerically (web/2 before web/10), then by peer', () => {
  const views = [
    view(P3, 'alive', [task('web/10', P3), task('web/2', P3)]),
    view(P2, 'alive', [task('web/2', P2), task('api/1', P2)]),
    view(P1, 'alive', [task('web/10', P1), task('web/1', P1), task('exporter@p1', P1)]),
  ]
  assert.equal(slotsAndPeers(taskRows(views)), ['api/1@p2', 'exporter@p1@p1', 'web/1@p1', 'web/2@p2', 'web/2@p3', 'web/10@p1', 'web/10@p3'])
})

tasks('no peers, no rows', () => {
  assert.equal(taskRows([]), [])
})

// --- serviceRows ----------------------------------------------------------------------------------

const services = suite('serviceRows')

services('describes each service from its state', () => {
  const [web] = serviceRows([WEB], [], [])
  assert.equal(web, {
    name: 'web',
    mode: 'replicated',
    driver: WEB_SPEC.driver,
    version: 2,
    specHash: 'web-v2',
    desired: 3,
    running: 0,
    tasks: 0,
    pending: 0,
    updatedBy: 'p1',
    updatedAt: 2_000,
  })
})

services('counts as running only tasks up at the current specHash; tasks counts every active one', () => {
  const rows = taskRows([
    view(P1, 'alive', [task('web/0', P1, 'running', 'web-v2'), task('web/1', P1, 'healthy', 'web-v2')]),
    view(P2, 'alive', [task('web/2', P2, 'running', 'web-v1'), task('web/0', P2, 'starting', 'web-v2'), task('web/1', P2, 'unhealthy', 'web-v2')]),
    view(P3, 'alive', [task('api/0', P3, 'running', 'api-v1')]),
  ])
  const [web, api] = serviceRows([WEB, API], rows, [])
  assert.is(web!.running, 2, 'running and healthy at web-v2; not the old version, starting or unhealthy')
  assert.is(web!.tasks, 5)
  assert.is(api!.running, 1)
  assert.is(api!.tasks, 1)
})

services('desired is the replica count, and null for a global service', () => {
  const rows = serviceRows([WEB, API, EXPORTER], [], [])
  assert.equal(rows.map((r) => [r.name, r.mode, r.desired]), [
    ['web', 'replicated', 3],
    ['api', 'replicated', 1],
    ['exporter', 'global', null],
  ])
})

services('pending is the number of unplaced slots the machine reports for that service', () => {
  const info = [pending('web', ['web/1', 'web/2']), pending('other', ['other/0'])]
  const rows = serviceRows([WEB, API], [], info)
  assert.equal(rows.map((r) => [r.name, r.pending]), [
    ['web', 2],
    ['api', 0],
  ])
})

services('keeps the order of the services given; no services, no rows', () => {
  assert.equal(serviceRows([API, WEB], [], []).map((r) => r.name), ['api', 'web'])
  assert.equal(serviceRows([], [], []), [])
})

// --- nodeRows -------------------------------------------------------------------------------------

const nodes = suite('nodeRows')

const member = (peer: PeerId, status: MemberRecord['status'] = 'alive', incarnation = 1): MemberRecord => ({ peer, status, incarnation })

nodes('marks self, and takes state, capacity, allocation, labels, drivers and active task count from the advert; the engine only on its own row', () => {
  const labels = { zone: 'a' }
  const views = [view(P1, 'draining', [task('web/0', P1), task('web/1', P1, 'exited'), task('api/0', P1, 'pending')], { labels, drivers: ['docker', 'process'] })]
  const engine = { state: 'up' as const, version: '20.10.24' }
  const [row1] = nodeRows(P1, [member(P1, 'alive', 3)], views, new Map(), 9_000, engine)
  assert.equal(row1, {
    peer: 'p1',
    self: true,
    status: 'alive',
    state: 'draining',
    incarnation: 3,
    lastSeen: 9_000,
    capacity: views[0]!.capacity,
    allocated: views[0]!.allocated,
    labels,
    tasks: 2,
    drivers: ['docker', 'process'],
    engine,
  })
  const [other] = nodeRows(P2, [member(P1, 'alive', 3)], views, new Map(), 9_000, engine)
  assert.is(other!.engine, null)
})

nodes('lastSeen: now for self, when last heard for others, null when never heard', () => {
  const members = [member(P1), member(P2), member(P3)]
  const views = [view(P1, 'alive', []), view(P2, 'alive', []), view(P3, 'alive', [])]
  const heard = new Map<PeerId, number>([
    [P1, 1],
    [P2, 4_000],
  ])
  const rows = nodeRows(P1, members, views, heard, 9_000)
  assert.equal(rows.map((r) => [r.peer, r.self, r.lastSeen]), [
    ['p1', true, 9_000],
    ['p2', false, 4_000],
    ['p3', false, null],
  ])
})

nodes('a member with no advert falls back to its membership status and empty resources', () => {
  const rows = nodeRows(P1, [member(P2, 'suspect', 5)], [], new Map(), 9_000)
  assert.equal(rows, [
    {
      peer: 'p2',
      self: false,
      status: 'suspect',
      state: 'suspect',
      incarnation: 5,
      lastSeen: null,
      capacity: NONE,
      allocated: NONE,
      labels: {},
      tasks: 0,
      drivers: [],
      engine: null,
    },
  ])
})

nodes('lists members only (an advert without a member is not a node), sorted by peer', () => {
  const members = [member(P3, 'left'), member(P1), member(P2, 'dead')]
  const views = [view(P2, 'dead', []), view(peerId('p9'), 'alive', [])]
  const rows = nodeRows(P1, members, views, new Map(), 1)
  assert.equal(rows.map((r) => [r.peer, r.status, r.state]), [
    ['p1', 'alive', 'alive'],
    ['p2', 'dead', 'dead'],
    ['p3', 'left', 'left'],
  ])
})

// --- whyAnswer ------------------------------------------------------------------------------------

const why = suite('whyAnswer')

const VIEWS = [
  view(P1, 'alive', [task('web/0', P1), task('web/2', P1, 'starting'), task('api/0', P1)]),
  view(P2, 'alive', [task('web/1', P2, 'healthy'), task('web/0', P2, 'pending')]),
  view(P3, 'dead', [task('web/3', P3)]),
]
const SERVICES = [API, WEB, EXPORTER]

why('an unknown service, or a slot of one, has no answer', () => {
  for (const target of ['nope', 'nope/0', 'nope@p1', 'Web', 'web/x', '']) {
    assert.is(whyAnswer(target, SERVICES, VIEWS, []), undefined, target)
  }
})

why('for a service: its tasks on live peers, nothing pending, and a count in the summary', () => {
  const answer = whyAnswer('web', SERVICES, VIEWS, [])!
  assert.is(answer.target, 'web')
  assert.is(answer.service, 'web')
  assert.is(answer.slot, null)
  assert.equal(slotsAndPeers(answer.tasks), ['web/0@p1', 'web/0@p2', 'web/1@p2', 'web/2@p1'])
  assert.is(answer.pending, null)
  assert.is(answer.summary, '4 task(s) of web on 2 peer(s); nothing pending')
})

why('for a slot: only that slot\'s tasks, and the summary says where it runs', () => {
  const answer = whyAnswer('web/0', SERVICES, VIEWS, [pending('web', ['web/4'])])!
  assert.is(answer.service, 'web')
  assert.is(answer.slot, 'web/0')
  assert.equal(slotsAndPeers(answer.tasks), ['web/0@p1', 'web/0@p2'])
  assert.is(answer.pending, null, 'another slot pending is not this slot\'s business')
  assert.is(answer.summary, 'web/0 is running on p1; web/0 is pending on p2')
})

why('for a global slot: the service is found from the slot', () => {
  const views = [view(P1, 'alive', [task('exporter@p1', P1)]), view(P2, 'alive', [task('exporter@p2', P2)])]
  const answer = whyAnswer('exporter@p2', SERVICES, views, [])!
  assert.is(answer.service, 'exporter')
  assert.is(answer.slot, 'exporter@p2')
  assert.equal(slotsAndPeers(answer.tasks), ['exporter@p2@p2'])
  assert.is(answer.summary, 'exporter@p2 is running on p2')
})

why('for a slot that runs nowhere and is not pending: the summary says so', () => {
  const answer = whyAnswer('web/3', SERVICES, VIEWS, [])!
  assert.equal(answer.tasks, [], 'the task on the dead peer does not count')
  assert.is(answer.pending, null)
  assert.is(answer.summary, 'web/3 is not running anywhere and not pending (outside the desired replica count, or being placed now)')
})

why('for a service with pending slots: the slots, round, since, reasons in words, and the first reason in the summary', () => {
  const info = pending('web', ['web/3', 'web/4'], [
    { reason: 'memory', detail: '', peers: 2 },
    { reason: 'label', detail: 'zone==b', peers: 1 },
  ])
  const answer = whyAnswer('web', SERVICES, VIEWS, [pending('api', ['api/1']), info])!
  assert.equal(answer.pending, {
    slots: ['web/3', 'web/4'],
    round: 4,
    since: 7_000,
    reasons: [
      { reason: 'memory', detail: '', peers: 2, text: REJECTION_TEXT.memory },
      { reason: 'label', detail: 'zone==b', peers: 1, text: `${REJECTION_TEXT.label} (zone==b)` },
    ],
  })
  assert.is(answer.summary, `2 slot(s) of web pending since bid round 4; 2 peer(s): ${REJECTION_TEXT.memory}`)
  assert.is(answer.tasks.length, 4, 'the placed tasks are still listed')
})

why('for a pending slot: only that slot is pending', () => {
  const info = pending('web', ['web/3', 'web/4'], [{ reason: 'cpu', detail: '', peers: 3 }], 9)
  const answer = whyAnswer('web/4', SERVICES, VIEWS, [info])!
  assert.equal(answer.pending?.slots, ['web/4'])
  assert.equal(answer.tasks, [])
  assert.is(answer.summary, `1 slot(s) of web pending since bid round 9; 3 peer(s): ${REJECTION_TEXT.cpu}`)
})

why('pending with no rejections yet: the summary says no peer has bid yet', () => {
  const answer = whyAnswer('api', SERVICES, VIEWS, [pending('api', ['api/1'], [], 1)])!
  assert.equal(answer.pending?.reasons, [])
  assert.is(answer.summary, '1 slot(s) of api pending since bid round 1; no peer has bid yet')
})

why('a service with no tasks and nothing pending', () => {
  const answer = whyAnswer('exporter', SERVICES, VIEWS, [])!
  assert.equal(answer.tasks, [])
  assert.is(answer.summary, '0 task(s) of exporter on 0 peer(s); nothing pending')
})

tasks.run()
services.run()
nodes.run()
why.run()
