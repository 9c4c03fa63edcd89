// Broadcast of new changes on the gossip topic: the fast path. Small by design (gossipsub silently
// drops messages over 4 MiB, and every peer receives every broadcast); when new changes exceed the
// limit, encoding says so and the sender relies on the sync protocol instead, which peers start
// when the heads digests in their heartbeats differ.
//
// Body layout after the envelope (payload.ts), all integers big-endian:
//   u16 count, then per change: u32 length, change bytes (an Automerge change chunk)

import * as Automerge from '@automerge/automerge'
import type { DesiredDoc } from './schema.js'
import { sameHeads } from './heads.js'
import { catchUp } from './sync.js'
import { repairedView, watchConflicts } from './view-repair.js'
import { errorMessage, openEnvelope, PAYLOAD_FORMAT_VERSION, PAYLOAD_HEADER_BYTES, PAYLOAD_KIND_CHANGES, type Decoded, type PayloadError } from './payload.js'

/** Largest broadcast. 64 KiB holds hundreds of ordinary edits and stays cheap to gossip to every peer. */
export const BROADCAST_LIMIT_BYTES = 64 * 1024
const MAX_CHANGES = 0xffff

export type EncodedBroadcast =
  | { ok: true; payload: Uint8Array }
  /** Too big to gossip: rely on the sync protocol (the heads digest will differ). */
  | { ok: false; error: { kind: 'too-large'; sizeBytes: number; limitBytes: number } }

export function encodeBroadcast(changes: readonly Uint8Array[], limitBytes = BROADCAST_LIMIT_BYTES): EncodedBroadcast {
  const sizeBytes = PAYLOAD_HEADER_BYTES + 2 + changes.reduce((sum, change) => sum + 4 + change.length, 0)
  if (sizeBytes > limitBytes || changes.length > MAX_CHANGES) return { ok: false, error: { kind: 'too-large', sizeBytes, limitBytes } }
  const payload = new Uint8Array(sizeBytes)
  const view = new DataView(payload.buffer)
  payload[0] = PAYLOAD_FORMAT_VERSION
  payload[1] = PAYLOAD_KIND_CHANGES
  view.setUint16(2, changes.length)
  let offset = PAYLOAD_HEADER_BYTES + 2
  for (const change of changes) {
    view.setUint32(offset, change.length)
    payload.set(change, offset + 4)
    offset += 4 + change.length
  }
  return { ok: true, payload }
}

/**
 * Checks the envelope, the framing, and that every change parses as an Automerge change. Never
 * throws. Does not check what a change does: materialising re-validates everything it reads.
 */
export function decodeBroadcast(payload: Uint8Array, limitBytes = BROADCAST_LIMIT_BYTES): Decoded<Uint8Array[]> {
  const opened = openEnvelope(payload, PAYLOAD_KIND_CHANGES, limitBytes)
  if (!opened.ok) return opened
  const body = opened.value
  if (body.length < 2) return { ok: false, error: { kind: 'truncated', sizeBytes: payload.length } }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const count = view.getUint16(0)
  if (count === 0) return { ok: false, error: { kind: 'malformed', message: 'a broadcast carries at least one change' } }
  const changes: Uint8Array[] = []
  let offset = 2
  for (let index = 0; index < count; index++) {
    if (offset + 4 > body.length) return { ok: false, error: { kind: 'truncated', sizeBytes: payload.length } }
    const length = view.getUint32(offset)
    offset += 4
    if (length === 0 || offset + length > body.length) return { ok: false, error: { kind: 'truncated', sizeBytes: payload.length } }
    const change = body.slice(offset, offset + length)
    offset += length
    const problem = checkChange(change)
    if (problem !== undefined) return { ok: false, error: { kind: 'bad-change', index, message: problem } }
    changes.push(change)
  }
  if (offset !== body.length) return { ok: false, error: { kind: 'malformed', message: `${body.length - offset} bytes after the last change` } }
  return { ok: true, value: changes }
}

/** Undefined when the bytes parse as one Automerge change; otherwise why not. */
function checkChange(change: Uint8Array): string | undefined {
  try {
    Automerge.decodeChange(change)
    return undefined
  } catch (error) {
    return errorMessage(error)
  }
}

export interface ReceivedChanges {
  readonly doc: DesiredDoc
  readonly heads: string[]
  readonly headsChanged: boolean
  /**
   * Changes this document has not seen but others depend on. Non-empty means a broadcast was missed:
   * Automerge holds the dependent changes back until they arrive, so run the sync protocol.
   */
  readonly missingDeps: string[]
  /** Changes Automerge refused (e.g. an actor reusing a sequence number), with the reason. */
  readonly rejected: ReadonlyArray<{ index: number; error: PayloadError }>
}

/**
 * Applies decoded changes one at a time, so one refused change does not stop the others. Duplicates
 * are harmless: Automerge ignores a change it already has.
 */
export function receiveChanges(doc: DesiredDoc, changes: readonly Uint8Array[]): ReceivedChanges {
  const before = Automerge.getHeads(doc)
  const rejected: Array<{ index: number; error: PayloadError }> = []
  let current = doc
  // One change can release others that waited for it: a batch, which can leave a wrong view.
  const watch = watchConflicts()
  changes.forEach((change, index) => {
    try {
      ;[current] = Automerge.applyChanges(current, [change], watch.options)
    } catch (error) {
      rejected.push({ index, error: { kind: 'rejected', message: errorMessage(error) } })
      current = catchUp(current, watch)
    }
  })
  current = repairedView(current, watch)
  const heads = Automerge.getHeads(current)
  return {
    doc: current,
    heads,
    headsChanged: !sameHeads(before, heads),
    missingDeps: Automerge.getMissingDeps(current, heads),
    rejected,
  }
}
