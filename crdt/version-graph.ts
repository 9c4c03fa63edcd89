// The versions of one service as a graph: each version names the versions it replaced (its
// parents), so concurrent writes show as branches and their merge as a version with several parents.
// Everything here is computed from the document alone, so every peer holding the same changes sees
// the same graph, the same ids and the same newest version, whatever order the changes came in.

import { failure, type DesiredStateError } from './errors.js'
import { mergeRecord } from './merge-version.js'
import type { DesiredDoc } from './schema.js'
import { readServiceVersions, registerVersionNumber } from './service-entry.js'
import { parseVersionRef, versionIds, type VersionRef } from './version-ids.js'
import { compareVersions, versionKey, type StoredVersion } from './versions.js'

export interface ServiceVersion extends StoredVersion {
  /** Unique among the service's versions: `3`, or `2·1a2b` when concurrent versions share a number. */
  readonly id: string
  /** Keys of the versions it replaced, as recorded, or inferred for records older than parents. */
  readonly parents: readonly string[]
  /** False for a merge no write has recorded yet: it is computed, and identical once recorded. */
  readonly recorded: boolean
}

export interface VersionGraph {
  /** Oldest first, each version once; the last is the newest, whose spec the service has now. */
  readonly versions: readonly ServiceVersion[]
  /** The merge of concurrent writes that no write has recorded yet, if there is one. */
  readonly pendingMerge: ServiceVersion | undefined
  /** What the next write lists as its parents: the pending merge, or the one newest version. */
  readonly nextParents: readonly string[]
  /** The number the next write gets: one past every number the service has had. */
  readonly nextNumber: number
}

export function versionGraph(doc: DesiredDoc, name: string): VersionGraph {
  const stored = readServiceVersions(doc, name)
  const parents = new Map(stored.map((version) => [version.key, parentsOf(version, stored)]))
  const replaced = new Set([...parents.values()].flat())
  const heads = stored.filter((version) => !replaced.has(version.key)).sort(compareVersions)
  // The register counts too, as it always has: a document whose records were damaged still numbers on.
  const highest = Math.max(registerVersionNumber(doc, name), ...stored.map((version) => version.record.version))
  let merge: StoredVersion | undefined
  if (heads.length > 1) {
    const record = mergeRecord(doc, name, heads, highest + 1)
    merge = { key: versionKey(record), record }
    parents.set(merge.key, record.parents ?? [])
  }
  const all = merge === undefined ? stored : [...stored, merge]
  const ids = versionIds(all)
  const versions = all.sort(compareVersions).map((version): ServiceVersion => ({
    ...version, id: ids.get(version.key)!, parents: parents.get(version.key)!, recorded: version !== merge,
  }))
  return {
    versions,
    pendingMerge: versions.find((version) => !version.recorded),
    nextParents: merge !== undefined ? [merge.key] : heads.map((head) => head.key),
    nextNumber: (merge?.record.version ?? highest) + 1,
  }
}

/**
 * A record's parents. Records written before versions had keys carry none: their writer had seen the
 * versions numbered just below its own (it numbered past them), so those are taken as its parents.
 */
function parentsOf(version: StoredVersion, all: readonly StoredVersion[]): readonly string[] {
  if (version.record.parents !== undefined) return version.record.parents
  let below = 0
  for (const other of all) if (other.record.version < version.record.version) below = Math.max(below, other.record.version)
  return all.filter((other) => other.record.version === below && below > 0).map((other) => other.key)
}

/**
 * The one version a reference names: an id from history, or a bare number when only one version has
 * it. A number several concurrent versions share is refused with their ids, never guessed.
 */
export function findVersion(graph: VersionGraph, service: string, ref: VersionRef): { ok: true; version: ServiceVersion } | { ok: false; error: DesiredStateError } {
  const parsed = parseVersionRef(ref)
  if (parsed === undefined) return failure({ kind: 'unknown-version', service, version: ref })
  const { keyPrefix } = parsed
  const matches = graph.versions.filter((version) => version.record.version === parsed.version && (keyPrefix === undefined || version.key.startsWith(keyPrefix)))
  if (matches.length === 0) return failure({ kind: 'unknown-version', service, version: ref })
  if (matches.length > 1) return failure({ kind: 'ambiguous-version', service, version: ref, candidates: matches.map((version) => version.id) })
  return { ok: true, version: matches[0]! }
}
