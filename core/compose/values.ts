// Typed readers over parsed YAML. Compose accepts a number where YAML typed one and the same number as
// a string (what `${N}` interpolates to), so every number and boolean reader takes both. Each reader
// reports what it expected at the field's path and returns undefined, so callers simply skip the field.

import { join } from './field-path.js'
import type { Report } from './report.js'
import { parseGoDurationMs } from './units.js'

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Sets an own property, even one named `__proto__`, which plain assignment would turn into a prototype. */
export function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/** Extension fields (`x-…`) are the compose specification's place for anything else; they are never typos. */
export function isExtension(key: string): boolean {
  return key.startsWith('x-')
}

/**
 * Reports keys outside `allowed` (extension fields aside) as errors: a typo in a compose file must not
 * be deployed as if it were not there.
 */
export function checkKeys(map: Record<string, unknown>, allowed: readonly string[], path: string, report: Report): void {
  for (const key of Object.keys(map)) {
    if (isExtension(key) || allowed.includes(key)) continue
    report.error(join(path, key), `unknown field; expected one of ${allowed.join(', ')}`)
  }
}

/** A map, or undefined (reported) when the value is something else; null reads as absent. */
export function readMap(value: unknown, path: string, report: Report, expected: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined
  if (isMap(value)) return value
  report.error(path, `expected ${expected}`)
  return undefined
}

/** A string; a number is read as its digits (YAML reads `user: 1000` as a number). */
export function readString(value: unknown, path: string, report: Report, expected = 'a string'): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  report.error(path, `expected ${expected}`)
  return undefined
}

/** A whole number from `min` to `max`, written as a number or as digits. */
export function readWhole(value: unknown, path: string, report: Report, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined
  const number = typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value
  if (typeof number === 'number' && Number.isInteger(number) && number >= min && number <= max) return number
  report.error(path, `expected a whole number from ${min} to ${max}`)
  return undefined
}

/** true or false, also as the strings "true" and "false" (any case). */
export function readBoolean(value: unknown, path: string, report: Report): boolean | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'boolean') return value
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true'
  report.error(path, 'expected true or false')
  return undefined
}

/** A list of strings (numbers read as digits); with `single`, one string stands for a list of one. */
export function readStrings(value: unknown, path: string, report: Report, single = false): string[] | undefined {
  if (value === undefined || value === null) return undefined
  if (single && (typeof value === 'string' || typeof value === 'number')) return [String(value)]
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string' || (typeof entry === 'number' && Number.isFinite(entry)))) {
    return value.map(String)
  }
  report.error(path, single ? 'expected a string or a list of strings' : 'expected a list of strings')
  return undefined
}

/** A Go duration (`10s`, `1m30s`, `500ms`, `1h`) in milliseconds. */
export function readDurationMs(value: unknown, path: string, report: Report): number | undefined {
  if (value === undefined || value === null) return undefined
  const parsed = parseGoDurationMs(value)
  if (typeof parsed === 'string') {
    report.error(path, parsed)
    return undefined
  }
  return parsed
}

/** One entry of a "list or dict" field (environment, labels): its key, value (null: none given) and path. */
export interface Pair {
  readonly key: string
  readonly value: string | null
  readonly path: string
}

/**
 * `environment` and `labels` as compose reads them: a map (numbers and booleans become strings, null
 * means "no value"), or a list of `KEY=value` (a bare `KEY` has no value).
 */
export function readPairs(value: unknown, path: string, report: Report): Pair[] | undefined {
  if (value === undefined || value === null) return undefined
  if (Array.isArray(value)) {
    const pairs: Pair[] = []
    value.forEach((entry, i) => {
      const entryPath = `${path}[${i}]`
      if (typeof entry !== 'string' && !(typeof entry === 'number' && Number.isFinite(entry))) {
        report.error(entryPath, 'expected "KEY=value"')
        return
      }
      const text = String(entry)
      const equals = text.indexOf('=')
      pairs.push(equals < 0 ? { key: text, value: null, path: entryPath } : { key: text.slice(0, equals), value: text.slice(equals + 1), path: entryPath })
    })
    return pairs
  }
  if (!isMap(value)) {
    report.error(path, 'expected a map of names to values, or a list of "KEY=value"')
    return undefined
  }
  const pairs: Pair[] = []
  for (const [key, entry] of Object.entries(value)) {
    const entryPath = join(path, key)
    if (entry === null) pairs.push({ key, value: null, path: entryPath })
    else if (typeof entry === 'string' || typeof entry === 'boolean' || (typeof entry === 'number' && Number.isFinite(entry))) pairs.push({ key, value: String(entry), path: entryPath })
    else report.error(entryPath, 'expected a string, number, boolean or null')
  }
  return pairs
}
