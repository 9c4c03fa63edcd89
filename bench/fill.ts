// `peer sim --fill` at scale: a 5,000-peer gpu fleet filled from a gpu-heavy workload (the shape of
// the Alibaba GPU cluster trace: most tasks want one gpu or a fraction of a host's), once per
// strategy, until 10 arrivals in a row find no room. Prints one JSON line.
//
//   npm run bench -- fill            (5,000 peers)
//   npm run bench -- fill 20000      (another fleet size)

import { peerId, seededRandom, validateServices, type PeerView, type ServiceSpec } from '../core/index.js'
import { fill } from '../sim/fill.js'

const ZONES = ['z1', 'z2', 'z3', 'z4']

function gpuFleet(size: number): PeerView[] {
  const random = seededRandom(size).fork('fleet')
  return Array.from({ length: size }, (_, i) => {
    const cores = random.pick([32, 64, 96])
    return {
      id: peerId(`gpu-${String(i).padStart(6, '0')}`),
      state: 'alive',
      capacity: { cpuMilli: cores * 1000, memoryMiB: cores * 8192, extended: { gpu: random.pick([2, 4, 8, 8]) } },
      allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} },
      labels: { zone: ZONES[i % ZONES.length]!, arch: 'amd64' },
      drivers: ['docker', 'process'],
      tasks: [],
    } satisfies PeerView
  })
}

/** 400 services of 1–4 replicas: 70 % want 1–2 gpus, the rest are cpu-only; a fifth binpack, some pinned to a zone. */
function gpuWorkload(): ServiceSpec[] {
  const random = seededRandom(7).fork('workload')
  const services: Record<string, unknown> = {}
  for (let i = 0; i < 400; i++) {
    const gpu = random.next() < 0.7 ? random.pick([1, 1, 1, 2]) : 0
    services[`job-${String(i).padStart(3, '0')}`] = {
      image: 'train:1',
      replicas: random.pick([1, 1, 2, 4]),
      resources: { cpu: `${random.pick([1, 2, 4, 8, 12])}000m`, memory: random.pick([4096, 16384, 32768, 65536]), ...(gpu > 0 ? { gpu } : {}) },
      ...(random.next() < 0.1 ? { constraints: [`zone == ${random.pick(ZONES)}`] } : {}),
    }
  }
  const result = validateServices({ services })
  if (!result.ok) throw new Error(JSON.stringify(result.errors.slice(0, 3)))
  return result.services
}

const size = Number(process.argv[2] ?? 5_000)
const peers = gpuFleet(size)
const services = gpuWorkload()
const started = performance.now()
const result = fill({ seed: 1, peers, services, strategies: ['binpack', 'spread'], failuresInRow: 10 })
const wallMs = performance.now() - started
const arrivals = result.strategies.reduce((sum, s) => sum + s.arrivals, 0)
console.log(JSON.stringify({
  bench: 'fill',
  peers: size,
  gpus: peers.reduce((sum, p) => sum + (p.capacity.extended.gpu ?? 0), 0),
  workloadServices: services.length,
  wallMs: Math.round(wallMs),
  arrivals,
  arrivalsPerSec: Math.round(arrivals / (wallMs / 1000)),
  ...Object.fromEntries(result.strategies.map((s) => [s.strategy, {
    servicesPlaced: s.servicesPlaced,
    replicasPlaced: s.replicasPlaced,
    gpuAllocated: s.resources.gpu?.allocatedShare ?? 0,
    gpuStranded: s.resources.gpu?.strandedShare ?? 0,
    cpuAllocated: s.resources.cpu!.allocatedShare,
    memoryAllocated: s.resources.memory!.allocatedShare,
  }])),
  heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576),
}))
