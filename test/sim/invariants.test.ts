// The invariant checkers on hand-made worlds: each must flag what it names and nothing else.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, placementRequest, validateServices, type PeerView } from '../../core/index.js'
import { atMostOneMajorityCopy, desiredIdentical, everySlotOnce, noOvercommit, onlyDesired, type RunningTask, type WorldState } from '../../sim/invariants.js'

const spec = (() => {
  const result = validateServices({ services: { web: { command: 'serve', replicas: 2, resources: { cpu: '500m', memory: 256 } } } })
  if (!result.ok) throw new Error('bad spec')
  return result.services[0]!
})()
const hash = placementRequest(spec).specHash
// The same service under `partition: majority` (the policy leaves the task's version alone).
const singleton = { ...spec, partition: 'majority' as const }
const task = (peer: string, slot: string, overrides: Partial<RunningTask> = {}): RunningTask =>
  ({ peer, slot, service: 'web', specHash: hash, cpuMilli: 500, memoryMiB: 256, ...overrides })
const world = (tasks: RunningTask[], overrides: Partial<WorldState> = {}): WorldState => ({
  atMs: 1000,
  peers: [{ id: 'a', cpuMilli: 1000, memoryMiB: 1024 }, { id: 'b', cpuMilli: 1000, memoryMiB: 1024 }],
  tasks,
  services: [spec],
  done: new Set(),
  digests: new Map([['a', 'x'], ['b', 'x']]),
  globalPeers: new Map(),
  ...overrides,
})

const view = (id: string, allocatedCpu: number): PeerView => ({
  id: peerId(id), state: 'alive', capacity: { cpuMilli: 1000, memoryMiB: 1024, extended: {} },
  allocated: { cpuMilli: allocatedCpu, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['process'], tasks: [],
})
const fullPeer = (id: string) => view(id, 1000)
const emptyPeer = (id: string) => view(id, 0)

const checks = suite('invariants')

const cases: Array<{ name: string; world: WorldState; expect: Record<string, number> }> = [
  { name: 'a converged world violates nothing', world: world([task('a', 'web/0'), task('b', 'web/1')]), expect: {} },
  { name: 'a peer running past its cpu is over-committed', world: world([task('a', 'web/0'), task('a', 'web/1'), task('a', 'other/0', { service: 'other', cpuMilli: 100 })]), expect: { 'no-overcommit': 1, 'only-desired': 1 } },
  { name: 'a missing slot is reported', world: world([task('a', 'web/0')]), expect: { 'every-slot-once': 1 } },
  { name: 'a slot running twice is reported', world: world([task('a', 'web/0'), task('b', 'web/0'), task('b', 'web/1')]), expect: { 'every-slot-once': 1 } },
  { name: 'a task on an old version is reported', world: world([task('a', 'web/0', { specHash: 'old' }), task('b', 'web/1')]), expect: { 'only-desired': 1 } },
  { name: 'a task past the replica count is reported', world: world([task('a', 'web/0'), task('b', 'web/1'), task('b', 'web/2', { cpuMilli: 0, memoryMiB: 0 })]), expect: { 'only-desired': 1 } },
  { name: 'different desired states are reported', world: world([task('a', 'web/0'), task('b', 'web/1')], { digests: new Map([['a', 'x'], ['b', 'y']]) }), expect: { 'desired-identical': 1 } },
  { name: 'a completed slot need not run', world: world([task('a', 'web/0')], { done: new Set([`web/1#${hash}`]) }), expect: {} },
  { name: 'a missing slot that no live peer could take is pending, not a violation', world: world([task('a', 'web/0')], { liveViews: [fullPeer('a'), fullPeer('b')] }), expect: {} },
  { name: 'a missing slot that a live peer could take is a violation', world: world([task('a', 'web/0')], { liveViews: [fullPeer('a'), emptyPeer('b')] }), expect: { 'every-slot-once': 1 } },
  { name: 'a majority slot on two peers breaks at-most-one-majority-copy too', world: world([task('a', 'web/0'), task('b', 'web/0'), task('b', 'web/1')], { services: [singleton] }), expect: { 'every-slot-once': 1, 'at-most-one-majority-copy': 1 } },
  { name: 'a serve slot on two peers is only a liveness matter', world: world([task('a', 'web/0'), task('b', 'web/0'), task('b', 'web/1')], { services: [{ ...spec, partition: 'serve' }] }), expect: { 'every-slot-once': 1 } },
  { name: 'a majority slot need not run while no majority of the members lives', world: world([task('a', 'web/0')], { services: [singleton], memberCount: 4 }), expect: {} },
  { name: 'a majority slot must run while a majority of the members lives', world: world([task('a', 'web/0')], { services: [singleton], memberCount: 3 }), expect: { 'every-slot-once': 1 } },
]

for (const c of cases) {
  checks(c.name, () => {
    const found: Record<string, number> = {}
    for (const check of [noOvercommit, everySlotOnce, onlyDesired, desiredIdentical, atMostOneMajorityCopy]) {
      for (const v of check(c.world)) found[v.invariant] = (found[v.invariant] ?? 0) + 1
    }
    assert.equal(found, c.expect)
  })
}

checks.run()
