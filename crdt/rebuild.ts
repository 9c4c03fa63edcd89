// Rebuilding a document from its change history, in bounded batches.
//
// Automerge 3.5 lays out operations that arrive in one bulk load (`load`, or `applyChanges` /
// `receiveSyncMessage` with a large batch) in large internal blocks, and a later write into such a
// block copies it. How much that costs depends on the document: measured, writes after a plain load
// cost the same as usual for 1,000 services shaped like bench/crdt.ts, 6–15 ms instead of 0.6 ms for
// 1,000 smaller ones, and 2–50 ms (erratic) instead of a steady 2 ms for 3,000. Rebuilding in batches
// of at most 256 KiB of changes avoids it, at a price: opening takes ~4× longer (0.6 s instead of
// 0.26 s for 1,000 services) and resident memory grows by ~40 MB, because Automerge's memory never
// shrinks after the source document is freed. So the store does it only when asked (`rebuildOnOpen`),
// and an agent may do it after a large sync catch-up when it has memory to spare.

import * as Automerge from '@automerge/automerge'
import { newDocument } from './genesis.js'
import type { DesiredDoc } from './schema.js'
import { repairedView, watchConflicts } from './view-repair.js'

/** Change bytes applied per batch; past ~1 MiB the slow layout returns (see above). */
export const REBUILD_BATCH_BYTES = 256 * 1024

/**
 * The same document (same changes, same heads) with writes under `actor`, laid out for fast writes.
 * Changes still waiting for missing dependencies are not carried over; sync fetches them again.
 */
export function rebuildDocument(source: DesiredDoc, actor: string): DesiredDoc {
  let doc = newDocument(actor)
  const watch = watchConflicts()
  let batch: Uint8Array[] = []
  let batchBytes = 0
  for (const change of Automerge.getAllChanges(source)) {
    if (batch.length > 0 && batchBytes + change.length > REBUILD_BATCH_BYTES) {
      ;[doc] = Automerge.applyChanges(doc, batch, watch.options)
      batch = []
      batchBytes = 0
    }
    batch.push(change)
    batchBytes += change.length
  }
  if (batch.length > 0) [doc] = Automerge.applyChanges(doc, batch, watch.options)
  return repairedView(doc, watch)
}
