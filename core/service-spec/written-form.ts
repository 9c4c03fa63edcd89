// The written form of a spec: what a user would write in app.yaml to get this spec from validation
// (durations in ms, cpu in millicores, extended resources beside cpu and memory). It is the inverse
// of validateService, so the one spec model serves both directions: for every valid spec,
// validateService(toWrittenForm(spec)) gives back the same spec
// (a property: test/core/service-spec/written-form.test.ts).
//
// It also takes values not known to be valid (a spec read from a peer's document, say) and turns the
// fields it recognises around, leaving the rest as they are, so that validating the result judges
// the value: crdt/spec-check.ts relies on that.

import type { ServiceSpec } from './types.js'
import { isRecord } from './validate.js'

export function toWrittenForm(spec: ServiceSpec | Readonly<Record<string, unknown>>): Record<string, unknown> {
  const normalised = spec as Readonly<Record<string, unknown>>
  const out: Record<string, unknown> = { ...normalised }
  const resources = normalised.resources
  if (isFieldMap(resources)) {
    const extended = isFieldMap(resources.extended) ? resources.extended : {}
    const cpu = typeof resources.cpuMilli === 'number' ? `${decimal(resources.cpuMilli)}m` : resources.cpuMilli
    out.resources = { ...extended, cpu, memory: resources.memoryMiB }
  }
  const healthcheck = normalised.healthcheck
  if (isFieldMap(healthcheck)) {
    out.healthcheck = {
      command: healthcheck.command,
      interval: healthcheck.intervalMs,
      timeout: healthcheck.timeoutMs,
      retries: healthcheck.retries,
      startPeriod: healthcheck.startPeriodMs,
    }
  }
  const restart = normalised.restart
  if (isFieldMap(restart)) {
    out.restart = {
      condition: restart.condition,
      delay: restart.delayMs,
      maxDelay: restart.maxDelayMs,
      maxAttempts: restart.maxAttempts,
      window: restart.windowMs,
    }
  }
  const update = normalised.update
  if (isFieldMap(update)) {
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

/** A map of fields; bytes (which a stored value may hold) are not one. */
function isFieldMap(value: unknown): value is Readonly<Record<string, unknown>> {
  return isRecord(value) && !ArrayBuffer.isView(value)
}

/**
 * A number in the digits validation reads back: whole numbers from 1e21 up print in exponent form
 * ("1e+21"), which "1e+21m" would not parse as, so those are written out in full.
 */
function decimal(value: number): string {
  return Number.isInteger(value) ? BigInt(value).toString() : String(value)
}
