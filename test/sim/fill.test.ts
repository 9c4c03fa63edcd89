// The capacity fleet and `fill`: placement with the agents' functions, all-or-nothing arrivals, the
// stranded capacity, determinism, and — as a property over random gpu fleets and workloads — that no
// peer is ever given more cpu, memory or gpus than it has.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { peerId, placementRequest, replicaSlot, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'
import { Fleet } from '../../sim/fleet.js'
import { fill, typicalRequest } from '../../sim/fill.js'
import { noOvercommit } from '../../sim/invariants.js'

const peer = (id: string, cpu: number, memoryMiB: number, extended: Record<string, number> = {}, labels: Record<string, string> = {}): PeerView => ({
  id: peerId(id), state: 'alive', capacity: { cpuMilli: cpu * 1000, memoryMiB, extended },
  allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels, drivers: ['docker', 'process'], tasks: [],
})

function services(bodies: Record<string, Record<string, unknown>>): ServiceSpec[] {
  const result = validateServices({ services: Object.fromEntries(Object.entries(bodies).map(([name, body]) => [name, { command: ['run'], ...body }])) })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

const fillSuite = suite('fill')

fillSuite('fills until the run of failures, then reports allocation and what fitted', () => {
  const peers = [peer('a', 4, 8192), peer('b', 4, 8192)]
  const result = fill({ seed: 1, peers, services: services({ one: { resources: { cpu: 1, memory: 256 } } }), strategies: ['spread', 'binpack'], failuresInRow: 5 })
  for (const s of result.strategies) {
    assert.is(s.servicesPlaced, 8)
    assert.is(s.arrivals, 13)
    assert.is(s.resources.cpu!.allocatedShare, 1)
    assert.is(s.resources.memory!.allocated, 2048)
    assert.is(s.peersInUse, 2)
  }
})

fillSuite('an arrival that cannot place every replica places none', () => {
  const peers = [peer('a', 4, 8192), peer('b', 4, 8192)]
  const result = fill({ seed: 1, peers, services: services({ wide: { replicas: 3, maxPerNode: 1, resources: { cpu: 1, memory: 64 } } }), strategies: ['spread'], failuresInRow: 3 })
  assert.is(result.strategies[0]!.servicesPlaced, 0)
  assert.is(result.strategies[0]!.resources.cpu!.allocated, 0)
})

fillSuite('gpus left beside used-up cores count as stranded when the typical task wants no gpu', () => {
  const peers = [peer('g', 4, 8192, { gpu: 4 }), peer('c', 4, 8192)]
  const result = fill({ seed: 2, peers, services: services({ web: { resources: { cpu: 1, memory: 128 } } }), strategies: ['binpack'], failuresInRow: 4 })
  const gpu = result.strategies[0]!.resources.gpu!
  assert.equal({ allocated: gpu.allocated, stranded: gpu.stranded, strandedShare: gpu.strandedShare }, { allocated: 0, stranded: 4, strandedShare: 1 })
})

fillSuite('binpack keeps peers empty that spread would use, on a light workload', () => {
  const peers = Array.from({ length: 8 }, (_, i) => peer(`p${i}`, 8, 16384))
  const workload = services({ small: { resources: { cpu: '500m', memory: 256 } } })
  // failuresInRow is never reached before the limit: compare after 20 arrivals.
  const result = fill({ seed: 3, peers, services: workload, strategies: ['binpack', 'spread'], failuresInRow: 1, maxArrivals: 20 })
  const [binpack, spread] = result.strategies
  assert.is(binpack!.stoppedBy, 'arrival-limit')
  assert.ok(binpack!.peersInUse < spread!.peersInUse, `${binpack!.peersInUse} vs ${spread!.peersInUse}`)
  assert.is(spread!.peersInUse, 8)
})

fillSuite('the same seed gives the same result; another seed draws differently', () => {
  const peers = Array.from({ length: 20 }, (_, i) => peer(`p${i}`, 8, 16384, i % 4 === 0 ? { gpu: 2 } : {}))
  const workload = services({ a: { replicas: 2, resources: { cpu: 1, memory: 512 } }, b: { resources: { cpu: 3, memory: 4096, gpu: 1 } }, c: { replicas: 5, resources: { cpu: '250m', memory: 128 } } })
  const run = (seed: number) => JSON.stringify(fill({ seed, peers, services: workload, strategies: ['binpack', 'spread'], failuresInRow: 10 }))
  assert.is(run(4), run(4))
  assert.is.not(run(4), run(5))
})

fillSuite('the typical request is the median per resource, replicas counted', () => {
  const typical = typicalRequest(services({
    big: { replicas: 1, resources: { cpu: 8, memory: 8192, gpu: 2 } },
    small: { replicas: 5, resources: { cpu: '250m', memory: 128 } },
  }))
  assert.equal(typical, { cpuMilli: 250, memoryMiB: 128, extended: {} })
})

fillSuite('an empty workload is refused', () => {
  assert.throws(() => fill({ seed: 1, peers: [peer('a', 1, 1024)], services: [], strategies: ['spread'], failuresInRow: 1 }), /at least one service/)
})

fillSuite.run()

const fleetSuite = suite('Fleet')

fleetSuite('losing peers frees what they held and takes them out of placement', () => {
  const fleet = new Fleet([peer('a', 2, 4096), peer('b', 2, 4096)])
  const [web] = services({ web: { replicas: 4, resources: { cpu: 1, memory: 128 } } })
  const want = placementRequest(web!)
  assert.equal(fleet.place(want, [0, 1, 2, 3].map((i) => replicaSlot(web!.name, i)), true), { ok: true, placed: 4 })
  const lost = fleet.lose([peerId('a')])
  assert.is(lost.length, 2)
  assert.equal(fleet.totals().get('cpu'), { capacity: 2000, allocated: 2000 })
  assert.equal(fleet.place(want, lost.map((t) => t.slot), false), { ok: false, placed: 0 })
})

fleetSuite('a constraint no live peer meets is told apart from a lack of room', () => {
  const fleet = new Fleet([peer('a', 2, 4096, {}, { zone: 'z1' }), peer('b', 2, 4096, {}, { zone: 'z2' })])
  const [pinned] = services({ pinned: { resources: { cpu: 1, memory: 128 }, constraints: ['zone == z1'] } })
  assert.ok(fleet.couldHostAnywhere(placementRequest(pinned!)))
  fleet.lose([peerId('a')])
  assert.not.ok(fleet.couldHostAnywhere(placementRequest(pinned!)))
})

fleetSuite.run()

// --- the property ---

const peerArb = (index: number) => fc.record({
  cores: fc.integer({ min: 1, max: 16 }),
  memoryGiB: fc.integer({ min: 1, max: 32 }),
  gpu: fc.constantFrom(0, 0, 1, 2, 4, 8),
  fpga: fc.constantFrom(0, 0, 0, 1),
  zone: fc.constantFrom('a', 'b', 'c'),
}).map((p) => peer(`p${index}`, p.cores, p.memoryGiB * 1024, { ...(p.gpu > 0 ? { gpu: p.gpu } : {}), ...(p.fpga > 0 ? { fpga: p.fpga } : {}) }, { zone: p.zone }))

const fleetArb = fc.integer({ min: 1, max: 25 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => peerArb(i))))

const workloadArb = fc.array(fc.record({
  replicas: fc.integer({ min: 1, max: 6 }),
  cpu: fc.integer({ min: 1, max: 40 }).map((c) => `${c * 100}m`),
  memory: fc.integer({ min: 1, max: 64 }).map((m) => m * 128),
  gpu: fc.constantFrom(0, 0, 1, 1, 2, 3),
  fpga: fc.constantFrom(0, 0, 0, 1),
  strategy: fc.constantFrom('spread', 'binpack'),
  spreadBy: fc.constantFrom(undefined, 'zone'),
  maxPerNode: fc.constantFrom(0, 0, 1, 2),
}), { minLength: 1, maxLength: 6 }).map((list) => services(Object.fromEntries(list.map((s, i) => [`s${i}`, {
  replicas: s.replicas,
  resources: { cpu: s.cpu, memory: s.memory, ...(s.gpu > 0 ? { gpu: s.gpu } : {}), ...(s.fpga > 0 ? { fpga: s.fpga } : {}) },
  strategy: s.strategy,
  maxPerNode: s.maxPerNode,
  ...(s.spreadBy ? { spreadBy: s.spreadBy } : {}),
}]))))

const property = suite('no-overcommit with extended resources (property)')

property('filling any fleet with any workload never gives a peer more cpu, memory, gpus or fpgas than it has', () => {
  fc.assert(fc.property(fleetArb, workloadArb, fc.integer({ min: 0, max: 1000 }), (peers, workload, seed) => {
    const fleet = new Fleet(peers)
    // Arrivals as fill makes them, on a fleet kept to inspect afterwards.
    for (let i = 0; i < 60; i++) {
      const spec = workload[(seed + i * 7) % workload.length]!
      const name = `${spec.name}-${i}` as ServiceSpec['name']
      fleet.place({ ...placementRequest(spec), service: name }, Array.from({ length: spec.replicas }, (_, r) => replicaSlot(name, r)), i % 2 === 0)
    }
    const world = {
      atMs: 0, services: [], done: new Set<string>(), digests: new Map(), globalPeers: new Map(),
      peers: fleet.peers.map((p) => ({ id: p.id, cpuMilli: p.capacity.cpuMilli, memoryMiB: p.capacity.memoryMiB, extended: p.capacity.extended })),
      tasks: fleet.peers.flatMap((p) => p.tasks.map((t) => ({
        peer: p.id, slot: t.slot, service: t.service, specHash: t.specHash, cpuMilli: t.resources.cpuMilli, memoryMiB: t.resources.memoryMiB, extended: t.resources.extended,
      }))),
    }
    assert.equal(noOvercommit(world), [])
    // The fleet's bookkeeping agrees with the tasks it holds.
    for (const p of fleet.peers) {
      const gpus = p.tasks.reduce((sum, t) => sum + (t.resources.extended.gpu ?? 0), 0)
      assert.is(p.allocated.extended.gpu ?? 0, gpus, `${p.id} gpu bookkeeping`)
    }
  }), { numRuns: 120 })
})

property('the no-overcommit checker reports a peer running more gpus than it has, naming the resource', () => {
  const violations = noOvercommit({
    atMs: 5, services: [], done: new Set(), digests: new Map(), globalPeers: new Map(),
    peers: [{ id: 'g', cpuMilli: 4000, memoryMiB: 4096, extended: { gpu: 1 } }, { id: 'c', cpuMilli: 4000, memoryMiB: 4096 }],
    tasks: [
      { peer: 'g', slot: 't/0', service: 't', specHash: 'h', cpuMilli: 100, memoryMiB: 64, extended: { gpu: 1 } },
      { peer: 'g', slot: 't/1', service: 't', specHash: 'h', cpuMilli: 100, memoryMiB: 64, extended: { gpu: 1 } },
      { peer: 'c', slot: 't/2', service: 't', specHash: 'h', cpuMilli: 100, memoryMiB: 64, extended: { gpu: 1 } },
    ],
  })
  assert.equal(violations.map((v) => v.detail), ['g runs 2 gpu on 1', 'c runs 1 gpu on 0'])
})

property.run()
