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
import { Heap } from './heap.js'
import { domainScore, marginalFree, type Score, type ScoringRequest } from './scoring.js'
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

/**
 * A bidder's next replica in the heap. Its score is held as numbers, not a Score tuple, so the heap
 * does not allocate one per entry: [domain, first, second] under spreadBy, else [first, second].
 */
interface Entry {
  readonly bid: Bid
  /** hash32 of the bidder's id, kept for the entry of its next replica. */
  readonly peerHash: number
  readonly ordinal: number
  readonly tie: number
  /** The domain term (spreadBy only); falls as the bid's domain wins. */
  domain: number
  readonly first: number
  readonly second: number
  /** Wins in the bid's domain when `domain` was computed; stale once the domain wins again. */
  domainWins: number
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
  const slots = slotOrder(input.service, input.slots)
  const bids = latestBids(input.service, input.specHash, input.bids)
  const serviceHash = hash32(input.service)

  // Replicas already in each domain: the largest count any bidder in it reported. A function of the
  // bid set alone, so every peer agrees even when their views of the cluster differ.
  const domainBase = new Map<string, number>()
  const domainWins = new Map<string, number>()
  if (input.spreadByDomain) {
    for (const bid of bids) domainBase.set(bid.domain, Math.max(domainBase.get(bid.domain) ?? 0, bid.domainCount))
  }

  const binpack = input.scoring.strategy === 'binpack'
  const domainTerm = (bid: Bid): number => domainScore((domainBase.get(bid.domain) ?? 0) + (domainWins.get(bid.domain) ?? 0))
  const entry = (bid: Bid, peerHash: number, ordinal: number): Entry => {
    // marginalScore's components (bidScore), computed the same way.
    const free = marginalFree(bid, input.scoring, ordinal)
    const fewer = 1 / (1 + bid.existing + ordinal)
    return {
      bid,
      peerHash,
      ordinal,
      tie: combine32(combine32(serviceHash, peerHash), ordinal),
      domain: input.spreadByDomain ? domainTerm(bid) : 0,
      first: binpack ? 1 - free : fewer,
      second: binpack ? fewer : free,
      domainWins: domainWins.get(bid.domain) ?? 0,
    }
  }
  // compareScores' order (highest first, component by component), then the tie hash, then peer id.
  const heap = new Heap<Entry>((a, b) => {
    if (input.spreadByDomain && a.domain !== b.domain) return a.domain > b.domain
    if (a.first !== b.first) return a.first > b.first
    if (a.second !== b.second) return a.second > b.second
    if (a.tie !== b.tie) return a.tie > b.tie
    return compareStrings(a.bid.peer, b.bid.peer) < 0
  })
  for (const bid of bids) if (bid.offered > 0) heap.push(entry(bid, hash32(bid.peer), 0))

  const awards: Award[] = []
  while (awards.length < slots.length) {
    const top = heap.pop()
    if (top === undefined) break
    if (input.spreadByDomain && top.domainWins !== (domainWins.get(top.bid.domain) ?? 0)) {
      // Its domain won since this entry was scored; scores only fall, so re-score and retry (lazy greedy).
      top.domain = domainTerm(top.bid)
      top.domainWins = domainWins.get(top.bid.domain) ?? 0
      heap.push(top)
      continue
    }
    const score: Score = input.spreadByDomain ? [top.domain, top.first, top.second] : [top.first, top.second]
    awards.push({ slot: slots[awards.length]!, peer: top.bid.peer, score })
    if (input.spreadByDomain) domainWins.set(top.bid.domain, (domainWins.get(top.bid.domain) ?? 0) + 1)
    if (top.ordinal + 1 < top.bid.offered) heap.push(entry(top.bid, top.peerHash, top.ordinal + 1))
  }
  return { awards, unassigned: slots.slice(awards.length) }
}

/**
 * The slots once each, in slot order. A planner hands over replica slots of the service already in
 * ascending order, which is checked in one pass of character tests instead of parsing each slot
 * for a sort; anything else (global slots, duplicates, another order, odd ids) takes the sort.
 */
function slotOrder(service: ServiceName, slots: readonly SlotId[]): SlotId[] {
  if (SERVICE_NAME_PATTERN.test(service)) {
    let previous = -1
    let ascending = true
    for (let i = 0; i < slots.length && ascending; i++) {
      const index = replicaIndexOf(service, slots[i]!)
      ascending = index > previous
      previous = index
    }
    if (ascending) return [...slots]
  }
  return sortBySlot([...new Set(slots)], (slot) => slot)
}

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
