// Failover after a power cut, against the simulator: the fault real agents in network namespaces
// showed (issue 16, bug 3) — a host's packets vanish, so the survivors learn of its death only by
// suspicion timeouts, each at its own moment, and bid for its slots milliseconds to hundreds of
// milliseconds apart. On real agents two survivors then started the same slot in 6 of 14 power-cut
// failovers (0 of 6 when the kernel closed the dead host's sockets at once). Here half the peers are
// busy hosts: every message to or from one takes 100× the LAN's time (median 50 ms, p99 300 ms), as
// agents on a loaded 2-core host saw an apply up to 460 ms after its author. One peer loses power at
// 8 s and stays dead; the sweep runs 5 to 20 peers over 10 seeds each and counts the slots started on
// a second survivor while the first still ran them.
//
// Before the fix this sweep started 18 slots twice in 17 of 40 runs, and the worst run's failover
// p99 was 3,090 ms; measured with
//   PEER_SIM_FAILOVER_REPORT=1 node --import tsx node_modules/uvu/bin.js test/sim failover -c false
// at commit 640fd2a, which added this test recording the count without asserting it. After: 0,
// worst p99 2,466 ms. The causes, each seen in the runs' traces, are in docs/protocol.md
// (Failover): bids dropped by survivors that had not yet declared the host dead, round-0 windows that
// closed before a busy survivor's bid arrived, and a lone bidder in a wider round whose view still
// lacked a claim. The second sweep runs the agent's windows (withProcessingSkew) against links
// twice as slow again, and records its count.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, seededRandom, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'
import { NO_FAULTS, type FaultEvent } from '../../sim/faults.js'
import { NETWORK_PROFILES, type NetworkConfig } from '../../sim/network.js'
import { Simulation, type SimResult } from '../../sim/runner.js'
import { AGENT_DEFAULTS } from '../../node/agent/config.js'

const SIZES = [5, 8, 13, 20]
const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1)
const CUT_AT_MS = 8_000
const SAFETY_END_MS = 20_000
const DURATION_MS = 30_000
/** The failover budget (DESIGN.md: ≤ 3 s p99). */
const FAILOVER_BUDGET_MS = 3_000

/** Half the peers busy: every link touching one `factor` times slower than the LAN's. */
const busyLan = (factor: number): NetworkConfig => ({ ...NETWORK_PROFILES.lan, slowPeers: { fraction: 0.5, factor } })

/** A sweep's world: the links, and the skew the machines' windows allow for (the agent's, or none). */
interface World {
  readonly network: NetworkConfig
  readonly processingSkewMs: number
}

/** The simulator's own windows, links of busy hosts 100× slower (p99 300 ms). */
const SIM_WINDOWS: World = { network: busyLan(100), processingSkewMs: 0 }
/** The agent's windows (bids 400 ms, rounds 1 s), links of busy hosts 200× slower (p99 600 ms). */
const AGENT_WINDOWS: World = { network: busyLan(200), processingSkewMs: AGENT_DEFAULTS.processingSkewMs }

function peers(count: number): PeerView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: peerId(`p${String(i).padStart(2, '0')}`), state: 'alive', capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['docker', 'process'], tasks: [],
  }))
}

/** Two replicas per peer, so the host that loses power holds about two. */
function web(count: number): ServiceSpec[] {
  const result = validateServices({ services: { web: { command: 'serve', replicas: 2 * count, resources: { cpu: '100m', memory: 64 } } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

/** The power cut of one peer, chosen by the seed; it never comes back. */
function powerCut(count: number, seed: number): FaultEvent[] {
  const ids = peers(count).map((p) => p.id as string)
  const victim = ids[seededRandom(seed * 100 + count).fork('victim').int(count)]!
  return [{ atMs: CUT_AT_MS, kind: 'kill', peer: victim }, { atMs: SAFETY_END_MS, kind: 'heal' }]
}

function run(world: World, count: number, seed: number): SimResult {
  return new Simulation({
    seed, peers: peers(count), services: web(count), durationMs: DURATION_MS, faults: NO_FAULTS, faultPlan: powerCut(count, seed),
    network: world.network, processingSkewMs: world.processingSkewMs, profile: 'lan', safetyEndMs: SAFETY_END_MS,
  }).run()
}

interface Sweep {
  readonly runs: number
  /** Runs whose dead host held a slot, so a failover was measured. */
  readonly failedOver: number
  /** "N peers, seed S: K" for each run that started a slot on two survivors. */
  readonly doubled: readonly string[]
  readonly slotsStartedTwice: number
  readonly worstRunFailoverMsP99: number
  readonly violations: readonly string[]
}

function sweep(world: World): Sweep {
  const doubled: string[] = []
  const violations: string[] = []
  let slotsStartedTwice = 0
  let worstRunFailoverMsP99 = 0
  let failedOver = 0
  for (const count of SIZES) {
    for (const seed of SEEDS) {
      const { metrics, violations: found } = run(world, count, seed)
      slotsStartedTwice += metrics.failoverStartedTwice
      if (metrics.failoverStartedTwice > 0) doubled.push(`${count} peers, seed ${seed}: ${metrics.failoverStartedTwice}`)
      for (const v of found) violations.push(`${count} peers, seed ${seed}: ${v.invariant} at ${Math.round(v.atMs)} ms: ${v.detail}`)
      if (metrics.failoversMeasured > 0) failedOver++
      worstRunFailoverMsP99 = Math.max(worstRunFailoverMsP99, metrics.failoverMsP99)
    }
  }
  const result = { runs: SIZES.length * SEEDS.length, failedOver, doubled, slotsStartedTwice, worstRunFailoverMsP99, violations }
  if (process.env.PEER_SIM_FAILOVER_REPORT !== undefined) {
    const { doubled: _, violations: __, ...figures } = result
    console.log(JSON.stringify({ processingSkewMs: world.processingSkewMs, slowFactor: world.network.slowPeers.factor, runsWithSlotsStartedTwice: doubled.length, ...figures }))
  }
  return result
}

const failover = suite('sim: failover after a power cut')

failover('no slot of the dead host starts on two survivors, and every slot runs elsewhere within the failover budget', () => {
  const result = sweep(SIM_WINDOWS)
  assert.equal(result.doubled, [], 'slots started on two survivors')
  assert.equal(result.violations, [])
  assert.ok(result.failedOver >= result.runs - 2, `${result.failedOver} of ${result.runs} runs failed a slot over (a victim may hold nothing by the cut)`)
  assert.ok(result.worstRunFailoverMsP99 <= FAILOVER_BUDGET_MS, `failover p99 ${result.worstRunFailoverMsP99} ms in the worst run; budget ${FAILOVER_BUDGET_MS} ms`)
})

// Links slower than the agent's round-0 wait leave a bid out of an auction now and then (before the
// fixes: 8 slots started twice in 8 of 40 runs, worst p99 3,350 ms; after the first three: 1 in 1,
// 2,861 ms). With missing round-0 bids stood in for from adverts (docs/protocol.md, Failover, 4):
// 0, worst p99 2,861 ms.
failover('with the agent\'s windows and slower links still, no slot starts twice, invariants hold and failover stays within budget', () => {
  const result = sweep(AGENT_WINDOWS)
  assert.equal(result.doubled, [], 'slots started on two survivors')
  assert.equal(result.violations, [])
  assert.ok(result.worstRunFailoverMsP99 <= FAILOVER_BUDGET_MS, `failover p99 ${result.worstRunFailoverMsP99} ms in the worst run; budget ${FAILOVER_BUDGET_MS} ms`)
})

failover('the same seed gives byte-identical results', () => {
  const once = () => JSON.stringify(run(SIM_WINDOWS, 8, 3).metrics)
  assert.is(once(), once())
})

failover.run()
