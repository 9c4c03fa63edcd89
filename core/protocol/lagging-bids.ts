// A bid that lags: it names as unowned a slot this peer already sees claimed. Bidders' views differ
// while claims are on their way — most of all in a failover, where every survivor bids for the dead
// peer's slots within a few milliseconds and a busy peer's claim can take hundreds of them to reach
// everyone. A bidder whose view still lacks a claim sees the slot open, and in a widened round it
// may be the only bidder: the candidates that know the claim offer nothing and, before this, said
// nothing either. Its window closed with its own bid alone and it started the slot a second time
// (on real agents, a slot started again 4.3 s after a failover had placed it; in the simulator, a
// claimer on a slow link). So a candidate that sees the slot held answers the bid with the holder's
// advert, and the bidder's last check before claiming ("does this slot still need a place?") sees
// the claim. Any candidate may know the claim, and the holder's own link is often the slow one, so
// every candidate that knows it answers; nobody answers a bid whose slots all look open, which is
// every bid of a round whose bidders agree.

import { replicaIndexOf, type PeerId, type SlotId } from '../placement/ids.js'
import type { Bid } from '../placement/bid.js'
import type { ServiceTasks } from '../placement/reconcile.js'
import type { SlotRanges } from './messages.js'

/**
 * The peers, other than the bidder, that hold a task of the bid's version in a slot the bid names,
 * as far as this peer sees, limited to those `isAlive` accepts (a suspect's advert tells a bidder
 * that holds it dead nothing new). Sorted, each once. Costs O(held slots · log ranges): a bid of a
 * first placement, with nothing held yet, costs nothing.
 */
export function holdersNamedByBid(bid: Bid, slots: SlotRanges, tasks: ServiceTasks, isAlive: (peer: PeerId) => boolean): PeerId[] {
  const holders = new Set<PeerId>()
  for (const [slot, held] of tasks.bySlot) {
    const index = replicaIndexOf(slot)
    if (index === undefined || !inRanges(slots, index)) continue
    for (const task of held) {
      if (task.peer !== bid.peer && task.specHash === bid.specHash && isAlive(task.peer)) holders.add(task.peer)
    }
  }
  return [...holders].sort()
}

/** Whether `index` lies in one of the sorted, disjoint half-open `ranges`. */
export function inRanges(ranges: SlotRanges, index: number): boolean {
  let low = 0
  let high = ranges.length
  while (low < high) {
    const mid = (low + high) >>> 1
    const [start, end] = ranges[mid]!
    if (index < start) high = mid
    else if (index >= end) low = mid + 1
    else return true
  }
  return false
}
