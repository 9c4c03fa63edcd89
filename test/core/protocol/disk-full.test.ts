// A peer whose data directory is full advertises it (`diskFull`), and every peer, itself included,
// treats it as cordoned: it keeps the tasks it runs, no new slot is placed on it, and a task of its
// waiting out a restart backoff is given up at once so another peer takes the slot. With room again
// it takes slots as before. The flag survives the wire, and an advert without it decodes as before.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeMessage, encodeMessage } from '../../../core/protocol/codec.js'
import type { Message } from '../../../core/protocol/messages.js'
import { Cluster, p, services, slot } from './harness.js'

const diskFull = suite('protocol: a peer with a full disk')

const slotsOf = (cluster: Cluster, peer: string): string[] => [...cluster.placement('web')].filter(([, peers]) => peers.includes(p(peer))).map(([slotId]) => slotId).sort()

function settled(): Cluster {
  const cluster = new Cluster({ peers: 3, seed: 5 })
  cluster.startAll()
  cluster.runUntil(3_000)
  cluster.apply(services({ web: { command: 'serve', replicas: 6 } }))
  cluster.runUntil(6_000)
  assert.is(cluster.upSlots('web').size, 6)
  return cluster
}

diskFull('it keeps its tasks, every peer sees it cordoned, and new slots go to the others until it has room', () => {
  const cluster = settled()
  const before = slotsOf(cluster, 'p0')
  assert.ok(before.length > 0, 'p0 runs some slots')
  cluster.diskFull('p0', true)
  cluster.runFor(1_000)
  for (const observer of ['p0', 'p1', 'p2']) {
    assert.is(cluster.machine(observer).peerViews().find((view) => view.id === p('p0'))?.state, 'cordoned', `${observer} sees p0 cordoned`)
  }
  cluster.apply(services({ web: { command: 'serve', replicas: 12 } }))
  cluster.runFor(5_000)
  assert.is(cluster.upSlots('web').size, 12, 'every new slot runs')
  assert.equal(slotsOf(cluster, 'p0'), before, 'p0 kept its slots and took none')

  cluster.diskFull('p0', false)
  cluster.runFor(1_000)
  assert.is(cluster.machine('p1').peerViews().find((view) => view.id === p('p0'))?.state, 'alive')
  cluster.apply(services({ web: { command: 'serve', replicas: 18 } }))
  cluster.runFor(5_000)
  assert.is(cluster.upSlots('web').size, 18)
  assert.ok(slotsOf(cluster, 'p0').length > before.length, `p0 takes slots again: ${slotsOf(cluster, 'p0').join(' ')}`)
})

diskFull('a task waiting to restart on the full peer is given up and runs elsewhere at once', () => {
  const cluster = settled()
  const victim = slotsOf(cluster, 'p0')[0]!
  // The task fails; the restart policy would start it again here after its backoff.
  cluster.exit('p0', slot('web', Number(victim.split('/')[1])), 1, 'failed')
  const failedAt = cluster.now
  cluster.diskFull('p0', true)
  const back = cluster.runUntilTrue(() => (cluster.upSlots('web').get(slot('web', Number(victim.split('/')[1]))) ?? []).some((peer) => peer !== p('p0')), failedAt + 10_000)
  assert.ok(back !== undefined, `${victim} runs on another peer`)
  assert.ok(back! - failedAt < 1_000, `within a placement, not after the backoff: ${back! - failedAt} ms`)
  cluster.runFor(3_000)
  assert.equal(cluster.placement('web').get(slot('web', Number(victim.split('/')[1]))), cluster.upSlots('web').get(slot('web', Number(victim.split('/')[1]))), 'once, and not on p0')
  assert.not.ok(slotsOf(cluster, 'p0').includes(victim))
})

diskFull('the flag crosses the wire, and an advert without it decodes without it', () => {
  const advert = { peer: p('p0'), incarnation: 1, version: 2, capacity: { cpuMilli: 1000, memoryMiB: 512, extended: {} }, allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['process' as const], tasks: [] }
  const roundTrip = (message: Message) => decodeMessage(encodeMessage(message))
  const full = roundTrip({ kind: 'advert', advert: { ...advert, diskFull: true } })
  assert.ok(full.ok && full.message.kind === 'advert' && full.message.advert.diskFull === true, JSON.stringify(full))
  const plain = roundTrip({ kind: 'advert', advert })
  assert.ok(plain.ok && plain.message.kind === 'advert' && !('diskFull' in plain.message.advert), JSON.stringify(plain))
})

diskFull.run()
