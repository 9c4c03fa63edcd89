// Safety properties of the placement core, stated in plain words and checked with fast-check over
// random clusters and random services.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {
  auction, compileConstraint, feasible, peerId, placementRequest, plan, resolveClaims, validateServices,
  type Bid, type Claim, type PeerState, type PeerView, type ServiceSpec, type SlotId, type TaskView,
} from '../../../core/index.js'

const RUNS = { numRuns: 150 }

// --- generators ---

const peerArb = (index: number) => fc.record({
  cpuCores: fc.integer({ min: 1, max: 16 }),
  memoryGiB: fc.integer({ min: 1, max: 32 }),
  gpu: fc.constantFrom(0, 0, 0, 1, 2),
  zone: fc.constantFrom('a', 'b', 'c', undefined),
  arch: fc.constantFrom('amd64', 'arm64'),
  state: fc.constantFrom<PeerState>('alive', 'alive', 'alive', 'alive', 'suspect', 'dead', 'draining', 'cordoned'),
  docker: fc.boolean(),
}).map((p): PeerView => ({
  id: peerId(`p${index}`),
  state: p.state,
  capacity: { cpuMilli: p.cpuCores * 1000, memoryMiB: p.memoryGiB * 1024, extended: p.gpu > 0 ? { gpu: p.gpu } : {} },
  allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} },
  labels: { arch: p.arch, ...(p.zone ? { zone: p.zone } : {}) },
  drivers: p.docker ? ['docker', 'process'] : ['process'],
  tasks: [],
}))

const clusterArb = (min: number, max: number) =>
  fc.integer({ min, max }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => peerArb(i))))

const serviceBodyArb = fc.record({
  replicas: fc.integer({ min: 0, max: 40 }),
  cpu: fc.integer({ min: 1, max: 40 }).map((c) => `${c * 50}m`),
  memory: fc.integer({ min: 1, max: 64 }).map((m) => m * 64),
  gpu: fc.constantFrom(0, 0, 0, 1),
  constraint: fc.constantFrom(undefined, 'zone == a', 'arch in (amd64)', 'zone exists', 'arch matches ^arm'),
  maxPerNode: fc.constantFrom(0, 0, 1, 2),
  strategy: fc.constantFrom('spread', 'binpack'),
  port: fc.boolean(),
  spreadBy: fc.constantFrom(undefined, 'zone'),
  mode: fc.constantFrom('replicated', 'replicated', 'replicated', 'global', 'job'),
  docker: fc.boolean(),
}).map((s) => ({
  ...(s.docker ? { image: 'peer-test:latest' } : { command: ['sleep', '1000'] }),
  replicas: s.replicas,
  mode: s.mode,
  resources: { cpu: s.cpu, memory: s.memory, ...(s.gpu ? { gpu: s.gpu } : {}) },
  ...(s.constraint ? { constraints: [s.constraint] } : {}),
  maxPerNode: s.maxPerNode,
  strategy: s.strategy,
  ...(s.port ? { ports: ['8080:80'] } : {}),
  ...(s.spreadBy ? { spreadBy: s.spreadBy } : {}),
}))

const servicesArb = fc.array(serviceBodyArb, { minLength: 1, maxLength: 4 }).map((bodies): ServiceSpec[] => {
  const result = validateServices({ services: Object.fromEntries(bodies.map((b, i) => [`svc${i}`, b])) })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
})

/** The cluster after a plan: the input peers with the placed tasks added. */
function applyPlan(peers: readonly PeerView[], services: readonly ServiceSpec[], placements: ReturnType<typeof plan>['placements']): PeerView[] {
  const specs = new Map(services.map((s) => [s.name, s]))
  return peers.map((peer) => {
    const added: TaskView[] = placements.filter((p) => p.peer === peer.id).map((p) => {
      const spec = specs.get(p.service)!
      return { slot: p.slot, service: p.service, peer: peer.id, specHash: 'x', state: 'pending', since: 0, resources: spec.resources, ports: spec.ports }
    })
    const allocated = added.reduce((sum, t) => ({
      cpuMilli: sum.cpuMilli + t.resources.cpuMilli,
      memoryMiB: sum.memoryMiB + t.resources.memoryMiB,
      extended: Object.fromEntries([...new Set([...Object.keys(sum.extended), ...Object.keys(t.resources.extended)])]
        .map((k) => [k, (sum.extended[k] ?? 0) + (t.resources.extended[k] ?? 0)])),
    }), peer.allocated)
    return { ...peer, allocated, tasks: [...peer.tasks, ...added] }
  })
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let state = seed >>> 0 || 1
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const properties = suite('placement safety')

properties('no peer is ever over-committed', () => {
  fc.assert(fc.property(clusterArb(1, 30), servicesArb, (peers, services) => {
    const result = plan({ services, peers, now: 0, explain: false })
    // Recomputed from the placements, not taken from the planner's own accounting.
    for (const peer of applyPlan(peers, services, result.placements)) {
      assert.ok(peer.allocated.cpuMilli <= peer.capacity.cpuMilli, `${peer.id} cpu`)
      assert.ok(peer.allocated.memoryMiB <= peer.capacity.memoryMiB, `${peer.id} memory`)
      for (const [name, amount] of Object.entries(peer.allocated.extended)) {
        assert.ok(amount <= (peer.capacity.extended[name] ?? 0), `${peer.id} ${name}`)
      }
    }
    // And the planner's accounting agrees with it.
    const recomputed = new Map(applyPlan(peers, services, result.placements).map((p) => [p.id, p.allocated]))
    for (const usage of result.peers) assert.equal(usage.allocated.cpuMilli, recomputed.get(usage.peer)!.cpuMilli)
  }), RUNS)
})

properties('no slot goes to an infeasible peer', () => {
  fc.assert(fc.property(clusterArb(1, 30), servicesArb, (peers, services) => {
    const result = plan({ services, peers, now: 0, explain: false })
    const byId = new Map(peers.map((p) => [p.id, p]))
    const specs = new Map(services.map((s) => [s.name, s]))
    const perPeerService = new Map<string, number>()
    const portsPerPeer = new Map<string, number>()
    for (const placement of result.placements) {
      const peer = byId.get(placement.peer)!
      const spec = specs.get(placement.service)!
      assert.is(peer.state, 'alive', `${placement.slot} on ${peer.id}`)
      assert.ok(peer.drivers.includes(spec.driver), `${placement.slot} driver`)
      for (const constraint of spec.constraints) assert.ok(compileConstraint(constraint).test(peer.labels), `${placement.slot} constraint`)
      const key = `${peer.id}/${spec.name}`
      perPeerService.set(key, (perPeerService.get(key) ?? 0) + 1)
      const limit = placementRequest(spec).maxPerNode
      if (limit > 0) assert.ok(perPeerService.get(key)! <= limit, `${key} exceeds maxPerNode ${limit}`)
      for (const port of spec.ports) {
        const portKey = `${peer.id}:${port.host}/${port.protocol}`
        portsPerPeer.set(portKey, (portsPerPeer.get(portKey) ?? 0) + 1)
        assert.is(portsPerPeer.get(portKey), 1, `${portKey} bound twice`)
      }
    }
  }), RUNS)
})

properties('a slot stays pending only when no live peer could take it', () => {
  fc.assert(fc.property(clusterArb(1, 40), servicesArb, (peers, services) => {
    const result = plan({ services, peers, now: 0, explain: false })
    if (result.pending.length === 0) return
    const after = applyPlan(peers, services, result.placements)
    const specs = new Map(services.map((s) => [s.name, s]))
    for (const pending of result.pending) {
      const spec = specs.get(pending.service)!
      if (spec.mode === 'global') continue // a global slot may only go to its own peer
      const want = placementRequest(spec)
      const taker = after.find((peer) => feasible(peer, want).ok)
      assert.is(taker, undefined, `${pending.slot} is pending but ${taker?.id} could take it`)
    }
  }), RUNS)
})

properties('a slot that fits on one peer of many is found by widening', () => {
  fc.assert(fc.property(fc.integer({ min: 50, max: 400 }), fc.nat(), (size, pick) => {
    const lucky = pick % size
    const peers: PeerView[] = Array.from({ length: size }, (_, i) => ({
      id: peerId(`n${i}`),
      state: 'alive',
      capacity: { cpuMilli: 1000, memoryMiB: 1024, extended: (i === lucky ? { gpu: 1 } : {}) as Record<string, number> },
      allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} },
      labels: {},
      drivers: ['process'],
      tasks: [],
    }))
    const spec = validateServices({ services: { train: { command: 'train', resources: { gpu: 1 } } } })
    assert.ok(spec.ok)
    const result = plan({ services: spec.services, peers, now: 0, explain: false })
    assert.is(result.pending.length, 0)
    assert.is(result.placements[0]?.peer, `n${lucky}`)
  }), { numRuns: 60 })
})

properties('each slot is placed at most once and never both placed and kept', () => {
  fc.assert(fc.property(clusterArb(1, 30), servicesArb, (peers, services) => {
    const result = plan({ services, peers, now: 0, explain: false })
    const slots = result.placements.map((p) => p.slot)
    assert.is(new Set(slots).size, slots.length)
    const kept = new Set(result.keep.map((t) => t.slot))
    for (const slot of slots) assert.not.ok(kept.has(slot), slot)
  }), RUNS)
})

properties('spread keeps replica counts within one of each other when capacity allows', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 200 }), fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 40, maxLength: 40 }),
    (size, replicas, extraCores) => {
      const perPeer = Math.ceil(replicas / size)
      const peers: PeerView[] = Array.from({ length: size }, (_, i) => ({
        id: peerId(`n${i}`),
        state: 'alive',
        // Every peer can hold its even share; some can hold more, which spread must not exploit.
        capacity: { cpuMilli: perPeer * 100 + extraCores[i]! * 1000, memoryMiB: perPeer * 64 + extraCores[i]! * 1024, extended: {} },
        allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} },
        labels: {},
        drivers: ['process'],
        tasks: [],
      }))
      const spec = validateServices({ services: { web: { command: 'serve', replicas, resources: { cpu: '100m', memory: 64 } } } })
      assert.ok(spec.ok)
      const result = plan({ services: spec.services, peers, now: 0, explain: false })
      assert.is(result.pending.length, 0)
      const counts = peers.map((p) => result.placements.filter((x) => x.peer === p.id).length)
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts ${counts.join(',')}`)
    }), RUNS)
})

properties('the same cluster and services in any order give byte-identical plans', () => {
  fc.assert(fc.property(clusterArb(1, 25), servicesArb, fc.nat(), (peers, services, seed) => {
    const a = plan({ services, peers, now: 0 })
    const b = plan({ services: shuffled(services, seed), peers: shuffled(peers, seed + 1), now: 0 })
    assert.is(JSON.stringify(b), JSON.stringify(a))
  }), RUNS)
})

// --- the auction and the conflict rule on their own ---

const bidArb = (peer: string) => fc.record({
  round: fc.integer({ min: 0, max: 2 }),
  domain: fc.constantFrom('a', 'b', ''),
  domainCount: fc.integer({ min: 0, max: 3 }),
  existing: fc.integer({ min: 0, max: 3 }),
  offered: fc.integer({ min: 0, max: 5 }),
  cpuCapacityMilli: fc.constantFrom(1000, 2000, 4000),
  cpuAllocatedMilli: fc.constantFrom(0, 500, 1000),
  memoryCapacityMiB: fc.constantFrom(1024, 4096),
  memoryAllocatedMiB: fc.constantFrom(0, 512),
}).map((b): Bid => ({ ...b, peer: peerId(peer), service: 'web' as Bid['service'], specHash: 'v1' }))

const SCORING = { strategy: 'spread', resources: { cpuMilli: 100, memoryMiB: 64, extended: {} } } as const

const bidsArb = fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 0, maxLength: 16 })
  .chain((owners) => fc.tuple(...owners.map((o) => bidArb(`p${o}`))))

properties('the auction does not depend on the order bids arrived in', () => {
  fc.assert(fc.property(bidsArb, fc.integer({ min: 0, max: 12 }), fc.boolean(), fc.nat(), (bids, slotCount, byDomain, seed) => {
    const slots = Array.from({ length: slotCount }, (_, i) => `web/${i}` as SlotId)
    const input = { service: 'web' as Bid['service'], specHash: 'v1', slots, spreadByDomain: byDomain, scoring: SCORING }
    const a = auction({ ...input, bids })
    const b = auction({ ...input, bids: shuffled(bids, seed), slots: shuffled(slots, seed + 7) })
    assert.equal(b, a)
  }), { numRuns: 300 })
})

properties('the auction never gives a peer more slots than its bid offered', () => {
  fc.assert(fc.property(bidsArb, fc.integer({ min: 0, max: 30 }), (bids, slotCount) => {
    const slots = Array.from({ length: slotCount }, (_, i) => `web/${i}` as SlotId)
    const result = auction({ service: 'web' as Bid['service'], specHash: 'v1', slots, bids, spreadByDomain: false, scoring: SCORING })
    const offered = new Map<string, number>()
    for (const bid of bids) {
      const current = offered.get(bid.peer)
      // The newest round counts; the property only needs an upper bound, so take the largest offer.
      offered.set(bid.peer, Math.max(current ?? 0, bid.offered))
    }
    const won = new Map<string, number>()
    for (const award of result.awards) won.set(award.peer, (won.get(award.peer) ?? 0) + 1)
    for (const [peer, count] of won) assert.ok(count <= offered.get(peer)!, `${peer} won ${count}`)
    assert.is(result.awards.length + result.unassigned.length, slotCount)
  }), { numRuns: 300 })
})

properties('conflict resolution keeps exactly one claim per slot, the same one in any order', () => {
  const claimArb = fc.record({
    peer: fc.integer({ min: 0, max: 9 }).map((i) => peerId(`p${i}`)),
    specHash: fc.constantFrom('v1', 'v2'),
    state: fc.constantFrom('starting', 'running', 'healthy'),
  })
  fc.assert(fc.property(fc.uniqueArray(claimArb, { minLength: 1, maxLength: 6, selector: (c) => c.peer }), fc.nat(), fc.constantFrom('v1', 'v2'), (raw, seed, desired) => {
    const claims: Claim[] = raw.map((c) => ({ ...c, slot: 'web/0' as SlotId, state: c.state as Claim['state'] }))
    const eligible = (peer: string) => peer !== 'p3'
    const a = resolveClaims(claims, desired, eligible)
    const b = resolveClaims(shuffled(claims, seed), desired, eligible)
    assert.is(a.keep.peer, b.keep.peer)
    assert.is(a.losers.length, claims.length - 1)
    assert.not.ok(a.losers.some((l) => l.peer === a.keep.peer))
    if (claims.some((c) => c.specHash === desired)) assert.is(a.keep.specHash, desired)
  }), { numRuns: 300 })
})

properties.run()
