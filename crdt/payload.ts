// The envelope shared by both ways desired state moves between peers. One byte of format version and
// one byte of kind come first, so a receiver can tell the two apart, and refuse a future format
// instead of feeding it to Automerge.
//
//   byte 0     format version (1)
//   byte 1     kind: 1 = changes (gossip broadcast), 2 = sync message (direct stream)
//   bytes 2..  kind-specific body (broadcast.ts, sync.ts)

export const PAYLOAD_FORMAT_VERSION = 1
export const PAYLOAD_KIND_CHANGES = 1
export const PAYLOAD_KIND_SYNC = 2
export const PAYLOAD_HEADER_BYTES = 2

export type PayloadError =
  | { kind: 'too-large'; sizeBytes: number; limitBytes: number }
  | { kind: 'truncated'; sizeBytes: number }
  | { kind: 'unknown-format'; version: number }
  | { kind: 'wrong-kind'; expected: number; found: number }
  | { kind: 'malformed'; message: string }
  | { kind: 'bad-change'; index: number; message: string }
  | { kind: 'rejected'; message: string }

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: PayloadError }

/** Checks size, format version and kind; returns the body. */
export function openEnvelope(payload: Uint8Array, expectedKind: number, limitBytes: number): Decoded<Uint8Array> {
  if (!(payload instanceof Uint8Array)) return { ok: false, error: { kind: 'malformed', message: 'not bytes' } }
  if (payload.length > limitBytes) return { ok: false, error: { kind: 'too-large', sizeBytes: payload.length, limitBytes } }
  if (payload.length < PAYLOAD_HEADER_BYTES) return { ok: false, error: { kind: 'truncated', sizeBytes: payload.length } }
  if (payload[0] !== PAYLOAD_FORMAT_VERSION) return { ok: false, error: { kind: 'unknown-format', version: payload[0]! } }
  if (payload[1] !== expectedKind) return { ok: false, error: { kind: 'wrong-kind', expected: expectedKind, found: payload[1]! } }
  return { ok: true, value: payload.subarray(PAYLOAD_HEADER_BYTES) }
}

/** The kind byte of a payload whose header is valid, so one decoder at the edge can dispatch. */
export function payloadKind(payload: Uint8Array): 'changes' | 'sync' | undefined {
  if (!(payload instanceof Uint8Array) || payload.length < PAYLOAD_HEADER_BYTES || payload[0] !== PAYLOAD_FORMAT_VERSION) return undefined
  if (payload[1] === PAYLOAD_KIND_CHANGES) return 'changes'
  if (payload[1] === PAYLOAD_KIND_SYNC) return 'sync'
  return undefined
}

export { messageOf as errorMessage } from '../core/index.js'
