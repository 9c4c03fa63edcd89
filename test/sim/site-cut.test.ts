// Sites as failure domains against the simulator (the same core the agents run): hosts labelled with
// their site, and the WAN link of one site cut for 30 s — fifteen times the LAN failover. During the
// cut no slot is started anywhere (each side keeps what it runs, none replaces the other's), every
// slot keeps running, and after the heal every slot runs once. A host that dies inside a site during
// the cut is still replaced within the failover budget, inside its own site when the service is
// spread by site. A `partition: majority` singleton still moves to the majority side, and past the
// hold (shortened here) the far site's slots are replaced as any dead host's. Seeded sweeps; figures
// print as one JSON line per suite.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'
import { NO_FAULTS, type FaultEvent } from '../../sim/faults.js'
import { NETWORK_PROFILES } from '../../sim/network.js'
import { Simulation, type SimResult } from '../../sim/runner.js'

const CUT_AT_MS = 12_000
const HEAL_AT_MS = 42_000
const SAFETY_END_MS = 45_000
const DURATION_MS = 65_000
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8]
/** The failover budget on the LAN profile (docs/protocol.md): death to replacement started. */
const FAILOVER_BUDGET_MS = 3_000

/** `sites` sites of `perSite` hosts each, labelled site=a, b, c…; host ids say their site. */
function sitePeers(sites: number, perSite: number): PeerView[] {
  return Array.from({ length: sites * perSite }, (_, i) => {
    const site = String.fromCharCode(97 + Math.floor(i / perSite))
    return {
      id: peerId(`${site}${i % perSite}`), state: 'alive', capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
      allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: { site }, drivers: ['process'], tasks: [],
    }
  })
}

const siteOfPeer = (peer: string): string => peer[0]!

/** A tier spread by site, one pinned to site a, and a `majority` singleton. */
function services(sites: number): ServiceSpec[] {
  const result = validateServices({
    services: {
      web: { command: 'web', replicas: 2 * sites, spreadBy: 'site' },
      local: { command: 'local', replicas: 2, constraints: ['site == a'] },
      lock: { command: 'lock', replicas: 1, partition: 'majority', stopGrace: '1s' },
    },
  })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

const REPLICAS = (sites: number) => 2 * sites + 2 + 1

interface Start { readonly peer: string; readonly slot: string; readonly atMs: number }

function run(seed: number, sites: number, perSite: number, plan: FaultEvent[], siteCutHoldMs?: number): { result: SimResult; starts: Start[] } {
  const starts: Start[] = []
  const result = new Simulation({
    seed, peers: sitePeers(sites, perSite), services: services(sites), durationMs: DURATION_MS, faults: NO_FAULTS, faultPlan: plan,
    network: NETWORK_PROFILES.lan, profile: 'lan', safetyEndMs: SAFETY_END_MS,
    ...(siteCutHoldMs === undefined ? {} : { siteCutHoldMs }),
    onTaskStart: (start) => starts.push(start),
  }).run()
  return { result, starts }
}

/** Cuts site `cut` (the last by default) off from the others at CUT_AT_MS, heals at HEAL_AT_MS. */
function cutPlan(sites: number, perSite: number, extra: FaultEvent[] = [], cut = String.fromCharCode(96 + sites)): FaultEvent[] {
  const ids = sitePeers(sites, perSite).map((peer) => peer.id as string)
  return [
    { atMs: CUT_AT_MS, kind: 'partition', groups: [ids.filter((id) => siteOfPeer(id) !== cut), ids.filter((id) => siteOfPeer(id) === cut)], healAtMs: HEAL_AT_MS },
    ...extra,
    { atMs: HEAL_AT_MS, kind: 'heal' },
  ]
}

const running = (result: SimResult) => result.series.find((series) => series.name === 'tasks running')!.points
const describe = (result: SimResult) => result.violations.slice(0, 2).map((v) => `${v.invariant} at ${Math.round(v.atMs)} ms: ${v.detail}`).join('; ')

/** Where each slot ran just before the cut: the last start of it before then. */
function holdersAt(starts: readonly Start[], atMs: number): Map<string, string> {
  const holders = new Map<string, string>()
  for (const start of starts) if (start.atMs < atMs) holders.set(start.slot, start.peer)
  return holders
}

const cut = suite('a WAN cut is a partition of sites')

for (const [sites, perSite] of [[2, 3], [3, 3], [3, 2]] as const) {
  cut(`${sites} sites of ${perSite}, the last cut off for 30 s: nothing started during the cut, nothing stops running, one copy of every slot after the heal`, () => {
    const figures: Array<{ seed: number; startsDuringCut: number; leastRunningDuringCut: number; mostRunningDuringCut: number }> = []
    for (const seed of SEEDS) {
      const { result, starts } = run(seed, sites, perSite, cutPlan(sites, perSite))
      const label = `${sites}×${perSite}, seed ${seed}`
      assert.equal(result.violations, [], `${label}: ${describe(result)}`)
      const lockBefore = holdersAt(starts, CUT_AT_MS).get('lock/0')
      // The `majority` singleton moves when it was on the cut site (below); nothing else may start.
      const during = starts.filter((s) => s.atMs >= CUT_AT_MS && s.atMs < HEAL_AT_MS && s.slot !== 'lock/0')
      assert.equal(during, [], `${label}: started during the cut`)
      // Every slot runs throughout, and none twice; but the `majority` lock stops where no majority
      // is: on the cut site (until the majority side takes it over), and on both sides of an even split.
      const cutSite = String.fromCharCode(96 + sites)
      const lockMoves = (lockBefore !== undefined && siteOfPeer(lockBefore) === cutSite) || 2 * perSite >= sites * perSite
      const window = running(result).filter(([at]) => at >= CUT_AT_MS && at < HEAL_AT_MS)
      const least = Math.min(...window.map(([, up]) => up))
      const most = Math.max(...window.map(([, up]) => up))
      assert.ok(most <= REPLICAS(sites), `${label}: ${most} running at once during the cut (${REPLICAS(sites)} slots)`)
      assert.ok(least >= REPLICAS(sites) - (lockMoves ? 1 : 0), `${label}: only ${least} running during the cut`)
      const end = running(result).at(-1)![1]
      assert.is(end, REPLICAS(sites), `${label}: ${end} running at the end`)
      figures.push({ seed, startsDuringCut: during.length, leastRunningDuringCut: least, mostRunningDuringCut: most })
    }
    console.log(JSON.stringify({ figure: `site cut, ${sites} sites of ${perSite}`, figures }))
  })
}

cut('3 sites of 3, site a (where the majority singleton runs) cut off: the singleton moves to the majority side, the rest stays', () => {
  let moved = 0
  for (const seed of SEEDS) {
    const { result, starts } = run(seed, 3, 3, cutPlan(3, 3, [], 'a'))
    assert.equal(result.violations, [], `seed ${seed}: ${describe(result)}`)
    const before = holdersAt(starts, CUT_AT_MS).get('lock/0')!
    const during = starts.filter((s) => s.atMs >= CUT_AT_MS && s.atMs < HEAL_AT_MS)
    if (siteOfPeer(before) !== 'a') {
      assert.equal(during, [], `seed ${seed}: started during the cut`)
      continue
    }
    moved++
    assert.ok(during.length === 1 && during[0]!.slot === 'lock/0' && siteOfPeer(during[0]!.peer) !== 'a', `seed ${seed}: started during the cut: ${JSON.stringify(during)}`)
  }
  // Where the lock lands is the auction's (the same on most seeds); the test needs it on site a.
  assert.ok(moved > 0, 'no seed placed the lock on site a')
  console.log(JSON.stringify({ figure: 'majority singleton on the cut site, seeds where it moved', moved, of: SEEDS.length }))
})

cut.run()

const death = suite('a host death inside a site during a cut')

death('3 sites of 3, site c cut off, a host of site a killed 8 s into the cut: its slots replaced within the budget, spread slots inside site a', () => {
  const failovers: number[] = []
  for (const seed of SEEDS) {
    const killAt = CUT_AT_MS + 8_000
    const { result, starts } = run(seed, 3, 3, cutPlan(3, 3, [{ atMs: killAt, kind: 'kill', peer: 'a0' }]))
    assert.equal(result.violations, [], `seed ${seed}: ${describe(result)}`)
    const lost = [...holdersAt(starts, killAt)].filter(([, peer]) => peer === 'a0').map(([slot]) => slot)
    for (const slot of lost) {
      const next = starts.find((s) => s.slot === slot && s.atMs >= killAt)
      assert.ok(next !== undefined && next.atMs < HEAL_AT_MS, `seed ${seed}: ${slot} not replaced during the cut`)
      assert.ok(siteOfPeer(next.peer) !== 'c', `seed ${seed}: ${slot} replaced across the cut on ${next.peer}`)
      // The `majority` lock waits its takeover delay (docs/protocol.md, ~10 s); the rest fail over as ever.
      if (slot === 'lock/0') continue
      assert.ok(next.atMs - killAt <= FAILOVER_BUDGET_MS, `seed ${seed}: ${slot} replaced ${Math.round(next.atMs - killAt)} ms after the death`)
      assert.is(siteOfPeer(next.peer), 'a', `seed ${seed}: ${slot} replaced on ${next.peer}, outside site a`)
      failovers.push(Math.round(next.atMs - killAt))
    }
    // Nothing else moved: only the dead host's slots started during the cut (and the lock, if it moves).
    const others = starts.filter((s) => s.atMs >= CUT_AT_MS && s.atMs < HEAL_AT_MS && !lost.includes(s.slot) && s.slot !== 'lock/0')
    assert.equal(others, [], `seed ${seed}: started during the cut`)
  }
  assert.ok(failovers.length > 0, 'the killed host held no slot in any seed')
  console.log(JSON.stringify({ figure: 'host death inside a site during a cut: death to replacement start, ms', failovers }))
})

death.run()

const bound = suite('past the hold, a cut site is replaced as dead hosts are')

bound('3 sites of 3, hold 10 s, site c cut off 30 s: its slots start on the other sites after the hold, one copy after the heal', () => {
  for (const seed of SEEDS.slice(0, 4)) {
    const { result, starts } = run(seed, 3, 3, cutPlan(3, 3), 10_000)
    assert.equal(result.violations, [], `seed ${seed}: ${describe(result)}`)
    const onC = [...holdersAt(starts, CUT_AT_MS)].filter(([slot, peer]) => siteOfPeer(peer) === 'c' && slot !== 'lock/0').map(([slot]) => slot)
    assert.ok(onC.length > 0, `seed ${seed}: nothing ran on site c`)
    for (const slot of onC) {
      const next = starts.find((s) => s.slot === slot && s.atMs >= CUT_AT_MS && siteOfPeer(s.peer) !== 'c')
      assert.ok(next !== undefined, `seed ${seed}: ${slot} never replaced past the hold`)
      // Declared dead about 2 s into the cut, held 10 s from then.
      assert.ok(next.atMs >= CUT_AT_MS + 10_000 && next.atMs < HEAL_AT_MS, `seed ${seed}: ${slot} replaced at ${Math.round(next.atMs - CUT_AT_MS)} ms into the cut`)
    }
    assert.is(running(result).at(-1)![1], REPLICAS(3), `seed ${seed}: not one copy of every slot at the end`)
  }
})

bound.run()
