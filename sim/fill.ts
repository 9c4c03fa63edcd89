// `peer sim --fill`: how much of this workload does this fleet hold? (the question Kubernetes'
// cluster-capacity tool answers). Services are drawn from the workload, seeded, and placed one after
// another without any leaving, until a run of `failuresInRow` arrivals in a row finds no room. Then
// it reports how much of each resource is allocated, how many services fitted, and the stranded
// capacity: what is free on peers where the typical service no longer fits, and so cannot be used.
// Each strategy fills its own copy of the same fleet with the same draws, so they compare fairly.

import {
  placementRequest, replicaSlot, seededRandom,
  type PeerView, type PlacementRequest, type Resources, type ServiceName, type ServiceSpec, type Strategy,
  shortfall,
} from '../core/index.js'
import { Fleet } from './fleet.js'
import { amountOf, unitOf } from './resource-names.js'
import { roundTo as round } from './metrics.js'

export interface FillOptions {
  readonly seed: number
  readonly peers: readonly PeerView[]
  /** The workload to draw from: each arrival is a copy of one of these, all its replicas or none. */
  readonly services: readonly ServiceSpec[]
  /** Strategies to compare; each overrides the services' own. */
  readonly strategies: readonly Strategy[]
  /** Stop once this many arrivals in a row found no room. */
  readonly failuresInRow: number
  /** Stop after this many arrivals whatever happens (a workload that asks for nothing never fails). */
  readonly maxArrivals?: number
  /** Called now and then with the arrivals so far, for a progress line. */
  readonly onProgress?: (done: { strategy: Strategy; arrivals: number; placed: number }) => void
}

export const DEFAULT_FILL_FAILURES_IN_ROW = 10
export const MAX_FILL_ARRIVALS = 5_000_000

export interface FillResource {
  readonly unit: string
  readonly capacity: number
  readonly allocated: number
  /** allocated / capacity (0 when the fleet has none). */
  readonly allocatedShare: number
  /** Free on peers where the typical service no longer fits. */
  readonly stranded: number
  readonly strandedShare: number
}

export interface FillStrategyResult {
  readonly strategy: Strategy
  readonly arrivals: number
  readonly servicesPlaced: number
  readonly replicasPlaced: number
  /** Arrivals that found no room (the last `failuresInRow` of them in a row, unless the limit stopped it). */
  readonly servicesRejected: number
  readonly stoppedBy: 'failures-in-row' | 'arrival-limit'
  /** Peers running at least one task at the end. */
  readonly peersInUse: number
  readonly resources: Readonly<Record<string, FillResource>>
}

export interface FillJson {
  readonly mode: 'fill'
  readonly seed: number
  readonly peers: number
  readonly workloadServices: number
  readonly failuresInRow: number
  /** The typical service (the median request per resource over the workload), against which capacity counts as stranded. */
  readonly typical: Readonly<Record<string, number>>
  readonly strategies: readonly FillStrategyResult[]
}

/**
 * The services a fill can draw: global services are left out (their count is the fleet's size, not a
 * demand) and so are services of no replicas. A service that asks for no resources at all would fit
 * forever, so it is refused rather than filling until the arrival limit.
 */
export function fillWorkload(services: readonly ServiceSpec[]): { ok: true; services: ServiceSpec[] } | { ok: false; error: string } {
  const drawable = services.filter((s) => s.mode !== 'global' && s.replicas > 0)
  if (drawable.length === 0) return { ok: false, error: 'the workload has no service to draw (global services and services of 0 replicas are left out)' }
  const free = drawable.find((s) => s.resources.cpuMilli <= 0 && s.resources.memoryMiB <= 0 && Object.values(s.resources.extended).every((n) => n <= 0))
  if (free !== undefined) return { ok: false, error: `service ${free.name} asks for no cpu, memory or other resource, so the fleet would never fill` }
  return { ok: true, services: drawable }
}

export function fill(options: FillOptions): FillJson {
  if (options.services.length === 0) throw new RangeError('fill needs at least one service to draw from')
  const typical = typicalRequest(options.services)
  const strategies = options.strategies.map((strategy) => fillOne(options, strategy, typical))
  const typicalJson: Record<string, number> = { cpu: typical.cpuMilli, memory: typical.memoryMiB }
  for (const name of Object.keys(typical.extended).sort()) typicalJson[name] = typical.extended[name]!
  return {
    mode: 'fill',
    seed: options.seed,
    peers: options.peers.length,
    workloadServices: options.services.length,
    failuresInRow: options.failuresInRow,
    typical: typicalJson,
    strategies,
  }
}

function fillOne(options: FillOptions, strategy: Strategy, typical: Resources): FillStrategyResult {
  const fleet = new Fleet(options.peers)
  // The same draws for every strategy: the fork depends on the seed only.
  const draws = seededRandom(options.seed).fork('fill')
  const requests = options.services.map((spec) => ({ spec, want: { ...placementRequest(spec), strategy } }))
  // Nothing leaves during a fill, so a service that found no room at full width never will: later
  // draws of it fail without asking the fleet again.
  const neverFits = new Uint8Array(requests.length)
  const limit = options.maxArrivals ?? MAX_FILL_ARRIVALS
  const width = String(limit).length
  let arrivals = 0
  let failures = 0
  let placed = 0
  let replicas = 0
  let rejected = 0
  while (failures < options.failuresInRow && arrivals < limit) {
    const index = draws.int(requests.length)
    const { spec, want } = requests[index]!
    arrivals++
    const ok = neverFits[index] === 0 && placeArrival(fleet, want, spec.replicas, `${spec.name}-${String(arrivals).padStart(width, '0')}`)
    if (ok) {
      failures = 0
      placed++
      replicas += spec.replicas
    } else {
      neverFits[index] = 1
      failures++
      rejected++
    }
    if (options.onProgress !== undefined && arrivals % 4096 === 0) options.onProgress({ strategy, arrivals, placed })
  }
  return {
    strategy,
    arrivals,
    servicesPlaced: placed,
    replicasPlaced: replicas,
    servicesRejected: rejected,
    stoppedBy: failures >= options.failuresInRow ? 'failures-in-row' : 'arrival-limit',
    peersInUse: fleet.peers.filter((p) => p.state !== 'dead' && p.tasks.length > 0).length,
    resources: resourceReport(fleet, typical),
  }
}

function placeArrival(fleet: Fleet, base: PlacementRequest, replicas: number, name: string): boolean {
  const service = name as ServiceName
  const want: PlacementRequest = { ...base, service }
  const slots = Array.from({ length: replicas }, (_, i) => replicaSlot(service, i))
  return fleet.place(want, slots, true).ok
}

function resourceReport(fleet: Fleet, typical: Resources): Record<string, FillResource> {
  const stranded = new Map<string, number>()
  for (const peer of fleet.peers) {
    if (peer.state === 'dead' || shortfall(peer.capacity, peer.allocated, typical) === undefined) continue
    const free = (name: string) => Math.max(0, amountOf(peer.capacity, name) - amountOf(peer.allocated, name))
    stranded.set('cpu', (stranded.get('cpu') ?? 0) + free('cpu'))
    stranded.set('memory', (stranded.get('memory') ?? 0) + free('memory'))
    for (const name in peer.capacity.extended) stranded.set(name, (stranded.get(name) ?? 0) + free(name))
  }
  const out: Record<string, FillResource> = {}
  for (const [name, totals] of fleet.totals()) {
    const strandedAmount = stranded.get(name) ?? 0
    out[name] = {
      unit: unitOf(name),
      capacity: totals.capacity,
      allocated: totals.allocated,
      allocatedShare: share(totals.allocated, totals.capacity),
      stranded: strandedAmount,
      strandedShare: share(strandedAmount, totals.capacity),
    }
  }
  return out
}

const share = (part: number, whole: number): number => (whole === 0 ? 0 : round(part / whole, 4))

/**
 * The typical service: the median request of the workload in each resource, replicas counted (a
 * service of 40 replicas is 40 of the tasks a fleet must hold). Extended resources appear only when
 * the median task asks for them, so on a fleet where few tasks need gpus, gpus left free beside used-up
 * cpu count as stranded.
 */
export function typicalRequest(services: readonly ServiceSpec[]): Resources {
  const median = (pick: (r: Resources) => number) => {
    const values = services.map((s) => ({ value: pick(s.resources), weight: Math.max(1, s.replicas) })).sort((a, b) => a.value - b.value)
    const total = values.reduce((sum, v) => sum + v.weight, 0)
    let seen = 0
    for (const v of values) {
      seen += v.weight
      if (seen * 2 >= total) return v.value
    }
    return 0
  }
  const names = new Set(services.flatMap((s) => Object.keys(s.resources.extended)))
  const extended: Record<string, number> = {}
  for (const name of [...names].sort()) {
    const value = median((r) => r.extended[name] ?? 0)
    if (value > 0) extended[name] = value
  }
  return { cpuMilli: median((r) => r.cpuMilli), memoryMiB: median((r) => r.memoryMiB), extended }
}

