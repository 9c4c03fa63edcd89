// The simulator's message sizes: a state message measured from its remembered parts is exactly as
// long as its JSON; every other message is its JSON's length.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { NO_RESOURCES, splitState, type Advert, type MemberRecord, type Message, type PeerId } from '../../core/index.js'
import { messageBytes } from '../../sim/message-size.js'

const size = suite('message size')

// Text with quotes, backslashes, control and non-ASCII characters: all change a JSON string's length.
const text = fc.string({ unit: fc.constantFrom('a', 'z', '0', '-', '"', '\\', '\n', '\u0001', 'é', '区', '😀'), maxLength: 8 })

const record = fc.record({
  peer: text.map((s) => s as PeerId),
  incarnation: fc.integer({ min: 0, max: 2 ** 40 }),
  status: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const),
})

const advert = fc.record({
  peer: text.map((s) => s as PeerId),
  incarnation: fc.nat(),
  version: fc.nat(),
  labels: fc.dictionary(text, text, { maxKeys: 3 }),
  cpu: fc.double({ min: 0, max: 1e6, noNaN: true }),
  diskFull: fc.boolean(),
}).map(({ peer, incarnation, version, labels, cpu, diskFull }): Advert => ({
  peer, incarnation, version, capacity: { cpuMilli: cpu, memoryMiB: 1024, extended: {} }, allocated: NO_RESOURCES, labels, drivers: ['process'], tasks: [],
  ...(diskFull ? { diskFull: true as const } : {}),
}))

size('a state message made of remembered parts measures as long as its JSON, however its parts repeat', () => {
  fc.assert(fc.property(fc.array(record, { maxLength: 6 }), fc.array(advert, { maxLength: 6 }), fc.nat(3), (members, adverts, repeats) => {
    // The same objects sent again in new messages, as digest answers do.
    for (let i = 0; i <= repeats; i++) {
      for (const message of splitState(members, adverts)) {
        if (messageBytes(message) !== JSON.stringify(message).length) return false
      }
      const bare: Message = { kind: 'state', members, adverts }
      if (messageBytes(bare) !== JSON.stringify(bare).length) return false
    }
    return true
  }), { numRuns: 300 })
})

size('a state message of another shape, and every other kind, is measured as its JSON', () => {
  const members: MemberRecord[] = [{ peer: 'p"1' as PeerId, incarnation: 3, status: 'alive' }]
  const reordered = { adverts: [], kind: 'state', members } as unknown as Message
  assert.is(messageBytes(reordered), JSON.stringify(reordered).length)
  const extra = { kind: 'state', members, adverts: [], note: 'x' } as unknown as Message
  assert.is(messageBytes(extra), JSON.stringify(extra).length)
  const ping: Message = { kind: 'ping', seq: 7, desired: 'empty', updates: members }
  assert.is(messageBytes(ping), JSON.stringify(ping).length)
  const empty: Message = { kind: 'state', members: [], adverts: [] }
  assert.is(messageBytes(empty), JSON.stringify(empty).length)
})

size.run()
