// Runtime drivers: how an agent runs tasks. The contract is in driver.ts; every driver passes
// test/node/runtime/conformance.ts.
export * from './driver.js'
export { ProcessDriver, type ProcessDriverInit } from './process-driver.js'
export { DockerDriver, type DockerDriverInit } from './docker-driver.js'
export { DriverSet } from './driver-set.js'
export type { ExecResult } from './docker-exec.js'
export { MemoryDriver, MemoryHost, STOPPED_EXIT_CODE, type MemoryDriverInit } from './memory-driver.js'
export { HealthTracker, type HealthState } from './health.js'
export { slotFileName } from './records.js'
