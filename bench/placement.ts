// Placement throughput of the core on one core: a whole planning pass (reconcile, candidates, bids,
// auction) over a peer view of 1k, 10k and 100k peers, placing a mixed workload of services.
// Prints one JSON line per cluster size.
//
//   npm run bench -- placement            (all sizes)
//   npm run bench -- placement 10000      (one size)

import { canonicalJson, hash64Hex, peerId, plan, SPEC_LIMITS, seededRandom, validateServices, type PeerView, type SeededRandom, type ServiceSpec } from '../core/index.js'
import { percentile } from '../sim/metrics.js'

const ZONES = ['z1', 'z2', 'z3', 'z4']

function cluster(size: number, random: SeededRandom): PeerView[] {
  return Array.from({ length: size }, (_, i) => ({
    id: peerId(`peer-${i}`),
    state: 'alive',
    capacity: { cpuMilli: random.pick([4000, 8000, 16000]), memoryMiB: random.pick([8192, 16384, 65536]), extended: (i % 50 === 0 ? { gpu: 2 } : {}) as Record<string, number> },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} },
    labels: { zone: random.pick(ZONES), arch: i % 4 === 0 ? 'arm64' : 'amd64' },
    drivers: ['docker', 'process'],
    tasks: [],
  }))
}

/** About 5 replicas per peer in services of 1–50 replicas, a fifth constrained, a tenth spread by zone. */
function workload(peers: number, random: SeededRandom): ServiceSpec[] {
  const services: Record<string, unknown> = {}
  let replicas = 0
  for (let i = 0; replicas < peers * 5; i++) {
    const count = random.pick([1, 2, 3, 5, 10, 20, 50])
    replicas += count
    services[`svc-${i}`] = {
      image: 'app:1',
      replicas: count,
      resources: { cpu: random.pick(['100m', '250m', '500m']), memory: random.pick([64, 128, 256, 512]) },
      strategy: random.next() < 0.2 ? 'binpack' : 'spread',
      ...(random.next() < 0.2 ? { constraints: [random.pick(['arch == amd64', 'zone in (z1, z2)', 'arch != arm64'])] } : {}),
      ...(random.next() < 0.1 ? { spreadBy: 'zone' } : {}),
    }
  }
  // One spec document holds at most SPEC_LIMITS.maxServices; validate in documents of that size.
  const names = Object.keys(services)
  const specs: ServiceSpec[] = []
  for (let i = 0; i < names.length; i += SPEC_LIMITS.maxServices) {
    const chunk = Object.fromEntries(names.slice(i, i + SPEC_LIMITS.maxServices).map((n) => [n, services[n]]))
    const result = validateServices({ services: chunk })
    if (!result.ok) throw new Error(JSON.stringify(result.errors.slice(0, 3)))
    specs.push(...result.services)
  }
  return specs
}

/** Median of `runs` timed passes, after one untimed pass so the JIT has compiled the hot path. */
function run(size: number, runs: number): void {
  const random = seededRandom(size)
  const peers = cluster(size, random)
  const services = workload(size, random)
  plan({ services, peers, now: 0, explain: false })
  const times: number[] = []
  const cpuTimes: number[] = []
  let result: ReturnType<typeof plan> | undefined
  for (let i = 0; i < runs; i++) {
    const cpu = process.cpuUsage()
    const started = performance.now()
    result = plan({ services, peers, now: 0, explain: false })
    times.push(performance.now() - started)
    const used = process.cpuUsage(cpu)
    cpuTimes.push((used.user + used.system) / 1000)
  }
  const medianMs = percentile(times, 50)
  console.log(JSON.stringify({
    bench: 'placement',
    peers: size,
    services: services.length,
    placements: result!.placements.length,
    pending: result!.pending.length,
    widenedPlacements: result!.placements.filter((p) => p.round > 0).length,
    runs,
    wallMsMedian: Math.round(medianMs),
    wallMsMin: Math.round(Math.min(...times)),
    // CPU time of the process (the garbage collector's helper threads included): on a shared,
    // loaded machine it moves much less than wall time.
    cpuMsMedian: Math.round(percentile(cpuTimes, 50)),
    placementsPerSec: Math.round(result!.placements.length / (medianMs / 1000)),
    heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1048576),
    // Digest of the whole plan (taken after the timing), so a faster planner can show it places
    // every replica exactly where the slower one did.
    outputDigest: hash64Hex(canonicalJson(result)),
  }))
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0)
for (const size of sizes.length > 0 ? sizes : [1_000, 10_000, 100_000]) run(size, size >= 100_000 ? 3 : 5)
