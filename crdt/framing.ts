// Frames for the on-disk files: `u32 length | u32 crc32(payload) | payload`, big-endian. A frame
// whose header is short, whose length runs past the end of the file, or whose checksum fails is
// where a write was torn by a crash; scanning stops there and reports how many bytes were good.

/** Largest frame we accept on reading: a sanity bound that turns a garbage length into "torn". */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024
export const FRAME_HEADER_BYTES = 8

export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
  frame.writeUInt32BE(payload.length, 0)
  frame.writeUInt32BE(crc32(payload), 4)
  frame.set(payload, FRAME_HEADER_BYTES)
  return frame
}

export interface ScannedFrames {
  readonly payloads: Uint8Array[]
  /** Offset just past the last good frame. */
  readonly goodBytes: number
  /** Why scanning stopped before the end, if it did. */
  readonly problem?: 'short-header' | 'bad-length' | 'past-end' | 'bad-checksum'
}

/** Reads frames from `data` starting at `offset`, up to the first bad one. */
export function scanFrames(data: Uint8Array, offset: number): ScannedFrames {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const payloads: Uint8Array[] = []
  let at = offset
  while (at < data.length) {
    if (at + FRAME_HEADER_BYTES > data.length) return { payloads, goodBytes: at, problem: 'short-header' }
    const length = view.getUint32(at)
    const checksum = view.getUint32(at + 4)
    if (length === 0 || length > MAX_FRAME_BYTES) return { payloads, goodBytes: at, problem: 'bad-length' }
    const end = at + FRAME_HEADER_BYTES + length
    if (end > data.length) return { payloads, goodBytes: at, problem: 'past-end' }
    const payload = data.subarray(at + FRAME_HEADER_BYTES, end)
    if (crc32(payload) !== checksum) return { payloads, goodBytes: at, problem: 'bad-checksum' }
    payloads.push(payload)
    at = end
  }
  return { payloads, goodBytes: at }
}

let table: Uint32Array | undefined

/** CRC-32 (IEEE 802.3, as zlib and gzip compute it). Written out because zlib.crc32 needs Node ≥ 20.15. */
export function crc32(data: Uint8Array): number {
  if (table === undefined) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
  }
  let crc = 0xffffffff
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
