// The membership table: SWIM records, when each peer was last heard from, suspicion deadlines, and a
// queue of recent updates to piggyback on probes (each retransmitted a bounded number of times).

import type { PeerId } from '../placement/ids.js'
import { BucketSummary, memberEntryHash } from './bucket-digest.js'
import { supersedes, type MemberRecord, type MemberStatus } from './messages.js'
import { PeerNumbers, PeerPlaces, PeerTable } from './peer-numbers.js'

export class MemberTable {
  /**
   * Each member's record, in the order members were first known (the order every scan of the table
   * sees). Records are immutable values: the simulator hands one broadcast's record to every
   * receiver, and they all hold that one object.
   */
  private readonly members: PeerTable<MemberRecord>
  /** Per suspect: local time after which it is declared dead. */
  private readonly deadlines = new Map<PeerId, number>()
  /**
   * Updates to piggyback, oldest first, as two parallel arrays: each update's record and its sends
   * left (0 once sent enough or replaced by a newer update about the same peer: then skipped). A
   * replaced or used-up update stays in place with no sends left until enough of them pile up to
   * compact: finding and splicing one out on every update was a scan of the queue per update, which
   * a joining wave fills with every member (at 1,000 simulated peers, a fifth of the run's CPU).
   */
  private queueRecords: MemberRecord[] = []
  /** Sends left of queueRecords[i] at i (its first queueRecords.length entries are in use). */
  private queueSends = new Uint16Array(64)
  /** Where the first update with sends left may be: the queue's used-up head is skipped, not spliced. */
  private head = 0
  /** Each peer's live update: its place in the queue. */
  private readonly queuedAt: PeerPlaces
  /** How many updates in the queue have sends left (one per peer at most). */
  private live = 0
  /** The records' bucket summary for anti-entropy, kept current by apply(). */
  readonly summary = new BucketSummary()

  /** `numbers`: the peer numbering the table's columns use; the simulator shares one between its machines. */
  constructor(private readonly self: PeerId, numbers: PeerNumbers = new PeerNumbers()) {
    this.members = new PeerTable(numbers)
    this.queuedAt = new PeerPlaces(numbers)
  }

  record(peer: PeerId): MemberRecord | undefined {
    return this.members.get(peer)
  }

  status(peer: PeerId): MemberStatus | undefined {
    return this.members.get(peer)?.status
  }

  /** Every member's record, in the order the members were first known. */
  all(): IterableIterator<MemberRecord> {
    return this.members.values()
  }

  get size(): number {
    return this.members.size
  }

  /** Peers that are alive or suspect (probe targets, ring members), self excluded. */
  reachable(): PeerId[] {
    const out: PeerId[] = []
    for (const record of this.members.values()) {
      if (record.peer !== this.self && (record.status === 'alive' || record.status === 'suspect')) out.push(record.peer)
    }
    return out
  }

  /**
   * Applies a record if it supersedes what is known. Returns the previous status (undefined for a new
   * member) when it changed something, or null when it was stale.
   */
  apply(record: MemberRecord, retransmits: number): MemberStatus | undefined | null {
    const known = this.members.get(record.peer)
    if (!supersedes(record, known)) return null
    const previous = known?.status
    if (known !== undefined) this.toggleSummary(known)
    this.toggleSummary(record)
    this.members.set(record)
    if (record.status !== 'suspect') this.deadlines.delete(record.peer)
    this.enqueue(record, retransmits)
    return previous
  }

  /** Peers held dead (not those that left gracefully): reconnect targets. */
  dead(): PeerId[] {
    const out: PeerId[] = []
    for (const record of this.members.values()) if (record.status === 'dead') out.push(record.peer)
    return out
  }

  /** When a suspect is declared dead (undefined: no deadline is set). */
  deadAt(peer: PeerId): number | undefined {
    return this.deadlines.get(peer)
  }

  setDeadline(peer: PeerId, deadAt: number): void {
    if (this.members.has(peer) && !this.deadlines.has(peer)) this.deadlines.set(peer, deadAt)
  }

  /** Moves a suspect's deadline `byMs` later, if it has one. */
  postponeDeadline(peer: PeerId, byMs: number): void {
    const deadAt = this.deadlines.get(peer)
    if (deadAt !== undefined) this.deadlines.set(peer, deadAt + byMs)
  }

  /** Up to `limit` queued updates to piggyback; each is sent a bounded number of times. */
  piggyback(limit: number): MemberRecord[] {
    const out: MemberRecord[] = []
    const sends = this.queueSends
    const length = this.queueRecords.length
    while (this.head < length && sends[this.head]! <= 0) this.head++
    for (let i = this.head; i < length && out.length < limit; i++) {
      if (sends[i]! <= 0) continue
      out.push(this.queueRecords[i]!)
      if (--sends[i]! <= 0) this.retire(i)
    }
    this.compact()
    return out
  }

  private toggleSummary(record: MemberRecord): void {
    this.summary.toggle(record.peer, memberEntryHash(record.peer, record.incarnation, record.status))
  }

  /** A newer update about a peer replaces the queued older one (memberlist's invalidation). */
  private enqueue(record: MemberRecord, retransmits: number): void {
    const known = this.queuedAt.get(record.peer)
    if (known !== undefined) this.retire(known)
    if (retransmits <= 0) return
    // Sent once a call until none are left: a fractional count is sent as often as its ceiling.
    const sends = Math.ceil(retransmits)
    if (sends > MAX_SENDS) throw new RangeError(`an update is sent at most ${MAX_SENDS} times, not ${retransmits}`)
    const at = this.queueRecords.length
    if (at === this.queueSends.length) {
      const grown = new Uint16Array(2 * at)
      grown.set(this.queueSends)
      this.queueSends = grown
    }
    this.queuedAt.set(record.peer, at)
    this.queueRecords.push(record)
    this.queueSends[at] = sends
    this.live++
    this.compact()
  }

  /** Takes the update at `at` out of the queue (it stays in the arrays, skipped, until compact()). */
  private retire(at: number): void {
    this.queueSends[at] = 0
    const peer = this.queueRecords[at]!.peer
    if (this.queuedAt.get(peer) === at) {
      this.queuedAt.delete(peer)
      this.live--
    }
  }

  /** Drops retired updates from the arrays once they are half of them. */
  private compact(): void {
    const length = this.queueRecords.length
    if (length < 64 || this.live * 2 >= length) return
    const records: MemberRecord[] = []
    const sends = new Uint16Array(Math.max(64, 2 * this.live))
    for (let i = 0; i < length; i++) {
      if (this.queueSends[i]! <= 0) continue
      // Every update with sends left is its peer's live one: a replaced update is retired at once.
      this.queuedAt.set(this.queueRecords[i]!.peer, records.length)
      sends[records.length] = this.queueSends[i]!
      records.push(this.queueRecords[i]!)
    }
    this.queueRecords = records
    this.queueSends = sends
    this.head = 0
  }
}

/** The most sends a queued update may ask for (retransmitLimit is 18 at 10^5 peers). */
const MAX_SENDS = 0xffff

/** memberlist's retransmit count: enough sends that an update reaches everyone with high probability. */
export function retransmitLimit(clusterSize: number): number {
  return 3 * Math.max(1, Math.ceil(Math.log10(clusterSize + 1)))
}
