// Fields that two peers wrote concurrently. Automerge keeps every concurrent value and shows one,
// chosen by a rule every peer applies the same way (docs/desired-state.md); this lists the others so a
// person can see that their write did not win, and write again if it should have.

import * as Automerge from '@automerge/automerge'
import { formatPath } from './diff.js'
import { isRecordValue, toPlain, type PlainValue } from './plain.js'
import type { DesiredDoc } from './schema.js'
import { decodeSpec } from './spec-codec.js'

export interface FieldConflict {
  /** Readable path, e.g. `services.web.spec.image`. */
  readonly path: string
  /** The same path as keys. */
  readonly keys: readonly string[]
  /** The value every peer shows. */
  readonly winner: PlainValue
  /** Every concurrent value, the winner included, in a fixed order. */
  readonly values: readonly PlainValue[]
}

/**
 * Every field with differing concurrent values, sorted by path. Skipped: version lists (appends never
 * conflict), bookkeeping registers (who wrote last, when, which version number; history shows both
 * writes), and concurrent writes of the same value.
 */
export function conflicts(doc: DesiredDoc): FieldConflict[] {
  const out: FieldConflict[] = []
  walk(doc as unknown as Record<string, unknown>, [], out)
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

function walk(map: Record<string, unknown>, path: readonly string[], out: FieldConflict[]): void {
  for (const key of Object.keys(map)) {
    const keys = [...path, key]
    const found = isBookkeeping(keys) ? undefined : Automerge.getConflicts(map, key)
    if (found !== undefined && Object.keys(found).length > 1) {
      const raw = Object.keys(found).sort().map((opId) => found[opId])
      if (new Set(raw.map(fingerprint)).size > 1) {
        out.push({ path: formatPath(keys), keys, winner: describe(keys, map[key]), values: raw.map((value) => describe(keys, value)) })
      }
    }
    const value = map[key]
    if (isRecordValue(value)) walk(value, keys, out)
  }
}

function isBookkeeping(keys: readonly string[]): boolean {
  const last = keys[keys.length - 1] ?? ''
  if (keys.length === 3 && keys[0] === 'services') return last === 'version' || last === 'author' || last === 'timeMs'
  if (keys.length === 2 && keys[0] === 'peers') return last.endsWith('/author') || last.endsWith('/timeMs')
  return false
}

function fingerprint(value: unknown): string {
  return JSON.stringify(toPlain(value), (_key, item: unknown) => (item instanceof Uint8Array ? Buffer.from(item).toString('base64') : item))
}

/** Plain form for a person: spec fields decoded from their stored form, bytes shown by size only. */
function describe(keys: readonly string[], value: unknown): PlainValue {
  if (value instanceof Uint8Array) return `<${value.length} bytes>`
  if (keys.length === 4 && keys[0] === 'services' && keys[2] === 'spec') {
    const field = keys[3]!
    return decodeSpec({ [field]: value })?.[field] ?? null
  }
  const plain = toPlain(value)
  return isRecordValue(plain) ? hideBytes(plain) : plain
}

function hideBytes(record: { [key: string]: PlainValue }): PlainValue {
  const out: { [key: string]: PlainValue } = {}
  for (const [key, value] of Object.entries(record)) {
    const shown = value instanceof Uint8Array ? `<${value.length} bytes>` : isRecordValue(value) ? hideBytes(value as { [key: string]: PlainValue }) : value
    Object.defineProperty(out, key, { value: shown, enumerable: true, writable: true, configurable: true })
  }
  return out
}
