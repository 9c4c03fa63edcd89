// Claim conflicts: lost messages or a partition can leave two peers running one slot. Every peer
// applies the same rule to the claims it sees and keeps the same one:
//   1. a claim on the desired version beats one on an old version (an update in progress wins);
//   2. a claim on an eligible peer beats one on a draining, cordoned or no-longer-matching peer;
//   3. a claim of a later placement (higher epoch) beats an earlier one: a copy the cluster placed
//      while the slot's holder was gone beats that holder's old copy, restored or adopted when it
//      came back — the work stays where the cluster moved it instead of moving back for nothing;
//   4. then the higher hash of (slot, peer), then the smaller peer id.
// Every input is carried in the claims themselves (the epoch in the task's advert), so every peer
// that sees the same claims keeps the same one.
// The rule never looks at timing or arrival order. Losers stop only once the kept claim is up, so a
// conflict never leaves a slot with nothing running (never kill before replace).

import { combine32, hash32 } from '../hash.js'
import { compareStrings, type PeerId, type SlotId } from './ids.js'
import { isUp, type TaskState } from './view.js'

export interface Claim {
  readonly slot: SlotId
  readonly peer: PeerId
  readonly specHash: string
  readonly state: TaskState
  /** Placement generation; absent counts as 0 (claims of peers that predate epochs). */
  readonly epoch?: number
}

export interface ConflictResolution<C extends Claim> {
  readonly keep: C
  readonly losers: readonly C[]
  /** True when the kept claim is up, so the losers may stop now. */
  readonly mayStopLosers: boolean
}

export function claimTieBreak(slot: SlotId, peer: PeerId): number {
  return combine32(hash32(slot), hash32(peer))
}

/** Negative when claim `a` is kept over claim `b`. */
export function compareClaims(a: Claim, b: Claim, desiredHash: string, eligible: (peer: PeerId) => boolean): number {
  const aDesired = a.specHash === desiredHash
  const bDesired = b.specHash === desiredHash
  if (aDesired !== bDesired) return aDesired ? -1 : 1
  const aEligible = eligible(a.peer)
  const bEligible = eligible(b.peer)
  if (aEligible !== bEligible) return aEligible ? -1 : 1
  const aEpoch = a.epoch ?? 0
  const bEpoch = b.epoch ?? 0
  if (aEpoch !== bEpoch) return aEpoch > bEpoch ? -1 : 1
  const aTie = claimTieBreak(a.slot, a.peer)
  const bTie = claimTieBreak(b.slot, b.peer)
  if (aTie !== bTie) return aTie > bTie ? -1 : 1
  return compareStrings(a.peer, b.peer)
}

/** Resolves the claims on one slot (at least one). */
export function resolveClaims<C extends Claim>(
  claims: readonly C[],
  desiredHash: string,
  eligible: (peer: PeerId) => boolean,
): ConflictResolution<C> {
  if (claims.length === 0) throw new Error('resolveClaims needs at least one claim')
  const ordered = [...claims].sort((a, b) => compareClaims(a, b, desiredHash, eligible))
  const keep = ordered[0]!
  return { keep, losers: ordered.slice(1), mayStopLosers: isUp(keep.state) }
}
