// The `partition: majority` rules on one peer's view: who counts, when the lease ends, when a slot
// may be placed. The cluster-wide proof is the simulator's (test/sim/partition-policy.test.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defaultConfig, PartitionQuorum, peerId, takeoverDelayMs, validateServices, type MemberStatus, type PeerId, type ServiceSpec } from '../../../core/index.js'

const config = defaultConfig(5)
const self = peerId('self')
const spec = (partition: 'serve' | 'majority', mode: 'replicated' | 'global' = 'replicated'): ServiceSpec => {
  const result = validateServices({ services: { db: { command: 'db', mode, partition, stopGrace: '1s' } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services[0]!
}
const majority = spec('majority')

/** A peer whose table holds `others` with these statuses, set at time 0. */
function view(statuses: Record<string, MemberStatus>, seeds: PeerId[] = []): PartitionQuorum {
  const quorum = new PartitionQuorum({ self, config, seeds })
  for (const [peer, status] of Object.entries(statuses)) {
    quorum.memberChanged({ peer: peerId(peer), incarnation: 1, status: 'alive' }, undefined, 0)
    if (status !== 'alive') quorum.memberChanged({ peer: peerId(peer), incarnation: 1, status }, 'alive', 0)
  }
  return quorum
}

const quorum = suite('partition quorum')

const cases: Array<{ name: string; statuses: Record<string, MemberStatus>; seeds?: string[]; inQuorum: boolean }> = [
  { name: 'a peer alone is a cluster of one', statuses: {}, inQuorum: true },
  { name: 'three of five alive is a majority', statuses: { a: 'alive', b: 'alive', c: 'dead', d: 'dead' }, inQuorum: true },
  { name: 'two of five is not, whether the others are dead or suspect', statuses: { a: 'alive', b: 'suspect', c: 'dead', d: 'dead' }, inQuorum: false },
  { name: 'two of four is not: an even split has no majority', statuses: { a: 'alive', b: 'dead', c: 'dead' }, inQuorum: false },
  { name: 'a member that left counts no more', statuses: { a: 'alive', b: 'left', c: 'left', d: 'dead' }, inQuorum: true },
  { name: 'a join peer not yet heard from counts against', statuses: {}, seeds: ['seed'], inQuorum: false },
]
for (const c of cases) {
  quorum(c.name, () => {
    assert.is(view(c.statuses, (c.seeds ?? []).map(peerId)).inQuorum(), c.inQuorum)
  })
}

quorum('the lease outlives quorum by partitionLeaseMs, then the peer must fence', () => {
  const q = view({ a: 'alive', b: 'alive' })
  assert.equal(q.observe(100), { expired: false, regained: true })
  q.memberChanged({ peer: peerId('a'), incarnation: 1, status: 'suspect' }, 'alive', 200)
  q.memberChanged({ peer: peerId('b'), incarnation: 1, status: 'suspect' }, 'alive', 200)
  assert.equal(q.observe(300), { expired: false, regained: false })
  // Renewed last at 100, while the view still showed a majority.
  assert.is(q.nextWakeAt(), 100 + config.partitionLeaseMs)
  assert.equal(q.observe(100 + config.partitionLeaseMs), { expired: true, regained: false })
  assert.is(q.placeableAt(majority), Infinity)
})

quorum('after a stall the lease expires before a stale view can renew it, and the new one must settle', () => {
  const q = view({ a: 'alive', b: 'alive' })
  q.observe(0)
  const resumed = 10 * config.partitionLeaseMs
  assert.equal(q.observe(resumed), { expired: true, regained: true })
  assert.is(q.placeableAt(majority), resumed + config.startupGraceMs)
})

quorum('a dead member holds placement back for the takeover delay, counted from the lease at the earliest', () => {
  const q = view({ a: 'alive', b: 'alive', c: 'alive', d: 'alive' })
  q.observe(0)
  q.memberChanged({ peer: peerId('d'), incarnation: 1, status: 'dead' }, 'alive', 5_000)
  assert.is(q.placeableAt(majority), 5_000 + takeoverDelayMs(config, 5, majority))
  // Back: nothing holds placement back but the settling of the lease.
  q.memberChanged({ peer: peerId('d'), incarnation: 2, status: 'alive' }, 'dead', 6_000)
  assert.is(q.placeableAt(majority), config.startupGraceMs)
})

quorum('serve and global services are never held back', () => {
  const q = view({ a: 'dead', b: 'dead' })
  assert.is(q.placeableAt(spec('serve')), -Infinity)
  assert.is(q.placeableAt(spec('majority', 'global')), -Infinity)
})

quorum('a suspicion after a claim was made shows the claim may span a partition', () => {
  const q = view({ a: 'alive', b: 'alive' })
  assert.ok(q.stableSince(100))
  q.memberChanged({ peer: peerId('a'), incarnation: 1, status: 'suspect' }, 'alive', 150)
  assert.not.ok(q.stableSince(100))
  assert.ok(q.stableSince(200))
})

quorum('the takeover delay grows with the members a cut-off peer must suspect, and with the stop grace', () => {
  assert.ok(takeoverDelayMs(config, 20, majority) > takeoverDelayMs(config, 5, majority))
  assert.is(takeoverDelayMs(config, 5, { ...majority, stopGraceMs: 3_000 }) - takeoverDelayMs(config, 5, majority), 2_000)
})

quorum.run()
