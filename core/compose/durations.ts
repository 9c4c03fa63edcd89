// Compose durations turned into peer's, checked against the range peer allows for the field
// (service-spec's DURATION_RANGES), so a problem names the compose field rather than peer's.

import { formatDurationMs, type DurationRange } from '../service-spec/index.js'
import type { Report } from './report.js'
import { readDurationMs } from './values.js'

/** A Go duration as peer's written duration, or undefined (reported) when unreadable or out of `range`. */
export function readDuration(value: unknown, range: DurationRange, path: string, report: Report): string | undefined {
  const ms = readDurationMs(value, path, report)
  if (ms === undefined) return undefined
  if (ms < range.minMs || ms > range.maxMs) {
    report.error(path, `expected a duration from ${formatDurationMs(range.minMs)} to ${formatDurationMs(range.maxMs)}, not ${formatDurationMs(ms)}`)
    return undefined
  }
  return formatDurationMs(ms)
}

/**
 * Like readDuration, but a duration below the minimum is raised to it with a warning: compose files
 * often write `0s` where peer has a floor (restart delays, update deadlines), and the floor is what
 * such a file gets anyway.
 */
export function readDurationAtLeast(value: unknown, range: DurationRange, path: string, report: Report): string | undefined {
  const ms = readDurationMs(value, path, report)
  if (ms === undefined) return undefined
  if (ms < range.minMs) {
    report.warn(path, `${formatDurationMs(ms)} is below peer's minimum; using ${formatDurationMs(range.minMs)}`)
    return formatDurationMs(range.minMs)
  }
  return readDuration(value, range, path, report)
}
