// Version records. Each version of a service is one immutable JSON string in the service's
// `versions` list: written once, never edited, so it costs one Automerge operation and concurrent
// appends by two peers both survive the merge (list inserts never conflict).

import { ImmutableString } from '@automerge/automerge'
import { canonicalJson } from '../core/index.js'
import type { ServiceSpec } from '../core/index.js'
import { isRecordValue, readString } from './plain.js'
import { VERSION_ACTIONS, type VersionAction } from './schema.js'

export interface VersionRecord {
  readonly version: number
  readonly action: VersionAction
  readonly author: string
  readonly timeMs: number
  /** specDigest / specHash of the spec as its author wrote it; empty for a removal. */
  readonly specDigest: string
  readonly specHash: string
  /** Field paths that differ from the spec this version replaced. */
  readonly changed: readonly string[]
  /** The whole spec as written (canonical JSON), or null for a removal. */
  readonly spec: string | null
  readonly revertedFrom?: number
}

export function encodeVersion(record: VersionRecord): ImmutableString {
  return new ImmutableString(canonicalJson(record))
}

/** A stored version, or undefined when it is not one (a faulty peer's write): such entries are skipped. */
export function decodeVersion(stored: unknown): VersionRecord | undefined {
  const text = readString(stored)
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecordValue(value)) return undefined
  const { version, action, author, timeMs, specDigest, specHash, changed, spec, revertedFrom } = value
  if (!Number.isSafeInteger(version) || (version as number) < 1) return undefined
  if (!VERSION_ACTIONS.includes(action as VersionAction)) return undefined
  if (typeof author !== 'string' || typeof timeMs !== 'number' || !Number.isFinite(timeMs)) return undefined
  if (typeof specDigest !== 'string' || typeof specHash !== 'string') return undefined
  if (!Array.isArray(changed) || !changed.every((path) => typeof path === 'string')) return undefined
  if (spec !== null && typeof spec !== 'string') return undefined
  if (revertedFrom !== undefined && !Number.isSafeInteger(revertedFrom)) return undefined
  const record: VersionRecord = {
    version: version as number, action: action as VersionAction, author, timeMs, specDigest, specHash,
    changed: changed as string[], spec,
  }
  return revertedFrom === undefined ? record : { ...record, revertedFrom: revertedFrom as number }
}

export function decodeVersions(stored: unknown): VersionRecord[] {
  if (!Array.isArray(stored)) return []
  const out: VersionRecord[] = []
  for (const item of stored) {
    const record = decodeVersion(item)
    if (record !== undefined) out.push(record)
  }
  return out
}

/** The spec a version recorded, if it parses; the caller still checks it with checkSpec. */
export function versionSpec(record: VersionRecord): unknown {
  if (record.spec === null) return undefined
  try {
    return JSON.parse(record.spec)
  } catch {
    return undefined
  }
}

export function specJson(spec: ServiceSpec): string {
  return canonicalJson(spec)
}

/** History order: version, then time, then author — the same on every peer. */
export function compareVersions(a: VersionRecord, b: VersionRecord): number {
  if (a.version !== b.version) return a.version - b.version
  if (a.timeMs !== b.timeMs) return a.timeMs - b.timeMs
  return a.author < b.author ? -1 : a.author > b.author ? 1 : 0
}
