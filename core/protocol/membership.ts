// The membership table: SWIM records, when each peer was last heard from, suspicion deadlines, and a
// queue of recent updates to piggyback on probes (each retransmitted a bounded number of times).

import type { PeerId } from '../placement/ids.js'
import { BucketSummary, memberEntryHash } from './bucket-digest.js'
import { supersedes, type MemberRecord, type MemberStatus } from './messages.js'

export interface Member {
  record: MemberRecord
  /** Local time after which a suspect is declared dead. */
  deadAt?: number
}

interface QueuedUpdate {
  record: MemberRecord
  /** Sends left; 0 once sent enough or replaced by a newer update about the same peer (then skipped). */
  sendsLeft: number
}

export class MemberTable {
  private readonly members = new Map<PeerId, Member>()
  /**
   * Updates to piggyback, oldest first. A replaced or used-up update stays in the array with no
   * sends left until enough of them pile up to compact: finding and splicing one out on every
   * update was a scan of the queue per update, which a joining wave fills with every member (at
   * 1,000 simulated peers, a fifth of the run's CPU).
   */
  private queue: QueuedUpdate[] = []
  /** Where the first update with sends left may be: the queue's used-up head is skipped, not spliced. */
  private head = 0
  /** Each peer's live update in the queue. */
  private readonly queued = new Map<PeerId, QueuedUpdate>()
  /** The records' bucket summary for anti-entropy, kept current by apply(). */
  readonly summary = new BucketSummary()

  constructor(private readonly self: PeerId) {}

  get(peer: PeerId): Member | undefined {
    return this.members.get(peer)
  }

  status(peer: PeerId): MemberStatus | undefined {
    return this.members.get(peer)?.record.status
  }

  all(): IterableIterator<Member> {
    return this.members.values()
  }

  get size(): number {
    return this.members.size
  }

  /** Peers that are alive or suspect (probe targets, ring members), self excluded. */
  reachable(): PeerId[] {
    const out: PeerId[] = []
    for (const member of this.members.values()) {
      if (member.record.peer !== this.self && (member.record.status === 'alive' || member.record.status === 'suspect')) out.push(member.record.peer)
    }
    return out
  }

  /**
   * Applies a record if it supersedes what is known. Returns the previous status (undefined for a new
   * member) when it changed something, or null when it was stale.
   */
  apply(record: MemberRecord, retransmits: number): MemberStatus | undefined | null {
    const known = this.members.get(record.peer)
    if (!supersedes(record, known?.record)) return null
    const previous = known?.record.status
    if (known !== undefined) this.toggleSummary(known.record)
    this.toggleSummary(record)
    if (known === undefined) {
      this.members.set(record.peer, { record })
    } else {
      known.record = record
      if (record.status !== 'suspect') delete known.deadAt
    }
    this.enqueue(record, retransmits)
    return previous
  }

  /** Peers held dead (not those that left gracefully): reconnect targets. */
  dead(): PeerId[] {
    const out: PeerId[] = []
    for (const member of this.members.values()) if (member.record.status === 'dead') out.push(member.record.peer)
    return out
  }

  setDeadline(peer: PeerId, deadAt: number): void {
    const member = this.members.get(peer)
    if (member !== undefined && member.deadAt === undefined) member.deadAt = deadAt
  }

  /** Up to `limit` queued updates to piggyback; each is sent a bounded number of times. */
  piggyback(limit: number): MemberRecord[] {
    const out: MemberRecord[] = []
    while (this.head < this.queue.length && this.queue[this.head]!.sendsLeft <= 0) this.head++
    for (let i = this.head; i < this.queue.length && out.length < limit; i++) {
      const item = this.queue[i]!
      if (item.sendsLeft <= 0) continue
      out.push(item.record)
      if (--item.sendsLeft <= 0) this.retire(item)
    }
    this.compact()
    return out
  }

  private toggleSummary(record: MemberRecord): void {
    this.summary.toggle(record.peer, memberEntryHash(record.peer, record.incarnation, record.status))
  }

  /** A newer update about a peer replaces the queued older one (memberlist's invalidation). */
  private enqueue(record: MemberRecord, retransmits: number): void {
    const known = this.queued.get(record.peer)
    if (known !== undefined) this.retire(known)
    if (retransmits <= 0) return
    const item = { record, sendsLeft: retransmits }
    this.queue.push(item)
    this.queued.set(record.peer, item)
    this.compact()
  }

  /** Takes an update out of the queue (it stays in the array, skipped, until compact()). */
  private retire(item: QueuedUpdate): void {
    item.sendsLeft = 0
    if (this.queued.get(item.record.peer) === item) this.queued.delete(item.record.peer)
  }

  /** Drops retired updates from the array once they are half of it. */
  private compact(): void {
    if (this.queue.length >= 64 && this.queued.size * 2 < this.queue.length) {
      this.queue = this.queue.filter((q) => q.sendsLeft > 0)
      this.head = 0
    }
  }
}

/** memberlist's retransmit count: enough sends that an update reaches everyone with high probability. */
export function retransmitLimit(clusterSize: number): number {
  return 3 * Math.max(1, Math.ceil(Math.log10(clusterSize + 1)))
}
