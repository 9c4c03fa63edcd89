// Anti-entropy: the Automerge sync protocol between two peers over a direct stream. Gossip loses
// whatever was published while a peer was cut off, so peers whose heads digests differ (heads.ts) run
// this until neither has a message to send. It carries bulk state, hence the much larger limit.
//
// Each side keeps one SyncState per remote peer for the life of a connection. Start every new
// connection from `newSyncState()`: a state kept across a reconnect can believe the other side holds
// changes it lost, and the two would stall.
//
// Body layout after the envelope (payload.ts): one Automerge sync message.

import * as Automerge from '@automerge/automerge'
import { sameHeads } from './heads.js'
import type { DesiredDoc } from './schema.js'
import { repairedView, watchConflicts, type ConflictWatch } from './view-repair.js'
import { errorMessage, openEnvelope, PAYLOAD_FORMAT_VERSION, PAYLOAD_HEADER_BYTES, PAYLOAD_KIND_SYNC, type PayloadError } from './payload.js'

/**
 * Largest sync payload. A message carries every change the other side lacks, so this bounds the
 * document a fresh peer can catch up on in one message; 32 MiB is ~50× a 1,000-service document
 * with a long history, and still a bounded allocation for a stream reader.
 */
export const SYNC_LIMIT_BYTES = 32 * 1024 * 1024

export type SyncState = Automerge.SyncState

export function newSyncState(): SyncState {
  return Automerge.initSyncState()
}

/** The next message for this peer, or null when it has everything we have and we know what it has. */
export function generateSync(doc: DesiredDoc, state: SyncState): { state: SyncState; payload: Uint8Array | null } {
  const [next, message] = Automerge.generateSyncMessage(doc, state)
  if (message === null) return { state: next, payload: null }
  const payload = new Uint8Array(PAYLOAD_HEADER_BYTES + message.length)
  payload[0] = PAYLOAD_FORMAT_VERSION
  payload[1] = PAYLOAD_KIND_SYNC
  payload.set(message, PAYLOAD_HEADER_BYTES)
  return { state: next, payload }
}

export type ReceivedSync =
  | { ok: true; doc: DesiredDoc; state: SyncState; headsChanged: boolean }
  /** `doc` is the document to keep using (see receiveSync). */
  | { ok: false; error: PayloadError; doc: DesiredDoc }

/**
 * Checks and applies one sync payload. Never throws. On error, keep the returned document (a message
 * refused half way may have applied some of its changes first) and the old sync state, and drop the
 * connection: the two sides disagree on something the protocol cannot repair by itself (typically
 * an actor that reused sequence numbers).
 */
export function receiveSync(doc: DesiredDoc, state: SyncState, payload: Uint8Array, limitBytes = SYNC_LIMIT_BYTES): ReceivedSync {
  const opened = openEnvelope(payload, PAYLOAD_KIND_SYNC, limitBytes)
  if (!opened.ok) return { ...opened, doc }
  const message = opened.value
  try {
    Automerge.decodeSyncMessage(message)
  } catch (error) {
    return { ok: false, error: { kind: 'malformed', message: errorMessage(error) }, doc }
  }
  const before = Automerge.getHeads(doc)
  const watch = watchConflicts()
  try {
    const [next, nextState] = Automerge.receiveSyncMessage(doc, state, message, watch.options)
    return { ok: true, doc: repairedView(next, watch), state: nextState, headsChanged: !sameHeads(before, Automerge.getHeads(next)) }
  } catch (error) {
    return { ok: false, error: { kind: 'rejected', message: errorMessage(error) }, doc: catchUp(doc, watch) }
  }
}

/**
 * The document with its materialised view brought up to what Automerge holds. Automerge applies a
 * message's changes before it fails on a bad one, and shows them only on the next operation; an
 * empty apply is that operation.
 */
export function catchUp(doc: DesiredDoc, watch: ConflictWatch = watchConflicts()): DesiredDoc {
  try {
    return repairedView(Automerge.applyChanges(doc, [], watch.options)[0], watch)
  } catch {
    return doc
  }
}
