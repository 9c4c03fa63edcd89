// Runtime drivers: how an agent runs tasks. The contract is in driver.ts; every driver passes
// test/node/runtime/conformance.ts.
export {
  type DriverComponents,
  type LogOptions,
  peerEnvironment,
  type RunningTaskInfo,
  type RuntimeDriver,
  SECRETS_DIR_VARIABLE,
  type StartOptions,
  type StartRefusal,
  type StartResult,
  type TaskEvent,
  type TaskListener,
} from './driver.js'
export { ProcessDriver, type ProcessDriverInit } from './process-driver.js'
// The Docker driver is loaded on demand (docker-loader.ts): importing it costs every agent ~20 MB.
export type { DockerDriver, DockerDriverInit } from './docker-driver.js'
export { dockerEngineAnswers, loadDockerDriver, loadDockerode, type EngineAnswer } from './docker-loader.js'
export { DriverSet } from './driver-set.js'
export type { ExecResult } from './docker-exec.js'
export { MemoryDriver, MemoryHost, STOPPED_EXIT_CODE, type MemoryDriverInit } from './memory-driver.js'
export { HealthTracker, type HealthState } from './health.js'
export { slotFileName } from './records.js'
export { TaskRecords, taskRecordsDir, type TaskRecord } from './records.js'
export { engineMessage } from './docker-exec.js'
export type { ProbeObserver } from './driver.js'
