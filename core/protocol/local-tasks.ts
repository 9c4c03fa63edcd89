// This peer's own tasks and its restart policy. A failed task restarts here with exponential
// backoff; after `maxAttempts` failures within `window` the peer gives the slot up (and stays out of
// that service's auctions for a window) so another peer may try.

import type { ServiceSpec } from '../service-spec/types.js'
import type { TaskState, TaskView } from '../placement/view.js'

export interface LocalTask {
  view: TaskView
  spec: ServiceSpec
  /** Times of recent failures, for the restart window. */
  failures: number[]
  /** When a task waiting in backoff is started again. */
  restartAt?: number
}

export type ExitOutcome =
  | { kind: 'complete' }
  | { kind: 'failed-final' }
  | { kind: 'restart'; atMs: number }
  | { kind: 'give-up' }

/** What a task's exit means under its service's restart policy. */
export function exitOutcome(task: LocalTask, exitCode: number | undefined, now: number): ExitOutcome {
  const { restart, mode } = task.spec
  const clean = exitCode === 0
  if (clean && (mode === 'job' || restart.condition !== 'always')) return { kind: 'complete' }
  if (restart.condition === 'never') return { kind: 'failed-final' }
  task.failures = task.failures.filter((at) => now - at < restart.windowMs)
  task.failures.push(now)
  const attempts = task.failures.length
  if (restart.maxAttempts > 0 && attempts >= restart.maxAttempts) return { kind: 'give-up' }
  return { kind: 'restart', atMs: now + restartDelayMs(restart.delayMs, restart.maxDelayMs, attempts) }
}

/** Exponential backoff: delay, 2·delay, 4·delay, … capped at maxDelay. */
export function restartDelayMs(delayMs: number, maxDelayMs: number, attempt: number): number {
  return Math.min(maxDelayMs, delayMs * 2 ** Math.max(0, attempt - 1))
}

export function withState(view: TaskView, state: TaskState, now: number): TaskView {
  return { ...view, state, since: now }
}
