// One simulation run from user-level options: builds the peers (an inventory or synthetic ones), the
// workload (spec files or synthetic services), the fault profile (given, or drawn from the seed with
// --swarm) and the network, runs it, and returns the flat JSON result and the report data.
// `peer sim`, the benchmark and the seed-sweep test all come through here.

import { seededRandom, type PeerView, type ServiceSpec } from '../core/index.js'
import { formatFaultSpec, networkConfigWithFaults, randomFaultSpec, type FaultSpec } from './faults.js'
import { NETWORK_PROFILES } from './network.js'
import type { ReportData } from './report.js'
import { Simulation, type SimMetrics } from './runner.js'
import { serviceForTraceEntry, type TraceEntry } from './trace.js'
import { syntheticPeerViews, syntheticServices, type PeerProfile } from './workload.js'

/** A trace as timed edits: each entry's service appears at its creation time and goes at its deletion. */
function traceEdits(trace: readonly TraceEntry[]): Array<{ atMs: number; name: string; spec: ServiceSpec | null }> {
  const edits: Array<{ atMs: number; name: string; spec: ServiceSpec | null }> = []
  for (const entry of trace) {
    const spec = serviceForTraceEntry(entry)
    edits.push({ atMs: entry.creationMs, name: spec.name, spec })
    if (entry.deletionMs !== undefined) edits.push({ atMs: entry.deletionMs, name: spec.name, spec: null })
  }
  return edits.sort((a, b) => a.atMs - b.atMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

export interface SimulateOptions {
  readonly seed: number
  /** Given services; when absent, `replicas` synthetic replicas are generated. */
  readonly services?: readonly ServiceSpec[]
  /** A workload trace instead: each entry a one-replica service created and deleted at its times. */
  readonly trace?: readonly TraceEntry[]
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
  const edits = options.trace === undefined ? undefined : traceEdits(options.trace)
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
    summary: Object.fromEntries(Object.entries(json).filter(([key]) => key !== 'violations')) as Record<string, number | string>,
    placementLatencyMs: [],
    placementLatencyCdf: result.placementLatencyCdf,
    series: result.series.map((s) => ({ name: s.name, unit: s.unit, points: s.points })),
    violations: json.violations,
    reproduce,
    safetyEndMs,
    markers: result.faults.map((f) => ({ atMs: f.atMs, label: 'peer' in f ? `${f.kind} ${f.peer}` : f.kind })),
  }
  return { json, report, reproduce }
}
