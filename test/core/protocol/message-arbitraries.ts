// fast-check arbitraries of valid wire messages (every kind, every field within the codec's rules),
// for the codec's properties and for feeding a machine whatever a peer could validly send. The ids
// they use can be narrowed (messageArbitrary's options), so a machine's own peers and services come
// up often enough to reach more than its "unknown sender" paths.

import fc from 'fast-check'
import type { Advert, MemberRecord, Message } from '../../../core/protocol/messages.js'
import { DIGEST_BUCKETS, ROOT_LENGTH, SUMMARY_LENGTH } from '../../../core/protocol/bucket-digest.js'
import type { Bid } from '../../../core/placement/bid.js'
import { PEER_ID_PATTERN, SERVICE_NAME_PATTERN, type PeerId, type ServiceName, type SlotId } from '../../../core/placement/ids.js'
import { TASK_STATES, type TaskView } from '../../../core/placement/view.js'
import type { Resources } from '../../../core/service-spec/types.js'

/** fc.record, with ordinary prototypes (decoded messages are ordinary objects, and deep equality compares prototypes). */
const objectOf = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true })
const RESERVED = (key: string) => Object.hasOwn(Object.prototype, key)
const plain = (text: string) => !/[\u0000-\u001f\u007f]/.test(text)

export interface MessageIds {
  /** Peer ids to use; default any id the codec accepts. */
  readonly peers?: fc.Arbitrary<PeerId>
  /** Service names to use; default any name the codec accepts. */
  readonly services?: fc.Arbitrary<ServiceName>
  /** Spec hashes to use; default any hash the codec accepts. */
  readonly hashes?: fc.Arbitrary<string>
}

export function messageArbitrary(ids: MessageIds = {}): fc.Arbitrary<Message> {
  const peerArb = ids.peers ?? fc.stringMatching(PEER_ID_PATTERN).map((id) => id as PeerId)
  const serviceArb = ids.services ?? fc.stringMatching(SERVICE_NAME_PATTERN).map((name) => name as ServiceName)
  const hashArb = ids.hashes ?? fc.stringMatching(/^[0-9a-f]{8,64}$/)
  const countArb = fc.oneof(fc.nat(1_000), fc.maxSafeNat())
  const desiredArb = fc.stringMatching(/^[\x21-\x7e]{1,128}$/)
  const labelValueArb = fc.string({ maxLength: 24, unit: 'grapheme' }).filter(plain)
  const resourcesArb: fc.Arbitrary<Resources> = objectOf({
    cpuMilli: countArb,
    memoryMiB: countArb,
    extended: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,62}$/).filter((k) => !RESERVED(k)), countArb, { maxKeys: 3, noNullPrototype: true }),
  })
  const recordArb: fc.Arbitrary<MemberRecord> = objectOf({ peer: peerArb, incarnation: countArb, status: fc.constantFrom('alive', 'suspect', 'dead', 'left') })
  const portArb = objectOf({ host: fc.integer({ min: 1, max: 65_535 }), container: fc.integer({ min: 1, max: 65_535 }), protocol: fc.constantFrom('tcp' as const, 'udp' as const) })

  const taskArb = (owner: PeerId): fc.Arbitrary<TaskView> => objectOf({
    service: serviceArb,
    index: fc.option(fc.integer({ min: 0, max: 999_999 }), { nil: undefined }),
    specHash: hashArb,
    state: fc.constantFrom(...TASK_STATES),
    since: fc.oneof(countArb, fc.double({ min: 0, max: 1e12, noNaN: true })),
    resources: resourcesArb,
    ports: fc.array(portArb, { maxLength: 3 }),
    // Optional on the wire: peers that predate placement epochs send none.
    epoch: fc.option(countArb, { nil: undefined }),
  }).map(({ service, index, epoch, ...rest }) => ({
    slot: (index === undefined ? `${service}@${owner}` : `${service}/${index}`) as SlotId, service, peer: owner, ...rest,
    ...(epoch === undefined ? {} : { epoch }),
  }))

  const advertArb: fc.Arbitrary<Advert> = peerArb.chain((peer) => objectOf({
    peer: fc.constant(peer),
    incarnation: countArb,
    version: countArb,
    capacity: resourcesArb,
    allocated: resourcesArb,
    labels: fc.dictionary(labelValueArb.filter((k) => k !== '' && !RESERVED(k)), labelValueArb, { maxKeys: 4, noNullPrototype: true }),
    drivers: fc.subarray(['docker', 'process'] as const),
    tasks: fc.array(taskArb(peer), { maxLength: 4 }),
  }))

  const bidArb: fc.Arbitrary<Bid> = objectOf({
    peer: peerArb, service: serviceArb, specHash: hashArb, round: countArb, domain: labelValueArb, domainCount: countArb,
    existing: countArb, offered: fc.integer({ min: 0, max: 1024 }), cpuCapacityMilli: countArb, cpuAllocatedMilli: countArb,
    memoryCapacityMiB: countArb, memoryAllocatedMiB: countArb,
  })

  const rangesArb = fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 16 }).map((bounds) => {
    const sorted = [...bounds].sort((a, b) => a - b)
    const ranges: Array<[number, number]> = []
    for (let i = 0; i + 1 < sorted.length; i += 2) ranges.push([sorted[i]!, sorted[i + 1]!])
    return ranges
  })

  return fc.oneof(
    objectOf({ kind: fc.constant('ping' as const), seq: countArb, desired: desiredArb, updates: fc.array(recordArb, { maxLength: 8 }) }),
    fc.record({ kind: fc.constant('ack' as const), seq: countArb, desired: desiredArb, updates: fc.array(recordArb, { maxLength: 8 }), target: peerArb }, { requiredKeys: ['kind', 'seq', 'desired', 'updates'], noNullPrototype: true }),
    objectOf({ kind: fc.constant('ping-req' as const), seq: countArb, target: peerArb }),
    objectOf({ kind: fc.constant('member' as const), record: recordArb }),
    objectOf({ kind: fc.constant('advert' as const), advert: advertArb }),
    objectOf({ kind: fc.constant('bid' as const), bid: bidArb, slots: rangesArb }),
    fc.record({
      kind: fc.constant('digest' as const),
      members: fc.array(fc.tuple(peerArb, countArb, fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const)), { maxLength: 6 }),
      adverts: fc.array(fc.tuple(peerArb, countArb, countArb), { maxLength: 6 }),
      desired: desiredArb,
      reply: fc.boolean(),
      root: fc.stringMatching(new RegExp(`^[0-9a-f]{${ROOT_LENGTH}}$`)),
      buckets: fc.stringMatching(new RegExp(`^[0-9a-f]{${SUMMARY_LENGTH}}$`)),
      covers: fc.uniqueArray(fc.integer({ min: 0, max: DIGEST_BUCKETS - 1 }), { maxLength: 8 }).map((buckets) => buckets.sort((a, b) => a - b)),
    }, { requiredKeys: ['kind', 'members', 'adverts', 'desired', 'reply'], noNullPrototype: true }),
    objectOf({ kind: fc.constant('state' as const), members: fc.array(recordArb, { maxLength: 4 }), adverts: fc.array(advertArb, { maxLength: 2 }) }),
  )
}

/** Any valid message, with any ids. */
export const messageArb: fc.Arbitrary<Message> = messageArbitrary()
