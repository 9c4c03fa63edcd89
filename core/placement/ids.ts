// Branded identifiers: a PeerId can never be passed where a ServiceName is expected.

export type PeerId = string & { readonly __brand: 'PeerId' }
export type ServiceName = string & { readonly __brand: 'ServiceName' }
export type SlotId = string & { readonly __brand: 'SlotId' }

/** DNS-label rules: service names appear in slot ids, container names and log paths. */
export const SERVICE_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
/** Peer names: libp2p ids (base58) or operator-chosen host names. Never contain '/' or '@'. */
export const PEER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export const peerId = (value: string): PeerId => value as PeerId
export const serviceName = (value: string): ServiceName => value as ServiceName

/** Slot of a replicated service or a job: `service/index`. */
export const replicaSlot = (service: ServiceName, index: number): SlotId => `${service}/${index}` as SlotId

/** Slot of a global service: one per peer, `service@peer`. */
export const globalSlot = (service: ServiceName, peer: PeerId): SlotId => `${service}@${peer}` as SlotId

export type ParsedSlot =
  | { kind: 'replica'; service: ServiceName; index: number }
  | { kind: 'global'; service: ServiceName; peer: PeerId }

/** Parses a slot id; undefined when it has neither form. */
export function parseSlot(slot: string): ParsedSlot | undefined {
  const at = slot.indexOf('@')
  if (at > 0) {
    const service = slot.slice(0, at)
    const peer = slot.slice(at + 1)
    if (SERVICE_NAME_PATTERN.test(service) && PEER_ID_PATTERN.test(peer)) {
      return { kind: 'global', service: service as ServiceName, peer: peer as PeerId }
    }
    return undefined
  }
  const slash = slot.lastIndexOf('/')
  if (slash <= 0) return undefined
  const service = slot.slice(0, slash)
  const digits = slot.slice(slash + 1)
  if (!SERVICE_NAME_PATTERN.test(service) || !/^(0|[1-9][0-9]{0,8})$/.test(digits)) return undefined
  return { kind: 'replica', service: service as ServiceName, index: Number(digits) }
}

/** The service a slot belongs to (the slot must be well formed). */
export function serviceOfSlot(slot: SlotId): ServiceName {
  const parsed = parseSlot(slot)
  if (parsed === undefined) throw new Error(`malformed slot id ${JSON.stringify(slot)}`)
  return parsed.service
}

/**
 * Total order on slot ids used everywhere output must be stable: by service, then replica index
 * numerically (web/2 before web/10), then global slots by peer; malformed ids last.
 */
export function compareSlots(a: SlotId, b: SlotId): number {
  if (a === b) return 0
  // Two replica slots, the usual case, compare by their characters alone: sorting or checking the
  // order of a pass's half a million placements would otherwise parse two ids per comparison.
  const slashA = replicaSlotSlash(a)
  const slashB = slashA < 0 ? -1 : replicaSlotSlash(b)
  if (slashB >= 0) return compareReplicaSlots(a, slashA, b, slashB)
  const pa = parseSlot(a)
  const pb = parseSlot(b)
  if (pa === undefined || pb === undefined) {
    if (pa !== pb) return pa === undefined ? 1 : -1 // malformed ids last
    return a < b ? -1 : 1
  }
  if (pa.service !== pb.service) return pa.service < pb.service ? -1 : 1
  if (pa.kind === 'replica' && pb.kind === 'replica') return pa.index - pb.index
  if (pa.kind !== pb.kind) return pa.kind === 'replica' ? -1 : 1
  return a < b ? -1 : 1
}

/** Plain code-unit string order: locale-independent, identical on every peer. */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Sorts items by their slot (compareSlots order), parsing each slot once rather than per comparison. */
export function sortBySlot<T>(items: T[], slotOf: (item: T) => SlotId, then?: (a: T, b: T) => number): T[] {
  const keyOf = (item: T): SortKey<T> => {
    const slot = slotOf(item)
    const replica = replicaSlotParts(slot)
    if (replica !== undefined) return { item, slot, service: replica.service, rank: 0, index: replica.index }
    const parsed = parseSlot(slot)
    return {
      item,
      slot,
      service: parsed?.service ?? slot,
      // Replica slots sort by index before global slots; malformed ids sort last, by text.
      rank: parsed === undefined ? 2 : parsed.kind === 'replica' ? 0 : 1,
      index: parsed?.kind === 'replica' ? parsed.index : 0,
    }
  }
  const order = (a: SortKey<T>, b: SortKey<T>): number => {
    if (a.rank === 2 || b.rank === 2) {
      if (a.rank !== b.rank) return a.rank - b.rank
    } else if (a.service !== b.service) {
      return a.service < b.service ? -1 : 1
    }
    if (a.rank !== b.rank) return a.rank - b.rank
    if (a.index !== b.index) return a.index - b.index
    if (a.slot !== b.slot) return a.slot < b.slot ? -1 : 1
    return then ? then(a.item, b.item) : 0
  }
  // Lists are often built in slot order already, and the sort is stable, so it would leave them as
  // they are: check first, comparing neighbours' ids without building a key for either.
  if (inSlotOrder(items, slotOf, then)) return items
  const keyed = items.map(keyOf)
  keyed.sort(order)
  for (let i = 0; i < keyed.length; i++) items[i] = keyed[i]!.item
  return items
}

/** Whether sortBySlot would leave `items` as they are (ties already in `then` order). */
function inSlotOrder<T>(items: readonly T[], slotOf: (item: T) => SlotId, then?: (a: T, b: T) => number): boolean {
  if (items.length < 2) return true
  let previous = slotOf(items[0]!)
  let previousSlash = replicaSlotSlash(previous)
  for (let i = 1; i < items.length; i++) {
    const slot = slotOf(items[i]!)
    let order: number
    let slash: number
    if (slot === previous) {
      order = 0
      slash = previousSlash
    } else if (previousSlash >= 0 && (slash = sameServiceSlash(previous, previousSlash, slot)) >= 0) {
      // Neighbours of one service, the usual case: only the indexes differ.
      order = compareIndexes(previous, previousSlash, slot, slash)
    } else {
      slash = replicaSlotSlash(slot)
      order = compareSlots(previous, slot)
    }
    if (order > 0 || (order === 0 && then !== undefined && then(items[i - 1]!, items[i]!) > 0)) return false
    previous = slot
    previousSlash = slash
  }
  return true
}

interface SortKey<T> {
  readonly item: T
  readonly slot: SlotId
  readonly service: string
  readonly rank: number
  readonly index: number
}

/** The replica index of `slot`, or undefined when it is not a replica slot: parseSlot's answer, without its regular expressions for the usual ids. */
export function replicaIndexOf(slot: SlotId): number | undefined {
  const fast = replicaSlotParts(slot)
  if (fast !== undefined) return fast.index
  const parsed = parseSlot(slot)
  return parsed?.kind === 'replica' ? parsed.index : undefined
}

/**
 * parseSlot's answer for a replica slot (`service/index`), by character tests instead of regular
 * expressions: sorting a pass's placements parses every slot of a large cluster. Undefined for
 * anything else, which parseSlot then decides.
 */
function replicaSlotParts(slot: string): { service: string; index: number } | undefined {
  const slash = replicaSlotSlash(slot)
  if (slash < 0) return undefined
  let index = 0
  for (let i = slash + 1; i < slot.length; i++) index = index * 10 + (slot.charCodeAt(i) - 48)
  return { service: slot.slice(0, slash), index }
}

/**
 * The index of the '/' of a replica slot (`service/index`: a service name of lowercase letters,
 * digits and inner hyphens, up to 63 characters; an index of 1–9 digits without leading zeros), or
 * -1 for anything else, by character tests, allocating nothing. Any '@' (a global slot) fails them.
 */
function replicaSlotSlash(slot: string): number {
  const slash = slot.lastIndexOf('/')
  const digits = slot.length - slash - 1
  if (slash < 1 || slash > 63 || digits < 1 || digits > 9) return -1
  if (!isLowerAlnum(slot.charCodeAt(0)) || !isLowerAlnum(slot.charCodeAt(slash - 1))) return -1
  for (let i = 1; i < slash - 1; i++) {
    const c = slot.charCodeAt(i)
    if (!isLowerAlnum(c) && c !== 45 /* - */) return -1
  }
  if (digits > 1 && slot.charCodeAt(slash + 1) === 48 /* 0 */) return -1
  for (let i = slash + 1; i < slot.length; i++) {
    const c = slot.charCodeAt(i)
    if (c < 48 || c > 57) return -1
  }
  return slash
}

/**
 * compareSlots of two distinct replica slots, given their slashes: services in code-unit order, then
 * indexes by value.
 */
function compareReplicaSlots(a: string, slashA: number, b: string, slashB: number): number {
  const common = Math.min(slashA, slashB)
  for (let i = 0; i < common; i++) {
    const difference = a.charCodeAt(i) - b.charCodeAt(i)
    if (difference !== 0) return difference < 0 ? -1 : 1
  }
  if (slashA !== slashB) return slashA < slashB ? -1 : 1
  return compareIndexes(a, slashA, b, slashB)
}

/** The order of two replica slots' indexes, which have no leading zeros: a shorter one is the smaller. */
function compareIndexes(a: string, slashA: number, b: string, slashB: number): number {
  const digitsA = a.length - slashA
  const digitsB = b.length - slashB
  if (digitsA !== digitsB) return digitsA < digitsB ? -1 : 1
  for (let i = 1; i < digitsA; i++) {
    const difference = a.charCodeAt(slashA + i) - b.charCodeAt(slashB + i)
    if (difference !== 0) return difference < 0 ? -1 : 1
  }
  return 0
}

/**
 * When `slot` is a replica slot of the service of replica slot `previous` (whose slash is at
 * `previousSlash`), its slash; else -1. The service's characters were checked on `previous`, so
 * only the equal prefix and the digits are read.
 */
function sameServiceSlash(previous: string, previousSlash: number, slot: string): number {
  const digits = slot.length - previousSlash - 1
  if (digits < 1 || digits > 9 || slot.charCodeAt(previousSlash) !== 47 /* / */) return -1
  for (let i = 0; i < previousSlash; i++) if (slot.charCodeAt(i) !== previous.charCodeAt(i)) return -1
  if (digits > 1 && slot.charCodeAt(previousSlash + 1) === 48 /* 0 */) return -1
  for (let i = previousSlash + 1; i < slot.length; i++) {
    const c = slot.charCodeAt(i)
    if (c < 48 || c > 57) return -1
  }
  return previousSlash
}

const isLowerAlnum = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
