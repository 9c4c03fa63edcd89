// Anti-entropy: the repair under gossip, which is not reliable (messages are lost, partitions heal).
// Two peers exchange compact digests of their member records and adverts, each sends what the other
// lacks, and their desired-state digests say whether the host must run the desired-state sync. A
// peer does this with one random peer each push-pull interval, with its seeds at start, on every new
// connection, and with peers it holds dead (Serf's reconnect). This decides when to exchange, what to
// send, and how a record learned this way counts; what a record or advert means is the machine's.
//
// The exchange costs one fixed-size message when the two agree, and O(entries of the differing
// buckets) when they do not (bucket-digest.ts):
//   1. A → B  opening: the root of A's bucket summary (`root`, `covers: []`) and A's record of B.
//   2. B → A  state: what is newer than A's record of B (a refutation); and, if the roots differ,
//             B's summary (`buckets`, `covers: []`) and B's record of A.
//   3. A → B  state: likewise; A's entries of the buckets D whose values differ (`covers: D`).
//   4. B → A  state: B's entries of D that A lacks or holds older; if A had something B lacks, B's
//             entries of D as a reply.
//   5. A → B  state: what B lacks. A reply is never answered with a digest, a root only with a
//             summary and a summary only with entries, so the exchange ends here.
// A full digest (no `covers`, from a peer that predates summaries) is answered as it always was: what
// the sender lacks, and a full reply digest when we lack something.
//
// A peer opens with a full digest instead (two to four messages, as every exchange was before
// summaries) when steps 1–3 would only delay entries that cross anyway, adding messages each of which
// can be lost:
// - when its full digest is smaller than a summary: a peer that knows almost nobody, as when it joins
//   or restarts. A join is the exchange that must not fail: adverts are broadcast only when they
//   change, so a joiner whose exchange with its seed lost a message lacks the others' adverts until
//   its first push-pull. With a root-first join the simulated placement wave (100 peers, 2 % loss)
//   had more bids and its slowest placements took seconds longer; with a full one, exactly as
//   before summaries (BENCHMARKS.md, *Anti-entropy digest under faults*);
// - when its last exchange found more than half the buckets differing (a placement wave, a heal); it
//   goes back to the root once an exchange finds less;
// - when it reaches out to a member it held dead, or to one it cannot have heard from for a while (a
//   partition heals, a connection opens, a restarted peer asks around), and its full digest is at most
//   REUNION_FULL_DIGEST_BYTES. The two views then differ in most of what they hold, and root-first
//   would spend two more messages, each a round trip on hosts busy with the heal, to learn that: on ten
//   real hosts healing a 4 | 6 partition, every exchange opened with a root (a full digest of ten
//   members with libp2p ids is 1.6 KB, over the 1 KB summary) and went root → summary → entries →
//   reply, ~6 messages where 2–4 do. Beyond that size a heal still opens with a root: bounded
//   messages in a large cluster.

import type { PeerId } from '../placement/ids.js'
import type { Random } from '../random.js'
import { drawBySite } from './probe-rotation.js'
import type { ClusterState } from './cluster.js'
import { splitState } from './codec.js'
import type { MachineConfig } from './config.js'
import type { MemberTable } from './membership.js'
import { bucketOf, DIGEST_BUCKETS, differingBuckets, encodeSummary, SUMMARY_LENGTH, summaryRoot } from './bucket-digest.js'
import { advertIsNewer, supersedes, type Advert, type MemberRecord, type MemberStatus, type Message } from './messages.js'

/** What anti-entropy needs from the machine around it. */
export interface AntiEntropyDeps {
  readonly self: PeerId
  readonly config: MachineConfig
  readonly random: Random
  readonly members: Pick<MemberTable, 'all' | 'record' | 'reachable' | 'dead' | 'summary'>
  readonly cluster: Pick<ClusterState, 'advert' | 'allAdverts' | 'summary'>
  /** The digest of this peer's desired-state heads. */
  desiredDigest(): string
  /** Applies a member record or an advert as if it had been gossiped. */
  applyRecord(record: MemberRecord): void
  applyAdvert(advert: Advert): void
  send(to: PeerId, message: Message): void
  /** Asks the host to run the desired-state sync protocol with `peer`. */
  syncDesired(peer: PeerId): void
  /** A member's site (this peer's own included), for choosing push-pull partners; absent: no sites. */
  siteOf?(peer: PeerId): string | undefined
}

/** How many members held dead one heal reaches out to at once (healing). */
const HEAL_FANOUT = 16

/**
 * A reunion (sendDigest's `reunion`) opens with the full digest up to this size: about a hundred
 * entries, members and adverts of some fifty peers with libp2p ids.
 */
const REUNION_FULL_DIGEST_BYTES = 8 * SUMMARY_LENGTH
/** More buckets than this differing in the last exchange: open the next one with a full digest. */
const FULL_OPENING_ABOVE = DIGEST_BUCKETS / 2
/** A digest entry's encoded size beyond its peer id, about: `["<id>",1700000000000,"suspect"],`. */
const ENTRY_OVERHEAD_BYTES = 28

export interface AntiEntropyInit {
  /** Peers to join through; they are also asked again whenever no other peer is reachable. */
  readonly seeds: readonly PeerId[]
}

export class AntiEntropy {
  private readonly seeds: readonly PeerId[]
  private nextPushPullAt = 0
  private nextReconnectAt = 0
  /** Until then a member held dead that speaks again does not make us reach out to all the others (see healing). */
  private nextHealBurstAt = -Infinity
  /** Members held dead whose id sorts before ours, reached at deferredHealAt if still dead then (see healing). */
  private deferredHeal: PeerId[] = []
  private deferredHealAt = Infinity
  /** Per peer: when the desired-state sync cooldown with it ends. */
  private readonly desiredSyncAt = new Map<PeerId, number>()
  /** Per peer: the two digests last seen to differ, and since when. */
  private readonly desiredMismatch = new Map<PeerId, { theirs: string; ours: string; since: number }>()
  /** How many buckets differed in the last exchange this peer compared: 0 when the roots agreed. */
  private lastDiffering = 0

  constructor(private readonly deps: AntiEntropyDeps, init: AntiEntropyInit) {
    this.seeds = init.seeds.filter((seed) => seed !== deps.self)
  }

  /** Joins through the seeds and sets the first push-pull and reconnect at a random phase. */
  start(now: number): void {
    const { config, random } = this.deps
    for (const seed of this.seeds) this.sendDigest(seed, true)
    this.nextPushPullAt = now + config.pushPullIntervalMs * (0.5 + random.next())
    this.nextReconnectAt = now + config.reconnectIntervalMs * (0.5 + random.next())
  }

  tick(now: number): void {
    const { self, config, members, random, siteOf } = this.deps
    if (now >= this.nextPushPullAt) {
      // Site-aware: each far site is one partner among the site-mates (probe-rotation.ts), so the
      // exchanges crossing a site link do not grow with the hosts on either side of it.
      const partner = drawBySite(members.reachable(), siteOf?.(self), (peer) => siteOf?.(peer), (n) => random.int(n))
      if (partner !== undefined) this.sendDigest(partner)
      this.nextPushPullAt = now + config.pushPullIntervalMs
    }
    if (now >= this.nextReconnectAt) {
      this.reconnect()
      this.nextReconnectAt = now + config.reconnectIntervalMs
    }
    if (now >= this.deferredHealAt) {
      for (const peer of this.deferredHeal) if (this.deps.members.record(peer)?.status === 'dead') this.sendDigest(peer, true)
      this.deferredHeal = []
      this.deferredHealAt = Infinity
    }
  }

  /** The earliest time tick() has a push-pull, a reconnect or a deferred heal exchange to do. */
  nextWakeAt(): number {
    return Math.min(this.nextPushPullAt, this.nextReconnectAt, this.deferredHealAt)
  }

  /**
   * Offers `peer` a digest exchange: it answers with what we lack and asks for what it lacks.
   * `reunion`: the two views likely differ in much (a member held dead, a new connection, a restart):
   * a small cluster's full digest opens it (see the top of this file).
   */
  sendDigest(peer: PeerId, reunion = false): void {
    if (this.lastDiffering > FULL_OPENING_ABOVE || this.fullDigestFitsIn(reunion ? REUNION_FULL_DIGEST_BYTES : SUMMARY_LENGTH)) {
      this.deps.send(peer, this.entriesDigest(false, undefined))
      // Its answer may say nothing of how much differed (no reply when the other side lacks nothing):
      // the next opening is a root again unless an exchange in between finds most buckets differing.
      this.lastDiffering = 0
    } else this.deps.send(peer, this.openingDigest(peer, this.summary(), 'root'))
  }

  /**
   * A digest arrived. Its listed entries are compared one by one, and so is every entry of ours in
   * a bucket it covers (all of them for a full digest): we send what is newer or missing there, and
   * note whether they have something we lack. Unless it is itself a reply, it is answered: a root
   * that differs from ours with our summary, a summary with our entries of the buckets that differ,
   * and any other digest, if we lack something, with our entries of the buckets it covers as a reply.
   */
  onDigest(from: PeerId, digest: Extract<Message, { kind: 'digest' }>, now: number): void {
    const { members: table, cluster } = this.deps
    const theirMembers = new Map(digest.members.map(([peer, incarnation, status]) => [peer, { peer, incarnation, status }]))
    // The other side holds us suspect or dead (it was across a partition, or we were paused): refute
    // now, so the answer below already carries our new incarnation. Left to the state message, the
    // refutation went out by gossip only — to a peer whose mesh with us was not formed yet, which
    // then held us dead for seconds after the heal and kept its copies of the slots we ran.
    const ourRecord = theirMembers.get(this.deps.self)
    if (ourRecord !== undefined && ourRecord.status !== 'alive') this.deps.applyRecord({ ...ourRecord, status: 'suspect' })
    const theirAdverts = new Map(digest.adverts.map(([peer, incarnation, version]) => [peer, { incarnation, version }]))
    const covered = digest.covers === undefined ? undefined : new Set(digest.covers)
    // Missing from the digest means "they lack it" only in a bucket it covers.
    const inScope = (peer: PeerId): boolean => covered === undefined || covered.has(bucketOf(peer))
    // With nothing covered only the listed entries need a look: an opening costs O(listed), not O(N).
    const ours = covered === undefined || covered.size > 0
    let weLackSomething = false
    /** Buckets in which an entry compared here differs, either way. */
    const differed = new Set<number>()
    const members: MemberRecord[] = []
    const memberCandidates = ours ? table.all() : [...theirMembers.keys()].flatMap((peer) => table.record(peer) ?? [])
    for (const record of memberCandidates) {
      const theirs = theirMembers.get(record.peer)
      if (theirs === undefined ? inScope(record.peer) : record.incarnation > theirs.incarnation ||
          (record.incarnation === theirs.incarnation && record.status !== theirs.status)) {
        members.push(record)
        differed.add(bucketOf(record.peer))
      }
    }
    // Their record wins by SWIM's rule (a higher incarnation, or a graver status at the same one): with
    // a summary the entries of a differing bucket cross only one way at first, so a suspicion held
    // over there at our incarnation must be asked for, or it would never come back.
    for (const record of theirMembers.values()) {
      if (!supersedes(record, table.record(record.peer))) continue
      weLackSomething = true
      differed.add(bucketOf(record.peer))
    }
    const adverts: Advert[] = []
    const advertCandidates = ours ? cluster.allAdverts() : [...theirAdverts.keys()].flatMap((peer) => cluster.advert(peer) ?? [])
    for (const advert of advertCandidates) {
      const theirs = theirAdverts.get(advert.peer)
      if (theirs === undefined ? inScope(advert.peer) : advertIsNewer(advert, theirs)) {
        adverts.push(advert)
        differed.add(bucketOf(advert.peer))
      }
    }
    for (const [peer, theirs] of theirAdverts) {
      if (advertIsNewer(theirs, cluster.advert(peer))) {
        weLackSomething = true
        differed.add(bucketOf(peer))
      }
    }
    // A large cluster's answer is split into messages the codec accepts.
    if (members.length > 0 || adverts.length > 0) for (const part of splitState(members, adverts)) this.deps.send(from, part)
    const summary = this.summary()
    const rootDiffers = digest.root !== undefined && digest.root !== summaryRoot(summary)
    const differing = digest.buckets === undefined ? [] : differingBuckets(summary, digest.buckets).filter((bucket) => covered !== undefined && !covered.has(bucket))
    // How much this exchange found differing decides how this peer opens its next one (sendDigest);
    // a root that differs tells no count.
    if (digest.buckets !== undefined) this.lastDiffering = differing.length
    else if (digest.root === undefined) this.lastDiffering = differed.size
    else if (!rootDiffers) this.lastDiffering = 0
    if (!digest.reply) {
      // Roots differ: our summary, so they find the buckets that do.
      if (rootDiffers) this.deps.send(from, this.openingDigest(from, summary, 'buckets'))
      // Our entries where the summaries differ: they send what is newer and ask back for the rest.
      else if (differing.length > 0) this.deps.send(from, this.entriesDigest(false, differing))
      else if (weLackSomething) this.deps.send(from, this.entriesDigest(true, digest.covers))
    }
    this.compareDesired(from, digest.desired, now, true)
  }

  /**
   * The answer to a digest: what the other side had that we lacked. memberlist's rule: a remote "dead"
   * learned this way is only a suspicion here, so a stale verdict (say, from the other side of a healed
   * partition) about a peer that is alive is refuted instead of re-placing its healthy work.
   */
  onState(state: Extract<Message, { kind: 'state' }>): void {
    for (const record of state.members) this.deps.applyRecord(record.status === 'dead' ? { ...record, status: 'suspect' } : record)
    for (const advert of state.adverts) this.deps.applyAdvert(advert)
  }

  /**
   * Asks for a sync with `peer` when its digest differs from ours. Digests in pings and acks flow
   * several times a second, and a change is usually still on its way by gossip when they first
   * differ: only a difference that outlasts the grace (the same two digests, seen again) calls for
   * a sync — syncing at first sight had every pair of ten agents run the sync protocol after each
   * apply, on a host busy placing it. A digest exchange (start, a new connection, push-pull) is
   * rare and is what anti-entropy is for: it syncs at once (`atOnce`).
   */
  compareDesired(peer: PeerId, digest: string, now: number, atOnce = false): void {
    const { config } = this.deps
    const ours = this.deps.desiredDigest()
    if (digest === ours) {
      this.desiredMismatch.delete(peer)
      return
    }
    if (!atOnce) {
      const seen = this.desiredMismatch.get(peer)
      if (seen === undefined || seen.theirs !== digest || seen.ours !== ours) {
        this.desiredMismatch.set(peer, { theirs: digest, ours, since: now })
        if (config.desiredSyncGraceMs > 0) return
      } else if (now < seen.since + config.desiredSyncGraceMs) return
    }
    const next = this.desiredSyncAt.get(peer) ?? 0
    if (now < next) return
    this.desiredSyncAt.set(peer, now + config.desiredSyncCooldownMs)
    this.deps.syncDesired(peer)
  }

  /**
   * Reaches out to one peer held dead, or to the seeds when no one is reachable: a peer that answers
   * is alive after all (a healed partition, a restarted host) and the digest exchange merges the two
   * views.
   */
  private reconnect(): void {
    const { members, random } = this.deps
    const dead = members.dead()
    const alive = members.reachable().length
    // Serf's rule: try with probability dead / alive, so a few dead hosts in a large cluster draw a few
    // attempts per interval in all, not one per peer; after a split (many dead) every peer tries.
    if (dead.length > 0 && random.next() < dead.length / Math.max(1, alive)) this.sendDigest(dead[random.int(dead.length)]!, true)
    if (alive === 0) for (const seed of this.seeds) this.sendDigest(seed, true)
  }

  /**
   * A member held dead spoke (or connected) again: most likely a partition healed, and every member
   * on its side is reachable again too. Reaching out to them all now, instead of one per
   * reconnectIntervalMs, brings each exchange (and the stop of each doubled slot) forward by seconds.
   * At most HEAL_FANOUT of them, and once per reconnect interval, so a flapping member costs little.
   *
   * A heal reaches both ends of each pair across the cut, and when both reached out, each pair ran two
   * exchanges and dialled two connections where one does: on ten real hosts the heal waited for CPU
   * (the agents used 83–87 % of both cores for its length) and digests were its most numerous message.
   * So the end whose id sorts first reaches out at once, and the other a probe interval later, to
   * those it still holds dead then: one exchange per pair when both ends heal, and no pair left out
   * when only one does.
   */
  healing(now: number): void {
    if (now < this.nextHealBurstAt) return
    const { self, config, members, random } = this.deps
    this.nextHealBurstAt = now + config.reconnectIntervalMs
    const dead = members.dead()
    const picked = dead.length <= HEAL_FANOUT ? dead : Array.from({ length: HEAL_FANOUT }, () => dead.splice(random.int(dead.length), 1)[0]!)
    this.deferredHeal = []
    for (const peer of picked) {
      if (self < peer) this.sendDigest(peer, true)
      else this.deferredHeal.push(peer)
    }
    this.deferredHealAt = this.deferredHeal.length === 0 ? Infinity : now + config.probeIntervalMs
  }

  /** Whether our full digest is at most `limit` bytes. Stops counting there, so it costs O(limit), not O(N). */
  private fullDigestFitsIn(limit: number): boolean {
    let bytes = 0
    for (const record of this.deps.members.all()) if ((bytes += record.peer.length + ENTRY_OVERHEAD_BYTES) > limit) return false
    for (const advert of this.deps.cluster.allAdverts()) if ((bytes += advert.peer.length + ENTRY_OVERHEAD_BYTES) > limit) return false
    return true
  }

  /** This peer's bucket summary: its member records' and adverts' together. */
  private summary(): string {
    return encodeSummary(this.deps.members.summary, this.deps.cluster.summary)
  }

  /**
   * An exchange's opening: the root of our bucket summary (16 digits), or, answering a root that
   * differs, the summary itself (O(buckets)) — whatever the cluster's size. Either carries our record
   * of the receiver, so one that we hold dead refutes at once (onDigest).
   */
  private openingDigest(to: PeerId, summary: string, form: 'root' | 'buckets'): Message {
    const record = this.deps.members.record(to)
    return {
      kind: 'digest',
      members: record === undefined ? [] : [[record.peer, record.incarnation, record.status]],
      adverts: [],
      desired: this.deps.desiredDigest(),
      reply: false,
      ...(form === 'root' ? { root: summaryRoot(summary) } : { buckets: summary }),
      covers: [],
    }
  }

  /** Our entries of the given buckets; of all buckets, as a full digest, when `covers` is undefined (the answer to a peer that sent one). */
  private entriesDigest(reply: boolean, covers: readonly number[] | undefined): Message {
    const set = covers === undefined ? undefined : new Set(covers)
    const inScope = (peer: PeerId): boolean => set === undefined || set.has(bucketOf(peer))
    const members: Array<readonly [PeerId, number, MemberStatus]> = []
    for (const record of this.deps.members.all()) if (inScope(record.peer)) members.push([record.peer, record.incarnation, record.status])
    const adverts: Array<readonly [PeerId, number, number]> = []
    for (const advert of this.deps.cluster.allAdverts()) if (inScope(advert.peer)) adverts.push([advert.peer, advert.incarnation, advert.version])
    return { kind: 'digest', members, adverts, desired: this.deps.desiredDigest(), reply, ...(covers === undefined ? {} : { covers }) }
  }
}
