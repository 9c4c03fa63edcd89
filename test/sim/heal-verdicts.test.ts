// Verdicts from across a healed cut must not override what a peer saw itself. Two sides are cut apart
// for longer than a failover (each side declares the other dead and runs its slots), then healed; the
// "dead" verdicts one side formed about the other reach it after the heal — by anti-entropy, by
// piggybacked updates, and by gossipsub's catch-up of the last heartbeats' messages (modelled in
// sim/gossip-history.ts). A peer that heard from a member of its own side all along must never hold it
// dead after the heal, and must not start a copy of a slot its own side ran through the heal.
//
// Links are those of loaded hosts (tens of milliseconds, the agent's processing skew): on the bare LAN
// profile a wrong verdict is refuted within a millisecond or two, too fast to start anything, but it
// is still wrong, and both counts below must be zero. Prints one JSON line.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, validateServices, type PeerId, type PeerView, type SlotId } from '../../core/index.js'
import { NO_FAULTS, type FaultEvent } from '../../sim/faults.js'
import { NETWORK_PROFILES, type NetworkConfig } from '../../sim/network.js'
import { Simulation } from '../../sim/runner.js'

const CUT_AT_MS = 10_000
/** Watched after the heal: long enough for every verdict from the cut to arrive and be refuted. */
const WATCH_MS = 8_000
const SEEDS = [1, 2, 3, 4, 5, 6]
/** Longer than a failover (2 s on the LAN profile), each ending at a different point of the verdicts' spread. */
const CUTS_MS = [2_500, 3_000, 4_000, 6_000]
const LOADED_HOSTS: NetworkConfig = { ...NETWORK_PROFILES.lan, latencyMs: { distribution: 'lognormal', medianMs: 20, p99Ms: 150 } }
const PROCESSING_SKEW_MS = 300

function peers(count: number): PeerView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: peerId(`p${String(i).padStart(2, '0')}`), state: 'alive', capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['process'], tasks: [],
  }))
}

interface HealFigures {
  /** (peer, member of its own side) pairs where the peer held the member dead after the heal. */
  heldDead: number
  /** The longest such hold, ms. */
  longestMs: number
  /** Copies started after the heal of a slot the starter's own side was running at the heal. */
  needlessStarts: number
}

function afterHeal(count: number, split: number, cutMs: number, seed: number): HealFigures {
  const services = validateServices({ services: { web: { command: 'web', replicas: 10 } } })
  if (!services.ok) throw new Error(JSON.stringify(services.errors))
  const ids = peers(count).map((peer) => peer.id)
  const side = new Map<PeerId, number>(ids.map((id, i) => [id, i < split ? 0 : 1]))
  const healAt = CUT_AT_MS + cutMs
  const plan: FaultEvent[] = [
    { atMs: CUT_AT_MS, kind: 'partition', groups: [ids.slice(0, split), ids.slice(split)], healAtMs: healAt },
    { atMs: healAt, kind: 'heal' },
  ]
  const figures: HealFigures = { heldDead: 0, longestMs: 0, needlessStarts: 0 }
  const deadSince = new Map<string, number>()
  const counted = new Set<string>()
  let ranAtHeal: Array<Set<SlotId>> | undefined
  const result = new Simulation({
    seed, peers: peers(count), services: services.services, durationMs: healAt + WATCH_MS, faults: NO_FAULTS, faultPlan: plan,
    network: LOADED_HOSTS, profile: 'lan', processingSkewMs: PROCESSING_SKEW_MS, safetyEndMs: healAt,
    watch: {
      started: (peer, slot, now) => {
        if (now >= healAt && ranAtHeal?.[side.get(peer)!]!.has(slot)) figures.needlessStarts++
      },
      step: (now, all) => {
        if (now < healAt) return
        if (ranAtHeal === undefined) {
          ranAtHeal = [new Set(), new Set()]
          for (const peer of all) for (const task of peer.machine?.localTasks() ?? []) if (task.state === 'running') ranAtHeal[side.get(peer.id)!]!.add(task.slot)
        }
        for (const peer of all) {
          for (const record of peer.machine?.memberRecords() ?? []) {
            if (side.get(record.peer) !== side.get(peer.id)) continue
            const pair = `${peer.id} holds ${record.peer}`
            if (record.status === 'dead') {
              if (!deadSince.has(pair)) deadSince.set(pair, now)
              if (!counted.has(pair)) counted.add(pair)
            } else if (deadSince.has(pair)) {
              figures.longestMs = Math.max(figures.longestMs, now - deadSince.get(pair)!)
              deadSince.delete(pair)
            }
          }
        }
      },
    },
  }).run()
  assert.equal(result.violations, [], `${count} peers, cut ${cutMs} ms, seed ${seed}`)
  for (const since of deadSince.values()) figures.longestMs = Math.max(figures.longestMs, healAt + WATCH_MS - since)
  figures.heldDead = counted.size
  figures.longestMs = Math.round(figures.longestMs)
  return figures
}

const heal = suite('verdicts from across a healed cut')

heal(`halves 4 | 6, cut ${CUTS_MS.join(', ')} ms, ${SEEDS.length} seeds: nobody holds a member of its own side dead after the heal, no slot started twice for it`, () => {
  const rows = CUTS_MS.map((cutMs) => ({ cutMs, runs: SEEDS.map((seed) => afterHeal(10, 4, cutMs, seed)) }))
  const total = (key: keyof HealFigures): number => rows.reduce((sum, row) => sum + row.runs.reduce((s, run) => s + run[key], 0), 0)
  console.log(JSON.stringify({
    figure: 'own-side members held dead after a heal', seeds: SEEDS.length,
    heldDeadPairs: total('heldDead'), needlessStarts: total('needlessStarts'),
    longestMsByCut: Object.fromEntries(rows.map((row) => [row.cutMs, Math.max(...row.runs.map((run) => run.longestMs))])),
  }))
  for (const { cutMs, runs } of rows) {
    for (const [i, run] of runs.entries()) {
      assert.is(run.heldDead, 0, `cut ${cutMs} ms, seed ${SEEDS[i]}: ${run.heldDead} own-side members held dead, up to ${run.longestMs} ms`)
      assert.is(run.needlessStarts, 0, `cut ${cutMs} ms, seed ${SEEDS[i]}: ${run.needlessStarts} copies started of slots the side already ran`)
    }
  }
})

heal.run()
