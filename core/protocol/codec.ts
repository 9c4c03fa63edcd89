// The wire codec: the one place where bytes from other peers become Messages. Every message is
// decoded once, at the edge, with size limits checked before parsing and a full-shape check of every
// field of every kind afterwards; an invalid message is rejected with a code and the path of the
// first bad field, so the transport can log it and count it against the sender. The machine behind
// it sees only fresh objects holding known fields with values in range.
//
// Encoding is UTF-8 JSON of `{ v: PROTOCOL_VERSION, ...message }`: readable in captures, and cheap
// next to the network at the sizes allowed below.
//
// Compatibility. The vocabulary is append-only (messages.ts): a newer peer may add kinds and optional
// fields. So unknown fields, at any depth, are allowed and dropped; an unknown kind is rejected with
// its own code, which a transport should count as "newer peer", not "bad peer". Three changes are
// NOT append-only and need a new PROTOCOL_VERSION: a new value in a closed set (task state, member
// status, driver, protocol), a new element in a positional tuple (digest entries, slot ranges), a
// change of the bucket summary's rules (bucket-digest.ts), and a tighter limit. Limits are part of the protocol: a peer must not send what an older peer would
// reject, which is why publishers call validateMessage first.

import { MAX_REPLICAS_PER_BID, type Bid } from '../placement/bid.js'
import { PEER_ID_PATTERN, SERVICE_NAME_PATTERN, parseSlot, type PeerId, type ServiceName, type SlotId } from '../placement/ids.js'
import { DRIVERS, type Driver, type PortSpec, type Protocol, type Resources } from '../service-spec/types.js'
import { SPEC_LIMITS } from '../service-spec/limits.js'
import { TASK_STATES, type TaskView } from '../placement/view.js'
import { DIGEST_BUCKETS, ROOT_LENGTH, SUMMARY_LENGTH } from './bucket-digest.js'
import { PROTOCOL_VERSION, type Advert, type MemberRecord, type TaskUsage, type MemberStatus, type Message, type MessageKind } from './messages.js'

const KiB = 1024
const MiB = 1024 * KiB

/**
 * Every bound the decoder enforces. Small kinds get byte limits a little above their largest valid
 * encoding, so their count limits bind and an oversized one is cut off before parsing; the three
 * kinds that carry cluster state (advert, digest, state) are bounded by bytes first.
 */
export const WIRE_LIMITS = {
  maxBytes: {
    /** ≤ 64 updates of ≤ 190 bytes (128-character id, 16-digit incarnation) plus the header: ≈ 12.5 KB. */
    ping: 16 * KiB,
    /** As ping, plus an optional relay target. */
    ack: 16 * KiB,
    /** A sequence number and a peer id: under 200 bytes; the rest is room for added optional fields. */
    'ping-req': 1 * KiB,
    /** One member record: under 250 bytes. */
    member: 1 * KiB,
    /**
     * Adverts are broadcast to every peer, so they stay at go-libp2p-pubsub's default message size
     * (and well under the 4 MiB above which gossipsub drops messages silently). A typical task is
     * ≈ 300 bytes, so maxTasksPerAdvert of them fit with room for labels; tasks with many ports or
     * extended resources meet this limit before the task count.
     */
    advert: 1 * MiB,
    /**
     * The bid itself is ≈ 1.4 KB at worst (a 256-character domain); the rest is slot ranges:
     * 4,096 × `[999999,1000000],` (17 bytes) ≈ 68 KiB.
     */
    bid: 96 * KiB,
    /**
     * memberlist's maxPushStateBytes (20 MB), the same job. Two peers that agree exchange only a summary's
     * root (≈ 150 bytes); entries go only for the buckets that differ, so a full digest is sent to
     * a peer that knows nobody (a join) or after a long split. A full digest of 100,000 peers (members
     * and adverts) with 52-character libp2p ids and 6-digit versions is ≈ 14 MB, so it fits; ids up to
     * ≈ 85 characters fit at that scale. Larger clusters or longer host names would send the entries
     * of differing buckets in several digests (`covers` says which buckets each one holds).
     */
    digest: 20 * MiB,
    /**
     * As digest. A state answer to a new peer in a large cluster holds every advert and does not fit
     * in one message: senders split it with splitState (records and adverts apply independently).
     */
    state: 20 * MiB,
  } satisfies Record<MessageKind, number>,
  /** Largest of maxBytes: checked before anything is parsed. */
  maxMessageBytes: 20 * MiB,
  /** Membership updates piggybacked on a ping or ack: 8× the default piggybackLimit, room to tune it. */
  maxUpdates: 64,
  /**
   * Tasks one peer advertises: ~20× Kubernetes' default 110 pods per node. A peer's loss frees at
   * most this many slots, which bounds how fragmented an auction's slot set gets (maxSlotRanges).
   */
  maxTasksPerAdvert: 2_048,
  /** Host ports per task: what a valid spec may declare. */
  maxPortsPerTask: SPEC_LIMITS.maxPorts,
  /** Extended resource kinds (gpu, fpga, …) per Resources: hosts have a handful. */
  maxExtendedResources: 64,
  /** Labels per peer, and characters per key and per value: room for Kubernetes-style keys (`topology.kubernetes.io/zone`). */
  maxLabels: 64,
  maxLabelKeyLength: 256,
  /** Also bounds a bid's `domain`, which is a label value. */
  maxLabelValueLength: 256,
  /**
   * Entries in each list of a digest, and members or adverts in a state message: 100,000 peers plus
   * room for dead and left peers not yet forgotten. Bytes usually bind first.
   */
  maxDigestEntries: 131_072,
  maxStateRecords: 131_072,
  /**
   * Slot ranges in one bid: two peers' worth of slots (2 × maxTasksPerAdvert) at worst-case
   * interleaving. Normally a service's unowned slots are a few runs.
   */
  maxSlotRanges: 4_096,
  /** Replica indices lie in [0, maxReplicaIndex): the most replicas a spec may ask for. */
  maxReplicaIndex: SPEC_LIMITS.maxReplicas,
  /** The desired-state heads digest: opaque printable ASCII (16 hex digits, or `empty`, today). */
  maxDesiredDigestLength: 128,
  /** specHash: lowercase hex, 8 to 64 digits (hash64Hex gives 16; room for a SHA-256). */
  specHashPattern: /^[0-9a-f]{8,64}$/,
} as const

export type DecodeErrorCode = 'too-large' | 'not-json' | 'bad-version' | 'unknown-kind' | 'bad-shape'

/** Why a message was rejected. `path` names the first bad field (`advert.tasks[3].slot`), '' for the whole message. */
export interface DecodeError {
  readonly code: DecodeErrorCode
  readonly path: string
  readonly message: string
}

export type DecodeResult = { ok: true; message: Message } | { ok: false; error: DecodeError }

const encoder = new TextEncoder()
/** Fatal: malformed UTF-8 is rejected, not patched with U+FFFD into something the sender never wrote. */
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeMessage(message: Message): Uint8Array {
  // The version goes first and the kind second (messages are written kind-first): decodeMessage reads
  // the kind from that prefix to apply the kind's size limit before parsing.
  return encoder.encode(JSON.stringify({ v: PROTOCOL_VERSION, ...message }))
}

/** Decodes bytes from a peer. Never throws: every failure is a DecodeError. */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  if (bytes.length > WIRE_LIMITS.maxMessageBytes) return tooLarge(bytes.length, WIRE_LIMITS.maxMessageBytes, 'any message')
  // Our own encoder writes the kind first: reading it cuts a huge small-kind message off unparsed.
  // Other key orders are still accepted, and limited after parsing.
  const sniffed = sniffKind(bytes)
  if (sniffed !== undefined && bytes.length > WIRE_LIMITS.maxBytes[sniffed]) return tooLarge(bytes.length, WIRE_LIMITS.maxBytes[sniffed], sniffed)
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'unreadable'
    return { ok: false, error: { code: 'not-json', path: '', message: `not UTF-8 JSON: ${reason}` } }
  }
  if (!isObject(value)) return rejected(new Invalid('bad-shape', undefined, `expected a message object, got ${describe(value)}`))
  const version = own(value, 'v')
  if (version !== PROTOCOL_VERSION) {
    return rejected(new Invalid('bad-version', at(undefined, 'v'), `expected protocol version ${PROTOCOL_VERSION}, got ${describe(version)}`))
  }
  return check(value, bytes.length)
}

/** Checks a message before it is published, with the same rules as decodeMessage (peers must not send what others reject). */
export function validateMessage(message: Message): DecodeResult {
  const result = check(message, undefined)
  if (!result.ok) return result
  const size = encodeMessage(result.message).length
  const limit = WIRE_LIMITS.maxBytes[result.message.kind]
  return size > limit ? tooLarge(size, limit, result.message.kind) : result
}

/**
 * Encoded size of a record or advert. Both are immutable values, and one advert is sent in many
 * state messages (every digest answer, every answer to a lagging bid), so each object's size is
 * measured once.
 */
const encodedSizes = new WeakMap<MemberRecord | Advert, number>()
let emptyStateSize: number | undefined

function encodedSize(item: MemberRecord | Advert): number {
  let size = encodedSizes.get(item)
  if (size === undefined) encodedSizes.set(item, (size = encoder.encode(JSON.stringify(item)).length))
  return size
}

/**
 * Splits a state answer into messages that each fit WIRE_LIMITS (members first, then adverts, in the
 * given order). Every record and advert applies on its own, so the parts may arrive in any order.
 */
export function splitState(
  members: readonly MemberRecord[],
  adverts: readonly Advert[],
  maxBytes: number = WIRE_LIMITS.maxBytes.state,
): Array<Extract<Message, { kind: 'state' }>> {
  const overhead = (emptyStateSize ??= encodeMessage({ kind: 'state', members: [], adverts: [] }).length)
  const parts: Array<Extract<Message, { kind: 'state' }>> = []
  let part = { members: [] as MemberRecord[], adverts: [] as Advert[] }
  let size = overhead
  const add = (list: 'members' | 'adverts', item: MemberRecord | Advert): void => {
    const itemSize = encodedSize(item) + 1 // and a comma
    const count = part.members.length + part.adverts.length
    if (count > 0 && (size + itemSize > maxBytes || part[list].length >= WIRE_LIMITS.maxStateRecords)) {
      parts.push({ kind: 'state', ...part })
      part = { members: [], adverts: [] }
      size = overhead
    }
    ;(part[list] as Array<MemberRecord | Advert>).push(item)
    size += itemSize
  }
  for (const member of members) add('members', member)
  for (const advert of adverts) add('adverts', advert)
  if (part.members.length + part.adverts.length > 0) parts.push({ kind: 'state', ...part })
  return parts
}

// --- errors and paths --------------------------------------------------------------------------

/** A field path, built only as a chain of links; rendered to text only when a check fails. */
type Path = { readonly parent: Path; readonly key: string | number } | undefined

const at = (parent: Path, key: string | number): Path => ({ parent, key })

/** Thrown inside the checker and caught at its entry points; never escapes this module. */
class Invalid {
  constructor(readonly code: DecodeErrorCode, readonly path: Path, readonly message: string) {}
}

function fail(path: Path, message: string): never {
  throw new Invalid('bad-shape', path, message)
}

function renderPath(path: Path): string {
  const keys: Array<string | number> = []
  for (let link = path; link !== undefined; link = link.parent) keys.push(link.key)
  let text = ''
  for (const key of keys.reverse()) {
    if (typeof key === 'number') text += `[${key}]`
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) text += text === '' ? key : `.${key}`
    else text += `[${JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)}]`
  }
  return text
}

function rejected(invalid: Invalid): DecodeResult {
  return { ok: false, error: { code: invalid.code, path: renderPath(invalid.path), message: invalid.message } }
}

function tooLarge(size: number, limit: number, what: string): DecodeResult {
  return { ok: false, error: { code: 'too-large', path: '', message: `${size} bytes is over the ${limit}-byte limit for ${what}` } }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function sniffKind(bytes: Uint8Array): MessageKind | undefined {
  const prefix = `{"v":${PROTOCOL_VERSION},"kind":"`
  if (bytes.length < prefix.length + 4) return undefined
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix.charCodeAt(i)) return undefined
  let kind = ''
  for (let i = prefix.length; i < prefix.length + 10 && i < bytes.length; i++) {
    if (bytes[i] === 0x22) return Object.hasOwn(DECODERS, kind) ? (kind as MessageKind) : undefined
    kind += String.fromCharCode(bytes[i]!)
  }
  return undefined
}

// --- the checker -------------------------------------------------------------------------------

function check(value: unknown, size: number | undefined): DecodeResult {
  try {
    if (!isObject(value)) fail(undefined, `expected a message object, got ${describe(value)}`)
    const kind = own(value, 'kind')
    if (typeof kind !== 'string') fail(at(undefined, 'kind'), `expected a message kind, got ${describe(kind)}`)
    if (!Object.hasOwn(DECODERS, kind)) throw new Invalid('unknown-kind', at(undefined, 'kind'), `unknown message kind ${describe(kind)}`)
    const known = kind as MessageKind
    if (size !== undefined && size > WIRE_LIMITS.maxBytes[known]) return tooLarge(size, WIRE_LIMITS.maxBytes[known], known)
    return { ok: true, message: DECODERS[known](value) }
  } catch (error) {
    if (error instanceof Invalid) return rejected(error)
    throw error
  }
}

type Body = Readonly<Record<string, unknown>>
type Decoders = { readonly [K in MessageKind]: (body: Body) => Extract<Message, { kind: K }> }

const ROOT: Path = undefined

const DECODERS: Decoders = {
  ping: (body) => ({
    kind: 'ping',
    seq: integer(body, ROOT, 'seq'),
    desired: desiredDigest(body, ROOT, 'desired'),
    updates: list(body, ROOT, 'updates', WIRE_LIMITS.maxUpdates, memberRecord),
  }),
  ack: (body) => {
    const message = {
      kind: 'ack' as const,
      seq: integer(body, ROOT, 'seq'),
      desired: desiredDigest(body, ROOT, 'desired'),
      updates: list(body, ROOT, 'updates', WIRE_LIMITS.maxUpdates, memberRecord),
    }
    return own(body, 'target') === undefined ? message : { ...message, target: peer(body, ROOT, 'target') }
  },
  'ping-req': (body) => ({ kind: 'ping-req', seq: integer(body, ROOT, 'seq'), target: peer(body, ROOT, 'target') }),
  member: (body) => ({ kind: 'member', record: memberRecord(own(body, 'record'), at(ROOT, 'record')) }),
  advert: (body) => ({ kind: 'advert', advert: advert(own(body, 'advert'), at(ROOT, 'advert')) }),
  bid: (body) => ({
    kind: 'bid',
    bid: bid(own(body, 'bid'), at(ROOT, 'bid')),
    slots: slotRanges(own(body, 'slots'), at(ROOT, 'slots')),
  }),
  digest: (body) => ({
    kind: 'digest',
    members: list(body, ROOT, 'members', WIRE_LIMITS.maxDigestEntries, (value, path) => {
      const entry = tuple(value, path, 3)
      return [peer(entry, path, 0), integer(entry, path, 1), memberStatus(entry, path, 2)] as const
    }),
    adverts: list(body, ROOT, 'adverts', WIRE_LIMITS.maxDigestEntries, (value, path) => {
      const entry = tuple(value, path, 3)
      return [peer(entry, path, 0), integer(entry, path, 1), integer(entry, path, 2)] as const
    }),
    desired: desiredDigest(body, ROOT, 'desired'),
    reply: boolean(body, ROOT, 'reply'),
    // Optional: peers that predate bucket summaries send full digests without them.
    ...(own(body, 'root') === undefined ? {} : { root: text(body, ROOT, 'root', ROOT_LENGTH, ROOT_PATTERN, `a summary root of ${ROOT_LENGTH} lowercase hex digits`) }),
    ...(own(body, 'buckets') === undefined ? {} : { buckets: text(body, ROOT, 'buckets', SUMMARY_LENGTH, SUMMARY_PATTERN, `a bucket summary of ${SUMMARY_LENGTH} lowercase hex digits`) }),
    ...(own(body, 'covers') === undefined ? {} : { covers: coveredBuckets(own(body, 'covers'), at(ROOT, 'covers')) }),
  }),
  state: (body) => ({
    kind: 'state',
    members: list(body, ROOT, 'members', WIRE_LIMITS.maxStateRecords, memberRecord),
    adverts: list(body, ROOT, 'adverts', WIRE_LIMITS.maxStateRecords, advert),
  }),
}

function memberRecord(value: unknown, path: Path): MemberRecord {
  const body = object(value, path)
  return { peer: peer(body, path, 'peer'), incarnation: integer(body, path, 'incarnation'), status: memberStatus(body, path, 'status') }
}

function advert(value: unknown, path: Path): Advert {
  const body = object(value, path)
  const owner = peer(body, path, 'peer')
  const tasks = list(body, path, 'tasks', WIRE_LIMITS.maxTasksPerAdvert, (item, itemPath) => task(item, itemPath, owner))
  const slots = new Set<string>(tasks.map((t) => t.slot))
  return {
    peer: owner,
    incarnation: integer(body, path, 'incarnation'),
    version: integer(body, path, 'version'),
    capacity: resources(own(body, 'capacity'), at(path, 'capacity')),
    allocated: resources(own(body, 'allocated'), at(path, 'allocated')),
    labels: labels(own(body, 'labels'), at(path, 'labels')),
    drivers: drivers(own(body, 'drivers'), at(path, 'drivers')),
    tasks,
    // Optional: peers that predate usage adverts send none.
    ...(own(body, 'usage') === undefined ? {} : { usage: list(body, path, 'usage', WIRE_LIMITS.maxTasksPerAdvert, (item, itemPath) => taskUsage(item, itemPath, slots)) }),
    ...(own(body, 'diskFull') !== undefined && boolean(body, path, 'diskFull') ? { diskFull: true as const } : {}),
  }
}

/** A task's measured use; its slot must be one the advert lists. */
function taskUsage(value: unknown, path: Path, slots: ReadonlySet<string>): TaskUsage {
  const body = object(value, path)
  const slot = own(body, 'slot')
  if (typeof slot !== 'string' || !slots.has(slot)) fail(at(path, 'slot'), `expected the slot of a task in this advert, got ${describe(slot)}`)
  return { slot: slot as SlotId, cpuMilli: integer(body, path, 'cpuMilli'), memoryMiB: integer(body, path, 'memoryMiB') }
}

/**
 * Besides shape, three facts tie a task to its advert, because the machine files tasks by them: a
 * peer advertises only its own tasks, a slot belongs to the task's service, and a global slot
 * (`service@peer`) runs only on its peer.
 */
function task(value: unknown, path: Path, owner: PeerId): TaskView {
  const body = object(value, path)
  const service = text(body, path, 'service', 63, SERVICE_NAME_PATTERN, 'a service name') as ServiceName
  const host = peer(body, path, 'peer')
  if (host !== owner) fail(at(path, 'peer'), `a peer advertises only its own tasks: expected ${owner}, got ${describe(host)}`)
  return {
    slot: slot(body, path, service, host),
    service,
    peer: host,
    specHash: specHash(body, path, 'specHash'),
    state: oneOf(body, path, 'state', TASK_STATES),
    // A time, not a count: the simulator's virtual clock has fractions of a millisecond.
    since: time(body, path, 'since'),
    resources: resources(own(body, 'resources'), at(path, 'resources')),
    ports: list(body, path, 'ports', WIRE_LIMITS.maxPortsPerTask, port),
    // Optional: peers that predate placement epochs send none (it counts as 0).
    ...(own(body, 'epoch') === undefined ? {} : { epoch: integerValue(own(body, 'epoch'), at(path, 'epoch')) }),
  }
}

function slot(body: Body, path: Path, service: ServiceName, host: PeerId): SlotId {
  const slotPath = at(path, 'slot')
  const value = field(body, 'slot')
  const parsed = typeof value === 'string' && value.length <= MAX_SLOT_LENGTH ? parseSlot(value) : undefined
  if (parsed === undefined) fail(slotPath, `expected a slot id "service/index" or "service@peer", got ${describe(value)}`)
  if (parsed.service !== service) fail(slotPath, `slot ${describe(value)} is not a slot of service ${service}`)
  if (parsed.kind === 'replica' && parsed.index >= WIRE_LIMITS.maxReplicaIndex) fail(slotPath, `replica index ${parsed.index} is not below ${WIRE_LIMITS.maxReplicaIndex}`)
  if (parsed.kind === 'global' && parsed.peer !== host) fail(slotPath, `global slot ${describe(value)} runs only on ${parsed.peer}, not ${host}`)
  return value as SlotId
}

/** service (63) + '@' + peer id (128). */
const MAX_SLOT_LENGTH = 63 + 1 + 128

function port(value: unknown, path: Path): PortSpec {
  const body = object(value, path)
  return {
    host: integer(body, path, 'host', 1, 65_535),
    container: integer(body, path, 'container', 1, 65_535),
    protocol: oneOf(body, path, 'protocol', PROTOCOLS),
  }
}

function resources(value: unknown, path: Path): Resources {
  const body = object(value, path)
  const extended = record(own(body, 'extended'), at(path, 'extended'), WIRE_LIMITS.maxExtendedResources, (key, item, itemPath) => {
    if (!/^[a-z][a-z0-9_.-]{0,62}$/.test(key)) fail(itemPath, 'expected an extended resource name in lowercase (e.g. gpu)')
    return integerValue(item, itemPath)
  })
  return { cpuMilli: integer(body, path, 'cpuMilli'), memoryMiB: integer(body, path, 'memoryMiB'), extended }
}

function labels(value: unknown, path: Path): Record<string, string> {
  return record(value, path, WIRE_LIMITS.maxLabels, (key, item, itemPath) => {
    if (key === '' || key.length > WIRE_LIMITS.maxLabelKeyLength || !plainText(key)) {
      fail(itemPath, `expected a label name of 1 to ${WIRE_LIMITS.maxLabelKeyLength} characters without control characters`)
    }
    return labelValue(item, itemPath)
  })
}

function labelValue(value: unknown, path: Path): string {
  if (typeof value !== 'string' || value.length > WIRE_LIMITS.maxLabelValueLength || !plainText(value)) {
    fail(path, `expected a label value of at most ${WIRE_LIMITS.maxLabelValueLength} characters without control characters, got ${describe(value)}`)
  }
  return value
}

function drivers(value: unknown, path: Path): Driver[] {
  const items = array(value, path, DRIVERS.length, 'drivers')
  const seen = new Set<Driver>()
  return items.map((_, i) => {
    const driver = oneOf(items, path, i, DRIVERS)
    if (seen.has(driver)) fail(at(path, i), `driver ${driver} is listed twice`)
    seen.add(driver)
    return driver
  })
}

function bid(value: unknown, path: Path): Bid {
  const body = object(value, path)
  return {
    peer: peer(body, path, 'peer'),
    service: text(body, path, 'service', 63, SERVICE_NAME_PATTERN, 'a service name') as ServiceName,
    specHash: specHash(body, path, 'specHash'),
    round: integer(body, path, 'round'),
    domain: labelValue(own(body, 'domain'), at(path, 'domain')),
    domainCount: integer(body, path, 'domainCount'),
    existing: integer(body, path, 'existing'),
    offered: integer(body, path, 'offered', 0, MAX_REPLICAS_PER_BID),
    cpuCapacityMilli: integer(body, path, 'cpuCapacityMilli'),
    cpuAllocatedMilli: integer(body, path, 'cpuAllocatedMilli'),
    memoryCapacityMiB: integer(body, path, 'memoryCapacityMiB'),
    memoryAllocatedMiB: integer(body, path, 'memoryAllocatedMiB'),
    ...(Object.hasOwn(body, 'extended') ? { extended: bidExtended(own(body, 'extended'), at(path, 'extended')) } : {}),
  }
}

/** A bid's extended resources as scoring reads them: name → [capacity, allocated]. */
function bidExtended(value: unknown, path: Path): Record<string, readonly [number, number]> {
  return record(value, path, WIRE_LIMITS.maxExtendedResources, (key, item, itemPath) => {
    if (!/^[a-z][a-z0-9_.-]{0,62}$/.test(key)) fail(itemPath, 'expected an extended resource name in lowercase (e.g. gpu)')
    const pair = tuple(item, itemPath, 2)
    return [integerValue(pair[0], at(itemPath, 0)), integerValue(pair[1], at(itemPath, 1))] as const
  })
}

const SUMMARY_PATTERN = new RegExp(`^[0-9a-f]{${SUMMARY_LENGTH}}$`)
const ROOT_PATTERN = new RegExp(`^[0-9a-f]{${ROOT_LENGTH}}$`)

/** Bucket indices, strictly ascending (so each at most once), each below DIGEST_BUCKETS. */
function coveredBuckets(value: unknown, path: Path): number[] {
  const items = array(value, path, DIGEST_BUCKETS, 'buckets')
  let previous = -1
  return items.map((_, i) => {
    const bucket = integer(items, path, i, 0, DIGEST_BUCKETS - 1)
    if (bucket <= previous) fail(at(path, i), `bucket ${bucket} does not follow ${previous} (buckets are listed once each, ascending)`)
    previous = bucket
    return bucket
  })
}

/** [start, end) pairs, sorted and disjoint (touching is fine), within [0, maxReplicaIndex]. */
function slotRanges(value: unknown, path: Path): Array<[number, number]> {
  const items = array(value, path, WIRE_LIMITS.maxSlotRanges, 'slot ranges')
  let previousEnd = 0
  return items.map((item, i) => {
    const rangePath = at(path, i)
    const pair = tuple(item, rangePath, 2)
    const start = integer(pair, rangePath, 0, 0, WIRE_LIMITS.maxReplicaIndex - 1)
    const end = integer(pair, rangePath, 1, 1, WIRE_LIMITS.maxReplicaIndex)
    if (end <= start) fail(rangePath, `empty range [${start}, ${end}): end must be above start`)
    if (start < previousEnd) fail(rangePath, `range [${start}, ${end}) overlaps or precedes the one before (ranges are sorted and disjoint)`)
    previousEnd = end
    return [start, end]
  })
}

// --- field readers: each reads body[key] and reports errors at path.key -------------------------

type Container = Body | readonly unknown[]

/** Own properties only: an absent field must not read an inherited member (`constructor`). */
function field(body: Container, key: string | number): unknown {
  return Object.hasOwn(body, key) ? (body as Record<string | number, unknown>)[key] : undefined
}

const own = (body: Body, key: string): unknown => field(body, key)

function integer(body: Container, path: Path, key: string | number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  return integerValue(field(body, key), at(path, key), min, max)
}

function integerValue(value: unknown, path: Path, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `expected an integer from ${min} to ${max}, got ${describe(value)}`)
  }
  return value === 0 ? 0 : value // no -0
}

/** A time in ms: finite, non-negative, at most the safe-integer bound (any real clock is far below it). */
function time(body: Body, path: Path, key: string): number {
  const value = field(body, key)
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    fail(at(path, key), `expected a time in ms from 0 to ${Number.MAX_SAFE_INTEGER}, got ${describe(value)}`)
  }
  return value === 0 ? 0 : value
}

function boolean(body: Body, path: Path, key: string): boolean {
  const value = field(body, key)
  if (typeof value !== 'boolean') fail(at(path, key), `expected true or false, got ${describe(value)}`)
  return value
}

function text(body: Container, path: Path, key: string | number, maxLength: number, pattern: RegExp, what: string): string {
  const value = field(body, key)
  // Length first: the patterns are bounded, but a huge string should not reach a regular expression.
  if (typeof value !== 'string' || value.length > maxLength || !pattern.test(value)) fail(at(path, key), `expected ${what}, got ${describe(value)}`)
  return value
}

const peer = (body: Container, path: Path, key: string | number): PeerId =>
  text(body, path, key, 128, PEER_ID_PATTERN, 'a peer id') as PeerId

const specHash = (body: Body, path: Path, key: string): string =>
  text(body, path, key, 64, WIRE_LIMITS.specHashPattern, 'a spec hash of 8 to 64 lowercase hex digits')

const desiredDigest = (body: Body, path: Path, key: string): string =>
  text(body, path, key, WIRE_LIMITS.maxDesiredDigestLength, /^[\x21-\x7e]+$/, `a desired-state digest of 1 to ${WIRE_LIMITS.maxDesiredDigestLength} printable ASCII characters`)

const MEMBER_STATUSES: readonly MemberStatus[] = Object.keys({ alive: 0, suspect: 0, dead: 0, left: 0 } satisfies Record<MemberStatus, 0>) as MemberStatus[]
const PROTOCOLS: readonly Protocol[] = Object.keys({ tcp: 0, udp: 0 } satisfies Record<Protocol, 0>) as Protocol[]

const memberStatus = (body: Container, path: Path, key: string | number): MemberStatus => oneOf(body, path, key, MEMBER_STATUSES)

function oneOf<T extends string>(body: Container, path: Path, key: string | number, allowed: readonly T[]): T {
  const value = field(body, key)
  if (!allowed.includes(value as T)) fail(at(path, key), `expected one of ${allowed.join(', ')}, got ${describe(value)}`)
  return value as T
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function object(value: unknown, path: Path): Body {
  if (!isObject(value)) fail(path, `expected an object, got ${describe(value)}`)
  return value
}

function array(value: unknown, path: Path, maxLength: number, what: string): readonly unknown[] {
  if (!Array.isArray(value)) fail(path, `expected a list of ${what}, got ${describe(value)}`)
  if (value.length > maxLength) fail(path, `at most ${maxLength} ${what}, got ${value.length}`)
  return value
}

function tuple(value: unknown, path: Path, length: number): readonly unknown[] {
  if (!Array.isArray(value) || value.length !== length) fail(path, `expected a list of exactly ${length} items, got ${describe(value)}`)
  return value
}

function list<T>(body: Body, path: Path, key: string, maxLength: number, item: (value: unknown, path: Path) => T): T[] {
  const listPath = at(path, key)
  const items = array(field(body, key), listPath, maxLength, `${key} entries`)
  const out: T[] = []
  for (let i = 0; i < items.length; i++) out.push(item(items[i], at(listPath, i)))
  return out
}

/**
 * A map with free keys (labels, extended resources), copied into a fresh object. Keys that name
 * members of Object.prototype (`__proto__`, `constructor`, `toString`, …) are rejected: copying
 * `__proto__` would set the prototype, and the machine reads these maps by plain indexing, where such
 * keys would alias inherited members.
 */
function record<T>(value: unknown, path: Path, maxEntries: number, item: (key: string, value: unknown, path: Path) => T): Record<string, T> {
  const body = object(value, path)
  const keys = Object.keys(body)
  if (keys.length > maxEntries) fail(path, `at most ${maxEntries} entries, got ${keys.length}`)
  const out: Record<string, T> = {}
  for (const key of keys) {
    const itemPath = at(path, key)
    if (Object.hasOwn(Object.prototype, key)) fail(itemPath, `${describe(key)} is reserved (a member of every JavaScript object)`)
    out[key] = item(key, body[key], itemPath)
  }
  return out
}

/** No control characters and no lone surrogates (which UTF-8 cannot carry, so they would not round-trip). */
function plainText(value: string): boolean {
  return !/[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)
}
