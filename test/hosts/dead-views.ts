// Every stretch in which one survivor's view of the cluster (GET /v1/nodes) held another survivor
// dead, polled while a fault runs: how long a loss made survivors doubt each other, if at all.

import * as assert from 'uvu/assert'
import { nodesOf } from './agent-views.js'
import { describeAnomaly, FAILOVER_BUDGET_MS, type Verdict } from './checker.js'
import type { Host } from './hosts.js'

const VIEW_POLL_MS = 250

/**
 * Every stretch in which one survivor's view (GET /v1/nodes) held another survivor dead, polled:
 * `observer holds subject` → the longest stretch in ms, ongoing ones up to now.
 */
export class DeadViews {
  private readonly since = new Map<string, number>()
  readonly longest = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private polling = false

  constructor(private readonly survivors: readonly Host[], private readonly nameOf: (peer: string) => string | undefined) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), VIEW_POLL_MS)
  }

  stop(): void {
    clearInterval(this.timer)
    const now = Date.now()
    for (const [pair, since] of this.since) this.note(pair, now - since)
  }

  private async poll(): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      await Promise.all(this.survivors.map(async (host) => {
        const rows = await nodesOf(host).catch(() => undefined)
        const now = Date.now()
        for (const row of rows ?? []) {
          const name = this.nameOf(row.peer)
          if (name === undefined || !this.survivors.some((s) => s.name === name)) continue
          const pair = `${host.name} holds ${name}`
          if (row.status === 'dead') {
            if (!this.since.has(pair)) this.since.set(pair, now)
            this.note(pair, now - this.since.get(pair)!)
          } else if (this.since.has(pair)) {
            this.note(pair, now - this.since.get(pair)!)
            this.since.delete(pair)
          }
        }
      }))
    } finally {
      this.polling = false
    }
  }

  private note(pair: string, ms: number): void {
    this.longest.set(pair, Math.max(this.longest.get(pair) ?? 0, ms))
  }
}

/** The longest stretches, longest first, in words: "h2 holds h4 520 ms, …" or "none". */
export function describeHeld(views: DeadViews): string {
  const held = [...views.longest].sort((a, b) => b[1] - a[1])
  return held.length === 0 ? 'none' : held.map(([pair, ms]) => `${pair} ${ms} ms`).join(', ')
}

/**
 * What a host's loss must not cause, from `fromMs` (the fault's start) on: an anomaly of the history
 * checker (a slot lost past the failover budget, doubled past the conflict window), or a survivor
 * holding another dead for longer than a failover.
 */
export function assertLossHandled(verdict: Verdict, fromMs: number, lost: string, views: DeadViews): void {
  const through = verdict.anomalies.filter((anomaly) => anomaly.toMs > fromMs)
  assert.equal(through.map(describeAnomaly), [], `from ${lost}'s loss on: no slot lost past the failover budget, none doubled past the conflict window`)
  for (const [pair, ms] of views.longest) assert.ok(ms <= FAILOVER_BUDGET_MS, `${pair} dead for ${ms} ms, longer than a failover (${FAILOVER_BUDGET_MS} ms)`)
}
