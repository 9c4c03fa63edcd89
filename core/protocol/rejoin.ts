// What a restarted peer must learn before it acts on its local state. Its disk says which slots it
// ran and which members it knew, but the others went on without it: they may have replaced its
// slots, and it cannot tell a slot nobody holds from one held by a member it has not heard from yet.
// So it restarts nothing from local state and bids for nothing until every member it knew has been
// heard from (its advert of the current life is known, from itself or relayed by anyone) or proved
// gone (dead or left). The members it knew are probed like any other, so one that is gone is
// declared dead by the normal failure detection within replaceAfterMs; rejoinLimitMs bounds the wait
// when that cannot happen (the peer hears from nobody: an offline reboot, an isolated host).
//
// Real agents showed why a timer alone is wrong: after a power cut the restarted agent sometimes
// first heard from its peers up to 2.9 s after a fixed 2 s grace had run out (the dead connections
// of its last life are noticed slowly), took their slots for unowned and started a whole service twice.

import type { PeerId } from '../placement/ids.js'

/** Members asked for their state (a digest) per probe interval while the peer waits for them. */
const ASK_PER_INTERVAL = 3

export class Rejoin {
  private readonly waitingFor: Set<PeerId>
  private deadline = Infinity
  private nextAskAt = Infinity
  private learning = false

  constructor(self: PeerId, known: readonly PeerId[]) {
    this.waitingFor = new Set(known.filter((peer) => peer !== self))
  }

  /** The members this peer knew in its last life, besides itself. */
  known(): PeerId[] {
    return [...this.waitingFor]
  }

  /** Starts the wait; false when there is nobody to wait for (a first start, or a peer that was alone). */
  start(now: number, limitMs: number): boolean {
    if (this.waitingFor.size === 0) return false
    this.learning = true
    this.deadline = now + limitMs
    this.nextAskAt = now
    return true
  }

  get waiting(): boolean {
    return this.learning
  }

  /**
   * Forgets the members `settled` says were heard from or proved gone; true when the wait is over,
   * because none is left or the limit passed. The peer then acts on what it learned.
   */
  settle(now: number, settled: (peer: PeerId) => boolean): boolean {
    if (!this.learning) return false
    for (const peer of this.waitingFor) if (settled(peer)) this.waitingFor.delete(peer)
    if (this.waitingFor.size > 0 && now < this.deadline) return false
    this.learning = false
    this.deadline = Infinity
    this.nextAskAt = Infinity
    return true
  }

  /**
   * The members to ask for their state now (a digest exchange brings a member's advert and, from any
   * healthy peer, everyone's): a few per probe interval, in turn, so a large cluster is not flooded.
   */
  askNow(now: number, intervalMs: number): PeerId[] {
    if (!this.learning || now < this.nextAskAt) return []
    this.nextAskAt = now + intervalMs
    const ask = [...this.waitingFor].slice(0, ASK_PER_INTERVAL)
    // In turn: the ones asked go to the back of the line.
    for (const peer of ask) {
      this.waitingFor.delete(peer)
      this.waitingFor.add(peer)
    }
    return ask
  }

  nextWakeAt(): number {
    return this.learning ? Math.min(this.deadline, this.nextAskAt) : Infinity
  }
}
