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

/** One probe's outcome: passed or not, and the output (or the reason) for a person. */
export interface ProbeOutcome {
  readonly passed: boolean
  readonly detail: string
}

/**
 * The probe timer of one task, the same for every driver: the first probe one interval after the
 * task started, then one interval after each probe began (never overlapping), each result fed to a
 * HealthTracker, and `onChange` called only on a transition. A driver supplies how one probe runs.
 */
export class HealthLoop {
  private readonly tracker: HealthTracker
  private timer: NodeJS.Timeout | undefined
  private running: AbortController | undefined
  private stopped = false

  constructor(
    private readonly check: HealthcheckSpec,
    startedAtMs: number,
    private readonly now: () => number,
    private readonly probe: (signal: AbortSignal) => Promise<ProbeOutcome>,
    private readonly onChange: (state: HealthState, detail: string) => void,
    /** Told of each probe's result and duration (metrics). */
    private readonly onProbe: (passed: boolean, durationMs: number) => void = () => undefined,
  ) {
    this.tracker = new HealthTracker(check, startedAtMs)
  }

  start(): void {
    this.schedule(this.check.intervalMs)
  }

  /** No probe runs after this, and a probe in flight is cancelled; no transition is reported. */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.running?.abort()
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.run(), delayMs)
  }

  private async run(): Promise<void> {
    const began = Date.now()
    this.running = new AbortController()
    const outcome = await this.probe(this.running.signal)
    this.running = undefined
    if (this.stopped) return
    this.onProbe(outcome.passed, Date.now() - began)
    const next = this.tracker.record(outcome.passed, this.now())
    if (next !== undefined) this.onChange(next, outcome.detail)
    this.schedule(Math.max(0, this.check.intervalMs - (Date.now() - began)))
  }
}
