// Simulator throughput and the protocol's numbers at scale: for each size, one `peer sim` run with
// 10 replicas per peer and faults (kill=3, partition=1, loss=2 %), in its own process so peak memory
// is that run's alone. Prints one JSON line per size: wall time, events per second, peak RSS, and the
// simulated placement and failover percentiles (replaceAfter at its default). cpuMs is the process's
// CPU time (user + system, the whole process): on a shared machine it says more than wall time.
//
//   npm run bench -- sim                 (100 and 1,000 peers)
//   npm run bench -- sim 300             (one size)
//   npm run bench -- sim 100 --seed 3    (another seed: one run's tail placements vary much by seed)

import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { optionOf } from './bench-args.js'
import { parseFaultSpec } from '../sim/faults.js'
import { simulate } from '../sim/simulate.js'
import { defaultConfig } from '../core/index.js'

const FAULTS = 'kill=3,partition=1,loss=0.02'
const DURATION_MS = 60_000

function runOne(peers: number, seed: number): void {
  const faults = parseFaultSpec(FAULTS)
  if (!faults.ok) throw new Error(faults.error)
  const started = performance.now()
  const { json } = simulate({ seed, replicas: peers * 10, peerCount: peers, durationMs: DURATION_MS, faults: faults.spec, network: 'lan' }, '')
  const wallMs = performance.now() - started
  // On a shared machine wall time depends on the load; the process's own CPU time much less.
  const cpu = process.cpuUsage()
  console.log(JSON.stringify({
    bench: 'sim',
    peers,
    seed,
    replicas: json.replicas,
    services: json.services,
    simulatedMs: DURATION_MS,
    faults: FAULTS,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    events: json.events,
    eventsPerSec: Math.round(json.events / (wallMs / 1000)),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    replaceAfterMs: defaultConfig(peers).replaceAfterMs,
    placementMsP50: json.placementMsP50,
    placementMsP99: json.placementMsP99,
    failoverMsP50: json.failoverMsP50,
    failoverMsP99: json.failoverMsP99,
    convergeMs: json.convergeMs,
    msgsPerPeerPerSec: json.msgsPerPeerPerSec,
    bytesPerPeerPerSec: json.bytesPerPeerPerSec,
    messagesByKind: json.messagesByKind,
    violations: json.violations.length,
  }))
}

const args = process.argv.slice(2)
const seedText = optionOf(args, '--seed') ?? '1'
const seed = Number(seedText)
if (!Number.isSafeInteger(seed)) {
  console.error(`--seed must be an integer, not "${seedText}"`)
  process.exit(1)
}
if (args[0] === '--one') {
  runOne(Number(args[1]), seed)
} else {
  const sizes = args.filter((arg, i) => args[i - 1] !== '--seed').map(Number).filter((n) => n > 0)
  for (const peers of sizes.length > 0 ? sizes : [100, 1_000]) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=16384', fileURLToPath(import.meta.url), '--one', String(peers), '--seed', String(seed)], { stdio: 'inherit' })
    if (child.status !== 0) process.exit(child.status ?? 1)
  }
}
