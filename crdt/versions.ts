// Version records. Each version of a service is one immutable JSON string in the service's
// `versions` list: written once, never edited, so it costs one Automerge operation and concurrent
// appends by two peers both survive the merge (list inserts never conflict).
//
// A version's identity is the hash of its stored text (its key), not its number: two peers writing
// concurrently both pick the next number, so numbers repeat, while texts differ (author, time, spec).
// The same text stored twice is the same version. That is what lets two peers record one merge
// (version-graph.ts) without agreeing first: both write identical text, and readers keep one.

import { createHash } from 'node:crypto'
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
  /**
   * Keys of the versions this one replaced: the versions that were newest when it was written (one,
   * or several concurrent ones a merge joins). Absent in records written before versions had keys;
   * version-graph.ts infers them.
   */
  readonly parents?: readonly string[]
  /** Number of the version a revert went back to; its key too since keys exist, as numbers repeat. */
  readonly revertedFrom?: number
  readonly revertedFromKey?: string
}

/** A version as stored: its record and its key. */
export interface StoredVersion {
  /** 16 hex digits of the SHA-256 of the stored text: the same on every peer. */
  readonly key: string
  readonly record: VersionRecord
}

/** Hex digits of a version key; ids show a prefix of it (version-ids.ts). */
export const VERSION_KEY_LENGTH = 16
const KEY_PATTERN = /^[0-9a-f]{16}$/

export function encodeVersion(record: VersionRecord): ImmutableString {
  return new ImmutableString(canonicalJson(record))
}

/** The key a record has once stored: readers compute it from the text, so it is never stored itself. */
export function versionKey(record: VersionRecord): string {
  return keyOfText(canonicalJson(record))
}

function keyOfText(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, VERSION_KEY_LENGTH)
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
  const { version, action, author, timeMs, specDigest, specHash, changed, spec, parents, revertedFrom, revertedFromKey } = value
  if (!Number.isSafeInteger(version) || (version as number) < 1) return undefined
  if (!VERSION_ACTIONS.includes(action as VersionAction)) return undefined
  if (typeof author !== 'string' || typeof timeMs !== 'number' || !Number.isFinite(timeMs)) return undefined
  if (typeof specDigest !== 'string' || typeof specHash !== 'string') return undefined
  if (!Array.isArray(changed) || !changed.every((path) => typeof path === 'string')) return undefined
  if (spec !== null && typeof spec !== 'string') return undefined
  if (parents !== undefined && !(Array.isArray(parents) && parents.every((key) => typeof key === 'string' && KEY_PATTERN.test(key)))) return undefined
  if (revertedFrom !== undefined && !Number.isSafeInteger(revertedFrom)) return undefined
  if (revertedFromKey !== undefined && !(typeof revertedFromKey === 'string' && KEY_PATTERN.test(revertedFromKey))) return undefined
  return {
    version: version as number, action: action as VersionAction, author, timeMs, specDigest, specHash,
    changed: changed as string[], spec,
    ...(parents === undefined ? {} : { parents: parents as string[] }),
    ...(revertedFrom === undefined ? {} : { revertedFrom: revertedFrom as number }),
    ...(revertedFromKey === undefined ? {} : { revertedFromKey: revertedFromKey as string }),
  }
}

/**
 * The stored versions that decode, each once: the same text stored twice (two peers recording one
 * merge) is one version. Kept in list order.
 */
export function decodeVersions(stored: unknown): StoredVersion[] {
  if (!Array.isArray(stored)) return []
  const out: StoredVersion[] = []
  const seen = new Set<string>()
  for (const item of stored) {
    const record = decodeVersion(item)
    if (record === undefined) continue
    const key = keyOfText(readString(item)!)
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ key, record })
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

/** History order: version, then time, then author, then key — the same on every peer. */
export function compareVersions(a: StoredVersion, b: StoredVersion): number {
  const x = a.record
  const y = b.record
  if (x.version !== y.version) return x.version - y.version
  if (x.timeMs !== y.timeMs) return x.timeMs - y.timeMs
  if (x.author !== y.author) return x.author < y.author ? -1 : 1
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0
}
