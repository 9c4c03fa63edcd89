// Reading and writing one service's entry: `services[name] = { spec, removed, version, author,
// timeMs, versions }`. `version`, `author` and `timeMs` repeat the newest version record as registers,
// so materialising 1,000 services does not parse 1,000 histories.

import { ImmutableString } from '@automerge/automerge'
import type { PeerId } from '../core/index.js'
import type { ServiceSpec } from '../core/index.js'
import { applySteps } from './diff.js'
import { deepFreeze, isRecordValue, readNumber, readString, type PlainValue } from './plain.js'
import { DOCUMENT_LIMITS, type DesiredDoc, type DesiredStateDocument } from './schema.js'
import { decodeSpec, encodeSpec, planSpecWrites } from './spec-codec.js'
import { decodeVersions, encodeVersion, type VersionRecord } from './versions.js'

export interface ServiceEntryView {
  /** The stored spec, decoded but not checked (see spec-check.ts). */
  readonly spec: Record<string, PlainValue> | undefined
  readonly removed: boolean
  readonly version: number
  readonly author: string
  readonly timeMs: number
}

/** The entry of `name`, or undefined when the document has none (or holds garbage there). */
export function readServiceEntry(doc: DesiredDoc, name: string): ServiceEntryView | undefined {
  const services = (doc as DesiredStateDocument).services as unknown
  if (!isRecordValue(services) || !Object.hasOwn(services, name)) return undefined
  const entry = services[name]
  if (!isRecordValue(entry)) return undefined
  return {
    spec: decodedSpec(entry.spec),
    removed: entry.removed === true,
    version: readNumber(entry.version) ?? 0,
    author: readString(entry.author) ?? '',
    timeMs: readNumber(entry.timeMs) ?? 0,
  }
}

/** Decoded specs by stored spec object; unchanged specs are shared between document versions. */
const decodedSpecs = new WeakMap<object, Record<string, PlainValue> | undefined>()

function decodedSpec(stored: unknown): Record<string, PlainValue> | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined
  if (decodedSpecs.has(stored)) return decodedSpecs.get(stored)
  const decoded = deepFreeze(decodeSpec(stored))
  decodedSpecs.set(stored, decoded)
  return decoded
}

export function readServiceVersions(doc: DesiredDoc, name: string): VersionRecord[] {
  const services = (doc as DesiredStateDocument).services as unknown
  if (!isRecordValue(services) || !Object.hasOwn(services, name)) return []
  const entry = services[name]
  return isRecordValue(entry) ? decodeVersions(entry.versions) : []
}

/** Names of every service entry, removed ones included, in code-unit order. */
export function serviceEntryNames(doc: DesiredDoc): string[] {
  const services = (doc as DesiredStateDocument).services as unknown
  return isRecordValue(services) ? Object.keys(services).sort() : []
}

/**
 * The number the next version of `name` gets: one more than any it has had, including versions
 * written concurrently by other peers (they all sit in the versions list after a merge).
 */
export function nextVersionNumber(doc: DesiredDoc, name: string): number {
  let highest = readServiceEntry(doc, name)?.version ?? 0
  for (const record of readServiceVersions(doc, name)) highest = Math.max(highest, record.version)
  return highest + 1
}

export interface ServiceWrite {
  readonly name: string
  /** The new spec, or null to remove the service. */
  readonly spec: ServiceSpec | null
  /** The stored spec the write was planned against (decoded), if any. */
  readonly before: Record<string, PlainValue> | undefined
  readonly record: VersionRecord
  readonly author: PeerId
  readonly timeMs: number
}

/** Performs one service write on the root proxy, inside a change callback. */
export function writeService(root: DesiredStateDocument, write: ServiceWrite): void {
  if (!isRecordValue(root.services)) root.services = {}
  const services = root.services as unknown as Record<string, Record<string, unknown>>
  const existing = services[write.name]
  if (!isRecordValue(existing)) {
    if (write.spec === null) throw new Error(`writeService: cannot remove ${write.name}, which has no entry`)
    services[write.name] = {
      spec: encodeSpec(write.spec),
      removed: false,
      version: write.record.version,
      author: new ImmutableString(write.author),
      timeMs: write.timeMs,
      versions: [encodeVersion(write.record)],
    }
    return
  }
  const entry = existing
  if (write.spec !== null) {
    if (isRecordValue(entry.spec) && write.before !== undefined) {
      applySteps(entry.spec, planSpecWrites(write.before, write.spec))
    } else {
      entry.spec = encodeSpec(write.spec)
    }
  }
  const removed = write.spec === null
  if (entry.removed !== removed) entry.removed = removed
  entry.version = write.record.version
  entry.author = new ImmutableString(write.author)
  entry.timeMs = write.timeMs
  if (!Array.isArray(entry.versions)) entry.versions = []
  const versions = entry.versions as unknown[]
  versions.push(encodeVersion(write.record))
  const excess = versions.length - DOCUMENT_LIMITS.versionsPerService
  if (excess > 0) versions.splice(0, excess)
}
