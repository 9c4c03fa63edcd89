// The simulator's public face: run a scenario (simulate), read workloads and traces, describe faults,
// and render the report. What the CLI and the benchmarks use; the engine's parts stay inside.
export { parseTrace } from './trace.js'
export { NO_FAULTS, parseFaultSpec } from './faults.js'
export { renderHtmlReport } from './report.js'
export { simulate, type SimulateJson } from './simulate.js'
export { PEER_PROFILES, type PeerProfile } from './workload.js'
export { DEFAULT_FILL_FAILURES_IN_ROW, fill, fillWorkload, type FillJson } from './fill.js'
export { DEFAULT_LOSSES, type Loss, parseLosses, parseSweep, sweep, type SweepJson } from './sweep.js'
export { fillReport, sweepReport } from './capacity-report.js'
export { serviceForTraceEntry, type TraceDefaults } from './trace.js'
export { syntheticPeerViews, syntheticServices } from './workload.js'
export { resourceOrder } from './resource-names.js'
