// Length-prefixed frames on a libp2p stream: an unsigned varint byte count, then the bytes — the
// framing every libp2p protocol uses (it-length-prefixed). The reader refuses a frame longer than
// maxBytes from its length prefix alone, before buffering its body, so it never holds more than one
// maximal frame. Written out (not @libp2p/utils' decoder) to tell a clean end of stream from one that
// stops inside a frame, and to reject an endless prefix at once instead of buffering it.

import './polyfill.js'

import type { Stream } from '@libp2p/interface'

/** Longest varint we write or accept: 2^35, far above any frame limit. */
const MAX_PREFIX_BYTES = 5

/** Thrown by the reader for a frame over the limit or a prefix that is not a length. */
export class FrameError extends Error {
  override readonly name = 'FrameError'
}

export function lengthPrefix(length: number): Uint8Array {
  const out: number[] = []
  let rest = length
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
  return Uint8Array.from(out)
}

/** One frame as bytes: the length prefix, then `bytes`. */
export function encodeFrame(bytes: Uint8Array): Uint8Array {
  const prefix = lengthPrefix(bytes.length)
  const out = new Uint8Array(prefix.length + bytes.length)
  out.set(prefix)
  out.set(bytes, prefix.length)
  return out
}

/**
 * Writes one frame, waiting for the stream to drain when its buffer is full. Prefix and body go in
 * one send: each send is a Yamux frame of its own (a Noise seal, a socket write, a read and a
 * decryption at the other end), so sent apart the one-byte prefix doubled the cost of every small
 * message — an idle cluster's SWIM probes and acks are nothing else.
 */
export async function writeFrame(stream: Stream, bytes: Uint8Array, signal: AbortSignal | (() => AbortSignal)): Promise<void> {
  // A signal given as a function is made only when the write must wait: nearly every small message
  // goes out at once, and a timeout signal per message was a timer made and dropped each time.
  if (!stream.send(encodeFrame(bytes))) await stream.onDrain({ signal: typeof signal === 'function' ? signal() : signal })
}

/**
 * Splits a byte stream into frames. Throws FrameError on a prefix longer than MAX_PREFIX_BYTES or a
 * length over the limit — both seen before the body is buffered.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = []
  private buffered = 0
  /** Body length of the frame being read, once its prefix is complete. */
  private expected: number | undefined

  constructor(private readonly maxBytes: number) {}

  /** Bytes held that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.buffered
  }

  /** True between the first byte of a frame and its last. */
  get inFrame(): boolean {
    return this.buffered > 0 || this.expected !== undefined
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    const frames: Uint8Array[] = []
    while (true) {
      if (this.expected === undefined) {
        const prefix = this.readPrefix()
        if (prefix === undefined) break
        this.take(prefix.size)
        this.expected = prefix.length
      }
      if (this.buffered < this.expected) break
      frames.push(this.take(this.expected))
      this.expected = undefined
    }
    return frames
  }

  private readPrefix(): { length: number; size: number } | undefined {
    let length = 0
    let size = 0
    for (const chunk of this.chunks) {
      for (const byte of chunk) {
        length += (byte & 0x7f) * 0x80 ** size
        size++
        if ((byte & 0x80) === 0) {
          if (length > this.maxBytes) throw new FrameError(`frame of ${length} bytes is over the limit of ${this.maxBytes}`)
          return { length, size }
        }
        if (size >= MAX_PREFIX_BYTES) throw new FrameError(`length prefix longer than ${MAX_PREFIX_BYTES} bytes`)
      }
    }
    return undefined
  }

  /** Removes and returns the first n buffered bytes (a view when they lie in one chunk). */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]
    let out: Uint8Array
    if (first !== undefined && first.length >= n) {
      out = first.subarray(0, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
    } else {
      out = new Uint8Array(n)
      let filled = 0
      while (filled < n) {
        const chunk = this.chunks[0]!
        const part = Math.min(chunk.length, n - filled)
        out.set(chunk.subarray(0, part), filled)
        filled += part
        if (part === chunk.length) this.chunks.shift()
        else this.chunks[0] = chunk.subarray(part)
      }
    }
    this.buffered -= n
    return out
  }
}

/**
 * Frames as they arrive, until the remote closes its end. Throws FrameError on a bad or oversized
 * frame, or when the stream ends in the middle of one (a sender that dies resets the stream instead;
 * a clean end mid-frame is a broken sender); the caller resets the stream. Stream errors (reset,
 * abort) propagate as they are.
 */
export async function* readFrames(stream: Stream, maxBytes: number): AsyncGenerator<Uint8Array> {
  const decoder = new FrameDecoder(maxBytes)
  for await (const chunk of stream) yield* decoder.push(chunk.subarray())
  if (decoder.inFrame) throw new FrameError(`stream ended inside a frame (${decoder.pendingBytes} bytes of it read)`)
}

/** The first frame, or undefined when the stream ends before one arrives. */
export async function readOneFrame(stream: Stream, maxBytes: number): Promise<Uint8Array | undefined> {
  for await (const frame of readFrames(stream, maxBytes)) return frame
  return undefined
}
