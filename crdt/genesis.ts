// Every peer's document starts from the same genesis change, byte for byte: same actor, same time,
// same operations in the same order, hence the same change hash. Documents created separately from
// their own `init()` would each create their own `services` map, and a merge would hide one of them.
//
// After genesis each process edits under its own actor. The actor is derived from the peer id plus a
// per-process nonce: Automerge numbers an actor's changes 1, 2, 3…, and a peer that restarted
// after losing its disk (or its unsynced tail) would reuse numbers it had already sent, which
// Automerge rejects forever after ("duplicate seq"). A fresh nonce per process start rules that out.

import { createHash, randomBytes } from 'node:crypto'
import * as Automerge from '@automerge/automerge'
import type { PeerId } from '../core/index.js'
import { SCHEMA_VERSION, type DesiredDoc, type DesiredStateDocument } from './schema.js'

/** The genesis actor: 16 zero bytes. No peer uses it after genesis (peer actors are hashes). */
export const GENESIS_ACTOR = '00000000000000000000000000000000'
/** Genesis time in seconds since the epoch: fixed, so every peer's genesis change is identical. */
export const GENESIS_TIME_S = 0
export const GENESIS_MESSAGE = 'peer desired state, schema 1'

let genesisBytes: Uint8Array | undefined

/** The saved genesis document. Computed once per process; every peer computes the same bytes. */
export function genesisDocumentBytes(): Uint8Array {
  if (genesisBytes === undefined) {
    let doc = Automerge.init<DesiredStateDocument>({ actor: GENESIS_ACTOR })
    // Key order is part of the change: keep it fixed.
    doc = Automerge.change(doc, { time: GENESIS_TIME_S, message: GENESIS_MESSAGE }, (root) => {
      root.schema = SCHEMA_VERSION
      root.services = {}
      root.peers = {}
      root.secrets = {}
    })
    genesisBytes = Automerge.save(doc)
  }
  return genesisBytes
}

/** Length of the process nonce mixed into an actor id. */
export const PROCESS_NONCE_BYTES = 8

/** A fresh nonce for this process; call once at start and keep it for the process's lifetime. */
export function newProcessNonce(): Uint8Array {
  return randomBytes(PROCESS_NONCE_BYTES)
}

/**
 * The Automerge actor (hex) for a peer in one process lifetime: 8 bytes of sha256(peer id), so
 * changes can be told apart by peer at a glance, then the 8-byte process nonce.
 */
export function peerActor(peer: PeerId, processNonce: Uint8Array): string {
  if (processNonce.length !== PROCESS_NONCE_BYTES) throw new Error(`process nonce must be ${PROCESS_NONCE_BYTES} bytes`)
  const prefix = createHash('sha256').update(`peer-actor:${peer}`).digest().subarray(0, 8)
  return Buffer.concat([prefix, processNonce]).toString('hex')
}

/** A new document holding only genesis, ready for edits under `actor`. */
export function newDocument(actor: string): DesiredDoc {
  return Automerge.load<DesiredStateDocument>(genesisDocumentBytes(), { actor })
}

/** Hash of the genesis change; a test pins it so an Automerge upgrade that changes it is noticed. */
export function genesisHeads(): string[] {
  return Automerge.getHeads(Automerge.load(genesisDocumentBytes()))
}
