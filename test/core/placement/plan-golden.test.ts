// The planner's whole output on seeded clusters, pinned by digest. Optimising the placement core must
// not move a single replica: these digests were recorded from the planner before its hot path was
// rewritten for 100k-peer clusters, and any change to which peer gets which slot, a score, a round,
// a pending reason or an explain report changes them. A deliberate change of placement behaviour
// records new digests (print them with GOLDEN_PRINT=1) and says why in its commit.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  canonicalJson, hash64Hex, peerId, plan, seededRandom, validateServices,
  type PeerState, type PeerView, type PlanResult, type SeededRandom, type ServiceSpec, type TaskView,
} from '../../../core/index.js'

const ZONES = ['z1', 'z2', 'z3', 'z4']

function cluster(size: number, random: SeededRandom): PeerView[] {
  const states: PeerState[] = ['alive', 'alive', 'alive', 'alive', 'alive', 'alive', 'alive', 'alive', 'suspect', 'draining', 'cordoned', 'dead']
  return Array.from({ length: size }, (_, i) => ({
    id: peerId(`peer-${i}`),
    state: i < 8 ? 'alive' : random.pick(states),
    capacity: {
      cpuMilli: random.pick([1000, 4000, 8000, 16000]),
      memoryMiB: random.pick([2048, 8192, 16384, 65536]),
      extended: (i % 25 === 0 ? { gpu: random.pick([1, 2, 4]) } : {}) as Record<string, number>,
    },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} },
    labels: { zone: random.pick(ZONES), arch: random.next() < 0.25 ? 'arm64' : 'amd64', ...(i % 7 === 0 ? { ssd: 'yes' } : {}) },
    drivers: random.next() < 0.1 ? ['process'] : ['docker', 'process'],
    tasks: [],
  }))
}

/** A mixed workload: spread and binpack, constraints, spreadBy, maxPerNode, host ports, gpus, global services, jobs. */
function workload(peers: number, random: SeededRandom, version = 1): ServiceSpec[] {
  const services: Record<string, unknown> = {}
  let replicas = 0
  for (let i = 0; replicas < peers * 4; i++) {
    const mode = i % 97 === 5 ? 'global' : i % 13 === 3 ? 'job' : 'replicated'
    const count = random.pick([0, 1, 2, 3, 5, 10, 20, 50, 200])
    replicas += mode === 'global' ? peers / 4 : count
    services[`svc-${i}`] = {
      ...(random.next() < 0.7 ? { image: `app:${version}` } : { command: ['sleep', String(version)] }),
      mode,
      replicas: count,
      resources: { cpu: random.pick(['50m', '100m', '250m', '500m', '2']), memory: random.pick([64, 128, 256, 512, 4096]), ...(random.next() < 0.03 ? { gpu: 1 } : {}) },
      strategy: random.next() < 0.25 ? 'binpack' : 'spread',
      ...(random.next() < 0.25 ? { constraints: [random.pick(['arch == amd64', 'zone in (z1, z2)', 'arch != arm64', 'ssd exists', 'zone matches ^z[34]$'])] } : {}),
      ...(random.next() < 0.15 ? { spreadBy: 'zone' } : {}),
      ...(random.next() < 0.1 ? { maxPerNode: random.pick([1, 2]) } : {}),
      ...(random.next() < 0.05 ? { ports: [`${8000 + (i % 3)}:80`] } : {}),
    }
  }
  const result = validateServices({ services })
  if (!result.ok) throw new Error(JSON.stringify(result.errors.slice(0, 3)))
  return result.services
}

/** The cluster after a plan, moved on: placed tasks running (some failed or complete), some peers dead. */
function settle(peers: readonly PeerView[], services: readonly ServiceSpec[], result: PlanResult, random: SeededRandom): PeerView[] {
  const specs = new Map(services.map((s) => [s.name, s]))
  const added = new Map<string, TaskView[]>()
  for (const p of result.placements) {
    const spec = specs.get(p.service)!
    const state = random.pick(['running', 'running', 'running', 'healthy', 'pending', 'failed', 'complete'] as const)
    const task: TaskView = { slot: p.slot, service: p.service, peer: p.peer, specHash: result.services.find((s) => s.service === p.service)?.specHash ?? 'x', state, since: 0, resources: spec.resources, ports: spec.ports }
    const list = added.get(p.peer)
    if (list === undefined) added.set(p.peer, [task])
    else list.push(task)
  }
  return peers.map((peer) => {
    const tasks = added.get(peer.id) ?? []
    let cpuMilli = 0
    let memoryMiB = 0
    let gpu = 0
    for (const t of tasks) {
      if (t.state === 'failed' || t.state === 'complete') continue
      cpuMilli += t.resources.cpuMilli
      memoryMiB += t.resources.memoryMiB
      gpu += t.resources.extended.gpu ?? 0
    }
    const state: PeerState = random.next() < 0.05 ? 'dead' : peer.state === 'dead' ? 'alive' : peer.state
    return { ...peer, state, allocated: { cpuMilli, memoryMiB, extended: (gpu > 0 ? { gpu } : {}) as Record<string, number> }, tasks }
  })
}

/** Digest of the first pass over an empty cluster and of a second pass after it settled with a new version of some services. */
function digests(size: number, explain: boolean): string[] {
  const random = seededRandom(`golden-${size}`)
  const peers = cluster(size, random)
  const services = workload(size, random.fork('v1'))
  const first = plan({ services, peers, now: 0, explain })
  const later = settle(peers, services, first, random.fork('settle'))
  // Forks with one label repeat their stream: the same services again, and the same at version 2.
  const again = workload(size, random.fork('v1'))
  const bumped = workload(size, random.fork('v1'), 2)
  const updated = again.map((s, i) => (i % 5 === 0 ? bumped[i]! : s)).filter((_, i) => i % 11 !== 0)
  const second = plan({ services: updated, peers: later, now: 1_000_000, explain })
  return [first, second].map((result) => `${result.placements.length}:${result.pending.length}:${hash64Hex(canonicalJson(result))}`)
}

const golden = suite('plan output is pinned on seeded clusters')

const CASES: Array<{ size: number; explain: boolean; expected: string[] }> = [
  { size: 40, explain: true, expected: ['171:9:40669711910f0504', '55:4:735b5ff51bda5761'] },
  { size: 300, explain: true, expected: ['1040:365:f68579f3c48ebe26', '366:341:c7287da005f5774f'] },
  { size: 2_000, explain: false, expected: ['9478:154:072fb2771a126210', '3195:46:b764c74e50b3185e'] },
  { size: 2_000, explain: true, expected: ['9478:154:19afb72cc7ed4113', '3195:46:2d4ff15f86ef5635'] },
  { size: 12_000, explain: false, expected: ['67576:14351:1688c5acd21d258e', '24751:11159:e1d1a5b58b9cffa5'] },
]

for (const { size, explain, expected } of CASES) {
  golden(`${size} peers${explain ? ', explained' : ''}: same placements, scores, rounds, pending and reports`, () => {
    const actual = digests(size, explain)
    if (process.env.GOLDEN_PRINT) console.log(JSON.stringify({ size, explain, actual }))
    assert.equal(actual, expected)
  })
}

golden.run()
