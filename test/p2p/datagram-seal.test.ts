import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { DatagramType, keyIdOf, newDatagramKey, open, REPLAY_WINDOW, ReplayWindow, seal } from '../../p2p/datagram-seal.js'
import { DatagramLinks } from '../../p2p/datagram-links.js'

const sealing = suite('datagram seal')

sealing('a sealed message opens under its key to the same type, counter and body; under another key it does not', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1_200 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.boolean(), (body, counter, hello) => {
      const key = newDatagramKey()
      const type = hello ? DatagramType.Hello : DatagramType.Message
      const packet = seal(key, counter, type, body)
      const opened = open(key, packet)
      assert.ok(opened !== undefined)
      assert.is(opened.counter, counter)
      assert.is(opened.type, type)
      assert.equal(new Uint8Array(opened.body), body)
      assert.is(keyIdOf(packet), Buffer.from(key.keyId).toString('hex'))
      const other = { keyId: key.keyId, key: newDatagramKey().key }
      assert.is(open(other, packet), undefined)
    }),
    { numRuns: 300 },
  )
})

sealing('a packet with any one bit changed does not open (header, body or tag)', () => {
  const key = newDatagramKey()
  const packet = seal(key, 41, DatagramType.Message, new TextEncoder().encode('{"kind":"ping","seq":7}'))
  fc.assert(
    fc.property(fc.integer({ min: 0, max: packet.length * 8 - 1 }), (bit) => {
      const altered = Buffer.from(packet)
      altered[bit >> 3] = altered[bit >> 3]! ^ (1 << (bit & 7))
      assert.is(open(key, altered), undefined, `bit ${bit} flipped still opened`)
    }),
    { numRuns: packet.length * 8 },
  )
})

sealing('too short, empty, another version: not ours', () => {
  const key = newDatagramKey()
  assert.is(keyIdOf(new Uint8Array(0)), undefined)
  assert.is(keyIdOf(new Uint8Array(20)), undefined)
  const packet = seal(key, 1, DatagramType.Hello, new Uint8Array(0))
  const other = Buffer.from(packet)
  other[0] = 2
  assert.is(keyIdOf(other), undefined)
  assert.is(open(key, other), undefined)
  assert.throws(() => seal(key, -1, DatagramType.Hello, new Uint8Array(0)), /counter/)
})

sealing('the replay window accepts each counter once, and none older than the window below the highest', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 400 }), (counters) => {
      const window = new ReplayWindow()
      const accepted = new Set<number>()
      let highest = -1
      for (const counter of counters) {
        const ok = window.accept(counter)
        const expected = !accepted.has(counter) && (counter > highest || highest - counter < REPLAY_WINDOW)
        assert.is(ok, expected, `counter ${counter} after highest ${highest}`)
        if (ok) {
          accepted.add(counter)
          highest = Math.max(highest, counter)
        }
      }
    }),
    { numRuns: 500 },
  )
})

const links = suite('datagram links')

const RULES = { missLimit: 3, helloIntervalMs: 5_000 }

links('the same key offered twice (both ends exchanged at once) keeps its counter: no nonce is used twice', () => {
  const receiver = new DatagramLinks(RULES)
  const sender = new DatagramLinks(RULES)
  const offer = receiver.offerTo('sender', 4001)
  sender.accept('receiver', offer, '10.0.0.2')
  const first = sender.seal('receiver', DatagramType.Hello, new Uint8Array(0))!
  sender.accept('receiver', receiver.offerTo('sender', 4001), '10.0.0.2')
  const second = sender.seal('receiver', DatagramType.Hello, new Uint8Array(0))!
  assert.is(open(offer, first.packet)!.counter, 1)
  assert.is(open(offer, second.packet)!.counter, 2)
})

links('misses take a path out of use, an authentic datagram from the peer puts it back and readdresses it', () => {
  const a = new DatagramLinks(RULES)
  const b = new DatagramLinks(RULES)
  a.accept('b', b.offerTo('a', 4002), '10.0.0.2')
  b.accept('a', a.offerTo('b', 4001), '10.0.0.1')
  assert.ok(a.usable('b'))
  for (let i = 0; i < RULES.missLimit; i++) a.missed('b')
  assert.not.ok(a.usable('b'))
  assert.ok(a.helloDue('b', 10_000))
  assert.not.ok(a.helloDue('b', 12_000), 'one hello per interval')
  const packet = b.seal('a', DatagramType.Hello, new Uint8Array(0))!.packet
  const opened = a.open(packet, { ip: '192.0.2.7', port: 61_000 }, keyIdOf(packet)!, 13_000)
  assert.is(opened?.peer, 'b')
  assert.ok(a.usable('b'))
  assert.equal(a.seal('b', DatagramType.Hello, new Uint8Array(0))!.address, { ip: '192.0.2.7', port: 61_000 })
  assert.is(a.open(packet, { ip: '192.0.2.7', port: 61_000 }, keyIdOf(packet)!, 13_001), undefined, 'a replay is refused')
})

links('a forgotten peer’s key opens nothing, and a key given to one peer does not open as another', () => {
  const a = new DatagramLinks(RULES)
  const b = new DatagramLinks(RULES)
  const c = new DatagramLinks(RULES)
  b.accept('a', a.offerTo('b', 4001), '10.0.0.1')
  c.accept('a', a.offerTo('c', 4001), '10.0.0.1')
  const fromB = b.seal('a', DatagramType.Hello, new Uint8Array(0))!.packet
  const fromC = c.seal('a', DatagramType.Hello, new Uint8Array(0))!.packet
  assert.is(a.open(fromB, { ip: '10.0.0.2', port: 1 }, keyIdOf(fromB)!, 0)?.peer, 'b')
  assert.is(a.open(fromC, { ip: '10.0.0.3', port: 1 }, keyIdOf(fromC)!, 0)?.peer, 'c')
  a.forget('b')
  const again = b.seal('a', DatagramType.Hello, new Uint8Array(0))!.packet
  assert.is(a.open(again, { ip: '10.0.0.2', port: 1 }, keyIdOf(again)!, 1), undefined)
})

sealing.run()
links.run()
