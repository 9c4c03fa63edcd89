// Per-peer columns indexed by a shared peer numbering must answer exactly as the Map and Set they
// replace, and columns sharing one numbering (the simulator's machines) must never see each other's
// values.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { PeerBytes, PeerColumn, PeerFlags, PeerNumbers, PeerPlaces, PeerTable } from '../../../core/protocol/peer-numbers.js'
import { peerId, type PeerId } from '../../../core/placement/ids.js'

const peer = fc.integer({ min: 0, max: 60 }).map((i) => peerId(`p${i}`))
const time = fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.constantFrom(0, -0, Infinity, -Infinity))

type Step =
  | { readonly kind: 'set'; readonly column: number; readonly peer: PeerId; readonly value: number }
  | { readonly kind: 'delete'; readonly column: number; readonly peer: PeerId }
  | { readonly kind: 'add'; readonly column: number; readonly peer: PeerId }
  | { readonly kind: 'number'; readonly peer: PeerId }

const column = fc.integer({ min: 0, max: 2 })
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), column, peer, value: time }),
  fc.record({ kind: fc.constant('delete' as const), column, peer }),
  fc.record({ kind: fc.constant('add' as const), column, peer }),
  fc.record({ kind: fc.constant('number' as const), peer }),
)

test('columns and flags sharing one numbering answer as a Map and a Set each, whatever else is numbered', () => {
  fc.assert(fc.property(fc.array(step, { minLength: 100, maxLength: 400 }), fc.array(peer, { minLength: 10, maxLength: 30 }), (steps, probes) => {
    const numbers = new PeerNumbers()
    const columns = [0, 1, 2].map(() => new PeerColumn(numbers))
    const flags = [0, 1, 2].map(() => new PeerFlags(numbers))
    const maps = [0, 1, 2].map(() => new Map<PeerId, number>())
    const sets = [0, 1, 2].map(() => new Set<PeerId>())
    for (const s of steps) {
      if (s.kind === 'set') {
        columns[s.column]!.set(s.peer, s.value)
        maps[s.column]!.set(s.peer, s.value)
      } else if (s.kind === 'delete') {
        columns[s.column]!.delete(s.peer)
        maps[s.column]!.delete(s.peer)
      } else if (s.kind === 'add') {
        flags[s.column]!.add(s.peer)
        sets[s.column]!.add(s.peer)
      } else {
        numbers.of(s.peer)
      }
      for (const p of probes) {
        for (let c = 0; c < 3; c++) {
          assert.is(columns[c]!.get(p), maps[c]!.get(p))
          assert.is(columns[c]!.has(p), maps[c]!.has(p))
          assert.is(flags[c]!.has(p), sets[c]!.has(p))
        }
      }
    }
    for (let c = 0; c < 3; c++) assert.is(flags[c]!.size, sets[c]!.size)
  }), { numRuns: 200 })
})

test('a table answers as a Map that never deletes: same values, iterated in the order peers were first set', () => {
  const entry = fc.record({ peer, value: fc.integer() })
  fc.assert(fc.property(fc.array(fc.oneof(entry, peer), { minLength: 100, maxLength: 300 }), (steps) => {
    const numbers = new PeerNumbers()
    const table = new PeerTable<{ peer: PeerId; value: number }>(numbers)
    const other = new PeerTable<{ peer: PeerId; value: number }>(numbers)
    const model = new Map<PeerId, { peer: PeerId; value: number }>()
    for (const s of steps) {
      if (typeof s === 'string') {
        // Another table numbering peers in between must change nothing here.
        other.set({ peer: s, value: 0 })
        continue
      }
      table.set(s)
      model.set(s.peer, s)
      assert.is(table.get(s.peer), s)
    }
    assert.is(table.size, model.size)
    assert.equal([...table.values()], [...model.values()])
    for (let i = 0; i <= 60; i++) {
      assert.is(table.get(peerId(`p${i}`)), model.get(peerId(`p${i}`)))
      assert.is(table.has(peerId(`p${i}`)), model.has(peerId(`p${i}`)))
    }
  }), { numRuns: 200 })
})

test('places and bytes answer as a Map of their values, 0 meaning no byte', () => {
  fc.assert(fc.property(fc.array(fc.tuple(peer, fc.integer({ min: -1, max: 1_000_000 }), fc.integer({ min: 1, max: 255 })), { minLength: 100, maxLength: 300 }), (steps) => {
    const numbers = new PeerNumbers()
    const places = new PeerPlaces(numbers)
    const bytes = new PeerBytes(numbers)
    const placeModel = new Map<PeerId, number>()
    const byteModel = new Map<PeerId, number>()
    for (const [p, place, byte] of steps) {
      if (place < 0) {
        places.delete(p)
        placeModel.delete(p)
      } else {
        places.set(p, place)
        placeModel.set(p, place)
      }
      bytes.set(p, byte)
      byteModel.set(p, byte)
      for (let i = 0; i <= 60; i++) {
        const q = peerId(`p${i}`)
        assert.is(places.get(q), placeModel.get(q))
        assert.is(bytes.get(q), byteModel.get(q) ?? 0)
      }
    }
  }), { numRuns: 100 })
})

test('places and bytes refuse what they cannot hold', () => {
  const numbers = new PeerNumbers()
  assert.throws(() => new PeerPlaces(numbers).set(peerId('a'), -1), /place/)
  assert.throws(() => new PeerPlaces(numbers).set(peerId('a'), 0.5), /place/)
  assert.throws(() => new PeerBytes(numbers).set(peerId('a'), 0), /byte/)
  assert.throws(() => new PeerBytes(numbers).set(peerId('a'), 256), /byte/)
})

test('a peer keeps its number, and numbers are dense in the order first seen', () => {
  const numbers = new PeerNumbers()
  assert.is(numbers.find(peerId('a')), undefined)
  assert.is(numbers.of(peerId('a')), 0)
  assert.is(numbers.of(peerId('b')), 1)
  assert.is(numbers.of(peerId('a')), 0)
  assert.is(numbers.size, 2)
})

test('a column refuses NaN, which it uses for "no value"', () => {
  const values = new PeerColumn(new PeerNumbers())
  assert.throws(() => values.set(peerId('a'), NaN), /NaN/)
})

test('looking a peer up numbers nothing: only storing does', () => {
  const numbers = new PeerNumbers()
  const values = new PeerColumn(numbers)
  const flags = new PeerFlags(numbers)
  values.get(peerId('a'))
  values.delete(peerId('a'))
  flags.has(peerId('a'))
  assert.is(numbers.size, 0)
})

test.run()
