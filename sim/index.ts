// The simulator's public face: run a scenario (simulate), read workloads and traces, describe faults,
// and render the report. What the CLI and the benchmarks use; the engine's parts stay inside.
export { parseTrace } from './trace.js'
export { NO_FAULTS, parseFaultSpec } from './faults.js'
export { renderHtmlReport } from './report.js'
export { simulate, type SimulateJson } from './simulate.js'
export { PEER_PROFILES, type PeerProfile } from './workload.js'
