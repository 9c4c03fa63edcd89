// The version a merge makes. Two peers edit one service concurrently (one scales, one changes env);
// once both edits meet, the service's spec holds both — a spec neither of them wrote. That spec is a
// version of its own, with both edits as its parents, so history shows what actually ran and
// `revert` can go back to it.
//
// Its record is a pure function of what every peer that has both edits holds — their records and the
// merged entry — and carries no author and no clock of its own. So every peer computes the same
// record, hence the same text and key (versions.ts), without writing anything: until some later write
// records it (services.ts), it is shown from that computation, and when two peers record it
// concurrently they store the same text, which readers keep once.

import { canonicalJson, specDigest, specHash } from '../core/index.js'
import { changedPaths } from './diff.js'
import type { DesiredDoc } from './schema.js'
import { readServiceEntry } from './service-entry.js'
import { checkSpec } from './spec-check.js'
import { specJson, versionSpec, type StoredVersion, type VersionRecord } from './versions.js'

/**
 * The merge of `heads` (the concurrent versions no write has seen together), numbered `version`.
 * Its spec is the entry's spec as merged (null when the merge left the service removed); `changed`
 * lists what differs from any parent, so each side's edits show; its time is the latest parent's.
 */
export function mergeRecord(doc: DesiredDoc, name: string, heads: readonly StoredVersion[], version: number): VersionRecord {
  const entry = readServiceEntry(doc, name)
  let spec: string | null = null
  let digest = ''
  let hash = ''
  if (entry !== undefined && !entry.removed && entry.spec !== undefined) {
    const check = checkSpec(entry.spec, '')
    if (check.ok) {
      spec = specJson(check.spec)
      digest = specDigest(check.spec)
      hash = specHash(check.spec)
    } else {
      // A merge can produce an invalid spec (materialise.ts lists it as invalid). It is still what the
      // document holds, so it is recorded as it is; without a hash, rollback and `peer revert`'s
      // default never pick it, and reverting to it explicitly reports why it is invalid.
      spec = safeJson(entry.spec)
    }
  }
  const merged = spec === null ? undefined : JSON.parse(spec) as unknown
  const changed = new Set<string>()
  if (merged !== undefined) {
    for (const head of heads) {
      const before = versionSpec(head.record)
      if (before !== undefined) for (const path of changedPaths(before, merged)) changed.add(path)
    }
  }
  return {
    version,
    action: 'merge',
    author: '',
    timeMs: Math.max(0, ...heads.map((head) => head.record.timeMs)),
    specDigest: digest,
    specHash: hash,
    changed: [...changed].sort(),
    spec,
    parents: heads.map((head) => head.key).sort(),
  }
}

function safeJson(value: unknown): string | null {
  try {
    return canonicalJson(value)
  } catch {
    return null
  }
}
