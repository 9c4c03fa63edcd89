// One request, one response, over a fresh stream: the round trips of desired-state sync (Automerge's
// sync protocol) and anything else that needs an answer. Generic on purpose: p2p/ moves bytes and
// bounds them; crdt/ gives them meaning.
//
// On the wire: the requester writes one frame and closes its write end; the responder answers with
// one frame whose first byte is a status (0 ok: the rest is the body; 1 error: the rest is a short
// UTF-8 reason) and closes. Sizes are bounded on both sides, and the whole exchange by a timeout.

import './polyfill.js'

import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '../core/index.js'
import { FrameError, readOneFrame, writeFrame } from './frames.js'
import { openStream, type StreamNode } from './open-stream.js'
import { messageOf } from '../core/index.js'

export type RequestErrorCode =
  | 'bad-peer-id'
  | 'self'
  | 'stopped'
  | 'too-large'
  | 'dial-failed'
  | 'unsupported'
  | 'timeout'
  | 'closed'
  | 'bad-response'
  | 'remote-error'

export class RequestError extends Error {
  override readonly name = 'RequestError'

  constructor(
    readonly code: RequestErrorCode,
    message: string,
  ) {
    super(message)
  }
}

export interface RequestLimits {
  readonly maxRequestBytes: number
  readonly maxResponseBytes: number
  readonly timeoutMs: number
}

/** Answers one request. Throwing sends the error's message (first 200 characters) back as a remote-error. */
export type RequestHandler = (from: PeerId, request: Uint8Array, signal: AbortSignal) => Uint8Array | Promise<Uint8Array>

const STATUS_OK = 0
const STATUS_ERROR = 1
const MAX_REASON_CHARS = 200

export async function sendRequest(
  node: StreamNode,
  to: string,
  protocol: string,
  body: Uint8Array,
  limits: RequestLimits & { openTimeoutMs: number },
  outer?: AbortSignal,
): Promise<Uint8Array> {
  if (body.length > limits.maxRequestBytes) throw new RequestError('too-large', `request of ${body.length} bytes is over the limit of ${limits.maxRequestBytes}`)
  if (to === node.peerId.toString()) throw new RequestError('self', 'cannot send a request to this peer itself')
  let remote
  try {
    remote = peerIdFromString(to)
  } catch {
    throw new RequestError('bad-peer-id', `${JSON.stringify(to)} is not a libp2p peer id`)
  }
  const timeout = AbortSignal.timeout(limits.timeoutMs)
  const signal = outer === undefined ? timeout : AbortSignal.any([timeout, outer])

  let stream: Stream
  try {
    stream = await openStream(node, remote, protocol, { signal: AbortSignal.any([signal, AbortSignal.timeout(limits.openTimeoutMs)]) })
  } catch (error) {
    if (nameOf(error) === 'UnsupportedProtocolError') throw new RequestError('unsupported', `${to} does not serve ${protocol}`)
    if (timeout.aborted) throw new RequestError('timeout', `no answer from ${to} on ${protocol} within ${limits.timeoutMs} ms`)
    throw new RequestError('dial-failed', `cannot reach ${to} for ${protocol}: ${messageOf(error)}`)
  }
  const onAbort = (): void => stream.abort(new Error('request timed out'))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await writeFrame(stream, body, signal)
    await stream.close({ signal })
    const frame = await readOneFrame(stream, limits.maxResponseBytes + 1)
    if (frame === undefined) throw new RequestError('closed', `${to} closed the ${protocol} stream without answering`)
    const status = frame[0]
    if (status === STATUS_OK) return frame.subarray(1)
    if (status === STATUS_ERROR) throw new RequestError('remote-error', `${to} failed the request: ${new TextDecoder().decode(frame.subarray(1, 1 + 4 * MAX_REASON_CHARS))}`)
    throw new RequestError('bad-response', `${to} answered with unknown status ${String(status)}`)
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    if (error instanceof RequestError) throw error
    if (timeout.aborted) throw new RequestError('timeout', `no answer from ${to} on ${protocol} within ${limits.timeoutMs} ms`)
    if (error instanceof FrameError) throw new RequestError('too-large', `${to} answered ${protocol} with ${error.message}`)
    throw new RequestError('closed', `the ${protocol} stream to ${to} failed: ${messageOf(error)}`)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

export interface ServeCounters {
  served(): void
  failed(from: PeerId, reason: string): void
}

/** The stream side of a handler: read, call, answer, close; never throws. */
export async function serveRequest(
  stream: Stream,
  connection: Connection,
  handler: RequestHandler,
  limits: RequestLimits,
  counters: ServeCounters,
): Promise<void> {
  const from = connection.remotePeer.toString() as PeerId
  const signal = AbortSignal.timeout(limits.timeoutMs)
  const onAbort = (): void => stream.abort(new Error('request timed out'))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const request = await readOneFrame(stream, limits.maxRequestBytes)
    if (request === undefined) throw new Error('stream closed before the request')
    let answer: Uint8Array
    try {
      const response = await handler(from, request, signal)
      if (response.length > limits.maxResponseBytes) throw new Error(`response of ${response.length} bytes is over the limit of ${limits.maxResponseBytes}`)
      answer = withStatus(STATUS_OK, response)
    } catch (error) {
      if (signal.aborted) throw error
      counters.failed(from, messageOf(error))
      answer = withStatus(STATUS_ERROR, new TextEncoder().encode(messageOf(error).slice(0, MAX_REASON_CHARS)))
      await writeFrame(stream, answer, signal)
      await stream.close({ signal })
      return
    }
    await writeFrame(stream, answer, signal)
    await stream.close({ signal })
    counters.served()
  } catch (error) {
    // Oversized or malformed request, timeout, or the requester went away: reset and count.
    counters.failed(from, messageOf(error))
    stream.abort(error instanceof Error ? error : new Error(String(error)))
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function withStatus(status: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1)
  out[0] = status
  out.set(body, 1)
  return out
}

function nameOf(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined
}

