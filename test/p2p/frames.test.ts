import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Stream } from '@libp2p/interface'
import { encodeFrame as frame, FrameDecoder, FrameError, lengthPrefix, writeFrame } from '../../p2p/frames.js'

const frames = suite('frames')

frames('length prefixes are unsigned varints', () => {
  assert.equal([...lengthPrefix(0)], [0])
  assert.equal([...lengthPrefix(127)], [127])
  assert.equal([...lengthPrefix(128)], [0x80, 0x01])
  assert.equal([...lengthPrefix(300)], [0xac, 0x02])
  assert.equal([...lengthPrefix(20 * 1024 * 1024)], [0x80, 0x80, 0x80, 0x0a])
})

frames('frames come out whole however the bytes are split', () => {
  const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(7), new Uint8Array([9])]
  const stream = new Uint8Array(payloads.reduce((n, p) => n + frame(p).length, 0))
  let at = 0
  for (const p of payloads) {
    stream.set(frame(p), at)
    at += frame(p).length
  }
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    const decoder = new FrameDecoder(1024)
    const out: number[][] = []
    for (let i = 0; i < stream.length; i += size) for (const f of decoder.push(stream.subarray(i, i + size))) out.push([...f])
    assert.equal(out, payloads.map((p) => [...p]), `chunk size ${size}`)
    assert.is(decoder.pendingBytes, 0)
    assert.not.ok(decoder.inFrame)
  }
})

frames('a frame over the limit is refused from its prefix, before its body arrives', () => {
  const decoder = new FrameDecoder(100)
  assert.throws(() => decoder.push(lengthPrefix(101)), (error: unknown) => error instanceof FrameError && /over the limit/.test(error.message))
})

frames('an endless length prefix is refused at once', () => {
  const decoder = new FrameDecoder(1 << 30)
  assert.throws(() => decoder.push(new Uint8Array(6).fill(0xff)), (error: unknown) => error instanceof FrameError && /prefix/.test(error.message))
})

frames('a partial frame is held, not emitted', () => {
  const decoder = new FrameDecoder(100)
  assert.equal(decoder.push(frame(new Uint8Array(10)).subarray(0, 5)), [])
  assert.is(decoder.pendingBytes, 4)
  assert.ok(decoder.inFrame)
  const prefixOnly = new FrameDecoder(100)
  prefixOnly.push(lengthPrefix(10))
  assert.ok(prefixOnly.inFrame, 'a prefix alone starts a frame')
})

frames('a frame is written in one send: one Yamux frame, not one for the prefix and one for the body', async () => {
  const sent: Uint8Array[] = []
  const stream = { send: (bytes: Uint8Array) => (sent.push(bytes), true) } as unknown as Stream
  const body = new Uint8Array(300).fill(5)
  await writeFrame(stream, body, AbortSignal.timeout(1_000))
  assert.is(sent.length, 1)
  assert.equal([...sent[0]!], [...frame(body)])
})

frames.run()
