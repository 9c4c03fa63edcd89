// Reading and writing one service's entry: `services[name] = { spec, removed, version, author,
// timeMs, versions }`. `version`, `author` and `timeMs` repeat the newest version record as registers,
// so materialising 1,000 services does not parse 1,000 histories. Every write sets all three, so
// concurrent values in the `version` register mean exactly what concurrent heads in the version graph
// mean (version-graph.ts): writes no later write has seen together, whose merge is a version of its
// own, numbered one past the highest of them.

import { ImmutableString, getConflicts } from '@automerge/automerge'
import type { PeerId } from '../core/index.js'
import type { ServiceSpec } from '../core/index.js'
import { applySteps } from './diff.js'
import { deepFreeze, isRecordValue, readNumber, readString, type PlainValue } from './plain.js'
import { DOCUMENT_LIMITS, type DesiredDoc, type DesiredStateDocument } from './schema.js'
import { decodeSpec, encodeSpec, planSpecWrites } from './spec-codec.js'
import { decodeVersions, encodeVersion, type StoredVersion, type VersionRecord } from './versions.js'

export interface ServiceEntryView {
  /** The stored spec, decoded but not checked (see spec-check.ts). */
  readonly spec: Record<string, PlainValue> | undefined
  readonly removed: boolean
  /** The newest version's number, counting a merge of concurrent writes as a version (see above). */
  readonly version: number
  /** Who wrote the newest version and when; '' and the latest writer's time for a merge. */
  readonly author: string
  readonly timeMs: number
}

/** The entry of `name`, or undefined when the document has none (or holds garbage there). */
export function readServiceEntry(doc: DesiredDoc, name: string): ServiceEntryView | undefined {
  const services = (doc as DesiredStateDocument).services as unknown
  if (!isRecordValue(services) || !Object.hasOwn(services, name)) return undefined
  const entry = services[name]
  if (!isRecordValue(entry)) return undefined
  const concurrent = concurrentNumbers(entry, 'version')
  const merging = concurrent.length > 1
  return {
    spec: decodedSpec(entry.spec),
    removed: entry.removed === true,
    version: merging ? Math.max(...concurrent) + 1 : readNumber(entry.version) ?? 0,
    author: merging ? '' : readString(entry.author) ?? '',
    timeMs: merging ? Math.max(0, ...concurrentNumbers(entry, 'timeMs')) : readNumber(entry.timeMs) ?? 0,
  }
}

/** Every concurrent number in a register (one when there is no conflict); values that are not numbers are left out. */
function concurrentNumbers(entry: Record<string, unknown>, key: string): number[] {
  const found = getConflicts(entry, key)
  if (found === undefined) return []
  return Object.values(found).map(readNumber).filter((value): value is number => value !== undefined)
}

/**
 * The number the `version` register shows (one of several while concurrent writes await a merge), or
 * 0. Read without the conflict lookup readServiceEntry makes: a write only needs a floor for its number.
 */
export function registerVersionNumber(doc: DesiredDoc, name: string): number {
  const services = (doc as DesiredStateDocument).services as unknown
  if (!isRecordValue(services) || !Object.hasOwn(services, name)) return 0
  const entry = services[name]
  return isRecordValue(entry) ? readNumber(entry.version) ?? 0 : 0
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

/** The versions stored for `name`, each once (versions.ts). */
export function readServiceVersions(doc: DesiredDoc, name: string): StoredVersion[] {
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

export interface ServiceWrite {
  readonly name: string
  /** The new spec, or null to remove the service. */
  readonly spec: ServiceSpec | null
  /** The stored spec the write was planned against (decoded), if any. */
  readonly before: Record<string, PlainValue> | undefined
  /** Version records to append, oldest first: a merge this write records, then the write's own. */
  readonly records: readonly VersionRecord[]
  readonly author: PeerId
  readonly timeMs: number
}

/** Performs one service write on the root proxy, inside a change callback. */
export function writeService(root: DesiredStateDocument, write: ServiceWrite): void {
  if (!isRecordValue(root.services)) root.services = {}
  const services = root.services as unknown as Record<string, Record<string, unknown>>
  const existing = services[write.name]
  const newest = write.records[write.records.length - 1]
  if (newest === undefined) throw new Error(`writeService: a write of ${write.name} needs a version record`)
  if (!isRecordValue(existing)) {
    if (write.spec === null) throw new Error(`writeService: cannot remove ${write.name}, which has no entry`)
    services[write.name] = {
      spec: encodeSpec(write.spec),
      removed: false,
      version: newest.version,
      author: new ImmutableString(write.author),
      timeMs: write.timeMs,
      versions: write.records.map(encodeVersion),
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
  entry.version = newest.version
  entry.author = new ImmutableString(write.author)
  entry.timeMs = write.timeMs
  if (!Array.isArray(entry.versions)) entry.versions = []
  const versions = entry.versions as unknown[]
  for (const record of write.records) versions.push(encodeVersion(record))
  const excess = versions.length - DOCUMENT_LIMITS.versionsPerService
  if (excess > 0) versions.splice(0, excess)
}
