// The first placement of a few services must start each slot on one peer only. On real agents with
// NAT'd links between sites (test/hosts/sites.test.ts) a slot started on two hosts at first placement
// and the conflict rule stopped one: a wasted start and a brief double. Here three services (12, 10
// and 16 replicas, spread) are applied to 5–10 peers 3 s after they start, on links of loaded hosts
// with the agent's processing skew (300 ms), and every slot started on two peers before the run ends
// is counted (nothing fails, so every second start is a double of first placement).
//
// Before the fixes, over seeds 1–100: on loaded links (median 20 ms, p99 150 ms) 7 slots in 6 runs;
// on heavy links (median 40 ms, p99 500 ms) 21 slots in 15 runs. The causes, traced from the
// machines' auctions, are in docs/protocol.md (Placement, "First placement on slow links"):
//  1. a member whose advert had not arrived yet was left out of a peer's candidate window, so that
//     peer ran its auction as soon as its smaller set had bid, without a bid the others' auctions had;
//  2. a stand-in for a missing round-0 bid was computed from an advert that already showed the
//     claims its sender made in that round, so it bid for less than its sender had;
//  3. a bidder that heard of the change after some auctions had run named fewer open slots, and every
//     auction that heard its bid handed out a shifted set of slots.
// After: 0 on loaded links; 5 slots in 4 runs on heavy links. What is left there is a round-0 bid still
// on its way when the wait for it ends (540–2,340 ms in flight, against a wait of 600 ms), whose
// stand-in misses because its sender's allocation changed with another service's claims, and windows
// that differ because two peers' views of membership or of open slots differ. The heavy sweep pins
// that count so a change that makes it worse fails here.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'
import { NO_FAULTS } from '../../sim/faults.js'
import { NETWORK_PROFILES, type NetworkConfig } from '../../sim/network.js'
import { Simulation } from '../../sim/runner.js'

const SEEDS = Array.from({ length: 100 }, (_, i) => i + 1)
const APPLY_AT_MS = 3_000
const DURATION_MS = 12_000
const PROCESSING_SKEW_MS = 300
const LOADED_HOSTS: NetworkConfig = { ...NETWORK_PROFILES.lan, latencyMs: { distribution: 'lognormal', medianMs: 20, p99Ms: 150 } }
const HEAVY_LINKS: NetworkConfig = { ...NETWORK_PROFILES.lan, latencyMs: { distribution: 'lognormal', medianMs: 40, p99Ms: 500 } }
/** Slots started twice on heavy links over SEEDS after the fixes (21 before). */
const HEAVY_DOUBLES_AFTER = 5

function peers(count: number): PeerView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: peerId(`h${i + 1}`), state: 'alive', capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['docker', 'process'], tasks: [],
  }))
}

function services(): ServiceSpec[] {
  const resources = { cpu: '50m', memory: 32 }
  const result = validateServices({
    services: {
      web: { command: 'web', replicas: 12, resources },
      api: { command: 'api', replicas: 10, resources },
      worker: { command: 'work', replicas: 16, resources },
    },
  })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

interface Sweep {
  /** "seed S (N peers): slot on a, b" for each slot started on two peers. */
  readonly doubled: readonly string[]
  readonly runsWithDoubles: number
  readonly violations: readonly string[]
}

function sweep(network: NetworkConfig): Sweep {
  const doubled: string[] = []
  const violations: string[] = []
  let runsWithDoubles = 0
  for (const seed of SEEDS) {
    const count = 5 + (seed % 6)
    const startedOn = new Map<string, Set<string>>()
    const result = new Simulation({
      seed, peers: peers(count), services: services(), durationMs: DURATION_MS, faults: NO_FAULTS, faultPlan: [],
      network, profile: 'lan', processingSkewMs: PROCESSING_SKEW_MS, applyAtMs: APPLY_AT_MS,
      watch: {
        started: (peer, slot) => {
          if (!startedOn.has(slot)) startedOn.set(slot, new Set())
          startedOn.get(slot)!.add(peer)
        },
      },
    }).run()
    const twice = [...startedOn].filter(([, on]) => on.size > 1)
    if (twice.length > 0) runsWithDoubles++
    for (const [slot, on] of twice) doubled.push(`seed ${seed} (${count} peers): ${slot} on ${[...on].join(', ')}`)
    for (const v of result.violations) violations.push(`seed ${seed}: ${v.invariant} at ${Math.round(v.atMs)} ms: ${v.detail}`)
  }
  return { doubled, runsWithDoubles, violations }
}

const report = (links: string, result: Sweep) =>
  console.log(JSON.stringify({ figure: `first placement on ${links} links: slots started on two peers over seeds 1–${SEEDS.length}`, slots: result.doubled.length, runs: result.runsWithDoubles }))

const first = suite('sim: first placement on slow links')

first('on links of loaded hosts (p99 150 ms), no slot starts on two peers', () => {
  const result = sweep(LOADED_HOSTS)
  report('loaded', result)
  assert.equal(result.doubled, [], 'slots started on two peers')
  assert.equal(result.violations, [])
})

first(`on heavy links (p99 500 ms), at most ${HEAVY_DOUBLES_AFTER} slots start on two peers, and invariants hold`, () => {
  const result = sweep(HEAVY_LINKS)
  report('heavy', result)
  assert.ok(result.doubled.length <= HEAVY_DOUBLES_AFTER, `${result.doubled.length} slots started twice:\n${result.doubled.join('\n')}`)
  assert.equal(result.violations, [])
})

first.run()
