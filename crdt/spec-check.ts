// Is this value a valid, normalised ServiceSpec? Answered with the one spec model there is
// (core/service-spec): the value is turned back into the form a user writes, validated, and must come out
// equal to itself. That catches garbage written by a faulty peer, and also specs that became invalid
// only by merging — each peer's edit was valid, but concurrent edits to different fields can combine
// into a spec neither wrote (say, one switched the driver to `process`, the other set an image).

import { canonicalJson } from '../core/hash.js'
import { validateService, type ServiceSpec, type SpecError } from '../core/service-spec/index.js'
import { isRecordValue } from './plain.js'

export type SpecCheck = { ok: true; spec: ServiceSpec } | { ok: false; errors: SpecError[] }

export function checkSpec(value: unknown, path: string): SpecCheck {
  if (!isRecordValue(value)) return { ok: false, errors: [{ path: path || '(root)', message: 'expected a service spec' }] }
  const errors: SpecError[] = []
  const spec = validateService(value.name, toWrittenForm(value), path, errors)
  if (spec === undefined) return { ok: false, errors }
  const field = safeCanonicalJson(spec) === safeCanonicalJson(value) ? undefined : firstDifferentField(spec, value)
  if (field !== undefined) {
    return { ok: false, errors: [{ path: path === '' ? field : `${path}.${field}`, message: 'is not in normalised form (missing, or not what validation produces)' }] }
  }
  return { ok: true, spec }
}

/** A normalised spec in the form validateService reads (durations in ms, cpu in millicores…). */
function toWrittenForm(spec: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec }
  const resources = spec.resources
  if (isRecordValue(resources)) {
    const extended = isRecordValue(resources.extended) ? resources.extended : {}
    const cpu = typeof resources.cpuMilli === 'number' ? `${resources.cpuMilli}m` : resources.cpuMilli
    out.resources = { ...extended, cpu, memory: resources.memoryMiB }
  }
  const healthcheck = spec.healthcheck
  if (isRecordValue(healthcheck)) {
    out.healthcheck = {
      command: healthcheck.command,
      interval: healthcheck.intervalMs,
      timeout: healthcheck.timeoutMs,
      retries: healthcheck.retries,
      startPeriod: healthcheck.startPeriodMs,
    }
  }
  const restart = spec.restart
  if (isRecordValue(restart)) {
    out.restart = {
      condition: restart.condition,
      delay: restart.delayMs,
      maxDelay: restart.maxDelayMs,
      maxAttempts: restart.maxAttempts,
      window: restart.windowMs,
    }
  }
  const update = spec.update
  if (isRecordValue(update)) {
    out.update = {
      parallelism: update.parallelism,
      delay: update.delayMs,
      order: update.order,
      autoRollback: update.autoRollback,
      healthDeadline: update.healthDeadlineMs,
    }
  }
  return out
}

function firstDifferentField(spec: ServiceSpec, value: Record<string, unknown>): string | undefined {
  const keys = new Set([...Object.keys(spec), ...Object.keys(value)])
  for (const key of [...keys].sort()) {
    const a = (spec as unknown as Record<string, unknown>)[key]
    const b = value[key]
    if (a === undefined || b === undefined || safeCanonicalJson(a) !== safeCanonicalJson(b)) return key
  }
  return undefined
}

/** canonicalJson refuses non-finite numbers; here such a value simply differs from everything. */
function safeCanonicalJson(value: unknown): string {
  try {
    return canonicalJson(value)
  } catch {
    return '\u0000invalid'
  }
}
