// Shared helpers for the desired-state tests. The .mts extension keeps uvu from running this file
// as a test suite.

import { peerId, type PeerId } from '../../core/placement/ids.js'
import { validateServices, type ServiceSpec } from '../../core/service-spec/index.js'
import { newDocument, peerActor, type DesiredDoc, type EditResult } from '../../crdt/index.js'

/** Validated specs from the form a user writes; throws on invalid input (a broken test). */
export function specs(document: unknown): ServiceSpec[] {
  const result = validateServices(document)
  if (!result.ok) throw new Error(`invalid test spec: ${JSON.stringify(result.errors)}`)
  return result.services
}

export function spec(document: Record<string, unknown>): ServiceSpec {
  return specs(document)[0]!
}

/** A deterministic process nonce per test replica. */
export function nonce(n: number): Uint8Array {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setUint32(4, n)
  return bytes
}

export function replica(name: string, n = 0): { peer: PeerId; doc: DesiredDoc } {
  const peer = peerId(name)
  return { peer, doc: newDocument(peerActor(peer, nonce(n))) }
}

/** The success branch of an edit, or a thrown error naming the failure (a broken test). */
export function ok<T extends EditResult<object>>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`)
  return result as Extract<T, { ok: true }>
}
