// The wire codec: every kind round-trips; every field of every kind is checked, and a bad one is
// rejected with the path that names it; no input makes the decoder throw.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {
  WIRE_LIMITS, decodeMessage, encodeMessage, splitState, validateMessage, type DecodeErrorCode,
} from '../../../core/protocol/codec.js'
import { PROTOCOL_VERSION, type Advert, type MemberRecord, type Message, type MessageKind } from '../../../core/protocol/messages.js'
import type { Bid } from '../../../core/placement/bid.js'
import type { PeerId, ServiceName, SlotId } from '../../../core/placement/ids.js'
import type { TaskView } from '../../../core/placement/view.js'
import type { Resources } from '../../../core/service-spec/types.js'
import { messageArb } from './message-arbitraries.js'
import { DIGEST_BUCKETS, ROOT_LENGTH, SUMMARY_LENGTH } from '../../../core/protocol/bucket-digest.js'

// --- examples ----------------------------------------------------------------------------------

const p = (id: string) => id as PeerId
const HASH = '0123456789abcdef'
const resources = (cpuMilli: number, memoryMiB: number, extended: Record<string, number> = {}): Resources => ({ cpuMilli, memoryMiB, extended })

function task(slot: string, peer = 'p1', overrides: Partial<TaskView> = {}): TaskView {
  return {
    slot: slot as SlotId, service: slot.split(/[/@]/)[0] as ServiceName, peer: p(peer), specHash: HASH, state: 'running',
    since: 1_700_000_000_000, resources: resources(100, 64), ports: [], ...overrides,
  }
}

function advert(overrides: Partial<Advert> = {}): Advert {
  return {
    peer: p('p1'), incarnation: 2, version: 7,
    capacity: resources(4000, 8192, { gpu: 2 }), allocated: resources(200, 128, { gpu: 1 }),
    labels: { zone: 'eu-1', 'topology.kubernetes.io/zone': 'eu-1a' }, drivers: ['docker', 'process'],
    tasks: [
      task('web/0'),
      task('web/3', 'p1', { state: 'healthy', ports: [{ host: 8080, container: 80, protocol: 'tcp' }] }),
      task('agent@p1', 'p1', { resources: resources(50, 32, { gpu: 1 }) }),
    ],
    ...overrides,
  }
}

const bid: Bid = {
  peer: p('p2'), service: 'web' as ServiceName, specHash: HASH, round: 1, domain: 'eu-1', domainCount: 3, existing: 1,
  offered: 4, cpuCapacityMilli: 4000, cpuAllocatedMilli: 1000, memoryCapacityMiB: 8192, memoryAllocatedMiB: 2048,
}

const record = (peer: string, incarnation = 1, status: MemberRecord['status'] = 'alive'): MemberRecord => ({ peer: p(peer), incarnation, status })

const EXAMPLES: { readonly [K in MessageKind]: Extract<Message, { kind: K }> } = {
  ping: { kind: 'ping', seq: 41, desired: HASH, updates: [record('p3', 4, 'suspect'), record('p4', 0, 'dead')] },
  ack: { kind: 'ack', seq: 41, desired: 'empty', updates: [], target: p('p5') },
  'ping-req': { kind: 'ping-req', seq: 9, target: p('p6') },
  member: { kind: 'member', record: record('12D3KooWGzh9Yv6Fs8GeaKjChkyxZLhW5Nf7p5Ytu1YxQWmpbLsz', 3, 'left') },
  advert: { kind: 'advert', advert: advert() },
  bid: { kind: 'bid', bid, slots: [[0, 2], [5, 6], [6, 10]] },
  digest: { kind: 'digest', members: [[p('p1'), 2, 'alive'], [p('p2'), 0, 'suspect']], adverts: [[p('p1'), 2, 7]], desired: HASH, reply: false },
  state: { kind: 'state', members: [record('p1', 2)], adverts: [advert(), advert({ peer: p('p2'), tasks: [] })] },
}
const KINDS = Object.keys(EXAMPLES) as MessageKind[]
/** A digest with every optional bucket field: a root, a summary, and entries of buckets 3 and 17. */
const SUMMARY_DIGEST: Extract<Message, { kind: 'digest' }> = { ...EXAMPLES.digest, root: 'fedcba9876543210', buckets: '0123456789abcdef'.repeat(DIGEST_BUCKETS), covers: [3, 17] }

const utf8 = (text: string) => new TextEncoder().encode(text)
const json = (value: unknown) => utf8(JSON.stringify(value))
/** The message as a plain JSON value, envelope included, for hand-made damage. */
const raw = (message: Message): Record<string, unknown> => JSON.parse(new TextDecoder().decode(encodeMessage(message))) as Record<string, unknown>

const DELETE = Symbol('delete')
/** A copy of `message` (as JSON) with the value at `path` replaced, or removed with DELETE. */
function damaged(message: Message, path: ReadonlyArray<string | number>, value: unknown): Uint8Array {
  const root = raw(message)
  let node: Record<string | number, unknown> = root
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
  const last = path[path.length - 1]!
  if (value === DELETE) delete node[last]
  else node[last] = value
  return json(root)
}

const times = <T>(count: number, make: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => make(i))

function expectRejected(bytes: Uint8Array, code: DecodeErrorCode, path: string): void {
  const result = decodeMessage(bytes)
  if (result.ok) assert.unreachable(`expected ${code} at ${path}, but the message was accepted`)
  else assert.equal({ code: result.error.code, path: result.error.path }, { code, path }, result.error.message)
}

// --- round trips -------------------------------------------------------------------------------

const RoundTrip = suite('codec round trip')

for (const kind of KINDS) {
  RoundTrip(`a valid ${kind} message decodes to an equal value`, () => {
    const result = decodeMessage(encodeMessage(EXAMPLES[kind]))
    if (!result.ok) assert.unreachable(JSON.stringify(result.error))
    else assert.equal(result.message, EXAMPLES[kind])
    assert.ok(validateMessage(EXAMPLES[kind]).ok)
  })
}

RoundTrip('the envelope carries the protocol version first and the kind second', () => {
  assert.ok(new TextDecoder().decode(encodeMessage(EXAMPLES.ping)).startsWith(`{"v":${PROTOCOL_VERSION},"kind":"ping",`))
})

RoundTrip('an ack without a target decodes without a target field', () => {
  const { target: _, ...bare } = EXAMPLES.ack
  const result = decodeMessage(encodeMessage(bare))
  assert.ok(result.ok && !('target' in result.message))
})

RoundTrip('unknown fields at any depth are accepted and dropped (newer peers may add optional fields)', () => {
  const value = raw(EXAMPLES.advert)
  value.future = { nested: [1, 2] }
  const inner = value.advert as Record<string, unknown>
  inner.future = true
  ;((inner.tasks as Array<Record<string, unknown>>)[0]!).future = 'x'
  ;((inner.capacity as Record<string, unknown>)).future = 1
  const result = decodeMessage(json(value))
  if (!result.ok) assert.unreachable(JSON.stringify(result.error))
  else assert.equal(result.message, EXAMPLES.advert)
})

RoundTrip('a bid for a gpu service carries [capacity, allocated] of each extended resource it scores', () => {
  const gpuBid: Message = { kind: 'bid', bid: { ...bid, extended: { gpu: [8, 3], 'fpga.x': [1, 0] } }, slots: [[0, 1]] }
  const result = decodeMessage(encodeMessage(gpuBid))
  if (!result.ok) assert.unreachable(JSON.stringify(result.error))
  else assert.equal(result.message, gpuBid)
})

RoundTrip('a digest with a summary root, a bucket summary and covered buckets round-trips; without them it decodes without them', () => {
  const result = decodeMessage(encodeMessage(SUMMARY_DIGEST))
  if (!result.ok) assert.unreachable(JSON.stringify(result.error))
  else assert.equal(result.message, SUMMARY_DIGEST)
  const legacy = decodeMessage(encodeMessage(EXAMPLES.digest))
  assert.ok(legacy.ok && !('root' in legacy.message) && !('buckets' in legacy.message) && !('covers' in legacy.message))
})

RoundTrip('a decoded message is a fresh object, not the input', () => {
  const result = validateMessage(EXAMPLES.state)
  assert.ok(result.ok)
  if (!result.ok || result.message.kind !== 'state') return
  assert.is.not(result.message, EXAMPLES.state)
  assert.is.not(result.message.adverts[0], EXAMPLES.state.adverts[0])
  assert.is.not(result.message.adverts[0]!.labels, EXAMPLES.state.adverts[0]!.labels)
})

RoundTrip('keys in another order are accepted (the kind prefix is only a shortcut)', () => {
  const text = `{"desired":"${HASH}","updates":[],"seq":3,"kind":"ping","v":${PROTOCOL_VERSION}}`
  const result = decodeMessage(utf8(text))
  assert.ok(result.ok)
  if (result.ok) assert.equal(result.message, { kind: 'ping', seq: 3, desired: HASH, updates: [] })
})

RoundTrip('a task time with fractions of a millisecond (a simulated clock) round-trips exactly', () => {
  const message: Message = { kind: 'advert', advert: advert({ tasks: [task('web/0', 'p1', { since: 2105.3851609049016 })] }) }
  const result = decodeMessage(encodeMessage(message))
  assert.ok(result.ok)
  if (result.ok) assert.equal(result.message, message)
})

RoundTrip('a digest of 100,000 peers with libp2p ids fits in one message', () => {
  const id = (i: number) => p(`12D3KooW${String(i).padStart(44, 'x')}`)
  const message: Message = {
    kind: 'digest',
    members: times(100_000, (i) => [id(i), 1_000, i % 7 === 0 ? 'suspect' : 'alive'] as const),
    adverts: times(100_000, (i) => [id(i), 1_000, 123_456] as const),
    desired: HASH,
    reply: true,
  }
  const bytes = encodeMessage(message)
  assert.ok(bytes.length <= WIRE_LIMITS.maxBytes.digest, `${bytes.length} bytes`)
  const result = decodeMessage(bytes)
  assert.ok(result.ok && result.message.kind === 'digest' && result.message.members.length === 100_000 && result.message.adverts.length === 100_000)
})

// --- rejections --------------------------------------------------------------------------------

const Rejects = suite('codec rejections')

type Case = { name: string; bytes: Uint8Array; code: DecodeErrorCode; path: string }
const shape = (name: string, message: Message, path: ReadonlyArray<string | number>, value: unknown, expectedPath?: string): Case =>
  ({ name, bytes: damaged(message, path, value), code: 'bad-shape', path: expectedPath ?? path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').replace(/^\./, '').replace(/\.\[/g, '[') })

const { ping, ack, member, digest, state } = EXAMPLES
const pingReq = EXAMPLES['ping-req']
const advertMessage = EXAMPLES.advert
const bidMessage = EXAMPLES.bid
const T0 = ['advert', 'tasks', 0] as const

const cases: Case[] = [
  // envelope
  { name: 'bytes that are not JSON', bytes: utf8('{"v":1,'), code: 'not-json', path: '' },
  { name: 'bytes that are not UTF-8', bytes: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), code: 'not-json', path: '' },
  { name: 'empty input', bytes: new Uint8Array(0), code: 'not-json', path: '' },
  { name: 'a JSON array instead of a message', bytes: json([1, 2]), code: 'bad-shape', path: '' },
  { name: 'a JSON string instead of a message', bytes: json('ping'), code: 'bad-shape', path: '' },
  { name: 'a newer protocol version', bytes: damaged(ping, ['v'], PROTOCOL_VERSION + 1), code: 'bad-version', path: 'v' },
  { name: 'no protocol version', bytes: damaged(ping, ['v'], DELETE), code: 'bad-version', path: 'v' },
  { name: 'a version written as a string', bytes: damaged(ping, ['v'], '1'), code: 'bad-version', path: 'v' },
  { name: 'an unknown kind', bytes: damaged(ping, ['kind'], 'gossip'), code: 'unknown-kind', path: 'kind' },
  { name: 'a kind named after an Object member', bytes: damaged(ping, ['kind'], 'constructor'), code: 'unknown-kind', path: 'kind' },
  { name: 'no kind', bytes: damaged(ping, ['kind'], DELETE), code: 'bad-shape', path: 'kind' },
  { name: 'a kind that is not a string', bytes: damaged(ping, ['kind'], 3), code: 'bad-shape', path: 'kind' },
  // ping and ack
  shape('a negative seq', ping, ['seq'], -1),
  shape('a fractional seq', ping, ['seq'], 1.5),
  shape('a seq beyond the safe integers', ping, ['seq'], 2 ** 53),
  shape('a seq written as a string', ping, ['seq'], '41'),
  shape('no desired digest', ping, ['desired'], DELETE),
  shape('an empty desired digest', ping, ['desired'], ''),
  shape('a desired digest with a space', ping, ['desired'], 'a b'),
  shape('a desired digest that is too long', ping, ['desired'], 'a'.repeat(129)),
  shape('updates that are not a list', ping, ['updates'], {}),
  shape('too many piggybacked updates', ping, ['updates'], times(65, (i) => record(`q${i}`))),
  shape('an update with a bad peer id', ping, ['updates', 1, 'peer'], 'a/b'),
  shape('an update with an unknown status', ping, ['updates', 0, 'status'], 'zombie'),
  shape('an update with a negative incarnation', ping, ['updates', 0, 'incarnation'], -3),
  shape('an update that is null', ping, ['updates', 0], null),
  shape('an ack target with a bad peer id', ack, ['target'], 'has space'),
  shape('an ack target that is null', ack, ['target'], null),
  shape('an ack seq that is missing', ack, ['seq'], DELETE),
  // ping-req and member
  shape('a ping-req without a target', pingReq, ['target'], DELETE),
  shape('a ping-req target with "@"', pingReq, ['target'], 'p@q'),
  shape('a ping-req target of 129 characters', pingReq, ['target'], 'a'.repeat(129)),
  shape('a member message without its record', member, ['record'], DELETE),
  shape('a member record that is a list', member, ['record'], []),
  shape('a member record with an unknown status', member, ['record', 'status'], 'gone'),
  shape('a member record with a fractional incarnation', member, ['record', 'incarnation'], 0.5),
  // advert
  shape('an advert with a bad peer id', advertMessage, ['advert', 'peer'], '-p1'),
  shape('an advert with a negative version', advertMessage, ['advert', 'version'], -1),
  shape('an advert without capacity', advertMessage, ['advert', 'capacity'], DELETE),
  shape('a capacity with fractional cpu', advertMessage, ['advert', 'capacity', 'cpuMilli'], 1.5),
  shape('allocated memory written as a string', advertMessage, ['advert', 'allocated', 'memoryMiB'], '64Mi'),
  shape('a negative extended resource', advertMessage, ['advert', 'capacity', 'extended', 'gpu'], -1),
  shape('an extended resource in upper case', advertMessage, ['advert', 'capacity', 'extended', 'GPU'], 1),
  shape('extended resources that are a list', advertMessage, ['advert', 'capacity', 'extended'], [1]),
  shape('too many extended resources', advertMessage, ['advert', 'capacity', 'extended'], Object.fromEntries(times(65, (i) => [`r${i}`, 1]))),
  shape('a label value that is a number', advertMessage, ['advert', 'labels', 'zone'], 3),
  shape('a label value that is too long', advertMessage, ['advert', 'labels', 'zone'], 'x'.repeat(257)),
  shape('a label value with a newline', advertMessage, ['advert', 'labels', 'zone'], 'eu\n1'),
  shape('a label value with a lone surrogate', advertMessage, ['advert', 'labels', 'zone'], 'eu\ud800'),
  shape('an empty label name', advertMessage, ['advert', 'labels', ''], 'x', 'advert.labels[""]'),
  shape('too many labels', advertMessage, ['advert', 'labels'], Object.fromEntries(times(65, (i) => [`l${i}`, 'x']))),
  shape('an unknown driver', advertMessage, ['advert', 'drivers', 0], 'wasm'),
  shape('a driver listed twice', advertMessage, ['advert', 'drivers'], ['docker', 'docker'], 'advert.drivers[1]'),
  shape('too many tasks', advertMessage, ['advert', 'tasks'], times(WIRE_LIMITS.maxTasksPerAdvert + 1, (i) => task(`web/${i}`))),
  shape('a task that is a string', advertMessage, [...T0], 'web/0'),
  shape('a task with a malformed slot', advertMessage, [...T0, 'slot'], 'web'),
  shape('a task with a slot that is a number', advertMessage, [...T0, 'slot'], 0),
  shape('a task with a slot of another service', advertMessage, [...T0, 'slot'], 'api/0'),
  shape('a task with a replica index beyond the largest service', advertMessage, [...T0, 'slot'], 'web/1000000'),
  shape('a task with a global slot of another peer', advertMessage, ['advert', 'tasks', 2, 'slot'], 'agent@p2'),
  shape('a task of another peer', advertMessage, [...T0, 'peer'], 'p2'),
  shape('a task with a bad service name', advertMessage, [...T0, 'service'], 'Web'),
  shape('a task with an unknown state', advertMessage, [...T0, 'state'], 'zombie'),
  shape('a task with a negative since', advertMessage, [...T0, 'since'], -1),
  shape('a task with a since beyond any clock', advertMessage, [...T0, 'since'], 1e300),
  shape('a task with a since written as a date', advertMessage, [...T0, 'since'], '2024-01-01'),
  shape('a task with a spec hash that is not hex', advertMessage, [...T0, 'specHash'], 'XYZ12345'),
  shape('a task with a short spec hash', advertMessage, [...T0, 'specHash'], 'abc'),
  shape('a task without resources', advertMessage, [...T0, 'resources'], DELETE),
  shape('a port numbered 0', advertMessage, ['advert', 'tasks', 1, 'ports', 0, 'host'], 0),
  shape('a port above 65535', advertMessage, ['advert', 'tasks', 1, 'ports', 0, 'container'], 65_536),
  shape('a port with an unknown protocol', advertMessage, ['advert', 'tasks', 1, 'ports', 0, 'protocol'], 'sctp'),
  shape('too many ports', advertMessage, ['advert', 'tasks', 1, 'ports'], times(65, (i) => ({ host: i + 1, container: 80, protocol: 'tcp' }))),
  // bid
  shape('a bid without its bid', bidMessage, ['bid'], DELETE),
  shape('a bid offering more than one bid may win', bidMessage, ['bid', 'offered'], 1025),
  shape('a bid with a bad service name', bidMessage, ['bid', 'service'], 'web_1'),
  shape('a bid with a bad spec hash', bidMessage, ['bid', 'specHash'], 'g'.repeat(16)),
  shape('a bid with a negative round', bidMessage, ['bid', 'round'], -1),
  shape('a bid with a fractional existing count', bidMessage, ['bid', 'existing'], 1.5),
  shape('a bid with a negative domain count', bidMessage, ['bid', 'domainCount'], -2),
  shape('a bid with a negative capacity', bidMessage, ['bid', 'cpuCapacityMilli'], -1),
  shape('a bid with allocated memory missing', bidMessage, ['bid', 'memoryAllocatedMiB'], DELETE),
  shape('a bid with a domain that is too long', bidMessage, ['bid', 'domain'], 'z'.repeat(257)),
  shape('a bid with a bad peer id', bidMessage, ['bid', 'peer'], ''),
  shape('a bid with an extended resource that is not a pair', bidMessage, ['bid', 'extended'], { gpu: [8] }, 'bid.extended.gpu'),
  shape('a bid with negative extended allocation', bidMessage, ['bid', 'extended'], { gpu: [8, -1] }, 'bid.extended.gpu[1]'),
  shape('a bid with an extended resource name in capitals', bidMessage, ['bid', 'extended'], { GPU: [8, 1] }, 'bid.extended.GPU'),
  shape('overlapping slot ranges', bidMessage, ['slots'], [[0, 5], [3, 8]], 'slots[1]'),
  shape('unsorted slot ranges', bidMessage, ['slots'], [[5, 6], [0, 1]], 'slots[1]'),
  shape('an empty slot range', bidMessage, ['slots', 0], [3, 3]),
  shape('a slot range ending past the largest service', bidMessage, ['slots'], [[0, 1_000_001]], 'slots[0][1]'),
  shape('a slot range starting below zero', bidMessage, ['slots', 0, 0], -1),
  shape('a slot range of three numbers', bidMessage, ['slots', 0], [0, 1, 2]),
  shape('slot ranges that are not a list', bidMessage, ['slots'], '0-5'),
  shape('too many slot ranges', bidMessage, ['slots'], times(WIRE_LIMITS.maxSlotRanges + 1, (i) => [2 * i, 2 * i + 1])),
  // digest and state
  shape('a digest member that is an object', digest, ['members', 0], { peer: 'p1', incarnation: 1, status: 'alive' }),
  shape('a digest member with an unknown status', digest, ['members', 0, 2], 'zombie'),
  shape('a digest member with a bad peer id', digest, ['members', 1, 0], 'p 2'),
  shape('a digest advert with a negative version', digest, ['adverts', 0, 2], -1),
  shape('a digest advert of two items', digest, ['adverts', 0], ['p1', 2]),
  shape('a digest reply that is not a boolean', digest, ['reply'], 'yes'),
  shape('a digest without its desired digest', digest, ['desired'], DELETE),
  shape('a digest with too many members', digest, ['members'], times(WIRE_LIMITS.maxDigestEntries + 1, () => ['a', 0, 'alive'])),
  shape('a summary root one digit short', SUMMARY_DIGEST, ['root'], '0'.repeat(ROOT_LENGTH - 1)),
  shape('a summary root one digit long', SUMMARY_DIGEST, ['root'], '0'.repeat(ROOT_LENGTH + 1)),
  shape('a summary root that is not hex', SUMMARY_DIGEST, ['root'], 'g'.repeat(ROOT_LENGTH)),
  shape('a summary root that is a number', SUMMARY_DIGEST, ['root'], 12345),
  shape('a bucket summary one digit short', SUMMARY_DIGEST, ['buckets'], '0'.repeat(SUMMARY_LENGTH - 1)),
  shape('a bucket summary one digit long', SUMMARY_DIGEST, ['buckets'], '0'.repeat(SUMMARY_LENGTH + 1)),
  shape('a bucket summary in capitals', SUMMARY_DIGEST, ['buckets'], 'A'.repeat(SUMMARY_LENGTH)),
  shape('a bucket summary that is a list', SUMMARY_DIGEST, ['buckets'], [0, 1]),
  shape('a bucket summary that is null', SUMMARY_DIGEST, ['buckets'], null),
  shape('covered buckets that are not a list', SUMMARY_DIGEST, ['covers'], 3),
  shape('a covered bucket past the last', SUMMARY_DIGEST, ['covers', 1], DIGEST_BUCKETS),
  shape('a negative covered bucket', SUMMARY_DIGEST, ['covers', 0], -1),
  shape('a fractional covered bucket', SUMMARY_DIGEST, ['covers', 0], 1.5),
  shape('a covered bucket written as a string', SUMMARY_DIGEST, ['covers', 0], '3'),
  shape('covered buckets out of order', SUMMARY_DIGEST, ['covers'], [17, 3], 'covers[1]'),
  shape('a covered bucket listed twice', SUMMARY_DIGEST, ['covers'], [3, 3], 'covers[1]'),
  shape('more covered buckets than there are', SUMMARY_DIGEST, ['covers'], times(DIGEST_BUCKETS + 1, (i) => i)),
  shape('a state member with a bad peer id', state, ['members', 0, 'peer'], 'x/y'),
  shape('a state advert with a slot of another service', state, ['adverts', 1, 'tasks'], [task('api/1', 'p2', { service: 'web' as ServiceName })], 'adverts[1].tasks[0].slot'),
  shape('state adverts that are an object', state, ['adverts'], {}),
]

for (const { name, bytes, code, path } of cases) {
  Rejects(`rejects ${name} (${code} at ${path || 'the root'})`, () => expectRejected(bytes, code, path))
}

Rejects('rejects more bytes than any message may have before parsing them', () => {
  expectRejected(new Uint8Array(WIRE_LIMITS.maxMessageBytes + 1), 'too-large', '')
})

Rejects('rejects a ping over its own limit, in our key order or in any other', () => {
  const padding = 'x'.repeat(WIRE_LIMITS.maxBytes.ping)
  expectRejected(damaged(ping, ['future'], padding), 'too-large', '')
  expectRejected(utf8(`{"pad":"${padding}","kind":"ping","v":1,"seq":1,"desired":"d","updates":[]}`), 'too-large', '')
})

Rejects('rejects an advert over 1 MiB even when every count is within its limit', () => {
  const ports = times(64, (i) => ({ host: i + 1, container: i + 1, protocol: 'udp' as const }))
  const big = { kind: 'advert' as const, advert: advert({ tasks: times(400, (i) => task(`web/${i}`, 'p1', { ports })) }) }
  const encoded = encodeMessage(big)
  assert.ok(encoded.length > WIRE_LIMITS.maxBytes.advert)
  expectRejected(encoded, 'too-large', '')
  const validated = validateMessage(big)
  assert.ok(!validated.ok && validated.error.code === 'too-large')
})

Rejects('every error message says what was expected', () => {
  const result = decodeMessage(damaged(advertMessage, [...T0, 'slot'], 'api/0'))
  assert.ok(!result.ok && /not a slot of service web/.test(result.error.message), JSON.stringify(result))
})

// --- prototype pollution -----------------------------------------------------------------------

const Pollution = suite('codec and prototype keys')

Pollution('__proto__ and constructor fields are dropped like any unknown field', () => {
  const text = new TextDecoder().decode(encodeMessage(EXAMPLES.advert))
    .replace('{"v":1,', '{"v":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},')
    .replace('"advert":{', '"advert":{"__proto__":{"polluted":true},')
    .replace('"slot":"web/0"', '"__proto__":{"isAdmin":true},"slot":"web/0"')
  const result = decodeMessage(utf8(text))
  if (!result.ok) return assert.unreachable(JSON.stringify(result.error))
  assert.equal(result.message, EXAMPLES.advert)
  assert.is(Object.getPrototypeOf(result.message), Object.prototype)
  assert.not.ok(Object.hasOwn(result.message, '__proto__') || Object.hasOwn(result.message, 'constructor'))
  if (result.message.kind !== 'advert') return assert.unreachable('kind')
  assert.is(Object.getPrototypeOf(result.message.advert), Object.prototype)
  assert.is(Object.getPrototypeOf(result.message.advert.tasks[0]), Object.prototype)
  assert.is(({} as Record<string, unknown>).polluted, undefined)
  assert.is(({} as Record<string, unknown>).isAdmin, undefined)
})

const reservedCases: Array<{ name: string; text: (encoded: string) => string; path: string }> = [
  { name: 'a __proto__ label', text: (t) => t.replace('"labels":{', '"labels":{"__proto__":"x",'), path: 'advert.labels.__proto__' },
  { name: 'a constructor label', text: (t) => t.replace('"labels":{', '"labels":{"constructor":"x",'), path: 'advert.labels.constructor' },
  { name: 'a toString label', text: (t) => t.replace('"labels":{', '"labels":{"toString":"x",'), path: 'advert.labels.toString' },
  { name: 'a constructor extended resource', text: (t) => t.replace('"extended":{', '"extended":{"constructor":1,'), path: 'advert.capacity.extended.constructor' },
  { name: 'a __proto__ extended resource', text: (t) => t.replace('"extended":{', '"extended":{"__proto__":1,'), path: 'advert.capacity.extended.__proto__' },
]
for (const { name, text, path } of reservedCases) {
  Pollution(`rejects ${name} (maps are read by plain indexing)`, () => {
    expectRejected(utf8(text(new TextDecoder().decode(encodeMessage(EXAMPLES.advert)))), 'bad-shape', path)
    assert.is(({} as Record<string, unknown>).x, undefined)
  })
}

// --- validateMessage and splitState ------------------------------------------------------------

const Publish = suite('codec validateMessage and splitState')

const publishCases: Array<{ name: string; message: unknown; path: string }> = [
  { name: 'a NaN seq', message: { ...ping, seq: Number.NaN }, path: 'seq' },
  { name: 'an infinite incarnation', message: { ...member, record: { ...member.record, incarnation: Infinity } }, path: 'record.incarnation' },
  { name: 'a NaN since', message: { kind: 'advert', advert: advert({ tasks: [task('web/0', 'p1', { since: Number.NaN })] }) }, path: 'advert.tasks[0].since' },
  { name: 'an undefined field', message: { ...bidMessage, bid: { ...bid, round: undefined } }, path: 'bid.round' },
  { name: 'a bid that offers more than it may', message: { ...bidMessage, bid: { ...bid, offered: 2000 } }, path: 'bid.offered' },
  { name: 'an empty advert peer', message: { kind: 'advert', advert: advert({ peer: p('') }) }, path: 'advert.peer' },
  { name: 'a function in a field', message: { ...pingReq, target: () => 'p1' }, path: 'target' },
]
for (const { name, message, path } of publishCases) {
  Publish(`refuses to publish ${name}`, () => {
    const result = validateMessage(message as Message)
    assert.ok(!result.ok && result.error.code === 'bad-shape' && result.error.path === path, JSON.stringify(result))
  })
}

Publish('splitState keeps every part under the limit and loses nothing', () => {
  const members = times(300, (i) => record(`m${i}`, i))
  const adverts = times(40, (i) => advert({ peer: p(`a${i}`), tasks: times(i % 5, (j) => task(`web/${j}`, `a${i}`)) }))
  const limit = 8 * 1024
  const parts = splitState(members, adverts, limit)
  assert.ok(parts.length > 3)
  for (const part of parts) {
    assert.ok(encodeMessage(part).length <= limit, `${encodeMessage(part).length} bytes`)
    assert.ok(validateMessage(part).ok)
  }
  assert.equal(parts.flatMap((part) => part.members), members)
  assert.equal(parts.flatMap((part) => part.adverts), adverts)
  assert.equal(splitState([], []), [])
  assert.equal(splitState(members.slice(0, 2), []), [{ kind: 'state', members: members.slice(0, 2), adverts: [] }])
})

// --- properties --------------------------------------------------------------------------------

const Properties = suite('codec properties')

/** Every path into a JSON value, so a property can damage any one field. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [prefix]
  const children = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value)
  return [prefix, ...children.flatMap((key) => pathsOf((value as Record<string | number, unknown>)[key], [...prefix, key]))]
}

function decodesWithoutThrowing(bytes: Uint8Array): void {
  const result = decodeMessage(bytes)
  if (result.ok) {
    // Whatever is accepted is valid by the same rules, and stable under another round trip.
    assert.ok(validateMessage(result.message).ok)
    assert.equal(decodeMessage(encodeMessage(result.message)), result)
  } else {
    assert.type(result.error.message, 'string')
  }
}

Properties('valid messages round-trip to equal values and pass validateMessage', () => {
  fc.assert(fc.property(messageArb, (message) => {
    const result = decodeMessage(encodeMessage(message))
    if (!result.ok) throw new Error(JSON.stringify(result.error))
    assert.equal(result.message, message)
    assert.equal(validateMessage(message), result)
  }), { numRuns: 300 })
})

Properties('arbitrary bytes never make the decoder throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), decodesWithoutThrowing), { numRuns: 500 })
})

Properties('arbitrary JSON, alone or inside an envelope of a known kind, never makes the decoder throw', () => {
  const fields = ['seq', 'desired', 'updates', 'target', 'record', 'advert', 'bid', 'slots', 'members', 'adverts', 'reply', '__proto__', 'constructor']
  fc.assert(fc.property(fc.jsonValue(), (value) => decodesWithoutThrowing(json(value))), { numRuns: 300 })
  fc.assert(fc.property(
    fc.constantFrom(...KINDS), fc.dictionary(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 4 })),
    (kind, body) => decodesWithoutThrowing(json({ v: PROTOCOL_VERSION, kind, ...body })),
  ), { numRuns: 300 })
})

Properties('a valid message with any one field replaced or removed never makes the decoder throw', () => {
  fc.assert(fc.property(messageArb, fc.nat(), fc.option(fc.jsonValue({ maxDepth: 3 })), (message, pick, replacement) => {
    const value = raw(message)
    const paths = pathsOf(value).filter((path) => path.length > 0)
    const path = paths[pick % paths.length]!
    let node = value as Record<string | number, unknown>
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>
    if (replacement === null) delete node[path[path.length - 1]!]
    else node[path[path.length - 1]!] = replacement
    decodesWithoutThrowing(json(value))
  }), { numRuns: 500 })
})

Properties('deeply nested JSON is rejected, not a stack overflow', () => {
  decodesWithoutThrowing(utf8('['.repeat(100_000) + ']'.repeat(100_000)))
  decodesWithoutThrowing(utf8(`{"v":1,"kind":"advert","advert":${'['.repeat(100_000)}${']'.repeat(100_000)}}`))
})

RoundTrip.run()
Rejects.run()
Pollution.run()
Publish.run()
Properties.run()
