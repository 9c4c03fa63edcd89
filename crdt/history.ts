// What happened to a service: its versions, who wrote each, when, and which fields changed. Read from
// the version records in the document (versions.ts), newest last. Concurrent writes by two peers
// both appear, possibly with the same version number.

import type { ServiceName } from '../core/index.js'
import { resolveSecretVersions, specHash } from '../core/index.js'
import { failure, type DesiredStateError } from './errors.js'
import type { DesiredDoc, VersionAction } from './schema.js'
import { readSecretInfo } from './secrets.js'
import { readServiceEntry, readServiceVersions, serviceEntryNames } from './service-entry.js'
import { checkSpec } from './spec-check.js'
import { compareVersions, versionSpec, type VersionRecord } from './versions.js'

/** One version of a service as `peer history` shows it: its record without the stored spec text. */
export interface HistoryEntry extends Omit<VersionRecord, 'spec'> {
  readonly service: ServiceName
}

/**
 * History of one service, or of every service (removed ones included) when none is named; sorted by
 * service, then version, time and author, so every peer lists it in the same order.
 */
export function history(doc: DesiredDoc, service?: string): { ok: true; entries: HistoryEntry[] } | { ok: false; error: DesiredStateError } {
  if (service !== undefined && readServiceEntry(doc, service) === undefined) return failure({ kind: 'unknown-service', service })
  const names = service === undefined ? serviceEntryNames(doc) : [service]
  const entries: HistoryEntry[] = []
  for (const name of names) {
    for (const record of readServiceVersions(doc, name).sort(compareVersions)) {
      const { spec: _spec, ...rest } = record
      entries.push({ service: name as ServiceName, ...rest })
    }
  }
  return { ok: true, entries }
}

/**
 * The newest version of `service` whose spec is not the one running as `failedSpecHash` (what a
 * rollback writes back), or undefined when there is none. Specs are compared as the cluster runs
 * them, with their secrets at their current versions: the document keeps only a secret's newest
 * value, so going back restores an earlier spec, never an earlier secret.
 */
export function lastVersionOtherThan(doc: DesiredDoc, service: string, failedSpecHash: string): VersionRecord | undefined {
  const records = readServiceVersions(doc, service).sort(compareVersions)
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i]!
    if (record.specHash === '') continue
    if (runningHash(doc, record) !== failedSpecHash) return record
  }
  return undefined
}

function runningHash(doc: DesiredDoc, record: VersionRecord): string {
  const check = checkSpec(versionSpec(record), '')
  if (!check.ok || check.spec.secrets === undefined) return record.specHash
  return specHash(resolveSecretVersions(check.spec, (name) => readSecretInfo(doc, name)?.version ?? 0))
}
