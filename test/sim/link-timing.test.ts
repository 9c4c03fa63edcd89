// Per-link timing (core/protocol/link-timing.ts) against the simulator: two sites of four hosts, LAN
// links inside each site and WAN links between them (sim/network.ts, acrossSites). Each world runs
// twice, with per-link timing and with one lan profile for every link (linkTiming: false, as before
// it), and the figures of both print as one JSON line per test:
//   - a host dying inside a site is replaced inside it within the lan budget, and no host of the
//     other site is ever held dead while it runs;
//   - a first placement spread by site starts fewer slots twice and comes out even over the sites
//     far more often than with the one profile, whose windows miss bids from across the WAN;
//   - seeded random faults (kills, partitions, pauses, loss) break none of the runner's invariants.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, seededRandom, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'
import { NO_FAULTS, randomFaultSpec, type FaultEvent, type FaultSpec } from '../../sim/faults.js'
import { NETWORK_PROFILES, type LatencyConfig, type NetworkConfig } from '../../sim/network.js'
import { Simulation, type SimResult } from '../../sim/runner.js'

/** The failover budget on the lan profile (DESIGN.md: ≤ 3 s p99): death to replacement started. */
const FAILOVER_BUDGET_MS = 3_000
const KILL_AT_MS = 15_000
const DURATION_MS = 30_000
const seeds = (count: number) => Array.from({ length: count }, (_, i) => i + 1)

/** Edge sites joined through a relay: tens of milliseconds, a heavy tail, a few messages in a hundred lost. */
const WAN: WanLinks = { latencyMs: { distribution: 'lognormal', medianMs: 80, p99Ms: 600 }, loss: 0.05 }
/** A worse WAN still: a second and a half at the 99th percentile. */
const HEAVY_WAN: WanLinks = { latencyMs: { distribution: 'lognormal', medianMs: 150, p99Ms: 1_500 }, loss: 0.02 }

interface WanLinks { readonly latencyMs: LatencyConfig; readonly loss: number }

const HOSTS = ['a', 'b'].flatMap((site) => Array.from({ length: 4 }, (_, i) => `${site}${i}`))
const siteOfHost = (host: string): string => host[0]!

function network(wan: WanLinks): NetworkConfig {
  return { ...NETWORK_PROFILES.lan, acrossSites: { sites: Object.fromEntries(HOSTS.map((h) => [h, siteOfHost(h)])), ...wan } }
}

function peers(): PeerView[] {
  return HOSTS.map((host) => ({
    id: peerId(host), state: 'alive', capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: { site: siteOfHost(host) }, drivers: ['process'], tasks: [],
  }))
}

/** Two replicas a host, spread over the sites first. */
function services(): ServiceSpec[] {
  const result = validateServices({ services: { web: { command: 'web', replicas: 2 * HOSTS.length, spreadBy: 'site', resources: { cpu: '50m', memory: 32 } } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

interface Start { readonly peer: string; readonly slot: string; readonly atMs: number }

interface Run {
  readonly result: SimResult
  readonly starts: readonly Start[]
  /** "x holds y dead" for every live host y some host x held dead, besides the host killed after its death. */
  readonly heldDead: ReadonlySet<string>
  /** The slots each host ran (starting or running) when it last acted. */
  readonly ranAtEnd: ReadonlyMap<string, readonly string[]>
  /** The slots each host ran when it last acted before KILL_AT_MS (a copy the conflict rule stopped is not among them). */
  readonly ranBeforeKill: ReadonlyMap<string, readonly string[]>
}

function run(seed: number, wan: WanLinks, linkTiming: boolean, plan: FaultEvent[] | FaultSpec): Run {
  const starts: Start[] = []
  const heldDead = new Set<string>()
  const ranAtEnd = new Map<string, string[]>()
  const ranBeforeKill = new Map<string, string[]>()
  const killed = Array.isArray(plan) ? plan.flatMap((e) => (e.kind === 'kill' ? [{ peer: e.peer, atMs: e.atMs }] : [])) : []
  const result = new Simulation({
    seed, peers: peers(), services: services(), durationMs: DURATION_MS, network: network(wan), profile: 'lan', linkTiming,
    ...(Array.isArray(plan) ? { faults: NO_FAULTS, faultPlan: plan } : { faults: plan }),
    onTaskStart: (start) => starts.push(start),
    watch: {
      acted: (_index, machine, now) => {
        const running = machine.localTasks().filter((task) => task.state === 'starting' || task.state === 'running').map((task) => task.slot)
        ranAtEnd.set(machine.self, running)
        if (now < KILL_AT_MS) ranBeforeKill.set(machine.self, running)
        for (const record of machine.memberRecords()) {
          if (record.status !== 'dead') continue
          if (killed.some((k) => k.peer === record.peer && now >= k.atMs)) continue
          heldDead.add(`${machine.self} holds ${record.peer} dead`)
        }
      },
    },
  }).run()
  return { result, starts, heldDead, ranAtEnd, ranBeforeKill }
}

const describe = (result: SimResult) => result.violations.slice(0, 2).map((v) => `${v.invariant} at ${Math.round(v.atMs)} ms: ${v.detail}`).join('; ')

/** Slots started on two hosts before `atMs` (nothing failed by then, so each is a double of first placement). */
function doubledBefore(starts: readonly Start[], atMs: number): number {
  const on = new Map<string, Set<string>>()
  for (const start of starts) if (start.atMs < atMs) on.set(start.slot, (on.get(start.slot) ?? new Set()).add(start.peer))
  return [...on.values()].filter((hosts) => hosts.size > 1).length
}

const failover = suite('sim: per-link timing, a host death inside a site')

interface FailoverFigures { worstFailoverMs: number; runsOverBudget: number; outsideItsSite: number; heldDeadPairs: number; violations: number }

function failovers(wan: WanLinks, linkTiming: boolean, count: number): { figures: FailoverFigures; problems: string[]; late: string[] } {
  const figures: FailoverFigures = { worstFailoverMs: 0, runsOverBudget: 0, outsideItsSite: 0, heldDeadPairs: 0, violations: 0 }
  const problems: string[] = []
  const late: string[] = []
  for (const seed of seeds(count)) {
    const { result, starts, heldDead, ranBeforeKill } = run(seed, wan, linkTiming, [{ atMs: KILL_AT_MS, kind: 'kill', peer: 'a0' }])
    figures.violations += result.violations.length
    if (result.violations.length > 0) problems.push(`seed ${seed}: ${describe(result)}`)
    figures.heldDeadPairs += heldDead.size
    if (heldDead.size > 0) problems.push(`seed ${seed}: ${[...heldDead].join(', ')}`)
    // A host that heard of no member before the apply bids alone for every slot, and the conflict
    // rule can leave a0 with none (seed 42 on the WAN links: its joins were lost for 2.7 s): no
    // failover to time in that run.
    const lost = ranBeforeKill.get('a0') ?? []
    let worstMs = 0
    for (const slot of lost) {
      const next = starts.find((s) => s.slot === slot && s.atMs >= KILL_AT_MS)
      const tookMs = next === undefined ? Infinity : Math.round(next.atMs - KILL_AT_MS)
      worstMs = Math.max(worstMs, tookMs)
      if (tookMs > FAILOVER_BUDGET_MS) late.push(`seed ${seed}: ${slot} replaced ${tookMs} ms after the death`)
      if (next !== undefined && siteOfHost(next.peer) !== 'a') {
        figures.outsideItsSite++
        late.push(`seed ${seed}: ${slot} replaced on ${next.peer}, outside site a`)
      }
    }
    figures.worstFailoverMs = Math.max(figures.worstFailoverMs, worstMs)
    if (worstMs > FAILOVER_BUDGET_MS) figures.runsOverBudget++
  }
  return { figures, problems, late }
}

// Of seeds 1–100, runs in which some slot of the dead host was replaced past the 3 s budget, and
// slots replaced in the other site (the service spreads by site, so its place is in site a), at
// most. Both are the WAN's tail: a round-0 bid lost (2–5 % loss) or still in flight when the wan
// window ends (a p99-1.5 s link exceeds it for several messages in a hundred) leaves a winner
// without every bid, and its slot waits for round 1 or goes to a bidder that missed the site's
// bids. Measured (WAN / heavy links): runs over budget 0 / 0, slots outside the site 0 / 2 (0 / 1
// and 0 / 1 once accused members were told at once, worst 2.70 / 3.54 s); with
// far hosts probed one by one, push-pull partners drawn over all hosts and a link's first samples
// trusted at once, as before, 2 / 1 and 2 / 2 (seeds 1–20 had none, which the bound first asked of
// every seed).
const RUNS_OVER_BUDGET = 2
const OUTSIDE_ITS_SITE = 2
/** Seeds the one-lan-profile comparison runs: enough to show what it misses, which it does in most runs. */
const COMPARED_SEEDS = 20

failover('WAN links (p99 600 ms, 5 % loss), seeds 1–100: replaced inside its site within the lan budget, no live host ever held dead', () => {
  const perLink = failovers(WAN, true, 100)
  const oneProfile = failovers(WAN, false, COMPARED_SEEDS)
  console.log(JSON.stringify({ figure: 'host a0 killed, two sites of 4 over WAN links p99 600 ms, 5 % loss, seeds 1–100 (one lan profile: 1–20)', perLink: perLink.figures, oneLanProfile: oneProfile.figures }))
  assert.equal(perLink.problems, [])
  assert.ok(perLink.figures.runsOverBudget <= RUNS_OVER_BUDGET, perLink.late.join('; '))
  assert.ok(perLink.figures.outsideItsSite <= OUTSIDE_ITS_SITE, perLink.late.join('; '))
})

failover('heavy WAN links (p99 1.5 s), seeds 1–100: the same, where one lan profile replaced outside the site or late', () => {
  const perLink = failovers(HEAVY_WAN, true, 100)
  const oneProfile = failovers(HEAVY_WAN, false, COMPARED_SEEDS)
  console.log(JSON.stringify({ figure: 'host a0 killed, two sites of 4 over WAN links p99 1.5 s, 2 % loss, seeds 1–100 (one lan profile: 1–20)', perLink: perLink.figures, oneLanProfile: oneProfile.figures }))
  assert.equal(perLink.problems, [])
  assert.ok(perLink.figures.runsOverBudget <= RUNS_OVER_BUDGET, perLink.late.join('; '))
  assert.ok(perLink.figures.outsideItsSite <= OUTSIDE_ITS_SITE, perLink.late.join('; '))
  // The comparison the timing exists for: one lan profile's windows miss the far bids here.
  assert.ok(oneProfile.figures.outsideItsSite > perLink.figures.outsideItsSite && oneProfile.figures.heldDeadPairs > 0, 'one lan profile did as well: the world no longer shows the difference')
})

failover.run()

const placement = suite('sim: per-link timing, a first placement spread over two sites')

interface PlacementFigures { doubled: number; runsWithDoubles: number; unevenSites: number; unevenHosts: number; violations: number }

function placements(wan: WanLinks, linkTiming: boolean, count: number): PlacementFigures {
  const figures: PlacementFigures = { doubled: 0, runsWithDoubles: 0, unevenSites: 0, unevenHosts: 0, violations: 0 }
  for (const seed of seeds(count)) {
    const { result, starts, ranAtEnd } = run(seed, wan, linkTiming, [])
    figures.violations += result.violations.length
    const doubled = doubledBefore(starts, DURATION_MS)
    figures.doubled += doubled
    if (doubled > 0) figures.runsWithDoubles++
    // Where the slots ended, after the conflict rule stopped the second copies.
    const perHost = new Map<string, number>(HOSTS.map((h) => [h, ranAtEnd.get(h)?.length ?? 0]))
    const bySite = (site: string) => [...perHost].filter(([h]) => siteOfHost(h) === site).reduce((sum, [, n]) => sum + n, 0)
    if (bySite('a') !== bySite('b')) figures.unevenSites++
    if (Math.max(...perHost.values()) - Math.min(...perHost.values()) > 1) figures.unevenHosts++
  }
  return figures
}

// Measured when this test was written (per-link / one lan profile): on WAN links 2 / 34 slots
// started twice, 2 / 9 runs with one site holding more than half; on heavy WAN links 16 / 102 and
// 3 / 32; since far sites are probed and pushed-pulled as wholes and a link's first samples may
// only lengthen its timers, 2 / 1 and 15 / 0 (14 / 0 on heavy links once accused members were
// told at once; 0 / 1 and 16 / 1 before push-pull partners knew
// sites: which seeds double moves with any change to what the peers draw at random, by a slot or
// two either way, so the bounds are the counts first measured). What per-link timing leaves: a bid still on its way when even the wan window ends (the
// heavy links' p99 is three times that window), and a host that learned of no member before the
// apply (seed 42 on WAN links: its joins were lost for 2.7 s) bidding alone for every slot. The
// bounds pin those counts, so a change that makes them worse fails here.
const PLACEMENT_BOUNDS = [
  { name: 'WAN links (p99 600 ms, 5 % loss)', wan: WAN, doubled: 2, unevenSites: 2 },
  { name: 'heavy WAN links (p99 1.5 s)', wan: HEAVY_WAN, doubled: 16, unevenSites: 3 },
]

for (const { name, wan, doubled, unevenSites } of PLACEMENT_BOUNDS) {
  placement(`${name}, seeds 1–50: fewer slots started twice and fewer runs uneven over the sites than with one lan profile`, () => {
    const perLink = placements(wan, true, 50)
    const oneProfile = placements(wan, false, 50)
    console.log(JSON.stringify({ figure: `first placement of 16 replicas spread by site, two sites of 4 over ${name}, seeds 1–50`, perLink, oneLanProfile: oneProfile }))
    assert.is(perLink.violations, 0)
    assert.ok(perLink.doubled <= doubled, `${perLink.doubled} slots started twice (at most ${doubled})`)
    assert.ok(perLink.unevenSites <= unevenSites, `${perLink.unevenSites} runs with a site holding more than half (at most ${unevenSites})`)
    assert.ok(perLink.doubled < oneProfile.doubled, `${perLink.doubled} slots started twice with per-link timing, ${oneProfile.doubled} with one lan profile`)
    assert.ok(perLink.unevenSites < oneProfile.unevenSites, `${perLink.unevenSites} runs uneven over the sites with per-link timing, ${oneProfile.unevenSites} with one lan profile`)
    assert.ok(perLink.unevenHosts <= oneProfile.unevenHosts, `${perLink.unevenHosts} runs uneven over the hosts with per-link timing, ${oneProfile.unevenHosts} with one lan profile`)
  })
}

placement.run()

const invariants = suite('sim: per-link timing under random faults')

invariants('two sites over WAN links, seeds 1–50 each with its own random faults: every invariant holds', () => {
  const failures: string[] = []
  for (const seed of seeds(50)) {
    const faults = randomFaultSpec(seededRandom(seed).fork('link-timing-faults'))
    const { result } = run(seed, WAN, true, faults)
    if (result.violations.length > 0) failures.push(`seed ${seed} (${JSON.stringify(faults)}): ${describe(result)}`)
  }
  assert.equal(failures, [])
})

invariants.run()
