// The auction: bids in, an assignment of slots to peers out. Every peer runs it over the bids it saw
// and gets the same answer for the same set of bids, whatever order they arrived in, because
//  - duplicate and stale bids are reduced to one per peer by a rule on their content (newest round,
//    then canonical order), and
//  - winners are chosen by score, then by a hash of (service, peer, replica ordinal), then by peer id:
//    a total order that never looks at arrival order.
//
// Slots of one service are interchangeable, so the auction hands out "the next replica" greedily to
// the best remaining marginal bid and gives the i-th winner the i-th slot in slot order, in
// O(slots · log bidders) with a heap. A peer's next entry joins the heap only once its previous one
// won. Under spread, marginal scores fall, so greedy maximises the total score and spreads; under
// binpack they rise, so the winning peer keeps winning until it is full, which is what packing means. The tie-break hashes the replica ordinal rather than the slot id so the heap order is
// fixed when an entry is pushed; with identical peers it still spreads different services over
// different peers, because the service is in the hash.

import { combine32, hash32 } from '../hash.js'
import { compareStrings, SERVICE_NAME_PATTERN, sortBySlot, type PeerId, type ServiceName, type SlotId } from './ids.js'
import type { Bid } from './bid.js'
import { BidSheet } from './bid-sheet.js'
import { domainScore, marginalFreeOf, type Score, type ScoringRequest } from './scoring.js'
import { canonicalJson } from '../hash.js'

export interface Award {
  readonly slot: SlotId
  readonly peer: PeerId
  /** The winning score, including the domain term when the service spreads by a label. */
  readonly score: Score
}

export interface AuctionResult {
  readonly awards: readonly Award[]
  /** Slots no bid could take; they wait for a wider round. */
  readonly unassigned: readonly SlotId[]
}

export interface AuctionInput {
  readonly service: ServiceName
  readonly specHash: string
  readonly slots: readonly SlotId[]
  readonly bids: readonly Bid[]
  /** The service's strategy and resources, from which the bids' scores are computed. */
  readonly scoring: ScoringRequest
  /** Whether the service spreads over a label's domains (its spec's spreadBy is set). */
  readonly spreadByDomain: boolean
}

/** Keeps one bid per peer: for this service and version, newest round, then canonical content order. */
export function latestBids(service: ServiceName, specHash: string, bids: readonly Bid[]): Bid[] {
  const byPeer = new Map<PeerId, Bid>()
  for (const bid of bids) {
    if (bid.service !== service || bid.specHash !== specHash) continue
    const current = byPeer.get(bid.peer)
    if (current === undefined || bid.round > current.round ||
        (bid.round === current.round && canonicalJson(bid) > canonicalJson(current))) {
      byPeer.set(bid.peer, bid)
    }
  }
  return [...byPeer.values()]
}

export function auction(input: AuctionInput): AuctionResult {
  const sheet = new BidSheet()
  for (const bid of latestBids(input.service, input.specHash, input.bids)) sheet.addBid(bid)
  const { slots, winners, scores } = auctionSheet(input.service, input.slots, sheet, input.scoring, input.spreadByDomain)
  const awards: Award[] = winners.map((bidder, i) => ({ slot: slots[i]!, peer: sheet.peerAt(bidder), score: scores[i]! }))
  return { awards, unassigned: slots.slice(awards.length) }
}

/** An auction's outcome over a sheet: the i-th winner (a bidder's index in the sheet) takes slots[i]. */
export interface SheetAwards {
  /** The slots once each, in slot order; those past winners.length are unassigned. */
  readonly slots: readonly SlotId[]
  readonly winners: readonly number[]
  readonly scores: readonly Score[]
}

/**
 * The auction over bids already reduced to one per peer, for one service and version, held as a
 * sheet's columns (the planner asks each peer once a round, so it fills the sheet without latestBids).
 */
export function auctionSheet(service: ServiceName, slotIds: readonly SlotId[], sheet: BidSheet, scoring: ScoringRequest, spreadByDomain: boolean): SheetAwards {
  const slots = slotOrder(service, slotIds)
  const serviceHash = hash32(service)
  const { domains, extended, peerHash, existing, offered, cpuCapacity, cpuAllocated, memoryCapacity, memoryAllocated } = sheet
  const { ordinal, domainTerm, first, second, tie, domainWins: winsSeen, heap } = sheet

  // Replicas already in each domain: the largest count any bidder in it reported. A function of the
  // bid set alone, so every peer agrees even when their views of the cluster differ.
  const domainBase = spreadByDomain ? new Map<string, number>() : NO_COUNTS
  const domainWins = spreadByDomain ? new Map<string, number>() : NO_COUNTS
  if (spreadByDomain) {
    for (let i = 0; i < sheet.size; i++) domainBase.set(domains[i]!, Math.max(domainBase.get(domains[i]!) ?? 0, sheet.domainCount[i]!))
  }

  const binpack = scoring.strategy === 'binpack'
  const termOf = (domain: string): number => domainScore((domainBase.get(domain) ?? 0) + (domainWins.get(domain) ?? 0))
  /** Scores bidder i's replica `nth` (0 for its first): marginalScore's components (bidScore), computed the same way. */
  const score = (i: number, nth: number): void => {
    const free = marginalFreeOf(cpuCapacity[i]!, cpuAllocated[i]!, memoryCapacity[i]!, memoryAllocated[i]!, extended[i], scoring, nth)
    const fewer = 1 / (1 + existing[i]! + nth)
    ordinal[i] = nth
    tie[i] = combine32(combine32(serviceHash, peerHash[i]!), nth)
    domainTerm[i] = spreadByDomain ? termOf(domains[i]!) : 0
    first[i] = binpack ? 1 - free : fewer
    second[i] = binpack ? fewer : free
    winsSeen[i] = domainWins.get(domains[i]!) ?? 0
  }
  // compareScores' order (highest first, component by component), then the tie hash, then peer id.
  const before = (a: number, b: number): boolean => {
    if (spreadByDomain && domainTerm[a] !== domainTerm[b]) return domainTerm[a]! > domainTerm[b]!
    if (first[a] !== first[b]) return first[a]! > first[b]!
    if (second[a] !== second[b]) return second[a]! > second[b]!
    if (tie[a] !== tie[b]) return tie[a]! > tie[b]!
    return compareStrings(sheet.peerAt(a), sheet.peerAt(b)) < 0
  }
  // A binary max-heap of bidder indexes in the sheet's own array.
  let size = 0
  const push = (bidder: number): void => {
    let i = size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(bidder, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = bidder
  }
  const pop = (): number => {
    const top = heap[0]!
    const last = heap[--size]!
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && before(heap[right]!, heap[left]!) ? right : left
      if (!before(heap[child]!, last)) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = last
    return top
  }
  for (let i = 0; i < sheet.size; i++) {
    if (offered[i]! > 0) {
      score(i, 0)
      push(i)
    }
  }

  const winners: number[] = []
  const scores: Score[] = []
  while (winners.length < slots.length && size > 0) {
    const top = pop()
    const domain = domains[top]!
    if (spreadByDomain && winsSeen[top] !== (domainWins.get(domain) ?? 0)) {
      // Its domain won since this entry was scored; scores only fall, so re-score and retry (lazy greedy).
      domainTerm[top] = termOf(domain)
      winsSeen[top] = domainWins.get(domain) ?? 0
      push(top)
      continue
    }
    winners.push(top)
    scores.push(spreadByDomain ? [domainTerm[top]!, first[top]!, second[top]!] : [first[top]!, second[top]!])
    if (spreadByDomain) domainWins.set(domain, (domainWins.get(domain) ?? 0) + 1)
    if (ordinal[top]! + 1 < offered[top]!) {
      score(top, ordinal[top]! + 1)
      push(top)
    }
  }
  return { slots, winners, scores }
}

/**
 * The slots once each, in slot order. A planner hands over replica slots of the service already in
 * ascending order, which is checked in one pass of character tests instead of parsing each slot
 * for a sort; anything else (global slots, duplicates, another order, odd ids) takes the sort.
 */
function slotOrder(service: ServiceName, slots: readonly SlotId[]): readonly SlotId[] {
  if (SERVICE_NAME_PATTERN.test(service)) {
    let previous = -1
    let ascending = true
    for (let i = 0; i < slots.length && ascending; i++) {
      const index = replicaIndexOf(service, slots[i]!)
      ascending = index > previous
      previous = index
    }
    if (ascending) return slots
  }
  return sortBySlot([...new Set(slots)], (slot) => slot)
}

/** The domain counts of an auction that does not spread by domain: never read, never written. */
const NO_COUNTS = new Map<string, number>()

/** The index of `slot` when it is a well-formed replica slot of `service` (`service/index`), else -1. */
function replicaIndexOf(service: ServiceName, slot: string): number {
  const start = service.length + 1
  const digits = slot.length - start
  if (digits < 1 || digits > 9 || slot.charCodeAt(service.length) !== 47 /* / */ || !slot.startsWith(service)) return -1
  if (digits > 1 && slot.charCodeAt(start) === 48 /* 0 */) return -1
  let index = 0
  for (let i = start; i < slot.length; i++) {
    const digit = slot.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return -1
    index = index * 10 + digit
  }
  return index
}
