// healthcheck: `test: [CMD, prog, arg]` runs the program; `[CMD-SHELL, "cmd"]` (or a string) runs it
// with /bin/sh -c; `[NONE]` or `disable: true` means no healthcheck. Timings left out take Docker's
// defaults (interval 30s, timeout 30s, retries 3, start_period 0s), as the file's author expects, and
// so does a zero, which Docker reads as "the default".

import { quoted } from '../error-message.js'
import { DURATION_RANGES, SPEC_LIMITS, type DurationRange } from '../service-spec/index.js'
import { readDuration } from './durations.js'
import { HEALTHCHECK_FIELDS } from './fields.js'
import { join } from './field-path.js'
import type { ServiceContext } from './project.js'
import { parseGoDurationMs } from './units.js'
import { checkKeys, readBoolean, readMap, readWhole } from './values.js'

const DOCKER_DEFAULTS = { interval: '30s', timeout: '30s', retries: 3, startPeriod: '0s' } as const

export interface WrittenHealthcheck {
  readonly command: readonly string[]
  readonly interval: string
  readonly timeout: string
  readonly retries: number
  readonly startPeriod: string
}

/** The written healthcheck, or undefined for none. */
export function readHealthcheck(value: unknown, context: ServiceContext): WrittenHealthcheck | undefined {
  const path = join(context.path, 'healthcheck')
  const { report } = context
  const healthcheck = readMap(value, path, report, 'a map such as { test: ["CMD", "curl", "-f", "http://localhost"], interval: 30s }')
  if (healthcheck === undefined) return undefined
  checkKeys(healthcheck, HEALTHCHECK_FIELDS, path, report)
  if (readBoolean(healthcheck.disable, join(path, 'disable'), report) === true) return undefined
  if (healthcheck.start_interval !== undefined) report.warn(join(path, 'start_interval'), 'ignored: peer checks at one interval, start period included')
  const range = DURATION_RANGES.healthcheck
  const timing = (field: string, fallback: string, fieldRange: DurationRange): string | undefined => {
    const written = healthcheck[field]
    if (written === undefined || written === null || parseGoDurationMs(written) === 0) return fallback
    return readDuration(written, fieldRange, join(path, field), report)
  }
  const interval = timing('interval', DOCKER_DEFAULTS.interval, range.interval)
  const timeout = timing('timeout', DOCKER_DEFAULTS.timeout, range.timeout)
  const startPeriod = healthcheck.start_period === undefined ? DOCKER_DEFAULTS.startPeriod : readDuration(healthcheck.start_period, range.startPeriod, join(path, 'start_period'), report)
  const writtenRetries = readWhole(healthcheck.retries, join(path, 'retries'), report, 0, SPEC_LIMITS.maxHealthcheckRetries)
  const retries = writtenRetries === undefined || writtenRetries === 0 ? DOCKER_DEFAULTS.retries : writtenRetries
  const command = testCommand(healthcheck.test, join(path, 'test'), context)
  if (command === undefined || interval === undefined || timeout === undefined || startPeriod === undefined) return undefined
  return { command, interval, timeout, retries, startPeriod }
}

function testCommand(test: unknown, path: string, context: ServiceContext): string[] | undefined {
  const { report } = context
  if (test === undefined || test === null) {
    report.warn(path, 'ignored healthcheck: it has no test, and peer does not read the image\'s HEALTHCHECK; write the test here')
    return undefined
  }
  if (typeof test === 'string') return ['/bin/sh', '-c', test]
  if (!Array.isArray(test) || test.length === 0 || !test.every((word) => typeof word === 'string')) {
    report.error(path, 'expected ["CMD", program, args…], ["CMD-SHELL", "command line"], ["NONE"], or a command line')
    return undefined
  }
  const [kind, ...rest] = test as string[]
  switch (kind) {
    case 'NONE':
      return undefined
    case 'CMD':
      if (rest.length > 0) return rest
      report.error(path, 'CMD needs the program to run: ["CMD", "curl", "-f", "http://localhost"]')
      return undefined
    case 'CMD-SHELL':
      if (rest.length > 0) return ['/bin/sh', '-c', ...rest]
      report.error(path, 'CMD-SHELL needs the command line to run: ["CMD-SHELL", "curl -f http://localhost || exit 1"]')
      return undefined
    default:
      report.error(path, `expected the test to start with CMD, CMD-SHELL or NONE, not ${quoted(kind ?? '')}`)
      return undefined
  }
}
