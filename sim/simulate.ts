// One simulation run from user-level options: builds the peers (an inventory or synthetic ones), the
// workload (spec files or synthetic services), the fault profile (given, or drawn from the seed with
// --swarm) and the network, runs it, and returns the flat JSON result and the report data.
// `peer sim`, the benchmark and the seed-sweep test all come through here.

import { seededRandom, type PeerView, type ServiceSpec } from '../core/index.js'
import { formatFaultSpec, networkConfigWithFaults, randomFaultSpec, type FaultSpec } from './faults.js'
import { NETWORK_PROFILES } from './network.js'
import type { ReportData } from './report.js'
import { Simulation, type SimMetrics } from './runner.js'
import { serviceForTraceEntry, traceToTimeline, type TraceDefaults, type TraceEntry } from './trace.js'
import { syntheticPeerViews, syntheticServices, type PeerProfile } from './workload.js'

/**
 * A trace as timed edits: each entry's service appears at its creation time and goes at its deletion,
 * in traceToTimeline's order (at one instant deletions first, so a task created at t can use what one
 * deleted at t freed).
 */
export function traceEdits(trace: readonly TraceEntry[], defaults: TraceDefaults): Array<{ atMs: number; name: string; spec: ServiceSpec | null }> {
  const specs = new Map(trace.map((entry) => [entry.name, serviceForTraceEntry(entry, defaults)]))
  return traceToTimeline(trace).map((event) => {
    const spec = specs.get(event.name)!
    return { atMs: event.atMs, name: spec.name, spec: event.kind === 'create' ? spec : null }
  })
}

export interface SimulateOptions {
  readonly seed: number
  /** Given services; when absent, `replicas` synthetic replicas are generated. */
  readonly services?: readonly ServiceSpec[]
  /** A workload trace instead: each entry a one-replica service created and deleted at its times. */
  readonly trace?: readonly TraceEntry[]
  /** Strategy and constraints for every trace row that does not set its own. */
  readonly traceDefaults?: TraceDefaults
  readonly replicas?: number
  /** Given peers; when absent, `peerCount` synthetic peers of `peerProfile`. */
  readonly peers?: readonly PeerView[]
  readonly peerCount?: number
  readonly peerProfile?: PeerProfile
  readonly durationMs: number
  readonly faults: FaultSpec
  /** Draw the fault profile from the seed instead (TigerBeetle's swarm testing). */
  readonly swarm?: boolean
  readonly network: 'lan' | 'wan'
  /** Progress of the run in simulated time (never changes its result). */
  readonly onProgress?: (progress: { simulatedMs: number; events: number }) => void
}

/** The stable `--json` form: flat keys with units in their names, then the violations. */
export interface SimulateJson extends SimMetrics {
  readonly seed: number
  readonly durationMs: number
  readonly faults: string
  readonly network: string
  readonly violations: ReadonlyArray<{ invariant: string; atMs: number; detail: string }>
}

export interface SimulateResult {
  readonly json: SimulateJson
  readonly report: ReportData
  readonly reproduce: string
}

export function simulate(options: SimulateOptions, reproduce: string): SimulateResult {
  const random = seededRandom(options.seed)
  const faults = options.swarm ? randomFaultSpec(random.fork('swarm')) : options.faults
  const services = options.trace !== undefined ? [] : options.services ?? syntheticServices(random.fork('workload'), { replicas: options.replicas ?? 100 })
  const edits = options.trace === undefined ? undefined : traceEdits(options.trace, options.traceDefaults ?? {})
  const peers = options.peers ?? syntheticPeerViews(random.fork('peers'), options.peerCount ?? 20, options.peerProfile ?? 'datacenter', services)
  const safetyEndMs = Math.round(options.durationMs * 0.6)
  const simulation = new Simulation({
    seed: options.seed,
    peers,
    services,
    durationMs: options.durationMs,
    faults,
    network: networkConfigWithFaults(NETWORK_PROFILES[options.network], faults),
    profile: options.network,
    safetyEndMs,
    ...(edits ? { edits } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  })
  const result = simulation.run()
  const json: SimulateJson = {
    seed: options.seed,
    durationMs: options.durationMs,
    faults: formatFaultSpec(faults),
    network: options.network,
    ...result.metrics,
    violations: result.violations.map((v) => ({ invariant: v.invariant, atMs: Math.round(v.atMs), detail: v.detail })),
  }
  const report: ReportData = {
    title: `peer sim — ${result.metrics.peers} peers, ${result.metrics.replicas} replicas, faults ${json.faults}`,
    seed: options.seed,
    summary: summaryOf(json),
    placementLatencyMs: [],
    placementLatencyCdf: result.placementLatencyCdf,
    series: result.series.map((s) => ({ name: s.name, unit: s.unit, points: s.points, ...(s.group !== undefined ? { group: s.group } : {}) })),
    violations: json.violations,
    reproduce,
    safetyEndMs,
    markers: result.faults.map((f) => ({ atMs: f.atMs, label: 'peer' in f ? `${f.kind} ${f.peer}` : f.kind })),
  }
  return { json, report, reproduce }
}

/** The report's cards: every flat key of the JSON, and each resource's mean and peak allocation. */
function summaryOf(json: SimulateJson): Record<string, number | string> {
  const summary: Record<string, number | string> = {}
  for (const [key, value] of Object.entries(json)) if (typeof value === 'number' || typeof value === 'string') summary[key] = value
  for (const [resource, { meanShare, peakShare }] of Object.entries(json.allocation)) {
    summary[`allocation.${resource}.mean`] = meanShare
    summary[`allocation.${resource}.peak`] = peakShare
  }
  return summary
}
