// Compose's units, read as Docker reads them, then turned into peer's: Go durations in milliseconds,
// byte sizes (base 1024, as `docker --memory`) in MiB, and cpus (cores, `0.5`) in millicores. Each
// parser returns the number or a sentence saying what was expected.

import { quoted } from '../error-message.js'

/** Nanoseconds per unit: Go's time.ParseDuration units, plus compose's `d` and `w`. */
const DURATION_UNIT_NS: Record<string, number> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86_400e9, w: 604_800e9,
}
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w)/y
const DURATION_EXPECTED = 'expected a duration such as "10s", "1m30s" or "500ms"'

/**
 * A Go duration (`1m30s`, `500ms`, `1.5h`; `0` alone) in whole milliseconds. A nonzero duration
 * shorter than a millisecond counts as one, so it never becomes "none".
 */
export function parseGoDurationMs(value: unknown): number | string {
  if (value === 0 || value === '0') return 0
  if (typeof value !== 'string') return DURATION_EXPECTED
  const text = value.startsWith('+') ? value.slice(1) : value
  if (text.startsWith('-')) return `${DURATION_EXPECTED}, not a negative one`
  if (text === '') return DURATION_EXPECTED
  let totalNs = 0
  DURATION_PART.lastIndex = 0
  while (DURATION_PART.lastIndex < text.length) {
    const match = DURATION_PART.exec(text)
    if (match === null) return `${DURATION_EXPECTED}, not ${quoted(String(value))}`
    totalNs += Number(match[1]) * DURATION_UNIT_NS[match[2]!]!
  }
  if (!Number.isFinite(totalNs)) return 'too long to be a duration'
  return Math.ceil(totalNs / 1e6)
}

/** Byte multipliers of `k`, `m`, `g`, `t`, `p`: base 1024, as Docker reads memory sizes. */
const BYTE_UNITS: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }
const BYTE_SIZE = /^(\d+(?:\.\d*)?|\.\d+) ?(?:([kmgtp])(i?b)?|(b))?$/i
const BYTES_EXPECTED = 'expected a size such as "512m", "1g" or "50M" (bytes without a unit; k, m, g, t, p are base 1024)'

/** A size in bytes: a number of bytes, or `50M`, `1.5g`, `512mb`, `1GiB` (base 1024, any case). */
export function parseBytes(value: unknown): number | string {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.trunc(value) : BYTES_EXPECTED
  if (typeof value !== 'string') return BYTES_EXPECTED
  const match = BYTE_SIZE.exec(value)
  if (match === null) return `${BYTES_EXPECTED}, not ${quoted(String(value))}`
  const multiplier = match[2] === undefined ? 1 : BYTE_UNITS[match[2].toLowerCase()]!
  const bytes = Math.trunc(Number(match[1]) * multiplier)
  return Number.isFinite(bytes) ? bytes : 'too large to be a size'
}

const MIB = 2 ** 20

/** Bytes in whole MiB, rounded up so a limit is never lowered. */
export function bytesToMiB(bytes: number): number {
  return Math.ceil(bytes / MIB)
}

const DECIMAL = /^(\d+)(?:\.(\d*))?$|^\.(\d+)$/
const CPUS_EXPECTED = 'expected a number of cores such as 0.5 or "2"'

/**
 * Cores (`0.5`, `"2"`) in millicores, computed from the digits so `0.1` is exactly 100; digits below
 * a millicore round up, so a reservation is never lowered to nothing.
 */
export function parseCpusMilli(value: unknown): number | string {
  let text: string
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return CPUS_EXPECTED
    text = String(value)
    // Exponent forms (1e-7, 1e+21) have no digits to read: round up from the number itself.
    if (/e/i.test(text)) return Math.ceil(value * 1000)
  } else if (typeof value === 'string') {
    text = value.trim()
  } else {
    return CPUS_EXPECTED
  }
  const match = DECIMAL.exec(text)
  if (match === null) return `${CPUS_EXPECTED}, not ${quoted(String(value))}`
  const whole = match[1] ?? '0'
  const fraction = match[2] ?? match[3] ?? ''
  const milli = Number(whole) * 1000 + Number(fraction.slice(0, 3).padEnd(3, '0'))
  const rest = fraction.slice(3)
  const result = /[1-9]/.test(rest) ? milli + 1 : milli
  return Number.isFinite(result) ? result : 'too large to be a number of cores'
}
