// Healthcheck bookkeeping, apart from the timers and processes that run the probes: given probe
// results and the time, when does a task become healthy or unhealthy? Docker's rules, so a spec
// means the same under either driver:
// - the first probe runs one interval after the task started, then one interval after each probe
//   began (probes never overlap; a slow probe delays the next);
// - one passing probe makes the task healthy;
// - `retries` failing probes in a row make it unhealthy;
// - failures during the start period (from the task's start) do not count, but a pass ends the start
//   period early, since the task has shown it is up.

import type { HealthcheckSpec } from '../../core/index.js'

export type HealthState = 'running' | 'healthy' | 'unhealthy'

export class HealthTracker {
  private state: HealthState = 'running'
  private failures = 0
  private everPassed = false

  constructor(
    private readonly check: HealthcheckSpec,
    private readonly startedAtMs: number,
  ) {}

  get current(): HealthState {
    return this.state
  }

  /** Records one probe result; returns the new state when it changed. */
  record(passed: boolean, nowMs: number): HealthState | undefined {
    if (passed) {
      this.failures = 0
      this.everPassed = true
      return this.move('healthy')
    }
    const inStartPeriod = !this.everPassed && nowMs - this.startedAtMs < this.check.startPeriodMs
    if (inStartPeriod) return undefined
    this.failures++
    return this.failures >= this.check.retries ? this.move('unhealthy') : undefined
  }

  private move(next: HealthState): HealthState | undefined {
    if (next === this.state) return undefined
    this.state = next
    return next
  }
}
