// What happened to a service: its versions, who wrote each, when, which fields changed and which
// versions each replaced. Read from the version graph (version-graph.ts), newest last. Concurrent
// writes by two peers both appear, each with an id of its own, followed by the merge that joins them.

import type { ServiceName } from '../core/index.js'
import { resolveSecretVersions, specHash } from '../core/index.js'
import { failure, type DesiredStateError } from './errors.js'
import type { DesiredDoc } from './schema.js'
import { readSecretInfo } from './secrets.js'
import { readServiceEntry, serviceEntryNames } from './service-entry.js'
import { checkSpec } from './spec-check.js'
import { versionGraph, type ServiceVersion } from './version-graph.js'
import { versionSpec, type VersionRecord } from './versions.js'

/** One version of a service as `peer history` shows it: its record without the stored spec text. */
export interface HistoryEntry extends Omit<VersionRecord, 'spec' | 'parents' | 'revertedFromKey'> {
  readonly service: ServiceName
  /** Unique among the service's versions, the same on every peer: what `peer revert` takes. */
  readonly id: string
  /** 16 hex digits identifying the version's record everywhere (versions.ts). */
  readonly key: string
  /** Ids of the versions it replaced that history still holds, oldest first; two or more for a merge. */
  readonly parents: readonly string[]
  /** For a revert: the id of the version it went back to, when history still holds it. */
  readonly revertedFromId?: string
  /** False for a merge no write has recorded yet: computed from the document, the same everywhere. */
  readonly recorded: boolean
}

/**
 * History of one service, or of every service (removed ones included) when none is named; sorted by
 * service, then version, time, author and key, so every peer lists it in the same order.
 */
export function history(doc: DesiredDoc, service?: string): { ok: true; entries: HistoryEntry[] } | { ok: false; error: DesiredStateError } {
  if (service !== undefined && readServiceEntry(doc, service) === undefined) return failure({ kind: 'unknown-service', service })
  const names = service === undefined ? serviceEntryNames(doc) : [service]
  const entries: HistoryEntry[] = []
  for (const name of names) {
    const { versions } = versionGraph(doc, name)
    const ids = new Map(versions.map((version) => [version.key, version.id]))
    for (const version of versions) entries.push(historyEntry(name as ServiceName, version, ids))
  }
  return { ok: true, entries }
}

function historyEntry(service: ServiceName, version: ServiceVersion, ids: ReadonlyMap<string, string>): HistoryEntry {
  const { spec: _spec, parents: _parents, revertedFromKey, ...rest } = version.record
  const revertedFromId = revertedFromKey !== undefined ? ids.get(revertedFromKey) : rest.revertedFrom === undefined ? undefined : String(rest.revertedFrom)
  return {
    service,
    ...rest,
    id: version.id,
    key: version.key,
    // In history order, as `ids` is.
    parents: [...ids].filter(([key]) => version.parents.includes(key)).map(([, id]) => id),
    ...(revertedFromId === undefined ? {} : { revertedFromId }),
    recorded: version.recorded,
  }
}

/**
 * The newest version of `service` whose spec is not the one running as `failedSpecHash` (what a
 * rollback writes back), or undefined when there is none. Specs are compared as the cluster runs
 * them, with their secrets at their current versions: the document keeps only a secret's newest
 * value, so going back restores an earlier spec, never an earlier secret. `id` is what to revert to.
 */
export function lastVersionOtherThan(doc: DesiredDoc, service: string, failedSpecHash: string): (VersionRecord & { readonly id: string }) | undefined {
  const { versions } = versionGraph(doc, service)
  for (let i = versions.length - 1; i >= 0; i--) {
    const version = versions[i]!
    if (version.record.specHash === '') continue
    if (runningHash(doc, version.record) !== failedSpecHash) return { ...version.record, id: version.id }
  }
  return undefined
}

function runningHash(doc: DesiredDoc, record: VersionRecord): string {
  const check = checkSpec(versionSpec(record), '')
  if (!check.ok || check.spec.secrets === undefined) return record.specHash
  return specHash(resolveSecretVersions(check.spec, (name) => readSecretInfo(doc, name)?.version ?? 0))
}
