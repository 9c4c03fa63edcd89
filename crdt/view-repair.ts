// A guard against a wrong materialised view after remote changes.
//
// Automerge 3.5 keeps the JavaScript object of a document up to date by applying patches. One batch
// of remote changes (a sync message, a change released together with those it waited for, a log
// replayed at start) can produce a wrong patch: when the batch both deletes the value a map key shows
// here and brings a concurrent value for that key, the patch says only `conflict` at that key instead
// of putting the other value, so the object keeps showing the deleted value — a string even gets the
// new text spliced into the old — while the operations underneath, and every other replica, hold the
// other value. Heads agree and desired state does not: one peer would run a spec nobody holds.
// Applied one change at a time the same changes give the right object; `load` of the saved bytes or
// `view` at the same heads always does.
//
// Every batch that went wrong reported a `conflict` patch, so a batch that reports one gets its object
// built afresh from the operations, the way `load` builds it, over the same Automerge backend: same
// changes, same actor, and the changes still waiting for missing dependencies stay queued (a copy —
// `clone`, `view` — would drop those, and a sync session that already sent them never settles).
// It costs a full materialisation, 0.1–0.2 s at 1,000 services on a busy 2-core host; a conflict
// patch needs concurrent writes to one key (two operators changing one service at once, or the two
// sides of a partition), which is rare.

import * as Automerge from '@automerge/automerge'
import type { DesiredDoc, DesiredStateDocument } from './schema.js'

/** Apply options that note whether a batch produced a `conflict` patch. */
export interface ConflictWatch {
  readonly options: Automerge.ApplyOptions<DesiredStateDocument>
  readonly conflicted: () => boolean
}

export function watchConflicts(): ConflictWatch {
  let conflicted = false
  return {
    options: {
      patchCallback: (patches) => {
        if (!conflicted && patches.some((patch) => patch.action === 'conflict')) conflicted = true
      },
    },
    conflicted: () => conflicted,
  }
}

/** `doc`, materialised afresh from its operations when `watch` saw a conflict patch. */
export function repairedView(doc: DesiredDoc, watch: ConflictWatch): DesiredDoc {
  if (!watch.conflicted()) return doc
  return rematerialised(doc)
}

/**
 * The same document (backend, changes, actor, queue) with its object built from the operations rather
 * than from patches. `doc` must not be used afterwards: both share one backend.
 */
export function rematerialised(doc: DesiredDoc): DesiredDoc {
  const handle = Automerge.getBackend(doc)
  // The metadata `init` and `load` give a writable document: no heads (not a view), not frozen.
  return handle.materialize('/', undefined, { handle, heads: undefined, freeze: false, patchCallback: undefined }) as DesiredDoc
}
