// How each measure of the real-hosts benchmark is reported: one JSON line with the values of every
// run, their p50 / p99 / max (nearest rank: with fewer than 100 runs p99 is the maximum), the target
// it is judged against, whether it was met, and the load average before and after — ten agents on two
// cores share the machine with whatever else runs, and the load says how far to trust a figure.

import { cpus, loadavg } from 'node:os'
import { percentile } from '../../sim/metrics.js'

export interface Spread {
  readonly p50: number
  readonly p99: number
  readonly max: number
}

export function spread(values: readonly number[]): Spread {
  const round = (value: number): number => Math.round(value)
  return values.length === 0 ? { p50: -1, p99: -1, max: -1 } : { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)), max: round(Math.max(...values)) }
}

export const loadAverage = (): number[] => loadavg().map((value) => Math.round(value * 100) / 100)

export interface MeasureLine {
  readonly measure: string
  readonly target: string
  readonly met: boolean
  /** The figure judged against the target, in ms, one value per run (or per sample, where said). */
  readonly values: readonly number[]
  readonly unit: string
  /** What else explains the figure (counts of doubles, moves, verdicts). */
  readonly detail: Record<string, unknown>
}

/** Prints one measure as one JSON line on stdout. */
export function printLine(hosts: number, line: MeasureLine, loadBefore: readonly number[]): void {
  const { values, ...rest } = line
  process.stdout.write(`${JSON.stringify({
    bench: 'real-hosts',
    hosts,
    measure: rest.measure,
    runs: values.length,
    unit: rest.unit,
    ...spread(values),
    values: values.map(Math.round),
    target: rest.target,
    met: rest.met,
    ...rest.detail,
    cores: cpus().length,
    loadAverage: { before: loadBefore, after: loadAverage() },
    at: new Date().toISOString(),
  })}\n`)
}
