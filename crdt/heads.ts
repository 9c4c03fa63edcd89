// A compact digest of a document's heads, carried in heartbeats: two peers with equal digests hold the
// same changes (up to a 64-bit hash collision), so only peers whose digests differ run the sync
// protocol. Heads are sorted first because their order is not part of the document's identity.

import * as Automerge from '@automerge/automerge'
import { hash64Hex } from '../core/index.js'
import type { DesiredDoc } from './schema.js'

export function headsDigest(doc: DesiredDoc): string {
  return digestOfHeads(Automerge.getHeads(doc))
}

/** 16 hex digits. */
export function digestOfHeads(heads: readonly string[]): string {
  return hash64Hex([...heads].sort().join(','))
}

export function heads(doc: DesiredDoc): string[] {
  return [...Automerge.getHeads(doc)].sort()
}

/** Whether two lists hold the same change hashes, in any order. */
export function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  const set = new Set(a)
  return b.every((hash) => set.has(hash))
}
