// Synthetic workloads: valid specs and inventories, the asked totals, and only constraints that
// some synthetic peer can meet.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { feasible, placementRequest, validateInventory } from '../../core/index.js'
import { seededRandom } from '../../core/index.js'
import { ARCHES, PEER_PROFILES, ZONES, demandRatio, syntheticPeerViews, syntheticPeers, syntheticServices } from '../../sim/workload.js'

const services = suite('syntheticServices')

services('replica counts add up to exactly the total, 1 to 50 per service', () => {
  for (const replicas of [0, 1, 37, 10_000]) {
    const specs = syntheticServices(seededRandom(replicas), { replicas })
    assert.is(specs.reduce((sum, s) => sum + s.replicas, 0), replicas)
    assert.ok(specs.every((s) => s.replicas >= 1 && s.replicas <= 50))
  }
})

services('a fixed number of services splits the total, at least one each', () => {
  const specs = syntheticServices(seededRandom(1), { replicas: 1000, services: 7 })
  assert.is(specs.length, 7)
  assert.is(specs.reduce((sum, s) => sum + s.replicas, 0), 1000)
  assert.ok(specs.every((s) => s.replicas >= 1))
  assert.throws(() => syntheticServices(seededRandom(1), { replicas: 3, services: 7 }), /at least one each/)
})

services('requests stay in range and every trait appears in a large enough workload', () => {
  const specs = syntheticServices(seededRandom(2), { replicas: 5000 })
  for (const spec of specs) {
    assert.ok(spec.resources.cpuMilli >= 100 && spec.resources.cpuMilli <= 1000 && spec.resources.cpuMilli % 50 === 0)
    assert.ok(spec.resources.memoryMiB >= 64 && spec.resources.memoryMiB <= 1024 && spec.resources.memoryMiB % 64 === 0)
    assert.is(spec.mode, 'replicated')
  }
  assert.ok(specs.some((s) => s.constraints.length > 0))
  assert.ok(specs.some((s) => s.strategy === 'binpack'))
  assert.ok(specs.some((s) => s.spreadBy === 'zone'))
  assert.ok(specs.some((s) => s.maxPerNode === 1))
  assert.ok(specs.every((s) => Object.keys(s.resources.extended).length === 0), 'no GPUs unless asked')
  assert.ok(new Set(specs.map((s) => s.name)).size === specs.length)
})

services('the mix can be changed', () => {
  const specs = syntheticServices(seededRandom(3), { replicas: 500, mix: { constrained: 0, binpack: 1, gpu: 1 }, prefix: 'job' })
  assert.ok(specs.every((s) => s.constraints.length === 0 && s.strategy === 'binpack' && s.resources.extended.gpu === 1))
  assert.ok(specs[0]!.name.startsWith('job-'))
})

services('the same seed gives the same services', () => {
  assert.equal(syntheticServices(seededRandom(4), { replicas: 300 }), syntheticServices(seededRandom(4), { replicas: 300 }))
  assert.not.equal(syntheticServices(seededRandom(4), { replicas: 300 }), syntheticServices(seededRandom(5), { replicas: 300 }))
})

const peers = suite('syntheticPeers')

peers('every profile validates as an inventory, with every zone and architecture present', () => {
  for (const profile of PEER_PROFILES) {
    const inventory = syntheticPeers(seededRandom(6), 40, profile)
    const result = validateInventory({ peers: inventory }, [])
    assert.ok(result.ok, `${profile}: ${JSON.stringify(!result.ok && result.errors)}`)
    if (!result.ok) continue
    assert.is(result.peers.length, 40)
    assert.equal(new Set(result.peers.map((p) => p.labels.zone)).size, ZONES.length)
    assert.equal([...new Set(result.peers.map((p) => p.labels.arch))].sort(), [...ARCHES].sort())
    assert.ok(result.peers.every((p) => p.capacity.cpuMilli >= 2000 && p.capacity.memoryMiB >= 2048))
  }
})

peers('five peers are enough for both architectures', () => {
  for (const profile of PEER_PROFILES) {
    const views = syntheticPeerViews(seededRandom(7), 5, profile)
    assert.equal([...new Set(views.map((p) => p.labels.arch))].sort(), [...ARCHES].sort(), profile)
  }
})

peers('every synthetic service fits on some empty synthetic peer', () => {
  const views = syntheticPeerViews(seededRandom(8), 12, 'edge')
  for (const spec of syntheticServices(seededRandom(9), { replicas: 3000 })) {
    const request = placementRequest(spec)
    assert.ok(views.some((peer) => feasible(peer, request).ok), `${spec.name} fits nowhere`)
  }
})

peers('names are unique and sortable, and counts are checked', () => {
  const list = syntheticPeers(seededRandom(10), 1500, 'uniform')
  assert.is(list[0]!.name, 'peer-000001')
  assert.is(new Set(list.map((p) => p.name)).size, 1500)
  assert.equal(list.map((p) => p.name), list.map((p) => p.name).sort())
  assert.throws(() => syntheticPeers(seededRandom(1), -1), /whole number/)
  assert.throws(() => syntheticPeers(seededRandom(1), 3, 'moon' as never), /unknown peer profile/)
})

peers('demandRatio says how full the cluster would be', () => {
  const views = syntheticPeerViews(seededRandom(11), 10, 'uniform')
  const specs = syntheticServices(seededRandom(12), { replicas: 40, services: 1 })
  const ratio = demandRatio(specs, views)
  assert.is(ratio.cpu, (specs[0]!.resources.cpuMilli * 40) / 40_000)
  assert.is(ratio.memory, (specs[0]!.resources.memoryMiB * 40) / 81_920)
})

services.run()
peers.run()
