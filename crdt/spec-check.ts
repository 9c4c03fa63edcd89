// Is this value a valid, normalised ServiceSpec? Answered with the one spec model there is
// (core/service-spec): the value is turned back into the form a user writes (toWrittenForm),
// validated, and must come out equal to itself. That catches garbage written by a faulty peer, and
// also specs that became invalid only by merging — each peer's edit was valid, but concurrent edits
// to different fields can combine into a spec neither wrote (say, one switched the driver to
// `process`, the other set an image).

import { canonicalJson } from '../core/index.js'
import { toWrittenForm, validateService, type ServiceSpec, type SpecError } from '../core/index.js'
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
