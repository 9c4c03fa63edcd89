// The network model: latency as configured, loss and duplication at their rates, partitions,
// isolation and pauses with the documented semantics, and gossip broadcast in about log_6 N hops.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  GOSSIP_MESH_DEGREE, LAN_PROFILE, Network, WAN_PROFILE, linkSampler, networkConfigProblems, type NetworkConfig,
} from '../../sim/network.js'
import { percentile } from '../../sim/metrics.js'
import { seededRandom } from '../../core/index.js'

const names = (count: number) => Array.from({ length: count }, (_, i) => `p${i}`)
const constant = (ms: number): NetworkConfig => ({ ...LAN_PROFILE, latencyMs: { distribution: 'constant', medianMs: ms, p99Ms: ms } })

const latency = suite('latency')

latency('the LAN profile has a median near 0.5 ms and a p99 near 3 ms', () => {
  const network = new Network(LAN_PROFILE, seededRandom(1), names(2))
  const delays = Array.from({ length: 40_000 }, () => network.deliveryDelays('p0', 'p1')[0]!)
  assert.ok(Math.abs(percentile(delays, 50) - 0.5) < 0.02, `median ${percentile(delays, 50)}`)
  assert.ok(Math.abs(percentile(delays, 99) - 3) < 0.3, `p99 ${percentile(delays, 99)}`)
  assert.ok(delays.every((d) => d > 0))
})

latency('a uniform distribution keeps the median and p99 when it can', () => {
  const sample = linkSampler({ distribution: 'uniform', medianMs: 10, p99Ms: 14.9 }, seededRandom(2))
  const delays = Array.from({ length: 40_000 }, sample)
  assert.ok(Math.abs(percentile(delays, 50) - 10) < 0.1)
  assert.ok(Math.abs(percentile(delays, 99) - 14.9) < 0.1)
  const clamped = linkSampler({ distribution: 'uniform', medianMs: 1, p99Ms: 9.9 }, seededRandom(2))
  const low = Array.from({ length: 40_000 }, clamped)
  assert.ok(low.every((d) => d >= 0 && d < 10))
  assert.ok(Math.abs(percentile(low, 99) - 9.9) < 0.1)
})

latency('a constant distribution always gives the median', () => {
  const network = new Network(constant(2), seededRandom(3), names(2))
  for (let i = 0; i < 10; i++) assert.equal(network.deliveryDelays('p0', 'p1'), [2])
})

latency('the same seed gives the same delays', () => {
  const run = () => {
    const network = new Network(WAN_PROFILE, seededRandom('net'), names(20))
    return Array.from({ length: 200 }, (_, i) => network.deliveryDelays(`p${i % 20}`, `p${(i * 7) % 20}`))
  }
  assert.equal(run(), run())
})

latency('the WAN profile is valid and slower than the LAN one', () => {
  assert.equal(networkConfigProblems(WAN_PROFILE), [])
  assert.ok(WAN_PROFILE.latencyMs.medianMs > LAN_PROFILE.latencyMs.p99Ms)
})

latency('an invalid configuration is refused with the field named', () => {
  const bad: NetworkConfig = { ...LAN_PROFILE, loss: 1.5, latencyMs: { distribution: 'lognormal', medianMs: 5, p99Ms: 1 } }
  assert.equal(networkConfigProblems(bad).length, 2)
  assert.throws(() => new Network(bad, seededRandom(1), names(2)), /loss: expected a probability.*|latencyMs\.p99Ms/)
})

const faults = suite('loss, duplication and slow peers')

faults('loss drops about the configured fraction of messages', () => {
  const network = new Network({ ...constant(1), loss: 0.3 }, seededRandom(4), names(2))
  let lost = 0
  for (let i = 0; i < 20_000; i++) if (network.deliveryDelays('p0', 'p1').length === 0) lost++
  assert.ok(Math.abs(lost / 20_000 - 0.3) < 0.02, `lost ${lost}`)
  assert.is(network.stats.lost, lost)
  assert.is(network.stats.sent, 20_000)
})

faults('setLoss(1) drops everything and setLoss(0) nothing', () => {
  const network = new Network(constant(1), seededRandom(5), names(3))
  network.setLoss(1)
  assert.equal(network.deliveryDelays('p0', 'p1'), [])
  assert.is(network.broadcastDelays('p0', names(3)).peers.length, 0)
  network.setLoss(0)
  assert.equal(network.deliveryDelays('p0', 'p1'), [1])
  assert.throws(() => network.setLoss(2), /probability/)
})

faults('duplication delivers a second copy with its own delay', () => {
  const network = new Network({ ...LAN_PROFILE, duplicate: 1 }, seededRandom(6), names(2))
  const delays = network.deliveryDelays('p0', 'p1')
  assert.is(delays.length, 2)
  assert.is.not(delays[0], delays[1])
  network.setDuplicate(0)
  assert.is(network.deliveryDelays('p0', 'p1').length, 1)
  assert.is(network.stats.duplicated, 1)
})

faults('exactly round(fraction × N) peers are slow, and their links are factor times slower', () => {
  const peers = names(100)
  const network = new Network({ ...constant(1), slowPeers: { fraction: 0.1, factor: 4 } }, seededRandom(7), peers)
  const slow = peers.filter((p) => network.isSlow(p))
  const fast = peers.filter((p) => !network.isSlow(p))
  assert.is(slow.length, 10)
  assert.equal(network.deliveryDelays(fast[0]!, fast[1]!), [1])
  assert.equal(network.deliveryDelays(fast[0]!, slow[0]!), [4])
  assert.equal(network.deliveryDelays(slow[0]!, slow[1]!), [4])
  const again = new Network({ ...constant(1), slowPeers: { fraction: 0.1, factor: 4 } }, seededRandom(7), peers)
  assert.equal(peers.filter((p) => again.isSlow(p)), slow)
})

const reachability = suite('partitions, isolation and pauses')

reachability('peers in different partition groups cannot reach each other until heal', () => {
  const network = new Network(constant(1), seededRandom(8), names(6))
  network.partition([['p0', 'p1'], ['p2', 'p3']])
  assert.equal(network.deliveryDelays('p0', 'p1'), [1])
  assert.equal(network.deliveryDelays('p0', 'p2'), [])
  assert.equal(network.deliveryDelays('p3', 'p1'), [])
  // Unlisted peers are together in one more group.
  assert.equal(network.deliveryDelays('p4', 'p5'), [1])
  assert.equal(network.deliveryDelays('p4', 'p0'), [])
  assert.is(network.stats.unreachable, 3)
  network.heal()
  assert.equal(network.deliveryDelays('p0', 'p2'), [1])
  assert.ok(network.reachable('p4', 'p0'))
})

reachability('a new partition replaces the old one', () => {
  const network = new Network(constant(1), seededRandom(8), names(4))
  network.partition([['p0'], ['p1']])
  network.partition([['p0', 'p1']])
  assert.ok(network.reachable('p0', 'p1'))
  assert.not.ok(network.reachable('p0', 'p2'))
})

reachability('a partition naming a peer twice, or an unknown peer, is refused', () => {
  const network = new Network(constant(1), seededRandom(8), names(4))
  assert.throws(() => network.partition([['p0'], ['p0', 'p1']]), /more than one/)
  assert.throws(() => network.partition([['nobody']]), /unknown peer/)
  assert.throws(() => network.deliveryDelays('p0', 'nobody'), /unknown peer/)
})

reachability('an isolated peer reaches nobody until reconnected; heal also reconnects', () => {
  const network = new Network(constant(1), seededRandom(9), names(3))
  network.isolate('p1')
  assert.equal(network.deliveryDelays('p0', 'p1'), [])
  assert.equal(network.deliveryDelays('p1', 'p2'), [])
  assert.equal(network.deliveryDelays('p0', 'p2'), [1])
  network.reconnect('p1')
  assert.equal(network.deliveryDelays('p1', 'p2'), [1])
  network.isolate('p2')
  network.heal()
  assert.ok(network.reachable('p0', 'p2'))
})

reachability('a paused peer holds what arrives and gets it back, in order, on resume', () => {
  const network = new Network<string>(constant(1), seededRandom(10), names(2))
  assert.not.ok(network.isPaused('p1'))
  network.pause('p1')
  assert.ok(network.isPaused('p1'))
  assert.equal(network.pausedPeers(), ['p1'])
  // Messages still travel; the runner holds them on arrival.
  assert.equal(network.deliveryDelays('p0', 'p1'), [1])
  network.hold('p1', 'first')
  network.hold('p1', 'second')
  assert.equal(network.resume('p1'), ['first', 'second'])
  assert.not.ok(network.isPaused('p1'))
  assert.equal(network.resume('p1'), [])
  assert.throws(() => network.hold('p1', 'late'), /not paused/)
})

reachability('a peer added later can be reached, and sits with the unlisted peers of a partition', () => {
  const network = new Network(constant(1), seededRandom(11), names(2))
  network.partition([['p0']])
  for (let i = 0; i < 40; i++) network.addPeer(`late${i}`)
  assert.ok(network.reachable('p1', 'late0'))
  assert.ok(network.reachable('late3', 'late39'))
  assert.not.ok(network.reachable('p0', 'late0'))
  assert.throws(() => network.addPeer('p0'), /already/)
  assert.is(network.peers.length, 42)
})

const broadcast = suite('broadcast')

broadcast('reaches every other peer once, sorted by delay, never the sender', () => {
  const peers = names(50)
  const network = new Network(LAN_PROFILE, seededRandom(12), peers)
  const delivery = network.broadcastDelays('p0', peers)
  assert.is(delivery.peers.length, 49)
  assert.is(new Set(delivery.peers).size, 49)
  assert.not.ok(delivery.peers.includes('p0'))
  for (let i = 1; i < delivery.delaysMs.length; i++) assert.ok(delivery.delaysMs[i]! >= delivery.delaysMs[i - 1]!)
})

broadcast('the farthest peer is ceil(log_6 N) hops away and the nearest one hop', () => {
  const peers = names(1000)
  const network = new Network(constant(1), seededRandom(13), peers)
  const delivery = network.broadcastDelays('p0', peers)
  assert.is(delivery.delaysMs[0], 1)
  assert.is(delivery.delaysMs[delivery.delaysMs.length - 1], Math.ceil(Math.log(1000) / Math.log(GOSSIP_MESH_DEGREE)))
  assert.is(delivery.delaysMs.filter((d) => d === 1).length, GOSSIP_MESH_DEGREE)
})

broadcast('loss drops each recipient independently at the configured rate', () => {
  const peers = names(5000)
  const network = new Network({ ...constant(1), loss: 0.1 }, seededRandom(14), peers)
  const delivery = network.broadcastDelays('p0', peers)
  assert.ok(Math.abs(delivery.lost / 4999 - 0.1) < 0.015, `lost ${delivery.lost}`)
  assert.is(delivery.peers.length + delivery.lost, 4999)
  // Lost forwards do not cut off subtrees: deep peers are lost no more often than near ones.
  const deepest = delivery.delaysMs.filter((d) => d === 5).length
  assert.ok(deepest > 0.8 * (4999 - 1554))
})

broadcast('reaches only the sender\'s side of a partition and is never duplicated', () => {
  const peers = names(30)
  const network = new Network({ ...constant(1), duplicate: 1 }, seededRandom(15), peers)
  network.partition([peers.slice(0, 10)])
  const delivery = network.broadcastDelays('p0', peers)
  assert.equal(delivery.peers.slice().sort(), peers.slice(1, 10).sort())
  assert.is(delivery.unreachable, 20)
  assert.is(network.stats.duplicated, 0)
})

broadcast('a subset of recipients (a topic\'s subscribers) gets it once each, and only they', () => {
  const network = new Network(constant(1), seededRandom(16), names(20))
  const delivery = network.broadcastDelays('p3', ['p1', 'p2', 'p3', 'p2'])
  assert.equal(delivery.peers.slice().sort(), ['p1', 'p2'])
  assert.is(network.broadcastToAll('p3').peers.length, 19)
})

broadcast('by indices it is the same broadcast as by names: same recipients, order, delays and draws', () => {
  const peers = names(200)
  const byName = new Network({ ...LAN_PROFILE, loss: 0.1 }, seededRandom(17), peers)
  const byIndex = new Network({ ...LAN_PROFILE, loss: 0.1 }, seededRandom(17), peers)
  const chosen = [5, 0, 7, 199, 5, 42, 3, 120, 64]
  for (let round = 0; round < 20; round++) {
    const a = byName.broadcastDelays('p7', chosen.map((i) => `p${i}`))
    const b = byIndex.broadcastToIndices('p7', Int32Array.from(chosen))
    assert.equal(b.peers, a.peers)
    assert.equal([...b.indices].map((i) => `p${i}`), a.peers)
    assert.equal([...b.delaysMs], [...a.delaysMs])
    assert.is(b.lost, a.lost)
  }
  assert.equal(byIndex.stats, byName.stats)
  assert.throws(() => byIndex.broadcastToIndices('p7', Int32Array.of(200)), /unknown peer index 200/)
})

latency.run()
faults.run()
reachability.run()
broadcast.run()
