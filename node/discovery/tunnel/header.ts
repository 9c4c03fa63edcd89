// The two frames that open a tunnel (p2p/protocols.ts, TUNNEL_PROTOCOL): the opener's request naming a
// task and the host port it bound, and the far agent's answer. Decoded once, here, with a size limit
// and a full-shape check; everything after them on the stream is the connection's own bytes.

import type { Stream } from '@libp2p/interface'
import { encodeFrame as frame } from '../../../p2p/index.js'
import type { SlotId } from '../../../core/index.js'

/** Either frame's largest size: a slot id and a port, or a refusal's reason, with room to spare. */
export const TUNNEL_HEADER_LIMIT_BYTES = 1024

/** Which task, on which of the host ports it bound: never an address (the far agent uses its own). */
export interface TunnelRequest {
  readonly slot: SlotId
  readonly port: number
}

export type TunnelAnswer = { readonly ok: true } | { readonly ok: false; readonly reason: string }

const ACCEPTED = 0
const REFUSED = 1

export const encodeRequest = (request: TunnelRequest): Uint8Array => frame(new TextEncoder().encode(JSON.stringify({ slot: request.slot, port: request.port })))

export function encodeAnswer(answer: TunnelAnswer): Uint8Array {
  if (answer.ok) return frame(Uint8Array.of(ACCEPTED))
  const reason = new TextEncoder().encode(answer.reason.slice(0, 300))
  const body = new Uint8Array(reason.length + 1)
  body[0] = REFUSED
  body.set(reason, 1)
  return frame(body)
}

/** The request in a frame's body, or why it is not one. */
export function decodeRequest(body: Uint8Array): TunnelRequest | string {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch {
    return 'request is not JSON'
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'request is not an object'
  const { slot, port, ...rest } = value as Record<string, unknown>
  if (Object.keys(rest).length > 0) return `request has unknown fields: ${Object.keys(rest).join(', ')}`
  if (typeof slot !== 'string' || !/^[a-z0-9-]{1,63}\/\d{1,6}$/.test(slot)) return `request slot ${JSON.stringify(slot)} is not <service>/<index>`
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return `request port ${JSON.stringify(port)} is not a port`
  return { slot: slot as SlotId, port }
}

export function decodeAnswer(body: Uint8Array): TunnelAnswer | string {
  if (body[0] === ACCEPTED && body.length === 1) return { ok: true }
  if (body[0] === REFUSED) return { ok: false, reason: new TextDecoder().decode(body.subarray(1)) }
  return `answer with unknown status ${String(body[0])}`
}

/**
 * Reads the first frame of `stream` and puts back whatever came after it in the same chunk (the far
 * side may start sending at once), so the splice that follows sees every byte. Rejects on a frame
 * over the limit, a stream that ends first, or `signal`.
 */
export function readHead(stream: Stream, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let held = new Uint8Array(0)
    const finish = (error?: Error, body?: Uint8Array, rest?: Uint8Array): void => {
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (error !== undefined) return reject(error)
      if (rest !== undefined && rest.length > 0) stream.unshift(rest)
      resolve(body!)
    }
    const onMessage = (event: { data: Uint8Array | { subarray(): Uint8Array } }): void => {
      const chunk = event.data.subarray()
      const joined = new Uint8Array(held.length + chunk.length)
      joined.set(held)
      joined.set(chunk, held.length)
      held = joined
      let length = 0
      for (let i = 0; i < held.length && i < 3; i++) {
        length += (held[i]! & 0x7f) * 0x80 ** i
        if ((held[i]! & 0x80) !== 0) continue
        if (length > TUNNEL_HEADER_LIMIT_BYTES) return finish(new Error(`tunnel header of ${length} bytes is over the limit of ${TUNNEL_HEADER_LIMIT_BYTES}`))
        if (held.length < i + 1 + length) return
        return finish(undefined, held.slice(i + 1, i + 1 + length), held.slice(i + 1 + length))
      }
      if (held.length >= 3) finish(new Error('tunnel header length is not a varint of at most 2 bytes'))
    }
    const onClose = (): void => finish(new Error('stream closed before the tunnel header'))
    const onAbort = (): void => finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
    if (signal.aborted) return onAbort()
    stream.addEventListener('message', onMessage)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
