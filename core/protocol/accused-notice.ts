// Telling a member of an accusation it may not have heard. A suspicion or verdict that reaches this
// peer from another (gossiped, piggybacked on a ping, or in an anti-entropy answer) travels on to the
// member it is about only by piggybacking, a few records per ping, and it competes there with every
// other change of the moment. After a partition heals that is the slow step: the first peer across
// brings the other side's verdicts about this side's members, its own side then suspects them, and
// each of them refutes only once the suspicion has wandered to it — ten agents, halves 4 | 6, saw
// members refute up to 1.9 s after their own side first suspected them, while the other side held
// them dead and kept their slots doubled. So a peer that a received record turns from alive to
// suspect or dead here, and that this peer heard from within `windowMs` (it is alive as far as this
// peer can tell), is sent the record directly — a ping carrying it — and refutes at once.
//
// Bounded: once per member and incarnation, and only for members heard from lately, so a real death
// costs at most one ping from each peer that heard from the member within the window (to a member
// that is gone by then), and a suspicion raised here by this peer's own probes is left to its
// broadcast.

import type { PeerId } from '../placement/ids.js'
import type { MemberRecord, MemberStatus } from './messages.js'

export class AccusedNotices {
  /** Per member: the highest incarnation it was told of an accusation at. */
  private readonly told = new Map<PeerId, number>()

  constructor(private readonly windowMs: number) {}

  /**
   * Whether to tell `record.peer` of `record` — its record here now, just changed from `previous` by
   * one received from another peer. `lastHeardAt`: when a message it wrote last arrived here.
   */
  shouldTell(record: MemberRecord, previous: MemberStatus | undefined, lastHeardAt: number | undefined, now: number): boolean {
    if (previous !== 'alive' || (record.status !== 'suspect' && record.status !== 'dead')) return false
    if (lastHeardAt === undefined || now - lastHeardAt > this.windowMs) return false
    if ((this.told.get(record.peer) ?? -Infinity) >= record.incarnation) return false
    this.told.set(record.peer, record.incarnation)
    return true
  }

  /** The member left: nothing more to tell it. */
  forget(peer: PeerId): void {
    this.told.delete(peer)
  }
}
