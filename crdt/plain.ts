// Conversions between plain JavaScript values and what Automerge stores.
//
// Automerge hands back its own types: ImmutableString objects, list and map proxies, Counters, and
// collaborative text read as strings. Everything leaving this folder is plain data, so callers can
// compare, hash and serialise it without knowing Automerge exists.

import { ImmutableString, isCounter, isImmutableString } from '@automerge/automerge'

/** A plain JSON-like value (plus bytes, which secrets need). */
export type PlainValue = null | boolean | number | string | Uint8Array | PlainValue[] | { [key: string]: PlainValue }

/** Automerge value → plain value. Unknown kinds (e.g. a Date written by some other program) become null. */
export function toPlain(value: unknown): PlainValue {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'object':
      break
    default:
      return null
  }
  if (isImmutableString(value)) return (value as ImmutableString).val
  if (isCounter(value)) return (value as unknown as { value: number }).value
  if (value instanceof Uint8Array) return Uint8Array.from(value)
  if (Array.isArray(value)) return value.map(toPlain)
  if (value instanceof Date) return null
  const out: { [key: string]: PlainValue } = {}
  for (const key of Object.keys(value)) {
    // defineProperty, not assignment: a key named "__proto__" must stay a key.
    Object.defineProperty(out, key, { value: toPlain((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** Plain value → what we write: strings become ImmutableString (see schema.ts for why). */
export function toStored(value: unknown): unknown {
  if (typeof value === 'string') return new ImmutableString(value)
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Uint8Array || isImmutableString(value)) return value
  if (Array.isArray(value)) return value.map(toStored)
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) Object.defineProperty(out, key, { value: toStored(item), enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** Reads a stored string whichever way it was written; undefined when it is not a string. */
export function readString(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (isImmutableString(value)) return (value as ImmutableString).val
  return undefined
}

export function readNumber(value: unknown): number | undefined {
  if (isCounter(value)) return (value as unknown as { value: number }).value
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

export function isRecordValue(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) &&
    !isImmutableString(value) && !isCounter(value)
}

/** Freezes a plain value and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && !(value instanceof Uint8Array)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
    Object.freeze(value)
  }
  return value
}
