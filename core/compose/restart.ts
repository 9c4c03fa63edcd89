// Restart policy, from `deploy.restart_policy` or else the service-level `restart:` string.
//   condition: none → never, on-failure → on-failure, any → always
//   restart: "no" → never, always and unless-stopped → always, on-failure[:N] → on-failure (N attempts)
// Fields left out take peer's defaults (docs/spec.md); max_attempts 0 is "never give up", which peer
// also writes as 0. A window of 0 ("unbounded" in Swarm) becomes peer's longest, 24h.

import { DURATION_RANGES, formatDurationMs } from '../service-spec/index.js'
import { readDuration, readDurationAtLeast } from './durations.js'
import { RESTART_POLICY_FIELDS } from './fields.js'
import { join } from './field-path.js'
import type { Report } from './report.js'
import { checkKeys, readMap, readString, readWhole } from './values.js'
import { parseGoDurationMs } from './units.js'

export interface WrittenRestart {
  condition?: 'always' | 'on-failure' | 'never'
  delay?: string
  maxAttempts?: number
  window?: string
}

/** The most restart attempts peer's restart.maxAttempts takes (docs/spec.md, Limits). */
const MAX_ATTEMPTS = 1_000_000

const CONDITIONS: Readonly<Record<string, WrittenRestart['condition']>> = { none: 'never', 'on-failure': 'on-failure', any: 'always' }

export function readRestartPolicy(value: unknown, path: string, report: Report): WrittenRestart | undefined {
  const policy = readMap(value, path, report, 'a map such as { condition: on-failure, delay: 5s, max_attempts: 3, window: 2m }')
  if (policy === undefined) return undefined
  checkKeys(policy, RESTART_POLICY_FIELDS, path, report)
  const restart: WrittenRestart = {}
  const condition = readString(policy.condition, join(path, 'condition'), report)
  if (condition !== undefined) {
    if (CONDITIONS[condition] === undefined) report.error(join(path, 'condition'), 'expected none, on-failure or any')
    else restart.condition = CONDITIONS[condition]
  }
  const range = DURATION_RANGES.restart
  if (policy.delay !== undefined && policy.delay !== null) {
    const delay = readDurationAtLeast(policy.delay, range.delay, join(path, 'delay'), report)
    if (delay !== undefined) restart.delay = delay
  }
  const maxAttempts = readWhole(policy.max_attempts, join(path, 'max_attempts'), report, 0, MAX_ATTEMPTS)
  if (maxAttempts !== undefined) restart.maxAttempts = maxAttempts
  if (policy.window !== undefined && policy.window !== null) {
    const window = parseGoDurationMs(policy.window) === 0 ? formatDurationMs(range.window.maxMs) : readDuration(policy.window, range.window, join(path, 'window'), report)
    if (window !== undefined) restart.window = window
  }
  return restart
}

/** The service-level `restart:` of docker compose. */
export function readRestartString(value: unknown, path: string, report: Report): WrittenRestart | undefined {
  if (value === undefined || value === null) return undefined
  // YAML 1.1 reads an unquoted `no` as false.
  const text = value === false ? 'no' : readString(value, path, report)
  if (text === undefined) return undefined
  const match = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(text.trim())
  if (match === null || (match[2] !== undefined && match[1] !== 'on-failure')) {
    report.error(path, 'expected "no", always, unless-stopped or on-failure[:attempts]')
    return undefined
  }
  switch (match[1]) {
    case 'no':
      return { condition: 'never' }
    case 'always':
    case 'unless-stopped':
      return { condition: 'always' }
    default: {
      const attempts = match[2] === undefined ? 0 : Number(match[2])
      if (attempts > MAX_ATTEMPTS) {
        report.error(path, `at most ${MAX_ATTEMPTS} attempts`)
        return undefined
      }
      return attempts > 0 ? { condition: 'on-failure', maxAttempts: attempts } : { condition: 'on-failure' }
    }
  }
}
