// Slot identifiers: the two written forms, parsing them back, and the one order every peer sorts by.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {
  compareSlots, globalSlot, parseSlot, peerId, replicaIndexOf, replicaSlot, serviceName, serviceOfSlot, sortBySlot,
  type SlotId,
} from '../../../core/index.js'

const slot = (text: string) => text as SlotId

const RoundTrip = suite('slot ids round trip')

const replicaCases: Array<{ service: string; index: number; text: string }> = [
  { service: 'web', index: 0, text: 'web/0' },
  { service: 'web', index: 10, text: 'web/10' },
  { service: 'a', index: 999_999_999, text: 'a/999999999' },
  { service: 'my-api-2', index: 7, text: 'my-api-2/7' },
]
for (const { service, index, text } of replicaCases) {
  RoundTrip(`replica slot ${text} is written as service/index and parses back to the same parts`, () => {
    const id = replicaSlot(serviceName(service), index)
    assert.is(id, text)
    assert.equal(parseSlot(id), { kind: 'replica', service, index })
  })
}

const globalCases: Array<{ service: string; peer: string; text: string }> = [
  { service: 'agent', peer: 'edge-1', text: 'agent@edge-1' },
  { service: 'agent', peer: '12D3KooWAbCdEf', text: 'agent@12D3KooWAbCdEf' },
  { service: 'log', peer: 'host.example_1', text: 'log@host.example_1' },
]
for (const { service, peer, text } of globalCases) {
  RoundTrip(`global slot ${text} is written as service@peer and parses back to the same parts`, () => {
    const id = globalSlot(serviceName(service), peerId(peer))
    assert.is(id, text)
    assert.equal(parseSlot(id), { kind: 'global', service, peer })
  })
}

RoundTrip('serviceOfSlot names the service of either form', () => {
  assert.is(serviceOfSlot(slot('web/3')), 'web')
  assert.is(serviceOfSlot(slot('agent@edge-1')), 'agent')
})

RoundTrip('serviceOfSlot throws on a malformed slot id', () => {
  assert.throws(() => serviceOfSlot(slot('web')), /malformed slot id/)
})

RoundTrip.run()

const Malformed = suite('malformed slot ids')

const malformed: Array<{ name: string; text: string }> = [
  { name: 'an empty string', text: '' },
  { name: 'a bare service name', text: 'web' },
  { name: 'a missing index', text: 'web/' },
  { name: 'a missing service', text: '/0' },
  { name: 'a negative index', text: 'web/-1' },
  { name: 'a fractional index', text: 'web/1.5' },
  { name: 'an index with a leading zero', text: 'web/01' },
  { name: 'an index of ten digits', text: 'web/1234567890' },
  { name: 'an index with a sign', text: 'web/+1' },
  { name: 'an upper-case service', text: 'Web/0' },
  { name: 'a service ending in a dash', text: 'web-/0' },
  { name: 'a service with a slash', text: 'a/b/0' },
  { name: 'a missing peer', text: 'agent@' },
  { name: 'a missing service before @', text: '@edge-1' },
  { name: 'a peer with a slash', text: 'agent@edge/1' },
  { name: 'a peer with a second @', text: 'agent@edge@1' },
  { name: 'a peer starting with a dot', text: 'agent@.edge' },
  { name: 'whitespace around the id', text: ' web/0' },
]
for (const { name, text } of malformed) {
  Malformed(`a slot id with ${name} (${JSON.stringify(text)}) is rejected`, () => {
    assert.is(parseSlot(text), undefined)
  })
}

Malformed.run()

const Order = suite('compareSlots')

const orderCases: Array<{ name: string; a: string; b: string }> = [
  { name: 'web/2 sorts before web/10 (numerically, not as text)', a: 'web/2', b: 'web/10' },
  { name: 'web/0 sorts before web/1', a: 'web/0', b: 'web/1' },
  { name: 'a replica slot sorts before a global slot of the same service', a: 'web/99', b: 'web@a' },
  { name: 'services sort by name before anything else', a: 'api/10', b: 'web/0' },
  { name: 'a replica of an earlier service sorts before a global slot of a later one', a: 'api/5', b: 'b@p' },
  { name: 'global slots of one service sort by peer', a: 'agent@p1', b: 'agent@p2' },
]
for (const { name, a, b } of orderCases) {
  Order(`${name}`, () => {
    assert.ok(compareSlots(slot(a), slot(b)) < 0, `${a} < ${b}`)
    assert.ok(compareSlots(slot(b), slot(a)) > 0, `${b} > ${a}`)
  })
}

Order('a slot compares equal to itself', () => {
  assert.is(compareSlots(slot('web/3'), slot('web/3')), 0)
  assert.is(compareSlots(slot('agent@p'), slot('agent@p')), 0)
})

Order('sorting a mixed list gives service, then replica index, then global slots by peer', () => {
  const input = ['web@b', 'web/10', 'api/1', 'web/2', 'web@a', 'web/0', 'api@z', 'api/0'].map(slot)
  assert.equal([...input].sort(compareSlots), ['api/0', 'api/1', 'api@z', 'web/0', 'web/2', 'web/10', 'web@a', 'web@b'])
})

Order('the order is a total order: the same list in any order sorts the same way', () => {
  const ids = ['web/1', 'web/10', 'web/2', 'a/0', 'web@x', 'web@y', 'zz/3', 'a@p'].map(slot)
  const expected = [...ids].sort(compareSlots)
  for (const start of [1, 3, 5, 7]) {
    const rotated = [...ids.slice(start), ...ids.slice(0, start)].reverse()
    assert.equal(rotated.sort(compareSlots), expected)
  }
})

Order('malformed ids sort after every well-formed id, among themselves by text', () => {
  const input = ['zz', 'web/1', 'Web/0', 'a@p', 'b/01', 'a/0'].map(slot)
  assert.equal([...input].sort(compareSlots), ['a/0', 'a@p', 'web/1', 'Web/0', 'b/01', 'zz'])
})

Order('sortBySlot gives the compareSlots order, parsing each id once', () => {
  const ids = ['web/10', 'web@b', 'x', 'api/3', 'web/2', 'web@a', 'api/0', 'Bad/1', 'web/0'].map(slot)
  const items = ids.map((id, i) => ({ id, i }))
  const result = sortBySlot(items, (item) => item.id)
  assert.is(result, items, 'sorts in place and returns the same array')
  assert.equal(result.map((item) => item.id), [...ids].sort(compareSlots))
})

Order('sortBySlot breaks ties between equal slots with the given comparison', () => {
  const items = [{ slot: slot('web/0'), peer: 'p2' }, { slot: slot('web/0'), peer: 'p1' }, { slot: slot('api/0'), peer: 'p3' }]
  sortBySlot(items, (item) => item.slot, (a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
  assert.equal(items.map((item) => `${item.slot}@${item.peer}`), ['api/0@p3', 'web/0@p1', 'web/0@p2'])
})

// Pieces that make well-formed, almost well-formed and malformed ids: the character tests for
// replica slots must accept exactly what parseSlot accepts.
const piece = fc.constantFrom('web', 'a', 'api-2', 'Web', '-x', 'x-', 'a'.repeat(63), 'a'.repeat(64), '')
const tail = fc.constantFrom('/0', '/1', '/10', '/2', '/01', '/123456789', '/1234567890', '/-1', '/1a', '@p1', '@b', '@', '/', '/0/1', '')
const anyId = fc.tuple(piece, tail, fc.constantFrom('', '', '/3', '@q')).map(([a, b, c]) => slot(a + b + c))

Order('sortBySlot agrees with a stable sort by compareSlots on any ids, sorted or not', () => {
  const id = anyId
  fc.assert(fc.property(fc.array(fc.tuple(id, fc.nat(3)), { maxLength: 40 }), fc.boolean(), (pairs, presorted) => {
    const items = pairs.map(([id, tag], i) => ({ id, tag, i }))
    if (presorted) items.sort((a, b) => compareSlots(a.id, b.id))
    const expected = [...items].sort((a, b) => compareSlots(a.id, b.id) || a.tag - b.tag)
    assert.equal(sortBySlot([...items], (item) => item.id, (a, b) => a.tag - b.tag), expected)
  }), { numRuns: 300 })
})

/** The order compareSlots documents, from parseSlot: by service, replica index, global before nothing, malformed last. */
function referenceOrder(a: SlotId, b: SlotId): number {
  if (a === b) return 0
  const pa = parseSlot(a)
  const pb = parseSlot(b)
  if (pa === undefined || pb === undefined) return pa !== pb ? (pa === undefined ? 1 : -1) : a < b ? -1 : 1
  if (pa.service !== pb.service) return pa.service < pb.service ? -1 : 1
  if (pa.kind === 'replica' && pb.kind === 'replica') return Math.sign(pa.index - pb.index)
  if (pa.kind !== pb.kind) return pa.kind === 'replica' ? -1 : 1
  return a < b ? -1 : 1
}

Order('compareSlots gives the order parsed ids have, on any pair of ids (its character tests included)', () => {
  const replica = fc.tuple(fc.constantFrom('a', 'ab', 'a-b', 'b', 'web', 'web-1', 'a'.repeat(63)), fc.nat(2_000_000_000)).map(([s, i]) => slot(`${s}/${i}`))
  const id = fc.oneof(anyId, replica)
  fc.assert(fc.property(id, id, (a, b) => {
    assert.is(Math.sign(compareSlots(a, b)), referenceOrder(a, b), `${a} vs ${b}`)
  }), { numRuns: 2000 })
})

Order('replicaIndexOf gives parseSlot\'s replica index on any id, and nothing for other ids', () => {
  fc.assert(fc.property(anyId, (id) => {
    const parsed = parseSlot(id)
    assert.is(replicaIndexOf(id), parsed?.kind === 'replica' ? parsed.index : undefined, id)
  }), { numRuns: 500 })
})

Order.run()
