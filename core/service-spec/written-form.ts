// The written form of a spec: what a user would write in app.yaml to get this spec from validation
// (durations in ms, cpu in millicores, extended resources beside cpu and memory). It is the inverse
// of validateService, so the one spec model serves both directions: for every valid spec,
// validateService(toWrittenForm(spec)) gives back the same spec
// (a property: test/core/service-spec/written-form.test.ts).
//
// It also takes values not known to be valid (a spec read from a peer's document, say) and turns the
// fields it recognises around, leaving the rest as they are, so that validating the result judges
// the value: crdt/spec-check.ts relies on that.

import type { HealthcheckSpec, RestartPolicy, ServiceSpec, UpdatePolicy } from './types.js'
import { writtenMounts } from './mounts.js'
import { writtenSecretRefs } from './secrets.js'
import { isRecord } from './validate.js'

/** The nested policies' fields under the names a user writes them by (durations without "Ms"). */
const WRITTEN_NAMES = {
  healthcheck: { command: 'command', intervalMs: 'interval', timeoutMs: 'timeout', retries: 'retries', startPeriodMs: 'startPeriod' },
  restart: { condition: 'condition', delayMs: 'delay', maxDelayMs: 'maxDelay', maxAttempts: 'maxAttempts', windowMs: 'window' },
  update: { parallelism: 'parallelism', delayMs: 'delay', order: 'order', autoRollback: 'autoRollback', healthDeadlineMs: 'healthDeadline' },
} as const satisfies {
  // Every field of each policy, so a new one cannot be left out of the written form.
  healthcheck: Record<keyof HealthcheckSpec, string>
  restart: Record<keyof RestartPolicy, string>
  update: Record<keyof UpdatePolicy, string>
}

export function toWrittenForm(spec: ServiceSpec | Readonly<Record<string, unknown>>): Record<string, unknown> {
  const normalised = spec as Readonly<Record<string, unknown>>
  const out: Record<string, unknown> = { ...normalised }
  const resources = normalised.resources
  if (isFieldMap(resources)) {
    const extended = isFieldMap(resources.extended) ? resources.extended : {}
    const cpu = typeof resources.cpuMilli === 'number' ? `${decimal(resources.cpuMilli)}m` : resources.cpuMilli
    out.resources = { ...extended, cpu, memory: resources.memoryMiB }
  }
  for (const [field, names] of Object.entries(WRITTEN_NAMES)) {
    const policy = normalised[field]
    if (isFieldMap(policy)) out[field] = Object.fromEntries(Object.entries(names).map(([name, written]) => [written, policy[name]]))
  }
  if (normalised.secrets !== undefined) out.secrets = writtenSecretRefs(normalised.secrets)
  if (normalised.mounts !== undefined) out.mounts = writtenMounts(normalised.mounts)
  if (Object.hasOwn(normalised, 'stopGraceMs')) {
    delete out.stopGraceMs
    out.stopGrace = normalised.stopGraceMs
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
