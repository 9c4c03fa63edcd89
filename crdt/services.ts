// Service operations: apply, scale, remove, revert. Each reads the current document, decides what
// must change, and writes all of it in one Automerge change (or none when nothing differs). Every
// write appends a version record, so `history` can say who changed what and when. A write that
// follows concurrent writes it has now seen together first records their merge (merge-version.ts):
// the spec it replaces is that merge, which would otherwise vanish from history.

import type { PeerId, ServiceName } from '../core/index.js'
import { publishedPortClash, SPEC_LIMITS, specDigest, specHash, unresolvedSecrets, type ServiceSpec } from '../core/index.js'
import { desiredState } from './materialise.js'
import { commitChange } from './change.js'
import { failure, type EditResult } from './errors.js'
import { changedPaths } from './diff.js'
import type { DesiredDoc } from './schema.js'
import { readServiceEntry, writeService, type ServiceWrite } from './service-entry.js'
import { checkSpec } from './spec-check.js'
import { findVersion, versionGraph, type ServiceVersion } from './version-graph.js'
import type { VersionRef } from './version-ids.js'
import { specJson, versionSpec, type VersionRecord } from './versions.js'

export type ServiceOutcomeKind = 'created' | 'updated' | 'unchanged' | 'removed'

export interface ServiceOutcome {
  readonly service: ServiceName
  readonly outcome: ServiceOutcomeKind
  /** The number of the version the service is at after the operation. */
  readonly version: number
  /** Field paths that changed (empty when created, unchanged or removed). */
  readonly changed: readonly string[]
}

/**
 * Creates or updates each given service, like `kubectl apply`: services not named are left alone.
 * Writes only the fields that differ. Specs must come from validateServices; they are checked again
 * here because a bad spec in a replicated document is far harder to get rid of than to refuse.
 * Secrets are stored by name only: versions are the materialised view's (materialise.ts), so a spec
 * copied from the cluster (with versions) and the one a user wrote are the same stored spec.
 */
export function apply(doc: DesiredDoc, given: readonly ServiceSpec[], author: PeerId, nowMs: number): EditResult<{ services: ServiceOutcome[] }> {
  const seen = new Set<string>()
  for (const spec of given) {
    if (seen.has(spec.name)) return failure({ kind: 'duplicate-service', service: spec.name })
    seen.add(spec.name)
    const check = checkSpec(spec, `services.${spec.name}`)
    if (!check.ok) return failure({ kind: 'invalid-spec', service: spec.name, errors: check.errors })
  }
  const clash = publishedPortClash(given, desiredState(doc).services.map((service) => service.spec))
  if (clash !== undefined) return failure({ kind: 'port-clash', ...clash })
  const specs = given.map(unresolvedSecrets)
  const outcomes: ServiceOutcome[] = []
  const writes: ServiceWrite[] = []
  for (const spec of specs) {
    const entry = readServiceEntry(doc, spec.name)
    const live = entry !== undefined && !entry.removed
    const changed = entry?.spec === undefined ? [] : changedPaths(entry.spec, spec)
    if (live && changed.length === 0) {
      outcomes.push({ service: spec.name, outcome: 'unchanged', version: entry.version, changed: [] })
      continue
    }
    const action = live ? 'update' : 'create'
    const reported = live ? changed : []
    const write = serviceWrite(doc, spec.name, spec, entry?.spec, action, reported, author, nowMs)
    writes.push(write)
    outcomes.push({ service: spec.name, outcome: live ? 'updated' : 'created', version: writtenNumber(write), changed: reported })
  }
  const next = commit(doc, writes, `apply ${writes.map((write) => write.name).join(',')}`, nowMs)
  return { ok: true, ...next, services: outcomes }
}

/** Sets the replica count of a replicated service or a job. */
export function scale(doc: DesiredDoc, service: string, replicas: number, author: PeerId, nowMs: number): EditResult<{ outcome: ServiceOutcome }> {
  const entry = readServiceEntry(doc, service)
  if (entry === undefined || entry.removed) return failure({ kind: 'unknown-service', service })
  const check = checkSpec(entry.spec, `services.${service}`)
  if (!check.ok) return failure({ kind: 'invalid-spec', service, errors: check.errors })
  const current = check.spec
  if (current.mode === 'global') return failure({ kind: 'not-scalable', service, mode: current.mode })
  if (!Number.isSafeInteger(replicas) || replicas < 0 || replicas > SPEC_LIMITS.maxReplicas) {
    return failure({ kind: 'invalid-replicas', service, replicas })
  }
  if (replicas === current.replicas) {
    return { ok: true, doc, change: null, outcome: { service: current.name, outcome: 'unchanged', version: entry.version, changed: [] } }
  }
  const spec: ServiceSpec = { ...current, replicas }
  const write = serviceWrite(doc, current.name, spec, entry.spec, 'scale', ['replicas'], author, nowMs)
  const next = commit(doc, [write], `scale ${service}=${replicas}`, nowMs)
  return { ok: true, ...next, outcome: { service: current.name, outcome: 'updated', version: writtenNumber(write), changed: ['replicas'] } }
}

/** Removes services. All must exist, or nothing is removed and the error names the first unknown one. */
export function remove(doc: DesiredDoc, services: readonly string[], author: PeerId, nowMs: number): EditResult<{ services: ServiceOutcome[] }> {
  const names = [...new Set(services)]
  const writes: ServiceWrite[] = []
  const outcomes: ServiceOutcome[] = []
  for (const name of names) {
    const entry = readServiceEntry(doc, name)
    if (entry === undefined || entry.removed) return failure({ kind: 'unknown-service', service: name })
    const write = serviceWrite(doc, name, null, entry.spec, 'remove', [], author, nowMs)
    writes.push(write)
    outcomes.push({ service: name as ServiceName, outcome: 'removed', version: writtenNumber(write), changed: [] })
  }
  const next = commit(doc, writes, `remove ${names.join(',')}`, nowMs)
  return { ok: true, ...next, services: outcomes }
}

/**
 * Writes the spec of an earlier version back as a new version; history is never rewritten. A removed
 * service comes back. `version` is an id as history shows it (`2·1a2b`) or a number; a number that
 * concurrent writes gave to several versions is refused with their ids (`ambiguous-version`), because
 * picking one would be a guess.
 */
export function revert(doc: DesiredDoc, service: string, version: VersionRef, author: PeerId, nowMs: number): EditResult<{ outcome: ServiceOutcome; revertedTo: VersionRecord; revertedToId: string }> {
  const entry = readServiceEntry(doc, service)
  if (entry === undefined) return failure({ kind: 'unknown-service', service })
  const found = findVersion(versionGraph(doc, service), service, version)
  if (!found.ok) return found
  const target = found.version
  if (target.record.spec === null) return failure({ kind: 'version-has-no-spec', service, version: target.id })
  const check = checkSpec(versionSpec(target.record), `services.${service}.versions[${target.id}]`)
  if (!check.ok) return failure({ kind: 'invalid-spec', service, errors: check.errors })
  const spec = check.spec
  const changed = entry.spec === undefined ? [] : changedPaths(entry.spec, spec)
  const reverted = { revertedTo: target.record, revertedToId: target.id }
  if (!entry.removed && changed.length === 0) {
    return { ok: true, doc, change: null, ...reverted, outcome: { service: spec.name, outcome: 'unchanged', version: entry.version, changed: [] } }
  }
  const write = serviceWrite(doc, spec.name, spec, entry.spec, 'revert', changed, author, nowMs, target)
  const committed = commit(doc, [write], `revert ${service} to ${target.id}`, nowMs)
  const outcome: ServiceOutcome = { service: spec.name, outcome: entry.removed ? 'created' : 'updated', version: writtenNumber(write), changed }
  return { ok: true, ...committed, ...reverted, outcome }
}

/**
 * One write of `name`, numbered past every version it has had and naming the versions it replaces.
 * When those are concurrent versions not yet joined, their merge is recorded first and replaced.
 */
function serviceWrite(
  doc: DesiredDoc, name: string, spec: ServiceSpec | null, before: ServiceWrite['before'], action: VersionRecord['action'],
  changed: readonly string[], author: PeerId, nowMs: number, revertedFrom?: ServiceVersion,
): ServiceWrite {
  const graph = versionGraph(doc, name)
  const record: VersionRecord = {
    version: graph.nextNumber,
    action,
    author,
    timeMs: nowMs,
    specDigest: spec === null ? '' : specDigest(spec),
    specHash: spec === null ? '' : specHash(spec),
    changed,
    spec: spec === null ? null : specJson(spec),
    parents: graph.nextParents,
    ...(revertedFrom === undefined ? {} : { revertedFrom: revertedFrom.record.version, revertedFromKey: revertedFrom.key }),
  }
  const merge = graph.pendingMerge
  return { name, spec, before, records: merge === undefined ? [record] : [merge.record, record], author, timeMs: nowMs }
}

function writtenNumber(write: ServiceWrite): number {
  return write.records[write.records.length - 1]!.version
}

/** One Automerge change holding every write; none at all when there is nothing to write. */
function commit(doc: DesiredDoc, writes: readonly ServiceWrite[], message: string, nowMs: number): { doc: DesiredDoc; change: Uint8Array | null } {
  if (writes.length === 0) return { doc, change: null }
  return commitChange(doc, message, nowMs, (root) => {
    for (const write of writes) writeService(root, write)
  })
}
