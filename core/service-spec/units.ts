// Parsing of the human units a spec file uses: durations, cpu and memory quantities.
// Each returns a number or a sentence saying what was expected.

/** Digits too many for a number (they would read as Infinity, which no spec can hold or hash). */
const TOO_LARGE = 'too large to be a number'

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g
const DURATION_WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `500ms`, `10s`, `1m30s`, `2h`, or a number of milliseconds. */
export function parseDurationMs(value: unknown): number | string {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value) : 'expected a non-negative number of milliseconds'
  }
  if (typeof value !== 'string' || !DURATION_WHOLE.test(value.trim())) {
    return 'expected a duration such as "500ms", "10s", "1m30s" or a number of milliseconds'
  }
  let total = 0
  for (const match of value.trim().matchAll(DURATION_PART)) total += Number(match[1]) * UNIT_MS[match[2]!]!
  return Number.isFinite(total) ? Math.round(total) : TOO_LARGE
}

/** Most cores one task may ask for: a larger number is almost certainly millicores written without "m". */
const MAX_CORES = 1024

/** `250m` (millicores), `0.5` or `2` (cores, like `docker --cpus`). */
export function parseCpuMilli(value: unknown): number | string {
  if (typeof value === 'string' && /^\d+m$/.test(value.trim())) {
    const milli = Number(value.trim().slice(0, -1))
    return Number.isFinite(milli) ? milli : TOO_LARGE
  }
  const cores = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value
  if (typeof cores !== 'number' || !Number.isFinite(cores) || cores < 0) {
    return 'expected cores (0.5, 2) or millicores ("250m")'
  }
  if (cores > MAX_CORES) return `${cores} cores is more than any host has; did you mean "${cores}m" (millicores)?`
  return Math.round(cores * 1000)
}

const MEMORY_UNITS_MIB: Record<string, number> = {
  Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024,
  K: 1000 / 1048576, M: 1_000_000 / 1048576, G: 1e9 / 1048576, T: 1e12 / 1048576,
}

/** `64Mi`, `1Gi`, `512M`, or a number of MiB. Rounded up to whole MiB. */
export function parseMemoryMiB(value: unknown): number | string {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.ceil(value) : 'expected a non-negative number of MiB'
  }
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(value.trim()) : null
  if (!match) return 'expected a memory size such as 64, "64Mi", "1Gi" or "512M"'
  const mib = Math.ceil(Number(match[1]) * MEMORY_UNITS_MIB[match[2] ?? 'Mi']!)
  return Number.isFinite(mib) ? mib : TOO_LARGE
}
