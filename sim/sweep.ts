// `peer sim --sweep peers=200,400,800`: the capacity planner's question — what is the smallest fleet
// that places this whole workload, and keeps it placed after losing 10 % of its peers, or a whole
// zone? For each fleet size it draws the peers (seeded), places every service with the agents'
// placement functions, then for each loss takes peers away and places their tasks again on the
// survivors, and reports what stayed placed and the headroom left in each resource.
//
// This is placement without the network: it answers "does it fit", not "how fast does it get there"
// (that is what a plain `peer sim` run with --faults measures).

import { placementRequest, seededRandom, type PeerId, type ServiceName, type ServiceSpec, type SlotId, replicaSlot } from '../core/index.js'
import { Fleet } from './fleet.js'
import { roundTo as round } from './metrics.js'
import { syntheticPeerViews, type PeerProfile } from './workload.js'

/** A loss to survive: nothing, a share of the peers (drawn from the seed), or a whole zone (the worst one). */
export type Loss = { readonly kind: 'none' } | { readonly kind: 'share'; readonly share: number } | { readonly kind: 'zone' }

export const DEFAULT_LOSSES: readonly Loss[] = [{ kind: 'share', share: 0.1 }, { kind: 'zone' }]

/** The label peers' zones are read from (the synthetic profiles hand out z1–z4). */
export const ZONE_LABEL = 'zone'

export function formatLoss(loss: Loss): string {
  if (loss.kind === 'none') return 'none'
  if (loss.kind === 'zone') return 'zone'
  return `${round(loss.share * 100, 2)}%`
}

/** Parses `10%,zone` (also `none`, `0`, `25%`). */
export function parseLosses(text: string): { ok: true; losses: Loss[] } | { ok: false; error: string } {
  const losses: Loss[] = []
  for (const raw of text.split(',')) {
    const item = raw.trim()
    if (item === 'none' || item === '0' || item === '0%') losses.push({ kind: 'none' })
    else if (item === 'zone') losses.push({ kind: 'zone' })
    else {
      const match = /^(\d+(?:\.\d+)?)%$/.exec(item)
      const percent = match === null ? NaN : Number(match[1])
      if (!(percent > 0 && percent < 100)) return { ok: false, error: `expected none, zone or a share of peers such as 10%, got ${JSON.stringify(item)}` }
      losses.push({ kind: 'share', share: percent / 100 })
    }
  }
  return { ok: true, losses }
}

/** Parses `peers=200,400,800`: sizes in increasing order, each from 1 to `max`. */
export function parseSweep(text: string, max: number): { ok: true; sizes: number[] } | { ok: false; error: string } {
  const match = /^peers=(.+)$/.exec(text.trim())
  if (match === null) return { ok: false, error: `expected peers=<n>,<n>,… such as peers=200,400,800, got ${JSON.stringify(text)}` }
  const sizes: number[] = []
  for (const raw of match[1]!.split(',')) {
    const item = raw.trim()
    if (!/^\d+$/.test(item) || Number(item) < 1 || Number(item) > max) return { ok: false, error: `fleet sizes are whole numbers from 1 to ${max}, got ${JSON.stringify(item)}` }
    sizes.push(Number(item))
  }
  const unique = [...new Set(sizes)].sort((a, b) => a - b)
  return { ok: true, sizes: unique }
}

export interface SweepOptions {
  readonly seed: number
  readonly sizes: readonly number[]
  readonly profile: PeerProfile
  readonly services: readonly ServiceSpec[]
  readonly losses: readonly Loss[]
  readonly onProgress?: (done: { sizes: number; of: number }) => void
}

export interface SweepRow {
  readonly peers: number
  readonly loss: string
  /** For a zone loss, the zone whose loss left the most unplaced; for a share, how many peers went. */
  readonly lost: string
  readonly replicasPlaced: number
  /** Replicas some live peer could host by its labels and drivers, but none had room for. */
  readonly replicasPending: number
  /**
   * Replicas no live peer could ever host: their constraints name only lost peers (a service pinned
   * to the zone that went). More peers do not help them, so they do not decide the smallest fleet.
   */
  readonly replicasRuledOut: number
  /** Per resource, the share allocated after the loss and the headroom (1 - share) left. */
  readonly resources: Readonly<Record<string, { readonly allocatedShare: number; readonly headroom: number }>>
}

export interface SweepJson {
  readonly mode: 'sweep'
  readonly seed: number
  readonly profile: PeerProfile
  readonly services: number
  readonly replicas: number
  readonly losses: readonly string[]
  readonly rows: readonly SweepRow[]
  /** The smallest size at which every row (no loss and each loss) leaves nothing pending for want of room; null when none does. */
  readonly smallestFleet: number | null
  /** Headroom at that size after each loss, per resource. */
  readonly headroom: Readonly<Record<string, Readonly<Record<string, number>>>> | null
}

export function sweep(options: SweepOptions): SweepJson {
  const services = options.services.filter((s) => s.mode !== 'global')
  const replicas = services.reduce((sum, s) => sum + s.replicas, 0)
  const levels: Loss[] = [{ kind: 'none' }, ...options.losses.filter((l) => l.kind !== 'none')]
  const rows: SweepRow[] = []
  let smallest: number | null = null
  let headroom: Record<string, Record<string, number>> | null = null
  options.sizes.forEach((size, done) => {
    const peers = syntheticPeerViews(seededRandom(options.seed).fork(`sweep-peers-${size}`), size, options.profile)
    const base = new Fleet(peers)
    const start: Tally = { placed: 0, ruledOut: 0 }
    for (const spec of services) {
      const want = placementRequest(spec)
      if (base.couldHostAnywhere(want)) start.placed += base.place(want, slotsOf(spec), false).placed
      else start.ruledOut += spec.replicas
    }
    const sizeRows = levels.map((loss) => survive(base, services, start, replicas, loss, options.seed, size))
    rows.push(...sizeRows)
    if (smallest === null && sizeRows.every((row) => row.replicasPending === 0)) {
      smallest = size
      headroom = Object.fromEntries(sizeRows.map((row) => [row.loss, Object.fromEntries(Object.entries(row.resources).map(([name, r]) => [name, r.headroom]))]))
    }
    options.onProgress?.({ sizes: done + 1, of: options.sizes.length })
  })
  return {
    mode: 'sweep', seed: options.seed, profile: options.profile, services: services.length, replicas,
    losses: levels.map(formatLoss), rows, smallestFleet: smallest, headroom,
  }
}

const slotsOf = (spec: ServiceSpec): SlotId[] => Array.from({ length: spec.replicas }, (_, i) => replicaSlot(spec.name, i))

/** Replicas placed, and replicas no live peer could host at all. */
interface Tally {
  placed: number
  ruledOut: number
}

/** The row for one loss at one size: for a zone, the worst zone to lose. */
function survive(base: Fleet, services: readonly ServiceSpec[], start: Tally, replicas: number, loss: Loss, seed: number, size: number): SweepRow {
  if (loss.kind === 'none') return row(base, size, loss, '', start, replicas)
  if (loss.kind === 'share') {
    const ids = base.peers.map((p) => p.id)
    const shuffle = seededRandom(seed).fork(`sweep-loss-${size}`)
    for (let i = ids.length - 1; i > 0; i--) {
      const j = shuffle.int(i + 1)
      ;[ids[i], ids[j]] = [ids[j]!, ids[i]!]
    }
    const lost = ids.slice(0, Math.ceil(loss.share * ids.length))
    const fleet = new Fleet(base.peers)
    return row(fleet, size, loss, `${lost.length} peers`, afterLoss(start, replaceLost(fleet, services, lost)), replicas)
  }
  const zones = [...new Set(base.peers.map((p) => p.labels[ZONE_LABEL] ?? ''))].sort()
  let worst: SweepRow | undefined
  for (const zone of zones) {
    const fleet = new Fleet(base.peers)
    const lost = fleet.peers.filter((p) => (p.labels[ZONE_LABEL] ?? '') === zone).map((p) => p.id)
    const candidate = row(fleet, size, loss, `zone ${zone === '' ? '(unlabelled)' : zone}`, afterLoss(start, replaceLost(fleet, services, lost)), replicas)
    if (worst === undefined || candidate.replicasPending > worst.replicasPending ||
        (candidate.replicasPending === worst.replicasPending && candidate.replicasRuledOut > worst.replicasRuledOut)) worst = candidate
  }
  return worst ?? row(base, size, loss, 'no zones', start, replicas)
}

/** Placed before the loss, less what could not be placed again, either for room or for constraints. */
const afterLoss = (start: Tally, unplaced: Tally): Tally => ({ placed: start.placed - unplaced.placed - unplaced.ruledOut, ruledOut: start.ruledOut + unplaced.ruledOut })

/**
 * Takes `lost` peers away and places their tasks again. Returns the replicas that stayed unplaced
 * (`placed`: lost for want of room) and those no survivor could host at all (`ruledOut`).
 */
function replaceLost(fleet: Fleet, services: readonly ServiceSpec[], lost: readonly PeerId[]): Tally {
  const specs = new Map(services.map((s) => [s.name as string, s]))
  const bySlot = new Map<ServiceName, SlotId[]>()
  for (const task of fleet.lose(lost)) {
    const list = bySlot.get(task.service)
    if (list === undefined) bySlot.set(task.service, [task.slot])
    else list.push(task.slot)
  }
  const unplaced: Tally = { placed: 0, ruledOut: 0 }
  for (const service of [...bySlot.keys()].sort()) {
    const slots = bySlot.get(service)!
    const want = placementRequest(specs.get(service)!)
    if (!fleet.couldHostAnywhere(want)) unplaced.ruledOut += slots.length
    else unplaced.placed += slots.length - fleet.place(want, slots, false).placed
  }
  return unplaced
}

function row(fleet: Fleet, size: number, loss: Loss, lost: string, tally: Tally, replicas: number): SweepRow {
  const resources: Record<string, { allocatedShare: number; headroom: number }> = {}
  for (const [name, totals] of fleet.totals()) {
    const share = totals.capacity === 0 ? 0 : round(totals.allocated / totals.capacity, 4)
    resources[name] = { allocatedShare: share, headroom: round(1 - share, 4) }
  }
  return {
    peers: size, loss: formatLoss(loss), lost, replicasPlaced: tally.placed,
    replicasPending: replicas - tally.placed - tally.ruledOut, replicasRuledOut: tally.ruledOut, resources,
  }
}
