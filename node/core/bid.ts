// A peer's bid for a service: how many of the service's unowned slots it could take, and the score of
// each additional replica, computed from the bidder's exact local state. Scores never rise from one
// replica to the next (each extra replica leaves less free and one more of the service on the peer),
// which is what lets the auction pick greedily.

import type { PeerId, ServiceName } from './ids.js'
import { feasible, type Rejection } from './feasibility.js'
import type { PlacementRequest } from './request.js'
import { marginalScore, type Score } from './scoring.js'
import { unitsThatFit } from './spec/resources.js'
import { countOnPeer, type PeerView } from './view.js'

export interface Bid {
  readonly peer: PeerId
  readonly service: ServiceName
  readonly specHash: string
  /** Bid round: later rounds widen the candidate set; a peer's newest round replaces its older bids. */
  readonly round: number
  /** The bidder's value of the service's spreadBy label ('' when not spreading or unlabelled). */
  readonly domain: string
  /** Replicas of the service in the bidder's domain as the bidder sees the cluster. */
  readonly domainCount: number
  /** scores[j] is the score of the bidder's (j+1)-th additional replica; non-increasing. */
  readonly scores: readonly Score[]
}

export type BidResult = { ok: true; bid: Bid } | { ok: false; rejection: Rejection }

/** Upper bound on additional replicas one bid may offer, so one message stays small. */
export const MAX_REPLICAS_PER_BID = 256

export interface BidContext {
  readonly round: number
  /** Replicas of the service in each spreadBy domain, as this peer sees the cluster. */
  readonly domainCounts?: ReadonlyMap<string, number>
}

export function computeBid(self: PeerView, want: PlacementRequest, wanted: number, context: BidContext): BidResult {
  const check = feasible(self, want)
  if (!check.ok) return check
  const existing = countOnPeer(self, want.service)
  let limit = Math.min(wanted, MAX_REPLICAS_PER_BID, unitsThatFit(self.capacity, self.allocated, want.resources))
  if (want.maxPerNode > 0) limit = Math.min(limit, want.maxPerNode - existing)
  const scores: Score[] = []
  for (let extra = 0; extra < limit; extra++) scores.push(marginalScore(self, want, existing, extra))
  const domain = want.spreadBy === '' ? '' : (self.labels[want.spreadBy] ?? '')
  return {
    ok: true,
    bid: {
      peer: self.id,
      service: want.service,
      specHash: want.specHash,
      round: context.round,
      domain,
      domainCount: want.spreadBy === '' ? 0 : (context.domainCounts?.get(domain) ?? 0),
      scores,
    },
  }
}
