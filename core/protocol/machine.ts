// One peer's whole behaviour, sans-I/O (in the manner of quinn-proto and h11): it takes inputs — a
// message arrived, time passed, a task changed state, desired state changed — and returns outputs —
// messages to send, tasks to start or stop, a desired-state sync to run. It never sends, sleeps or
// reads a clock: the agent feeds it from libp2p, Docker and real timers, the simulator from a modelled
// network and a virtual clock, so the simulator's answers are the cluster's answers.
//
// Timers are one deadline: after any input the host asks nextWakeAt() and calls tick(now) then.
//
// Failure detection (probes, suspicion, verdicts) lives in failure-detector.ts; this file keeps the
// member table's consequences for placement, adverts and anti-entropy, and the bid rounds.

import { auction } from '../placement/auction.js'
import { computeBid, type Bid } from '../placement/bid.js'
import { buildRing, candidateCount, candidates, type PeerRing } from '../placement/candidates.js'
import { feasible, type RejectionReason } from '../placement/feasibility.js'
import { replicaSlot, parseSlot, type PeerId, type ServiceName, type SlotId } from '../placement/ids.js'
import { countRejections, type RejectionCount } from '../placement/plan.js'
import type { Random } from '../random.js'
import { effectiveUpdateOrder, reconcileService, type PlaceAction } from '../placement/reconcile.js'
import { couldHost, placementRequest } from '../placement/request.js'
import { addResources, NO_RESOURCES } from '../service-spec/resources.js'
import type { Driver, Resources, ServiceSpec } from '../service-spec/types.js'
import { isActive, type PeerView, type TaskState, type TaskView } from '../placement/view.js'
import { ClusterState } from './cluster.js'
import { splitState, WIRE_LIMITS } from './codec.js'
import type { MachineConfig } from './config.js'
import { EMPTY_DESIRED, type DesiredView } from './desired.js'
import { exitOutcome, withState, type LocalTask } from './local-tasks.js'
import { FailureDetector } from './failure-detector.js'
import { MemberTable, retransmitLimit } from './membership.js'
import { rangeIndices, toRanges, type Advert, type MemberRecord, type Message, type SlotRanges } from './messages.js'

export interface MachineInit {
  readonly self: PeerId
  /**
   * Starting incarnation. A restarted peer must outrank the "dead" record others hold of its previous
   * life, so hosts pass something that only grows across restarts (the agent: wall-clock ms at start).
   */
  readonly incarnation: number
  readonly capacity: Resources
  readonly labels: Readonly<Record<string, string>>
  readonly drivers: readonly Driver[]
  /** Peers to join through. */
  readonly seeds: readonly PeerId[]
  readonly config: MachineConfig
  readonly random: Random
  /** This peer's tasks from local state, restarted at start even when no other peer is reachable. */
  readonly restored?: ReadonlyArray<{ readonly task: TaskView; readonly spec: ServiceSpec }>
}

export type Output =
  | { readonly kind: 'send'; readonly to: PeerId; readonly message: Message }
  | { readonly kind: 'broadcast'; readonly message: Message }
  | { readonly kind: 'start-task'; readonly task: TaskView; readonly spec: ServiceSpec }
  | { readonly kind: 'stop-task'; readonly slot: SlotId; readonly reason: string }
  /** Run the desired-state sync protocol with this peer: its heads digest differs from ours. */
  | { readonly kind: 'sync-desired'; readonly peer: PeerId }
  /** A rolling update failed its health deadline and the service asks for automatic rollback. */
  | { readonly kind: 'rollback'; readonly service: ServiceName; readonly failedSpecHash: string }

/** Why a service has slots no peer took, for `peer why`. */
export interface PendingInfo {
  readonly service: ServiceName
  readonly slots: readonly SlotId[]
  readonly round: number
  readonly since: number
  readonly rejections: readonly RejectionCount[]
}

interface BidEntry {
  readonly bid: Bid
  readonly slots: SlotRanges
}

/** One service's bid rounds while it has unowned slots. */
interface AuctionState {
  specHash: string
  round: number
  roundStartedAt: number
  /** The last round this peer considered bidding in. */
  consideredRound: number
  /** Set while this peer's own bid is out: when to run the auction. */
  closesAt?: number
  /** The candidates of the round this peer bid in: once all their bids are here, the auction runs at once. */
  bidders?: readonly PeerId[]
  /** Set when this peer ran the round's auction: the other winners' claims are due by then, not before. */
  claimsDueAt?: number
  /** Rounds already run at full width (every peer a candidate), for backoff. */
  fullWidthRounds: number
  unowned: number[]
  pendingSince: number
}

/** When a task of a service with automatic rollback must be healthy, or undefined when that cannot fail. */
function healthDeadline(task: LocalTask): number | undefined {
  const spec = task.spec
  if (!spec.update.autoRollback || spec.healthcheck === null || task.view.state === 'healthy') return undefined
  if (task.view.specHash !== placementRequest(spec).specHash) return undefined
  return task.view.since + spec.update.healthDeadlineMs
}

/** Candidates of the previous round that announce a widened round to its new candidates. */
const ROUND_ANNOUNCERS = 2

/** A bid offering nothing: announces a widened round to the candidates new to it. */
function zeroBid(self: PeerView, service: ServiceName, specHash: string, round: number): Bid {
  return {
    peer: self.id, service, specHash, round, domain: '', domainCount: 0, existing: 0, offered: 0,
    cpuCapacityMilli: self.capacity.cpuMilli, cpuAllocatedMilli: self.allocated.cpuMilli,
    memoryCapacityMiB: self.capacity.memoryMiB, memoryAllocatedMiB: self.allocated.memoryMiB,
  }
}

/** Lateness of this peer's own timer beyond which it counts as stalled (see forgiveStall). */
const STALL_TOLERANCE_MS = 50

export class PeerMachine {
  readonly self: PeerId
  private incarnation: number
  private readonly config: MachineConfig
  private readonly random: Random
  private readonly capacity: Resources
  private readonly labels: Readonly<Record<string, string>>
  private readonly drivers: readonly Driver[]
  private readonly seeds: readonly PeerId[]

  private readonly members: MemberTable
  private readonly cluster = new ClusterState()
  private desired: DesiredView = EMPTY_DESIRED
  private specs = new Map<ServiceName, ServiceSpec>()
  private readonly local = new Map<SlotId, LocalTask>()
  private advertVersion = 0
  private advertChanged = false
  /** When the pending advert must go out; now for ownership changes, later for state-only ones. */
  private advertDueAt = Infinity

  private ring: PeerRing = buildRing([])
  private ringStale = true
  private ringVersion = 0
  /** Whether this peer is a round-0 candidate of a service, per ring version and replica count. */
  private readonly candidacy = new Map<ServiceName, { ringVersion: number; replicas: number; candidate: boolean }>()
  private readonly auctions = new Map<ServiceName, AuctionState>()
  /** Bids by service, then `${specHash}#${round}`, then bidder. */
  private readonly bids = new Map<ServiceName, Map<string, Map<PeerId, BidEntry>>>()
  private readonly pending = new Map<ServiceName, PendingInfo>()
  /**
   * Bids for services whose spec has not reached this peer yet, and since when. Desired state reaches
   * peers some milliseconds apart; a bidder that learned of a change first must not have its bid
   * thrown away by the peers still waiting for it, or they auction without it and claim its slots.
   */
  private readonly earlyBids = new Map<ServiceName, number>()
  private readonly bidsHeldBefore = new Set<ServiceName>()
  private readonly gaveUp = new Map<ServiceName, number>()
  private readonly rolledBack = new Set<string>()

  private readonly dirty = new Set<ServiceName>()
  private reconcileAt = Infinity
  private fullReconcileAt = 0
  /**
   * Until then this peer bids for nothing (config.startupGraceMs); a full reconcile follows. Hearing
   * from another peer does not end it early: after a full restart the first peer heard from may know
   * as little as this one, and peers that ended it at first contact split the whole service between
   * the first two or three up, with duplicates where their views of the membership still differed.
   */
  private biddingFrom = 0

  private readonly detector: FailureDetector
  private nextPushPullAt = 0
  private nextReconnectAt = 0
  private readonly desiredSyncAt = new Map<PeerId, number>()
  /** Per peer: the two digests last seen to differ, and since when. */
  private readonly desiredMismatch = new Map<PeerId, { theirs: string; ours: string; since: number }>()

  private out: Output[] = []
  private now = 0
  /** What nextWakeAt() last answered: a tick much later than that means this peer was stalled. */
  private expectedWakeAt = Infinity
  private started = false

  constructor(init: MachineInit) {
    this.self = init.self
    this.incarnation = init.incarnation
    this.config = init.config
    this.random = init.random
    this.capacity = init.capacity
    this.labels = init.labels
    this.drivers = init.drivers
    this.seeds = init.seeds.filter((seed) => seed !== init.self)
    this.members = new MemberTable(init.self)
    this.detector = new FailureDetector({
      self: this.self, config: this.config, random: this.random, members: this.members,
      send: (to, message) => this.send(to, message),
      broadcast: (message) => this.broadcast(message),
      apply: (record) => this.applyRecord(record),
      desiredDigest: () => this.desired.digest,
    })
    for (const { task, spec } of init.restored ?? []) {
      if (task.peer !== init.self) continue
      // Completed and finally failed tasks are records, not work: keep them so the slot stays done.
      if (task.state === 'complete' || task.state === 'failed') this.local.set(task.slot, { view: task, spec, failures: [] })
      else if (isActive(task.state)) this.local.set(task.slot, { view: { ...task, state: 'pending' }, spec, failures: [] })
    }
  }

  // --- inputs ---------------------------------------------------------------------------------

  start(now: number): Output[] {
    this.now = now
    this.started = true
    this.members.apply({ peer: this.self, incarnation: this.incarnation, status: 'alive' }, now, this.retransmits())
    this.cluster.setStatus(this.self, 'alive')
    this.ringStale = true
    // Offline reboot: restart our own tasks from local state before anyone else is heard from.
    for (const task of this.local.values()) if (isActive(task.view.state)) this.startLocal(task, 'restored')
    this.publishAdvert()
    this.broadcast({ kind: 'member', record: { peer: this.self, incarnation: this.incarnation, status: 'alive' } })
    for (const seed of this.seeds) this.send(seed, this.digestMessage(false))
    this.detector.start(now)
    this.nextPushPullAt = now + this.config.pushPullIntervalMs * (0.5 + this.random.next())
    this.nextReconnectAt = now + this.config.reconnectIntervalMs * (0.5 + this.random.next())
    this.fullReconcileAt = now
    this.biddingFrom = now + this.config.startupGraceMs
    return this.flush()
  }

  receive(from: PeerId, message: Message, now: number): Output[] {
    this.now = now
    if (!this.started || from === this.self) return this.flush()
    switch (message.kind) {
      case 'ping':
        for (const record of message.updates) this.applyRecord(record)
        this.send(from, { kind: 'ack', seq: message.seq, desired: this.desired.digest, updates: this.members.piggyback(this.config.piggybackLimit) })
        this.compareDesired(from, message.desired)
        break
      case 'ack':
        for (const record of message.updates) this.applyRecord(record)
        this.detector.onAck(from, message.seq, message.target)
        this.compareDesired(from, message.desired)
        break
      case 'ping-req':
        this.detector.onPingReq(from, message, now)
        break
      case 'member':
        this.applyRecord(message.record)
        break
      case 'advert':
        this.applyAdvert(message.advert)
        break
      case 'bid':
        this.storeBid(message.bid, message.slots)
        break
      case 'digest':
        this.onDigest(from, message)
        break
      case 'state':
        // memberlist's rule: a remote "dead" learned by anti-entropy is only a suspicion here, so a
        // stale verdict (say, from the other side of a healed partition) about a peer that is alive
        // is refuted instead of re-placing its healthy work.
        for (const record of message.members) this.applyRecord(record.status === 'dead' ? { ...record, status: 'suspect' } : record)
        for (const advert of message.adverts) this.applyAdvert(advert)
        break
    }
    return this.flush()
  }

  /**
   * The host has a new connection to `peer` (a join address answered, or the peer dialled us). Seeds
   * are known at start in the simulator; a real host learns who its join addresses belong to only
   * once they answer, and gossip published before the mesh formed is lost. A digest exchange brings
   * both sides' members and adverts across, whoever they are.
   */
  connected(peer: PeerId, now: number): Output[] {
    this.now = now
    if (!this.started || peer === this.self) return this.flush()
    this.send(peer, this.digestMessage(false))
    return this.flush()
  }

  tick(now: number): Output[] {
    this.now = now
    if (!this.started) return this.flush()
    if (now - this.expectedWakeAt > STALL_TOLERANCE_MS) this.detector.forgiveStall(now - this.expectedWakeAt)
    this.detector.tick(now)
    if (now >= this.nextPushPullAt) {
      const peer = this.pickReachable()
      if (peer !== undefined) this.send(peer, this.digestMessage(false))
      this.nextPushPullAt = now + this.config.pushPullIntervalMs
    }
    if (now >= this.nextReconnectAt) {
      this.reconnect()
      this.nextReconnectAt = now + this.config.reconnectIntervalMs
    }
    for (const task of this.local.values()) {
      if (task.restartAt !== undefined && task.restartAt <= now) this.startLocal(task, 'restart')
      const deadline = healthDeadline(task)
      if (deadline !== undefined && deadline <= now) this.checkRollout(task.spec)
    }
    for (const [service, since] of [...this.earlyBids]) {
      // The spec never came (a removed service, or a peer far behind): forget the bids.
      if (now >= since + this.config.roundTimeoutMs && !this.specs.has(service)) this.markDirty(service)
      if (now >= since + this.config.roundTimeoutMs) this.earlyBids.delete(service)
    }
    if (now >= this.fullReconcileAt) {
      for (const service of this.specs.keys()) this.dirty.add(service)
      this.fullReconcileAt = now + this.config.fullReconcileIntervalMs
      this.reconcileAt = now
    }
    if (now >= this.reconcileAt) this.reconcileDirty()
    this.progressAuctions()
    return this.flush()
  }

  taskChanged(slot: SlotId, state: TaskState, now: number, exitCode?: number): Output[] {
    this.now = now
    const task = this.local.get(slot)
    if (task === undefined) return this.flush()
    if (state === 'exited' || state === 'failed') {
      const outcome = exitOutcome(task, exitCode, now)
      switch (outcome.kind) {
        case 'complete':
          task.view = withState(task.view, 'complete', now)
          break
        case 'failed-final':
          task.view = withState(task.view, 'failed', now)
          break
        case 'restart':
          // 'pending' keeps the slot held while the task waits out its backoff here.
          task.view = withState(task.view, 'pending', now)
          task.restartAt = outcome.atMs
          break
        case 'give-up':
          this.local.delete(slot)
          this.gaveUp.set(task.view.service, now + task.spec.restart.windowMs)
          break
      }
    } else {
      task.view = withState(task.view, state, now)
    }
    this.markDirty(task.view.service)
    // A task leaving (give-up) or finishing changes ownership: tell everyone now. Up/down alone can
    // wait — except during a rolling update, where every peer must see a wave settle at the same
    // moment to open the next one together (a peer that opened it alone would bid alone).
    const ownershipChanged = !this.local.has(slot) || task.view.state === 'complete' || task.view.state === 'failed'
    this.publishAdvert(ownershipChanged || this.rollingUpdate(task.view.service))
    return this.flush()
  }

  desiredChanged(desired: DesiredView, now: number): Output[] {
    this.now = now
    const before = this.specs
    this.desired = desired
    this.specs = new Map(desired.services.map((spec) => [spec.name, spec]))
    this.cluster.setSettings(desired.peers)
    for (const service of before.keys()) this.markDirty(service)
    for (const service of this.specs.keys()) this.markDirty(service)
    for (const task of this.local.values()) this.markDirty(task.view.service)
    return this.flush()
  }

  /**
   * Graceful shutdown. With `stopTasks` the peer stops its tasks and announces that it left, so others
   * replace its work at once. Without (an agent upgrade, tasks keep running) it goes quietly: a short
   * absence is refuted when it comes back; a long one is handled as a death.
   */
  leave(now: number, options: { stopTasks: boolean } = { stopTasks: true }): Output[] {
    this.now = now
    if (options.stopTasks) {
      for (const slot of [...this.local.keys()]) {
        if (isActive(this.local.get(slot)!.view.state)) this.stopLocal(slot, 'leaving')
      }
      this.incarnation++
      this.broadcast({ kind: 'member', record: { peer: this.self, incarnation: this.incarnation, status: 'left' } })
    }
    this.advertChanged = false
    this.started = false
    return this.flush()
  }

  /** The earliest time tick() has work to do. */
  nextWakeAt(): number {
    if (!this.started) return Infinity
    let at = Math.min(this.detector.nextWakeAt(), this.nextPushPullAt, this.nextReconnectAt, this.fullReconcileAt, this.reconcileAt)
    for (const auctionState of this.auctions.values()) {
      if (auctionState.closesAt !== undefined) at = Math.min(at, auctionState.closesAt)
      at = Math.min(at, this.nextRoundAt(auctionState))
    }
    for (const task of this.local.values()) {
      if (task.restartAt !== undefined) at = Math.min(at, task.restartAt)
      const deadline = healthDeadline(task)
      if (deadline !== undefined && !this.rolledBack.has(`${task.view.service}#${task.view.specHash}`)) at = Math.min(at, deadline)
    }
    if (this.advertChanged) at = Math.min(at, this.advertDueAt)
    for (const since of this.earlyBids.values()) at = Math.min(at, since + this.config.roundTimeoutMs)
    this.expectedWakeAt = at
    return at
  }

  // --- introspection (for the control API, `peer why` and the simulator) ------------------------

  localTasks(): TaskView[] {
    return [...this.local.values()].map((t) => t.view)
  }

  memberRecords(): MemberRecord[] {
    return [...this.members.all()].map((m) => m.record)
  }

  peerViews(): PeerView[] {
    return [...this.cluster.values()]
  }

  pendingServices(): PendingInfo[] {
    return [...this.pending.values()]
  }

  desiredDigest(): string {
    return this.desired.digest
  }

  currentIncarnation(): number {
    return this.incarnation
  }

  // --- membership -------------------------------------------------------------------------------

  private retransmits(): number {
    return retransmitLimit(this.members.size + 1)
  }

  private applyRecord(record: MemberRecord): void {
    if (record.peer === this.self) {
      if (record.status !== 'alive' && record.incarnation >= this.incarnation && this.started) {
        // Refute: a higher incarnation outranks any suspicion or verdict about the old one.
        this.incarnation = record.incarnation + 1
        const alive: MemberRecord = { peer: this.self, incarnation: this.incarnation, status: 'alive' }
        this.members.apply(alive, this.now, this.retransmits())
        this.broadcast({ kind: 'member', record: alive })
        this.publishAdvert()
      }
      return
    }
    const previous = this.members.apply(record, this.now, this.retransmits())
    if (previous === null) return
    this.cluster.setStatus(record.peer, record.status)
    const wasIn = previous === 'alive' || previous === 'suspect'
    const isIn = record.status === 'alive' || record.status === 'suspect'
    if (wasIn !== isIn) this.ringStale = true
    this.detector.memberChanged(record, previous, this.now)
    // Its tasks may be lost (or back); global services gain or lose a slot; pending work may fit now.
    for (const service of this.cluster.servicesOn(record.peer)) this.markDirty(service)
    if (wasIn !== isIn || previous === undefined) {
      for (const spec of this.specs.values()) if (spec.mode === 'global') this.markDirty(spec.name)
      if (isIn) for (const [service, state] of this.auctions) { state.fullWidthRounds = 0; this.markDirty(service) }
    }
  }

  /**
   * Reaches out to one peer held dead, or to the seeds when no one is reachable: a peer that answers
   * is alive after all (a healed partition, a restarted host) and anti-entropy merges the two views.
   */
  private reconnect(): void {
    const dead = this.members.dead()
    const alive = this.members.reachable().length
    // Serf's rule: try with probability dead / alive, so a few dead hosts in a large cluster draw a few
    // attempts per interval in all, not one per peer; after a split (many dead) every peer tries.
    if (dead.length > 0 && this.random.next() < dead.length / Math.max(1, alive)) {
      this.send(dead[this.random.int(dead.length)]!, this.digestMessage(false))
    }
    if (alive === 0) for (const seed of this.seeds) this.send(seed, this.digestMessage(false))
  }

  // --- adverts and anti-entropy ---------------------------------------------------------------

  private applyAdvert(advert: Advert): void {
    if (advert.peer === this.self) return
    if (this.members.get(advert.peer) === undefined) {
      this.applyRecord({ peer: advert.peer, incarnation: advert.incarnation, status: 'alive' })
    }
    const touched = this.cluster.putAdvert(advert)
    if (touched === null) return
    for (const service of touched) this.markDirty(service)
  }

  /**
   * Rebuilds our own advert after a local change. It is broadcast at flush: at once when ownership
   * changed (`urgent`), after advertDebounceMs when only a task's state did.
   */
  private publishAdvert(urgent = true): void {
    this.advertDueAt = Math.min(this.advertDueAt, urgent ? this.now : this.now + this.config.advertDebounceMs)
    const tasks = [...this.local.values()].map((t) => t.view)
    let allocated: Resources = NO_RESOURCES
    for (const task of tasks) if (isActive(task.state)) allocated = addResources(allocated, task.resources)
    const advert: Advert = {
      peer: this.self,
      incarnation: this.incarnation,
      version: ++this.advertVersion,
      capacity: this.capacity,
      allocated,
      labels: this.labels,
      drivers: this.drivers,
      tasks,
    }
    this.cluster.putAdvert(advert)
    this.advertChanged = true
  }

  private digestMessage(reply: boolean): Message {
    return {
      kind: 'digest',
      members: [...this.members.all()].map((m) => [m.record.peer, m.record.incarnation, m.record.status] as const),
      adverts: [...this.cluster.allAdverts()].map((a) => [a.peer, a.incarnation, a.version] as const),
      desired: this.desired.digest,
      reply,
    }
  }

  private onDigest(from: PeerId, digest: Extract<Message, { kind: 'digest' }>): void {
    const theirMembers = new Map(digest.members.map(([peer, incarnation, status]) => [peer, { peer, incarnation, status }]))
    const theirAdverts = new Map(digest.adverts.map(([peer, incarnation, version]) => [peer, { incarnation, version }]))
    let theyLackSomething = false
    let weLackSomething = false
    const members: MemberRecord[] = []
    for (const member of this.members.all()) {
      const theirs = theirMembers.get(member.record.peer)
      if (theirs === undefined || member.record.incarnation > theirs.incarnation ||
          (member.record.incarnation === theirs.incarnation && member.record.status !== theirs.status)) members.push(member.record)
    }
    for (const record of theirMembers.values()) {
      const ours = this.members.get(record.peer)?.record
      if (ours === undefined || record.incarnation > ours.incarnation) weLackSomething = true
    }
    const adverts: Advert[] = []
    for (const advert of this.cluster.allAdverts()) {
      const theirs = theirAdverts.get(advert.peer)
      if (theirs === undefined || advert.incarnation > theirs.incarnation ||
          (advert.incarnation === theirs.incarnation && advert.version > theirs.version)) adverts.push(advert)
    }
    for (const [peer, theirs] of theirAdverts) {
      const ours = this.cluster.advert(peer)
      if (ours === undefined || theirs.incarnation > ours.incarnation || (theirs.incarnation === ours.incarnation && theirs.version > ours.version)) weLackSomething = true
    }
    theyLackSomething = members.length > 0 || adverts.length > 0
    // A large cluster's answer is split into messages the codec accepts.
    if (theyLackSomething) for (const part of splitState(members, adverts)) this.send(from, part)
    if (!digest.reply && weLackSomething) this.send(from, this.digestMessage(true))
    this.compareDesired(from, digest.desired, true)
  }

  /**
   * Asks for a sync with `peer` when its digest differs from ours. Digests in pings and acks flow
   * several times a second, and a change is usually still on its way by gossip when they first
   * differ: only a difference that outlasts the grace (the same two digests, seen again) calls for
   * a sync — syncing at first sight had every pair of ten agents run the sync protocol after each
   * apply, on a host busy placing it. A digest exchange (start, a new connection, push-pull) is
   * rare and is what anti-entropy is for: it syncs at once (`now`).
   */
  private compareDesired(peer: PeerId, digest: string, now = false): void {
    if (digest === this.desired.digest) {
      this.desiredMismatch.delete(peer)
      return
    }
    if (!now) {
      const seen = this.desiredMismatch.get(peer)
      if (seen === undefined || seen.theirs !== digest || seen.ours !== this.desired.digest) {
        this.desiredMismatch.set(peer, { theirs: digest, ours: this.desired.digest, since: this.now })
        if (this.config.desiredSyncGraceMs > 0) return
      } else if (this.now < seen.since + this.config.desiredSyncGraceMs) return
    }
    const next = this.desiredSyncAt.get(peer) ?? 0
    if (this.now < next) return
    this.desiredSyncAt.set(peer, this.now + this.config.desiredSyncCooldownMs)
    this.out.push({ kind: 'sync-desired', peer })
  }

  // --- reconcile and placement ------------------------------------------------------------------

  private markDirty(service: ServiceName): void {
    this.dirty.add(service)
    // A short delay coalesces a burst of adverts into one reconcile.
    if (this.reconcileAt === Infinity) this.reconcileAt = this.now + 5
  }

  private reconcileDirty(): void {
    this.reconcileAt = Infinity
    if (this.ringStale) {
      this.ring = buildRing([...this.members.reachable(), this.self])
      this.ringStale = false
      this.ringVersion++
    }
    const services = [...this.dirty].sort()
    this.dirty.clear()
    for (const service of services) this.reconcileOne(service)
  }

  private reconcileOne(service: ServiceName): void {
    const spec = this.specs.get(service)
    if (spec !== undefined) {
      this.earlyBids.delete(service)
      this.bidsHeldBefore.delete(service)
    } else if (this.holdEarlyBids(service)) return
    if (spec === undefined) {
      this.dropAuction(service)
      // Before any desired state has loaded, nothing is known to be undesired: restored tasks run on.
      if (this.desired === EMPTY_DESIRED) return
      // No longer desired: stop what we run of it; nobody auctions it.
      for (const task of [...this.local.values()]) {
        if (task.view.service === service && isActive(task.view.state)) this.stopLocal(task.view.slot, 'not-desired')
      }
      this.dropAuction(service)
      return
    }
    if (!this.involvedIn(spec)) return
    const result = reconcileService(spec, this.cluster.serviceTasks(service), this.cluster, this.now)
    for (const stop of result.stop) if (stop.task.peer === this.self) this.stopLocal(stop.task.slot, stop.reason)

    const open: PlaceAction[] = []
    for (const place of result.place) {
      if (place.peer !== undefined) {
        if (place.peer === this.self) this.placeGlobal(place, spec)
        continue
      }
      // Stop-first updates wait until the old task is gone, then the slot is placed as new.
      if (place.reason === 'update' && effectiveUpdateOrder(spec) === 'stop-first') continue
      open.push(place)
    }
    this.checkRollout(spec)
    if (open.length === 0) {
      this.dropAuction(service)
      return
    }
    if (this.now < this.biddingFrom) {
      // Just started: the holders of these slots may not have been heard from yet.
      this.fullReconcileAt = Math.min(this.fullReconcileAt, this.biddingFrom)
      return
    }
    const indices = open.map((p) => parseSlot(p.slot)).flatMap((p) => (p?.kind === 'replica' ? [p.index] : []))
    this.bidIfCandidate(spec, indices)
  }

  /**
   * Only peers with a part in a service reconcile it: those running its tasks (they may have to stop
   * one), those with a global slot of it, those already in its bid rounds, and those that would be
   * candidates for all its replicas in round 0. Candidate sets are prefixes of one sequence, so a
   * peer outside that set is outside every smaller one; wider rounds reach it through the bids (see
   * bidIfCandidate). This keeps the work of one change at O(holders + candidates), not O(N).
   */
  private involvedIn(spec: ServiceSpec): boolean {
    if (spec.mode === 'global' || this.auctions.has(spec.name) || this.bids.has(spec.name)) return true
    for (const task of this.local.values()) if (task.view.service === spec.name) return true
    const known = this.candidacy.get(spec.name)
    if (known !== undefined && known.ringVersion === this.ringVersion && known.replicas === spec.replicas) return known.candidate
    const count = candidateCount(Math.max(1, spec.replicas), this.ring.peers.length, 0)
    const chosen = candidates(this.ring, spec.name, count, this.hostFilter(spec))
    // When no peer can host it at all, every peer records it as pending, so `peer why` answers anywhere.
    const candidate = chosen.length === 0 || chosen.includes(this.self)
    this.candidacy.set(spec.name, { ringVersion: this.ringVersion, replicas: spec.replicas, candidate })
    return candidate
  }

  /** Whether some task of the service runs another version than the desired one. */
  private rollingUpdate(service: ServiceName): boolean {
    const spec = this.specs.get(service)
    if (spec === undefined) return false
    const desiredHash = placementRequest(spec).specHash
    for (const tasks of this.cluster.serviceTasks(service).bySlot.values()) {
      for (const task of tasks) if (task.specHash !== desiredHash) return true
    }
    return false
  }

  /** Peers whose labels and drivers (as their adverts say) allow the service at all. */
  private hostFilter(spec: ServiceSpec): (peer: PeerId) => boolean {
    const want = placementRequest(spec)
    return (peer) => {
      const view = this.cluster.get(peer)
      return view !== undefined && couldHost(want, view.drivers, view.labels)
    }
  }

  private placeGlobal(place: PlaceAction, spec: ServiceSpec): void {
    const held = this.local.get(place.slot)
    if (held !== undefined && held.view.specHash === placementRequest(spec).specHash) return
    // A global slot lives on this peer only: a new version replaces the old one in place.
    if (held !== undefined) this.stopLocal(place.slot, 'superseded')
    const self = this.cluster.get(this.self)
    if (self === undefined) return
    const check = feasible(self, placementRequest(spec))
    if (!check.ok) {
      this.pending.set(spec.name, { service: spec.name, slots: [place.slot], round: 0, since: this.now, rejections: countRejections([check.rejection]) })
      return
    }
    this.pending.delete(spec.name)
    this.claim(place.slot, spec)
  }

  private bidIfCandidate(spec: ServiceSpec, unowned: number[]): void {
    const want = placementRequest(spec)
    let state = this.auctions.get(spec.name)
    if (state === undefined || state.specHash !== want.specHash) {
      state = { specHash: want.specHash, round: 0, roundStartedAt: this.now, consideredRound: -1, fullWidthRounds: 0, unowned, pendingSince: this.now }
      this.auctions.set(spec.name, state)
      // Bids that arrived before we saw the slots may already be in a later round.
      const known = this.bids.get(spec.name)
      if (known !== undefined) {
        for (const key of known.keys()) {
          const [hash, round] = key.split('#')
          if (hash === want.specHash && Number(round) > state.round) state.round = Number(round)
        }
      }
    }
    state.unowned = unowned
    if (state.consideredRound >= state.round) return
    state.consideredRound = state.round
    const size = this.ring.peers.length
    const count = candidateCount(unowned.length, size, state.round)
    const chosen = candidates(this.ring, spec.name, count, this.hostFilter(spec))
    if (chosen.length === 0) {
      this.recordPending(spec.name, state)
      return
    }
    if (!chosen.includes(this.self)) return
    const self = this.cluster.get(this.self)
    if (self === undefined) return
    const domainCounts = want.spreadBy === '' ? undefined : this.domainCounts(spec.name, want.spreadBy)
    const result = computeBid(self, want, unowned.length, { round: state.round, ...(domainCounts ? { domainCounts } : {}) })
    const gaveUp = (this.gaveUp.get(spec.name) ?? -Infinity) > this.now
    const offers = result.ok && result.bid.offered > 0 && !gaveUp
    const slots = toRanges(unowned).slice(0, WIRE_LIMITS.maxSlotRanges)
    if (offers && result.ok) {
      // A bid names at most maxSlotRanges runs of slots; the rest wait for a later round.
      this.recordBid(result.bid, slots)
      state.bidders = chosen
      // The window is an upper bound: once every candidate's bid is here (some may have come before
      // our own), the auction runs at once.
      state.closesAt = this.allBidsIn(spec.name, state) ? this.now : this.now + this.config.bidWindowMs
      const message: Message = { kind: 'bid', bid: result.bid, slots }
      for (const peer of chosen) if (peer !== this.self) this.send(peer, message)
      return
    }
    if (state.round === 0) {
      // A first-round candidate that offers nothing says so, so the others need not wait out their
      // bid window for it. Round 0 is small (slots + log N + 2 candidates); widened rounds skip this.
      const message: Message = { kind: 'bid', bid: zeroBid(self, want.service, want.specHash, state.round), slots }
      for (const peer of chosen) if (peer !== this.self) this.send(peer, message)
      return
    }
    // Offering nothing in a widened round, a candidate may still have to announce the round to the
    // candidates new to it: they do not reconcile the service until they hear of it. Two announcers
    // (the first two of the previous round) suffice; sending more would cost N² at full width.
    const previous = candidates(this.ring, spec.name, candidateCount(unowned.length, size, state.round - 1), this.hostFilter(spec))
    const position = previous.indexOf(this.self)
    if (position < 0 || position >= ROUND_ANNOUNCERS) return
    const known = new Set(previous)
    const message: Message = { kind: 'bid', bid: zeroBid(self, want.service, want.specHash, state.round), slots }
    this.recordBid(message.bid, slots)
    for (const peer of chosen) if (!known.has(peer)) this.send(peer, message)
  }

  private storeBid(bid: Bid, slots: SlotRanges): void {
    const known = this.bids.has(bid.service)
    this.recordBid(bid, slots)
    // The first bid we hear of a service makes us part of its rounds: reconcile it.
    if (!known) this.markDirty(bid.service)
    const state = this.auctions.get(bid.service)
    if (state?.closesAt !== undefined && state.specHash === bid.specHash && bid.round === state.consideredRound && this.allBidsIn(bid.service, state)) {
      state.closesAt = this.now
    }
    if (state !== undefined && state.specHash === bid.specHash && bid.round > state.round) {
      // Another peer widened already: follow it, so candidate sets agree.
      state.round = bid.round
      state.roundStartedAt = this.now
      this.markDirty(bid.service)
    }
  }

  /** Whether every candidate of the round this peer bid in has bid (offering something or nothing). */
  private allBidsIn(service: ServiceName, state: AuctionState): boolean {
    const entries = this.bids.get(service)?.get(`${state.specHash}#${state.consideredRound}`)
    if (entries === undefined || state.bidders === undefined) return false
    return state.bidders.every((peer) => entries.has(peer))
  }

  private recordBid(bid: Bid, slots: SlotRanges): void {
    let byRound = this.bids.get(bid.service)
    if (byRound === undefined) this.bids.set(bid.service, (byRound = new Map()))
    const key = `${bid.specHash}#${bid.round}`
    let entries = byRound.get(key)
    if (entries === undefined) byRound.set(key, (entries = new Map()))
    entries.set(bid.peer, { bid, slots })
  }

  private progressAuctions(): void {
    for (const [service, state] of [...this.auctions]) {
      if (state.closesAt !== undefined && this.now >= state.closesAt) {
        state.closesAt = undefined
        this.closeRound(service, state)
        // A busy host runs its auction late; measured from the round's start, the wait for the other
        // winners' claims would then be over before they could arrive, and the next round would
        // re-auction slots already claimed (five of ten agents on one 2-core host did).
        state.claimsDueAt = this.now + this.config.roundTimeoutMs - this.config.bidWindowMs
      }
      if (this.now >= this.nextRoundAt(state)) {
        state.claimsDueAt = undefined
        // Claims should have arrived by now; what is still unowned goes to a wider round.
        if (candidateCount(state.unowned.length, this.ring.peers.length, state.round) >= this.ring.peers.length) {
          state.fullWidthRounds++
          this.recordPending(service, state)
        }
        state.round++
        state.roundStartedAt = this.now
        this.markDirty(service)
      }
    }
  }

  private nextRoundAt(state: AuctionState): number {
    return Math.max(state.roundStartedAt + this.roundDelayMs(state), state.claimsDueAt ?? -Infinity)
  }

  private roundDelayMs(state: AuctionState): number {
    if (state.fullWidthRounds === 0) return this.config.roundTimeoutMs
    return Math.min(this.config.pendingRetryMaxMs, this.config.roundTimeoutMs * 2 ** state.fullWidthRounds)
  }

  /** Runs the auction over the bids of our round and claims what we won, if it still fits. */
  private closeRound(service: ServiceName, state: AuctionState): void {
    const spec = this.specs.get(service)
    const entries = this.bids.get(service)?.get(`${state.specHash}#${state.consideredRound}`)
    if (spec === undefined || entries === undefined || !entries.has(this.self)) return
    // Only slots every bidder saw as unowned are auctioned, so bidders with slightly different views
    // still hand out the same slots; the rest wait for the next round.
    let common: Set<number> | undefined
    for (const { slots } of entries.values()) {
      const mine = new Set(rangeIndices(slots))
      common = common === undefined ? mine : new Set([...common].filter((i) => mine.has(i)))
    }
    const want = placementRequest(spec)
    const result = auction({
      service,
      specHash: state.specHash,
      slots: [...(common ?? [])].map((i) => replicaSlot(service, i)),
      bids: [...entries.values()].map((e) => e.bid),
      scoring: want,
      spreadByDomain: want.spreadBy !== '',
    })
    // Slots claimed by another peer since the bids went out (a late auction, or a bidder whose view
    // lagged) no longer need a place: starting them here would only make duplicates for the conflict
    // rule to stop. The same reconcile that opened the round says which still do.
    const stillOpen = new Set(reconcileService(spec, this.cluster.serviceTasks(service), this.cluster, this.now).place.filter((p) => p.peer === undefined).map((p) => p.slot))
    // Without every candidate's bid the others' auctions may differ from ours, and ours hands us
    // everything the missing bidders would have won: take at most an even share, and leave the rest
    // to the next round, which sees everyone's claims. (A writer whose peers learned of an apply
    // 400–700 ms after it, on a busy host, otherwise claimed 80 of 100 slots for itself.)
    const bidders = state.bidders?.length ?? 0
    let share = bidders > 0 && !this.allBidsIn(service, state) ? Math.ceil(result.awards.length / bidders) : Infinity
    for (const award of result.awards) {
      if (award.peer !== this.self) continue
      if (!stillOpen.has(award.slot)) continue
      if (share-- <= 0) break
      const held = this.local.get(award.slot)
      if (held !== undefined && held.view.specHash === want.specHash) continue
      // We won a slot we run on an old version (the best place for the new one is here): replace it
      // in place — stop-first for this one slot, since one peer holds one task per slot.
      if (held !== undefined) this.stopLocal(award.slot, 'superseded')
      const self = this.cluster.get(this.self)
      // Another service's auction may have used the room meanwhile: never over-commit.
      if (self === undefined || !feasible(self, want).ok) break
      this.claim(award.slot, spec)
    }
  }

  private claim(slot: SlotId, spec: ServiceSpec): void {
    const want = placementRequest(spec)
    const view: TaskView = {
      slot, service: spec.name, peer: this.self, specHash: want.specHash, state: 'starting', since: this.now,
      resources: spec.resources, ports: spec.ports,
    }
    const task: LocalTask = { view, spec, failures: [] }
    this.local.set(slot, task)
    this.out.push({ kind: 'start-task', task: view, spec })
    this.publishAdvert()
    this.markDirty(spec.name)
  }

  private startLocal(task: LocalTask, _why: 'restored' | 'restart'): void {
    delete task.restartAt
    task.view = withState(task.view, 'starting', this.now)
    this.out.push({ kind: 'start-task', task: task.view, spec: task.spec })
    this.publishAdvert()
  }

  private stopLocal(slot: SlotId, reason: string): void {
    if (!this.local.delete(slot)) return
    this.out.push({ kind: 'stop-task', slot, reason })
    this.publishAdvert()
  }

  /** Whether to keep the bids of a service we have no spec for, a round's length at most. */
  private holdEarlyBids(service: ServiceName): boolean {
    const runsHere = [...this.local.values()].some((task) => task.view.service === service)
    if (!this.bids.has(service) || runsHere) {
      this.earlyBids.delete(service)
      return false
    }
    const since = this.earlyBids.get(service)
    if (since === undefined) {
      // Held once, for a round; after that (tick() forgets the hold) the bids go.
      if (this.bidsHeldBefore.has(service)) {
        this.bidsHeldBefore.delete(service)
        return false
      }
      this.earlyBids.set(service, this.now)
      this.bidsHeldBefore.add(service)
    }
    return true
  }

  private dropAuction(service: ServiceName): void {
    this.auctions.delete(service)
    this.bids.delete(service)
    this.pending.delete(service)
  }

  private recordPending(service: ServiceName, state: AuctionState): void {
    const spec = this.specs.get(service)
    if (spec === undefined) return
    const want = placementRequest(spec)
    const rejections: Array<{ peer: PeerId; reason: RejectionReason; detail: string }> = []
    for (const view of this.cluster.values()) {
      if (view.state === 'dead') continue
      const check = feasible(view, want)
      if (!check.ok) rejections.push(check.rejection)
    }
    this.pending.set(service, {
      service,
      slots: state.unowned.map((i) => replicaSlot(service, i)),
      round: state.round,
      since: state.pendingSince,
      rejections: countRejections(rejections),
    })
  }

  private domainCounts(service: ServiceName, label: string): Map<string, number> {
    const counts = new Map<string, number>()
    for (const tasks of this.cluster.serviceTasks(service).bySlot.values()) {
      for (const task of tasks) {
        const domain = this.cluster.get(task.peer)?.labels[label] ?? ''
        counts.set(domain, (counts.get(domain) ?? 0) + 1)
      }
    }
    return counts
  }

  /** A task of ours on the new version that misses its health deadline fails the update. */
  private checkRollout(spec: ServiceSpec): void {
    if (!spec.update.autoRollback || spec.healthcheck === null) return
    const want = placementRequest(spec)
    for (const task of this.local.values()) {
      const view = task.view
      if (view.service !== spec.name || view.specHash !== want.specHash || view.state === 'healthy') continue
      const key = `${spec.name}#${want.specHash}`
      if (this.now - view.since >= spec.update.healthDeadlineMs && !this.rolledBack.has(key)) {
        this.rolledBack.add(key)
        this.out.push({ kind: 'rollback', service: spec.name, failedSpecHash: want.specHash })
      }
    }
  }

  // --- plumbing ---------------------------------------------------------------------------------

  private send(to: PeerId, message: Message): void {
    this.out.push({ kind: 'send', to, message })
  }

  private broadcast(message: Message): void {
    this.out.push({ kind: 'broadcast', message })
  }

  private flush(): Output[] {
    if (this.advertChanged && this.started && this.now >= this.advertDueAt) {
      this.advertChanged = false
      this.advertDueAt = Infinity
      const advert = this.cluster.advert(this.self)
      if (advert !== undefined) this.broadcast({ kind: 'advert', advert })
    }
    const out = this.out
    this.out = []
    return out
  }

  private pickReachable(): PeerId | undefined {
    const peers = this.members.reachable()
    return peers.length === 0 ? undefined : peers[this.random.int(peers.length)]
  }
}
