// A peer's bid for a service: how many of the service's unowned slots it could take, and the exact
// local numbers its scores come from. A bid carries numbers, not a list of scores, so it stays a few
// dozen bytes whatever the slot count; every peer derives the same marginal scores from it with
// marginalScore.

import type { PeerId, ServiceName } from './ids.js'
import { feasible, type Rejection } from './feasibility.js'
import type { PlacementRequest } from './request.js'
import { extendedScoringState, marginalScore, type Score, type ScoringRequest, type ScoringState } from './scoring.js'
import { unitsThatFit } from '../service-spec/resources.js'
import { countOnPeer, type PeerView } from './view.js'

export interface Bid extends ScoringState {
  readonly peer: PeerId
  readonly service: ServiceName
  readonly specHash: string
  /** Bid round: later rounds widen the candidate set; a peer's newest round replaces its older bids. */
  readonly round: number
  /** The bidder's value of the service's spreadBy label ('' when not spreading or unlabelled). */
  readonly domain: string
  /** Replicas of the service in the bidder's domain as the bidder sees the cluster. */
  readonly domainCount: number
  /** Active replicas of the service the bidder already runs. */
  readonly existing: number
  /** Most additional replicas it can take: resources, maxPerNode, host ports, and MAX_REPLICAS_PER_BID. */
  readonly offered: number
}

export type BidResult = { ok: true; bid: Bid } | { ok: false; rejection: Rejection }

/** Upper bound on the replicas one bid may win, so one peer cannot take a huge service in one round. */
export const MAX_REPLICAS_PER_BID = 1024

export interface BidContext {
  readonly round: number
  /** Replicas of the service in each spreadBy domain, as this peer sees the cluster. */
  readonly domainCounts?: ReadonlyMap<string, number>
}

export function computeBid(self: PeerView, want: PlacementRequest, wanted: number, context: BidContext): BidResult {
  const check = feasible(self, want)
  if (!check.ok) return check
  const existing = countOnPeer(self, want.service)
  let offered = Math.min(wanted, MAX_REPLICAS_PER_BID, unitsThatFit(self.capacity, self.allocated, want.resources))
  if (want.maxPerNode > 0) offered = Math.min(offered, want.maxPerNode - existing)
  const domain = want.spreadBy === '' ? '' : (self.labels[want.spreadBy] ?? '')
  const extended = extendedScoringState(self.capacity, self.allocated, want.resources)
  const domainCount = want.spreadBy === '' ? 0 : (context.domainCounts?.get(domain) ?? 0)
  // Two literals rather than a spread of an optional field: a planning pass makes a bid per
  // candidate, and these are the same keys in the same order either way.
  const bid: Bid = extended === undefined
    ? {
        peer: self.id, service: want.service, specHash: want.specHash, round: context.round, domain, domainCount, existing,
        offered: Math.max(0, offered),
        cpuCapacityMilli: self.capacity.cpuMilli, cpuAllocatedMilli: self.allocated.cpuMilli,
        memoryCapacityMiB: self.capacity.memoryMiB, memoryAllocatedMiB: self.allocated.memoryMiB,
      }
    : {
        peer: self.id, service: want.service, specHash: want.specHash, round: context.round, domain, domainCount, existing,
        offered: Math.max(0, offered),
        cpuCapacityMilli: self.capacity.cpuMilli, cpuAllocatedMilli: self.allocated.cpuMilli,
        memoryCapacityMiB: self.capacity.memoryMiB, memoryAllocatedMiB: self.allocated.memoryMiB,
        extended,
      }
  return { ok: true, bid }
}

/** The score of the bidder's (extra + 1)-th additional replica. */
export function bidScore(bid: Bid, want: ScoringRequest, extra: number): Score {
  return marginalScore(bid, want, bid.existing, extra)
}
