// The simulator as a safety and liveness checker: many seeds, each with its own random fault profile
// (kills, restarts, partitions, pauses, loss, duplication, slow peers), and the same named invariants
// every time. A failing seed prints the command that reproduces it.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'
import { NO_FAULTS, parseFaultSpec } from '../../sim/faults.js'
import { simulate } from '../../sim/simulate.js'

function services(): ServiceSpec[] {
  const result = validateServices({
    services: {
      web: { command: 'serve', replicas: 12, resources: { cpu: '250m', memory: 128 }, spreadBy: 'zone' },
      cache: { command: 'cache', replicas: 4, strategy: 'binpack', resources: { cpu: '500m', memory: 512 } },
      agent: { mode: 'global', command: 'agent', resources: { cpu: '50m', memory: 32 } },
      batch: { mode: 'job', command: 'batch', replicas: 3 },
    },
  })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

const SEEDS = 50
const sweep = suite('seed sweep')

sweep(`${SEEDS} seeds × 20 peers with random faults hold every invariant`, () => {
  const failures: string[] = []
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { json, reproduce } = simulate(
      { seed, services: services(), peerCount: 20, durationMs: 30_000, faults: NO_FAULTS, swarm: true, network: 'lan' },
      `peer sim --peers 20 --duration 30s --swarm --seed=${seed}`,
    )
    if (json.violations.length > 0) failures.push(`${json.violations[0]!.invariant}: ${json.violations[0]!.detail} (faults ${json.faults}); reproduce with ${reproduce}`)
  }
  assert.equal(failures, [])
})

// Regressions: seeds that once failed, kept with the workload and fault profile that found them.
function thirtyReplicas(): ServiceSpec[] {
  const result = validateServices({ services: { web: { command: 'serve', replicas: 30, resources: { cpu: '100m', memory: 64 } } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

function identicalPeers(count: number): PeerView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: peerId(`p${i}`), state: 'alive', capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: { zone: `z${i % 3}` }, drivers: ['docker', 'process'], tasks: [],
  }))
}

const regressions: Array<{ name: string; seed: number; faults: string; peers: number; durationMs: number }> = [
  // A restarted peer inside a partition kept a stale timer and never reconciled again; after the heal
  // both sides declared each other dead and never talked (fixed by reconnecting to dead peers).
  { name: 'a peer restarted inside a healed partition gives up its duplicate slot', seed: 5, faults: 'kill=3,partition=1,loss=0.05', peers: 20, durationMs: 60_000 },
  { name: 'restarts in both halves of a partition converge', seed: 11, faults: 'kill=3,partition=1,loss=0.05', peers: 20, durationMs: 60_000 },
]
for (const r of regressions) {
  sweep(`regression: ${r.name}`, () => {
    const parsed = parseFaultSpec(r.faults)
    assert.ok(parsed.ok)
    const { json } = simulate({ seed: r.seed, services: thirtyReplicas(), peers: identicalPeers(r.peers), durationMs: r.durationMs, faults: parsed.spec, network: 'lan' }, '')
    assert.equal(json.violations, [])
    assert.ok(json.convergeMs >= 0)
  })
}

sweep('the same seed gives byte-identical results', () => {
  const run = () => JSON.stringify(simulate({ seed: 42, services: services(), peerCount: 15, durationMs: 20_000, faults: NO_FAULTS, swarm: true, network: 'lan' }, '').json)
  assert.is(run(), run())
})

sweep('a run without faults places every replica and keeps traffic per peer bounded', () => {
  const { json } = simulate({ seed: 3, services: services(), peerCount: 20, durationMs: 20_000, faults: NO_FAULTS, network: 'lan' }, '')
  assert.equal(json.violations, [])
  assert.is(json.placementsMeasured, 12 + 4 + 3)
  assert.ok(json.msgsPerPeerPerSec < 50, `${json.msgsPerPeerPerSec} msgs/peer/s`)
})

sweep.run()
