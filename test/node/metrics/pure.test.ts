// The pure parts of the metrics: the --metrics address, the engine's stats answer, the failover
// tracker, and `peer top`'s sums.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { containerUsageOf, FailoverTracker, parseMetricsListen } from '../../../node/metrics/index.js'
import { topAnswer } from '../../../node/agent/top.js'
import type { PeerId, PeerView, SlotId, TaskState, TaskView } from '../../../core/index.js'

const listen = suite('--metrics')

for (const [text, expected] of [
  ['off', 'off'],
  ['0.0.0.0:9464', { host: '0.0.0.0', port: 9464 }],
  ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
  [':9000', { host: '127.0.0.1', port: 9000 }],
  ['9000', { host: '127.0.0.1', port: 9000 }],
  ['[::1]:9464', { host: '::1', port: 9464 }],
  ['metrics.local:9464', { host: 'metrics.local', port: 9464 }],
] as const) {
  listen(`${text} is ${JSON.stringify(expected)}`, () => {
    assert.equal(parseMetricsListen(text), { ok: true, value: expected })
  })
}

for (const text of ['', 'on', '1.2.3.4', '1.2.3.4:99999', 'host:port', '::1:9464', 'a b:1']) {
  listen(`${JSON.stringify(text)} is refused, naming the flag`, () => {
    const parsed = parseMetricsListen(text)
    assert.is(parsed.ok, false)
    if (!parsed.ok) assert.match(parsed.error, /^--metrics: /)
  })
}

listen.run()

const engine = suite('container usage from the engine\'s stats')

engine('cgroup v1: usage less total_inactive_file; CPU in seconds', () => {
  assert.equal(containerUsageOf({ cpu_stats: { cpu_usage: { total_usage: 2_500_000_000 } }, memory_stats: { usage: 10_000_000, stats: { total_inactive_file: 4_000_000 } } }), { cpuSeconds: 2.5, memoryBytes: 6_000_000 })
})

engine('cgroup v2 names it inactive_file; a stopped container (no usage) is undefined', () => {
  assert.equal(containerUsageOf({ cpu_stats: { cpu_usage: { total_usage: 1e9 } }, memory_stats: { usage: 5_000, stats: { inactive_file: 1_000 } } }), { cpuSeconds: 1, memoryBytes: 4_000 })
  assert.is(containerUsageOf({ cpu_stats: {}, memory_stats: {} }), undefined)
})

engine.run()

const P1 = 'peer-1' as PeerId
const P2 = 'peer-2' as PeerId
const P3 = 'peer-3' as PeerId

function task(slot: string, peer: PeerId, state: TaskState = 'running'): TaskView {
  return { slot: slot as SlotId, service: slot.split('/')[0]! as TaskView['service'], peer, specHash: 'h', state, since: 0, resources: { cpuMilli: 100, memoryMiB: 64, extended: {} }, ports: [] }
}

function view(id: PeerId, tasks: TaskView[], state: PeerView['state'] = 'alive'): PeerView {
  return { id, state, capacity: { cpuMilli: 2000, memoryMiB: 4096, extended: {} }, allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['process'], tasks }
}

const failover = suite('failover tracker')

failover('finishes when every slot of the dead peer runs on another live peer, measured from the verdict', () => {
  const tracker = new FailoverTracker()
  tracker.peerDead(P1, [view(P1, [task('web/0', P1), task('web/1', P1)]), view(P2, [])], 1_000)
  assert.ok(tracker.pending)
  assert.equal(tracker.check([view(P1, [task('web/0', P1), task('web/1', P1)], 'dead'), view(P2, [task('web/0', P2)])], 2_000), [], 'one slot still missing')
  assert.equal(tracker.check([view(P2, [task('web/0', P2)]), view(P3, [task('web/1', P3, 'starting')])], 2_500), [], 'starting is not running')
  assert.equal(tracker.check([view(P2, [task('web/0', P2)]), view(P3, [task('web/1', P3, 'healthy')])], 3_200), [2_200])
  assert.not.ok(tracker.pending)
})

failover('a dead peer\'s own stale advert does not count as running elsewhere; a peer that ran nothing opens no failover', () => {
  const tracker = new FailoverTracker()
  tracker.peerDead(P2, [view(P2, [])], 0)
  assert.not.ok(tracker.pending)
  tracker.peerDead(P1, [view(P1, [task('web/0', P1)])], 0)
  assert.equal(tracker.check([view(P1, [task('web/0', P1)], 'dead'), view(P3, [task('web/0', P3)], 'dead')], 100), [])
})

failover('a peer back alive, or a failover that cannot finish, gives no observation', () => {
  const tracker = new FailoverTracker(5_000)
  tracker.peerDead(P1, [view(P1, [task('web/0', P1)])], 0)
  tracker.peerBack(P1)
  assert.not.ok(tracker.pending)
  tracker.peerDead(P1, [view(P1, [task('web/0', P1)])], 0)
  assert.equal(tracker.check([], 6_000), [])
  assert.not.ok(tracker.pending)
})

failover.run()

const top = suite('peer top sums')

top('per peer and per service: requested by active tasks, used by measured ones, null before any measurement; dead peers left out', () => {
  const views = [
    view(P1, [task('web/0', P1), task('web/1', P1), task('db/0', P1, 'exited')]),
    view(P2, [task('web/2', P2)]),
    view(P3, [task('web/3', P3)], 'dead'),
  ]
  const usage = new Map([[P1, [{ slot: 'web/0' as SlotId, cpuMilli: 30, memoryMiB: 5 }]]])
  const answer = topAnswer(P1, views, usage)
  assert.equal(answer.peers.map((row) => row.peer), [P1, P2])
  assert.equal(answer.peers[0], { peer: P1, self: true, state: 'alive', capacity: { cpuMilli: 2000, memoryMiB: 4096 }, requested: { cpuMilli: 200, memoryMiB: 128 }, used: { cpuMilli: 30, memoryMiB: 5 }, tasks: 2, measured: 1 })
  assert.is(answer.peers[1]!.used, null)
  assert.equal(answer.services, [{ service: 'web', tasks: 3, requested: { cpuMilli: 300, memoryMiB: 192 }, used: { cpuMilli: 30, memoryMiB: 5 }, measured: 1 }])
})

top.run()
