// One peer's whole behaviour, sans-I/O (in the manner of quinn-proto and h11): it takes inputs — a
// message arrived, time passed, a task changed state, desired state changed — and returns outputs —
// messages to send, tasks to start or stop, a desired-state sync to run. It never sends, sleeps or
// reads a clock: the agent feeds it from libp2p, Docker and real timers, the simulator from a modelled
// network and a virtual clock, so the simulator's answers are the cluster's answers.
//
// Timers are one deadline: after any input the host asks nextWakeAt() and calls tick(now) then.
//
// Its parts have their own modules: failure-detector.ts, anti-entropy.ts, bid-rounds.ts, this peer's
// tasks in local-tasks.ts, its advert in own-advert.ts and what a restarted peer waits for in rejoin.ts. This file routes inputs to them, says what
// a change of membership, adverts or desired state means for placement, and runs the reconcile.

import { parseSlot, type PeerId, type ServiceName, type SlotId } from '../placement/ids.js'
import type { Random } from '../random.js'
import { resolveClaims } from '../placement/conflict.js'
import { effectiveUpdateOrder, mayHold, reconcileService, type PlaceAction } from '../placement/reconcile.js'
import { placementRequest } from '../placement/request.js'
import type { Driver, Resources, ServiceSpec } from '../service-spec/types.js'
import { feasible } from '../placement/feasibility.js'
import type { PeerRing } from '../placement/candidates.js'
import type { PeerView, TaskState, TaskView } from '../placement/view.js'
import { AntiEntropy } from './anti-entropy.js'
import { BidRounds, type PendingInfo } from './bid-rounds.js'
import { ClusterState } from './cluster.js'
import { suspicionTimeoutMs, type MachineConfig } from './config.js'
import { EMPTY_DESIRED, type DesiredView } from './desired.js'
import { FailureDetector } from './failure-detector.js'
import { LocalTasks, type LocalTask } from './local-tasks.js'
import { MemberTable, retransmitLimit } from './membership.js'
import type { Advert, MemberRecord, MemberStatus, Message, TaskUsage } from './messages.js'
import { OwnAdvert } from './own-advert.js'
import { splitState } from './codec.js'
import { Rejoin } from './rejoin.js'
import { MajorityClaims } from './majority-claims.js'
import { holdersNamedByBid } from './lagging-bids.js'
import { fencedByMajority, PartitionQuorum } from './partition-quorum.js'
import type { ProtocolObserver } from './observer.js'
import { VerdictSources } from './verdict-sources.js'
import { AccusedNotices } from './accused-notice.js'
import { SiteCuts, siteOf } from './site-cut.js'
import { LinkTiming } from './link-timing.js'
import { PeerFlags, PeerNumbers } from './peer-numbers.js'

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
  /**
   * This peer's tasks from local state. Restarted once the peer knows they are still its own (see
   * knownMembers), or at start when it knew nobody.
   */
  readonly restored?: ReadonlyArray<{ readonly task: TaskView; readonly spec: ServiceSpec }>
  /**
   * The members this peer knew in its last life (from local state); empty on a first start. A peer
   * given some restarts nothing from `restored` and bids for nothing until each has been heard from
   * or declared dead, or config.rejoinLimitMs has passed (rejoin.ts). They also count in its quorum
   * for `partition: majority` services until heard from, so a restarted peer that reaches nobody is
   * not a cluster of one (partition-quorum.ts).
   */
  readonly knownMembers?: readonly PeerId[]
  /** Told of the machine's own decisions (observer.ts), for metrics; nothing when absent. */
  readonly observe?: ProtocolObserver
  /**
   * Builds the candidate ring from a member list (buildRing when absent). Many machines in one
   * process (the simulator) pass a shared one, so peers that see the same members hold one ring.
   */
  readonly buildRing?: (peers: readonly PeerId[]) => PeerRing
  /**
   * Numbers the peer ids that index the machine's per-member columns (peer-numbers.ts); a fresh one
   * when absent. Many machines in one process (the simulator) pass a shared one, so each id is
   * numbered once and each machine's columns cost a few bytes a member.
   */
  readonly peerNumbers?: PeerNumbers
  /**
   * Makes the member records the machine writes about other peers (a fresh object each when absent).
   * Records are values no machine changes, so many machines in one process (the simulator) pass one
   * that hands the same object to every machine making the same record.
   */
  readonly memberRecord?: (peer: PeerId, incarnation: number, status: MemberStatus) => MemberRecord
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

/** Lateness of this peer's own timer beyond which it counts as stalled (see forgiveStall). */
const STALL_TOLERANCE_MS = 50

export class PeerMachine {
  readonly self: PeerId
  private incarnation: number
  private readonly config: MachineConfig

  private readonly members: MemberTable
  private readonly cluster: ClusterState
  private desired: DesiredView = EMPTY_DESIRED
  private specs = new Map<ServiceName, ServiceSpec>()
  private readonly tasks: LocalTasks
  private readonly advert: OwnAdvert

  private readonly dirty = new Set<ServiceName>()
  private reconcileAt = Infinity
  private fullReconcileAt = 0
  /**
   * Until then this peer bids for nothing; a full reconcile follows. A peer that knew members in its
   * last life bids once it has heard from each (rejoin); one that knew nobody (a first start) after
   * config.startupGraceMs. Hearing from one peer does not end the wait early: after a full restart
   * the first peer heard from may know as little as this one, and peers that ended it at first
   * contact split the whole service between the first two or three up, with duplicates where their
   * views of the membership still differed.
   */
  private biddingFrom = 0
  private readonly rejoin: Rejoin
  /**
   * The peers whose messages reached this life: until one does, silence proves no one gone; and a
   * member that spoke is not gone, whatever verdict this peer's table still holds of it.
   */
  private readonly heardFrom: PeerFlags
  /** Which peers' "dead" verdicts count here as verdicts, not suspicions (verdict-sources.ts). */
  private readonly verdictSources: VerdictSources
  /** Members told of an accusation that reached this peer (accused-notice.ts). */
  private readonly accused: AccusedNotices

  private readonly detector: FailureDetector
  private readonly antiEntropy: AntiEntropy
  private readonly rounds: BidRounds
  private readonly quorum: PartitionQuorum
  private readonly majorityClaims: MajorityClaims
  private readonly siteCuts: SiteCuts
  /** Each link's timers, from its kind (site-mate, other site, no site) and measured round trip. */
  private readonly links: LinkTiming

  private out: Output[] = []
  private now = 0
  /** What nextWakeAt() last answered: a tick much later than that means this peer was stalled. */
  private expectedWakeAt = Infinity
  private started = false
  private readonly observe: ProtocolObserver
  private readonly makeRecord: (peer: PeerId, incarnation: number, status: MemberStatus) => MemberRecord
  /** The host cannot write to its data directory: it starts nothing and takes no new slot. */
  private diskFull = false

  constructor(init: MachineInit) {
    this.self = init.self
    this.observe = init.observe ?? (() => undefined)
    this.makeRecord = init.memberRecord ?? ((peer, incarnation, status) => ({ peer, incarnation, status }))
    this.incarnation = init.incarnation
    this.config = init.config
    const numbers = init.peerNumbers ?? new PeerNumbers()
    this.members = new MemberTable(init.self, numbers)
    this.heardFrom = new PeerFlags(numbers)
    // `partition: majority` services see members held by a site cut as dead (site-cut.ts).
    this.cluster = new ClusterState((service) => {
      const spec = this.specs.get(service)
      return spec === undefined || !fencedByMajority(spec)
    }, numbers)
    this.verdictSources = new VerdictSources({ sourceMs: init.config.replaceAfterMs, subjectMs: suspicionTimeoutMs(init.config) }, numbers)
    this.accused = new AccusedNotices(init.config.replaceAfterMs)
    this.rejoin = new Rejoin(init.self, init.knownMembers ?? [])
    this.quorum = new PartitionQuorum({ self: init.self, config: init.config, seeds: [...init.seeds, ...(init.knownMembers ?? [])] })
    const { self, config, members, cluster } = this
    const random = init.random
    const send = (to: PeerId, message: Message) => this.send(to, message)
    const desiredDigest = () => this.desired.digest
    const memberSite = (peer: PeerId): string | undefined => {
      const view = cluster.get(peer)
      return view === undefined ? undefined : siteOf(view.labels)
    }
    const links = this.links = new LinkTiming({ self, config, selfSite: siteOf(init.labels), siteOf: memberSite })
    this.detector = new FailureDetector({
      self, config, random, members, send, desiredDigest, links,
      broadcast: (message) => this.broadcast(message),
      apply: (record) => this.applyRecord(record),
    })
    this.antiEntropy = new AntiEntropy({
      self, config, random, members, cluster, send, desiredDigest,
      applyRecord: (record) => this.applyReceived(record),
      applyAdvert: (advert) => this.applyAdvert(advert),
      syncDesired: (peer) => this.out.push({ kind: 'sync-desired', peer }),
      siteOf: (peer) => links.siteOf(peer),
    }, { seeds: init.seeds })
    this.rounds = new BidRounds({
      self, config, cluster, send,
      reachable: () => this.members.reachable(),
      spec: (service) => this.specs.get(service),
      runsTasksOf: (service) => this.tasks.holds(service),
      heldVersion: (slot) => this.tasks.get(slot)?.view.specHash,
      claim: (slot, spec) => this.claim(slot, spec),
      stopTask: (slot, reason) => this.tasks.stop(slot, reason),
      markDirty: (service) => this.markDirty(service),
      roundTiming: (candidates) => links.roundTiming(candidates),
      observe: this.observe,
      ...(init.buildRing !== undefined ? { buildRing: init.buildRing } : {}),
    })
    this.tasks = new LocalTasks({
      self,
      startTask: (task, spec) => this.out.push({ kind: 'start-task', task, spec }),
      stopTask: (slot, reason) => this.out.push({ kind: 'stop-task', slot, reason }),
      rollback: (service, failedSpecHash) => this.out.push({ kind: 'rollback', service, failedSpecHash }),
      changed: () => this.advert.publish(this.now),
      gaveUp: (service, until) => this.rounds.sitOut(service, until),
    }, { restored: withoutFenced(init.restored) })
    this.majorityClaims = new MajorityClaims({
      self, config, tasks: this.tasks,
      serviceTasks: (service) => cluster.serviceTasks(service),
      mayStart: (spec, now, claimedAt) => now >= this.placeableAt(spec) && this.quorum.stableSince(claimedAt),
    })
    this.siteCuts = new SiteCuts({
      // Only members of another site are ever held, so these are that link's timers.
      self, holdMs: config.siteCutHoldMs, answerMs: (peer) => links.probeTimeoutMs(peer), refuteMs: (peer) => links.refuteMs(peer),
      siteOf: memberSite,
      members: () => this.siteMembers(),
      heardAt: (peer) => this.verdictSources.lastHeardAt(peer),
    })
    this.advert = new OwnAdvert({
      self, config, cluster,
      incarnation: () => this.incarnation,
      tasks: () => this.tasks.views(),
    }, { capacity: init.capacity, labels: init.labels, drivers: init.drivers })
  }

  // --- inputs ---------------------------------------------------------------------------------

  start(now: number): Output[] {
    this.now = now
    this.started = true
    this.members.apply({ peer: this.self, incarnation: this.incarnation, status: 'alive' }, this.retransmits())
    this.cluster.setStatus(this.self, 'alive')
    this.rounds.ringChanged()
    // The members of the last life, as records no one else would take for news (incarnation 0, not
    // gossiped): they are probed like any member, so one that is gone is declared dead in time, and
    // any real record of theirs supersedes these.
    for (const peer of this.rejoin.known()) this.applyRecord({ peer, incarnation: 0, status: 'alive' }, 0)
    if (this.rejoin.start(now, this.config.rejoinLimitMs)) {
      // Restored tasks are advertised as held (pending), so peers that had not replaced them yet do
      // not; they start once this peer knows they are still its own.
      this.biddingFrom = Infinity
    } else {
      // Nobody to hear from: restart our own tasks from local state at once (an offline reboot of a
      // peer that was alone), and bid after the startup grace.
      this.tasks.releaseHeld(now, () => undefined)
      this.biddingFrom = now + this.config.startupGraceMs
    }
    this.advert.publish(now)
    this.broadcast({ kind: 'member', record: { peer: this.self, incarnation: this.incarnation, status: 'alive' } })
    this.detector.start(now)
    this.antiEntropy.start(now)
    this.askForState(now)
    this.fullReconcileAt = now
    return this.flush()
  }

  receive(from: PeerId, message: Message, now: number): Output[] {
    this.now = now
    this.observeQuorum()
    if (!this.started || from === this.self) return this.flush()
    this.heardFrom.add(from)
    this.verdictSources.heard(from, now)
    this.siteHeard(from)
    if (this.members.status(from) === 'dead') this.antiEntropy.healing(now)
    switch (message.kind) {
      case 'ping':
        for (const record of message.updates) this.applyReceived(this.verdictSources.received(record, from, now))
        this.send(from, { kind: 'ack', seq: message.seq, desired: this.desired.digest, updates: this.members.piggyback(this.config.piggybackLimit) })
        this.antiEntropy.compareDesired(from, message.desired, now)
        break
      case 'ack':
        for (const record of message.updates) this.applyReceived(this.verdictSources.received(record, from, now))
        this.detector.onAck(from, message.seq, message.target, now)
        this.antiEntropy.compareDesired(from, message.desired, now)
        break
      case 'ping-req':
        this.detector.onPingReq(from, message, now)
        break
      case 'member':
        this.applyReceived(this.verdictSources.received(message.record, from, now))
        break
      case 'advert':
        this.applyAdvert(message.advert)
        break
      case 'bid':
        this.rounds.onBid(message.bid, message.slots, now)
        this.answerLaggingBid(from, message)
        break
      case 'digest':
        this.antiEntropy.onDigest(from, message, now)
        break
      case 'state':
        this.antiEntropy.onState(message)
        break
    }
    this.settleRejoin()
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
    this.observeQuorum()
    if (!this.started || peer === this.self) return this.flush()
    this.antiEntropy.sendDigest(peer, true)
    if (this.members.status(peer) === 'dead') this.antiEntropy.healing(now)
    return this.flush()
  }

  tick(now: number): Output[] {
    this.now = now
    if (!this.started) return this.flush()
    this.observeQuorum()
    if (now - this.expectedWakeAt > STALL_TOLERANCE_MS) this.detector.forgiveStall(now - this.expectedWakeAt)
    this.detector.tick(now)
    this.antiEntropy.tick(now)
    this.tasks.tick(now)
    this.askForState(now)
    this.settleRejoin()
    this.majorityClaims.tick(now)
    if (now >= this.siteCuts.nextWakeAt()) this.cutOffChanged(this.siteCuts.update(now))
    this.rounds.forgetEarlyBids(now)
    if (now >= this.fullReconcileAt) {
      for (const service of this.specs.keys()) this.dirty.add(service)
      this.fullReconcileAt = now + this.config.fullReconcileIntervalMs
      this.reconcileAt = now
    }
    if (now >= this.reconcileAt) this.reconcileDirty()
    this.rounds.progress(now)
    return this.flush()
  }

  taskChanged(slot: SlotId, state: TaskState, now: number, exitCode?: number): Output[] {
    this.now = now
    this.observeQuorum()
    const report = this.tasks.report(slot, state, now, exitCode)
    if (report === undefined) return this.flush()
    this.markDirty(report.service)
    // A task leaving (give-up) or finishing changes ownership: tell everyone now. Up/down alone can
    // wait — except during a rolling update, where every peer must see a wave settle at the same
    // moment to open the next one together (a peer that opened it alone would bid alone), and for a
    // service with ports, whose traffic every peer routes by it (node/discovery).
    this.advert.publish(now, report.ownershipChanged || this.takesTraffic(report.service) || this.rollingUpdate(report.service))
    if (this.diskFull) this.tasks.giveUpWaiting('cannot start here: the data directory is full')
    return this.flush()
  }

  /**
   * The host's data directory became full (or has room again). While full the peer advertises it,
   * so every peer (itself included) sees it as cordoned: it keeps its running tasks, bids for
   * nothing, and gives up tasks waiting to restart here so they are placed elsewhere now.
   */
  diskFullChanged(full: boolean, now: number): Output[] {
    this.now = now
    if (full === this.diskFull) return this.flush()
    this.diskFull = full
    this.advert.setDiskFull(full)
    if (full) this.tasks.giveUpWaiting('cannot start here: the data directory is full')
    this.advert.publish(now)
    for (const service of this.specs.keys()) this.markDirty(service)
    return this.flush()
  }

  desiredChanged(desired: DesiredView, now: number): Output[] {
    this.now = now
    this.observeQuorum()
    const before = this.specs
    this.desired = desired
    this.specs = new Map(desired.services.map((spec) => [spec.name, spec]))
    this.cluster.setSettings(desired.peers)
    for (const service of before.keys()) this.markDirty(service)
    for (const service of this.specs.keys()) this.markDirty(service)
    for (const task of this.tasks.views()) this.markDirty(task.service)
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
      this.tasks.stopActive('leaving')
      this.incarnation++
      this.broadcast({ kind: 'member', record: { peer: this.self, incarnation: this.incarnation, status: 'left' } })
    }
    this.advert.cancel()
    this.started = false
    return this.flush()
  }

  /** The earliest time tick() has work to do. */
  nextWakeAt(): number {
    if (!this.started) return Infinity
    const at = Math.min(
      this.detector.nextWakeAt(), this.antiEntropy.nextWakeAt(), this.rounds.nextWakeAt(), this.tasks.nextWakeAt(),
      this.advert.nextWakeAt(), this.fullReconcileAt, this.reconcileAt, this.rejoin.nextWakeAt(), this.quorum.nextWakeAt(),
      this.majorityClaims.nextWakeAt(), this.siteCuts.nextWakeAt(),
    )
    this.expectedWakeAt = at
    return at
  }

  // --- introspection (for the control API, `peer why` and the simulator) ------------------------

  localTasks(): TaskView[] {
    return this.tasks.views()
  }

  memberRecords(): MemberRecord[] {
    return [...this.members.all()]
  }

  /** `peer`'s site (its `site` label) as its advert says, this peer's own for itself; undefined when it has none or is unknown. */
  siteOf(peer: PeerId): string | undefined {
    return this.links.siteOf(peer)
  }

  /** What this peer's member table holds about one peer (undefined: never heard of it). */
  memberRecord(peer: PeerId): MemberRecord | undefined {
    return this.members.record(peer)
  }

  peerViews(): PeerView[] {
    return [...this.cluster.values()]
  }

  pendingServices(): PendingInfo[] {
    return this.rounds.pendingServices()
  }

  desiredDigest(): string {
    return this.desired.digest
  }

  currentIncarnation(): number {
    return this.incarnation
  }

  /** What each peer's tasks use, as their last adverts say (peers that advertise none are left out). */
  advertisedUsage(): Map<PeerId, readonly TaskUsage[]> {
    const usage = new Map<PeerId, readonly TaskUsage[]>()
    for (const advert of this.cluster.allAdverts()) if (advert.usage !== undefined) usage.set(advert.peer, advert.usage)
    return usage
  }

  /** A new measurement of this peer's tasks' use, for its advert (sent after the debounce: it is not urgent). */
  reportUsage(usage: readonly TaskUsage[], now: number): Output[] {
    this.now = now
    if (this.started) this.advert.setUsage(usage, now)
    return this.flush()
  }

  // --- membership and other peers' adverts ------------------------------------------------------

  private retransmits(): number {
    return retransmitLimit(this.members.size + 1)
  }

  /**
   * A member record from another peer. One that makes a member this peer heard from lately suspect or
   * dead here is passed on to the member itself at once, which refutes it if alive (accused-notice.ts).
   */
  private applyReceived(record: MemberRecord): void {
    const previous = record.peer === this.self ? undefined : this.members.status(record.peer)
    this.applyRecord(record)
    if (previous === undefined) return
    const current = this.members.record(record.peer)
    if (current === undefined || !this.accused.shouldTell(current, previous, this.verdictSources.lastHeardAt(record.peer), this.now)) return
    this.send(record.peer, { kind: 'ping', seq: 0, desired: this.desired.digest, updates: [current] })
  }

  private applyRecord(record: MemberRecord, retransmits = this.retransmits()): void {
    if (record.peer === this.self) {
      if (record.status !== 'alive' && record.incarnation >= this.incarnation && this.started) {
        // Refute: a higher incarnation outranks any suspicion or verdict about the old one.
        this.incarnation = record.incarnation + 1
        this.observe({ kind: 'refute', at: this.now })
        const alive: MemberRecord = { peer: this.self, incarnation: this.incarnation, status: 'alive' }
        this.members.apply(alive, this.retransmits())
        this.broadcast({ kind: 'member', record: alive })
        this.advert.publish(this.now)
      }
      return
    }
    const previous = this.members.apply(record, retransmits)
    if (previous === null) return
    this.quorum.memberChanged(record, previous, this.now)
    this.verdictSources.memberChanged(record.peer, record.status, this.now)
    this.cluster.setStatus(record.peer, record.status)
    if ((record.status === 'dead') !== (previous === 'dead')) this.siteVerdict(record.peer, record.status === 'dead')
    const wasIn = previous === 'alive' || previous === 'suspect'
    const isIn = record.status === 'alive' || record.status === 'suspect'
    if (wasIn !== isIn) this.rounds.ringChanged()
    if (record.status === 'left') {
      this.links.forget(record.peer)
      this.accused.forget(record.peer)
    }
    this.detector.memberChanged(record, previous, this.now)
    // Its tasks may be lost (or back); global services gain or lose a slot; pending work may fit now.
    for (const service of this.cluster.servicesOn(record.peer)) this.markDirty(service)
    if (wasIn !== isIn || previous === undefined) {
      for (const spec of this.specs.values()) if (spec.mode === 'global') this.markDirty(spec.name)
      if (isIn) this.rounds.peerArrived()
    }
    // A member held dead is alive after all (heard of through a peer across a healed partition):
    // exchange state with it directly now. Its adverts and any verdict it holds about us (refuted on
    // the spot, anti-entropy.ts) then cross at once, not when a redial or a gossip mesh gets there.
    if (previous === 'dead' && isIn) this.antiEntropy.sendDigest(record.peer, true)
  }

  // --- sites as failure domains (site-cut.ts) ----------------------------------------------------

  /**
   * A member was declared dead, or is no longer: whether its slots are held by a site cut. At a
   * verdict, a few of its site-mates are pinged: one answering makes it a host death a round trip
   * later.
   */
  private siteVerdict(peer: PeerId, dead: boolean): void {
    this.askAlive(this.siteCuts.statusChanged(peer, dead, this.now))
    const changed = this.siteCuts.update(this.now, (member) => member === peer)
    // Back from the dead, or gone for good: a hold it had is over either way.
    if (!dead && !changed.includes(peer)) changed.push(peer)
    this.cutOffChanged(changed)
  }

  /**
   * A message of `from`'s own arrived: held members of its site are released if the site answered
   * their verdict, and pinged if the site is back after a cut (they stay held while they may refute).
   */
  private siteHeard(from: PeerId): void {
    const { released, ask } = this.siteCuts.heard(from, this.now)
    this.cutOffChanged(released)
    this.askAlive(ask)
  }

  /**
   * Pings `peers` outside the probe sequence (seq 0, which no probe uses): only the answer's arrival
   * matters, which tells the site-cut rule that the peer (or its site) is reachable.
   */
  private askAlive(peers: readonly PeerId[]): void {
    for (const peer of peers) {
      this.send(peer, { kind: 'ping', seq: 0, desired: this.desired.digest, updates: this.members.piggyback(this.config.piggybackLimit) })
    }
  }

  /** Members whose hold began or ended: their tasks are read again. */
  private cutOffChanged(peers: readonly PeerId[]): void {
    for (const peer of peers) {
      this.cluster.setCutOff(peer, this.siteCuts.isHeld(peer))
      for (const service of this.cluster.servicesOn(peer)) this.markDirty(service)
    }
  }

  private *siteMembers(): Iterable<{ peer: PeerId; status: 'alive' | 'suspect' | 'dead' }> {
    for (const { peer, status } of this.members.all()) {
      if (status !== 'left') yield { peer, status }
    }
  }

  private applyAdvert(advert: Advert): void {
    if (advert.peer === this.self) return
    if (this.members.record(advert.peer) === undefined) {
      this.applyRecord(this.makeRecord(advert.peer, advert.incarnation, 'alive'))
    }
    const touched = this.cluster.putAdvert(advert)
    if (touched === null) return
    for (const service of touched) this.markDirty(service)
  }

  /**
   * A bid naming slots this peer sees claimed by live peers is answered with those peers' adverts:
   * the bidder's view lags a claim, and it checks its view before claiming (lagging-bids.ts).
   */
  private answerLaggingBid(from: PeerId, message: Extract<Message, { kind: 'bid' }>): void {
    if (!this.specs.has(message.bid.service)) return
    const tasks = this.cluster.serviceTasks(message.bid.service)
    const holders = holdersNamedByBid(message.bid, message.slots, tasks, (peer) => peer === this.self || this.members.status(peer) === 'alive')
    const adverts = holders.flatMap((peer) => this.cluster.advert(peer) ?? [])
    if (adverts.length > 0) for (const part of splitState([], adverts)) this.send(from, part)
  }

  // --- rejoining after a restart ----------------------------------------------------------------

  /** While rejoining: asks a few of the members not yet heard from for their state. */
  private askForState(now: number): void {
    for (const peer of this.rejoin.askNow(now, this.config.probeIntervalMs)) this.antiEntropy.sendDigest(peer, true)
  }

  /**
   * A member of the last life is accounted for once its advert of the life the member table knows
   * is here (from itself or relayed: enough to know what it runs), or once it is dead or left. A
   * peer that has heard from no one at all takes no death for proof: unanswered probes then say as
   * much about its own links (isolated, or its old connections not yet replaced) as about the
   * others, and it waits for rejoinLimitMs instead. A member held dead whose own message arrived
   * (the first answer after an isolated restart is often its ack to a probe sent just before the
   * verdict) is alive after all: it is accounted for by its advert, like any live member, which the
   * state exchanges that follow bring. Counted dead, it let the peer restart slots the member ran.
   */
  private accountedFor(peer: PeerId): boolean {
    const record = this.members.record(peer)
    if (record === undefined) return false
    const status = record.status
    if (status === 'left' || (status === 'dead' && !this.heardFrom.has(peer))) return this.heardFrom.size > 0
    const advert = this.cluster.advert(peer)
    return advert !== undefined && advert.incarnation >= record.incarnation
  }

  /** Ends the rejoin once every member is accounted for (or the limit passed): restart what is still ours, then bid. */
  private settleRejoin(): void {
    if (!this.rejoin.settle(this.now, (peer) => this.accountedFor(peer))) return
    this.tasks.releaseHeld(this.now, (task) => this.heldVerdict(task))
    this.biddingFrom = this.now
    for (const service of this.specs.keys()) this.markDirty(service)
  }

  /**
   * Whether a task restored from local state is still this peer's to run: undefined when it is,
   * else why not. It is not when the desired state no longer wants that version, or when a live
   * peer holds the slot with a claim the conflict rule keeps over ours — a replacement placed while
   * we were gone has a later epoch and wins, so the work stays where the cluster moved it.
   */
  private heldVerdict(task: LocalTask): string | undefined {
    const { slot, service } = task.view
    const spec = this.specs.get(service)
    // Before any desired state is known nothing is known to be undesired (an offline reboot).
    if (this.desired !== EMPTY_DESIRED) {
      if (spec === undefined) return 'not-desired'
      if (placementRequest(spec).specHash !== task.view.specHash) return 'superseded'
    }
    const others = (this.cluster.serviceTasks(service).bySlot.get(slot) ?? []).filter((t) => t.peer !== this.self)
    if (others.length === 0) return undefined
    const want = placementRequest(spec ?? task.spec)
    const { keep } = resolveClaims([task.view, ...others], want.specHash, (peer) => mayHold(this.cluster.get(peer), want))
    return keep.peer === this.self ? undefined : 'replaced'
  }

  // --- reconcile and placement ------------------------------------------------------------------

  private markDirty(service: ServiceName): void {
    this.dirty.add(service)
    // The first change of a burst sets the time; later ones join the same reconcile (see the knob).
    if (this.reconcileAt === Infinity) this.reconcileAt = this.now + this.config.reconcileCoalesceMs
  }

  private reconcileDirty(): void {
    this.reconcileAt = Infinity
    this.rounds.refreshRing()
    const services = [...this.dirty].sort()
    this.dirty.clear()
    for (const service of services) this.reconcileOne(service)
  }

  private reconcileOne(service: ServiceName): void {
    const spec = this.specs.get(service)
    if (spec !== undefined) this.rounds.specArrived(service)
    else if (this.rounds.holdEarlyBids(service, this.now)) return
    if (spec === undefined) {
      this.rounds.drop(service, this.now)
      // Before any desired state has loaded, nothing is known to be undesired: restored tasks run on.
      if (this.desired === EMPTY_DESIRED) return
      // No longer desired: stop what we run of it; nobody auctions it.
      this.tasks.stopActive('not-desired', service)
      return
    }
    if (!this.rounds.involvedIn(spec)) return
    const result = reconcileService(spec, this.cluster.serviceTasks(service), this.cluster, this.now)
    for (const stop of result.stop) {
      if (stop.reason === 'duplicate' && (stop.task.peer === this.self || this.tasks.get(stop.task.slot) !== undefined)) {
        this.observe({ kind: 'conflict', slot: stop.task.slot, loser: stop.task.peer, loserEpoch: stop.task.epoch ?? 0, at: this.now })
      }
      if (stop.task.peer === this.self) this.tasks.stop(stop.task.slot, stop.reason)
    }

    const open: PlaceAction[] = []
    for (const place of result.place) {
      if (place.peer !== undefined) {
        if (place.peer === this.self) this.placeGlobal(place, spec)
        continue
      }
      // A stop-first update is the holder's alone: it has just stopped the old task (above) and starts
      // the new version in its place, so nothing stands between the two but the start itself.
      if (place.reason === 'update' && effectiveUpdateOrder(spec) === 'stop-first') {
        if (place.replaces?.peer === this.self) this.replaceInPlace(place, spec)
        continue
      }
      open.push(place)
    }
    this.tasks.checkRollout(spec, this.now)
    if (open.length === 0) {
      this.rounds.drop(service, this.now)
      return
    }
    if (this.now < this.biddingFrom) {
      // Just started: the holders of these slots may not have been heard from yet.
      this.fullReconcileAt = Math.min(this.fullReconcileAt, this.biddingFrom)
      return
    }
    const placeableAt = this.placeableAt(spec)
    if (this.now < placeableAt) {
      // A `majority` service: no quorum, or a copy cut off with a dead peer may still be running.
      if (placeableAt !== Infinity) this.fullReconcileAt = Math.min(this.fullReconcileAt, placeableAt)
      return
    }
    const indices = open.map((p) => parseSlot(p.slot)).flatMap((p) => (p?.kind === 'replica' ? [p.index] : []))
    this.rounds.bid(spec, indices, this.now)
  }

  /** Whether some task of the service runs another version than the desired one. */
  private takesTraffic(service: ServiceName): boolean {
    return (this.specs.get(service)?.ports.length ?? 0) > 0
  }

  private rollingUpdate(service: ServiceName): boolean {
    const spec = this.specs.get(service)
    if (spec === undefined) return false
    const desiredHash = placementRequest(spec).specHash
    for (const tasks of this.cluster.serviceTasks(service).bySlot.values()) {
      for (const task of tasks) if (task.specHash !== desiredHash) return true
    }
    return false
  }

  private placeGlobal(place: PlaceAction, spec: ServiceSpec): void {
    const held = this.tasks.get(place.slot)
    if (held !== undefined && held.view.specHash === placementRequest(spec).specHash) return
    // A global slot lives on this peer only: a new version replaces the old one in place.
    if (held !== undefined) this.tasks.stop(place.slot, 'superseded')
    const self = this.cluster.get(this.self)
    if (self === undefined) return
    const check = feasible(self, placementRequest(spec))
    if (!check.ok) {
      this.rounds.globalBlocked(spec.name, place.slot, check.rejection, this.now)
      return
    }
    this.rounds.placed(spec.name)
    this.claim(place.slot, spec)
  }

  /**
   * The second half of a stop-first update of a slot this peer held: the new version starts here at
   * once, in the same step as the old task's stop. Placing it again by auction instead (as a new
   * slot, once every peer had seen the old task gone) put a whole bid round — the stop's advert
   * reaching every candidate, every bid, the claim — between the stop and the start, each step as
   * slow as the slowest peer: on loaded hosts a slot ran nowhere for seconds beyond its start. When
   * the new version does not fit here (more resources, a constraint this peer no longer meets, a
   * drain), the slot is left unowned and goes to auction like any new slot.
   */
  private replaceInPlace(place: PlaceAction, spec: ServiceSpec): void {
    const self = this.cluster.get(this.self)
    if (self === undefined || !feasible(self, placementRequest(spec)).ok) return
    this.claim(place.slot, spec, place.replaces)
  }

  /** `replaced`: the task this claim takes the place of, already gone from this peer's view. */
  private claim(slot: SlotId, spec: ServiceSpec, replaced?: TaskView): void {
    // A round that opened before the lease ran out may close after it.
    if (this.now < this.placeableAt(spec)) return
    // One placement later than any this peer knows of for the slot (conflict.ts, rule 3).
    const epoch = Math.max(this.cluster.highestEpoch(spec.name, slot), replaced?.epoch ?? 0) + 1
    if (fencedByMajority(spec)) this.majorityClaims.claim(slot, spec, this.now, epoch)
    else this.tasks.claim(slot, spec, this.now, epoch)
    this.observe({ kind: 'claim', slot, at: this.now })
    this.markDirty(spec.name)
  }

  // --- the partition policy (partition-quorum.ts) -----------------------------------------------

  /** At each input: a lease that ran out stops this peer's `majority` copies; a new one reconciles them once settled. */
  private observeQuorum(): void {
    if (!this.started) return
    const change = this.quorum.observe(this.now)
    if (change.expired) {
      for (const spec of this.specs.values()) if (fencedByMajority(spec)) this.tasks.stopActive('partition-fenced', spec.name)
    }
    if (change.regained) this.fullReconcileAt = Math.min(this.fullReconcileAt, this.now + this.config.startupGraceMs)
  }

  /**
   * When a slot of `spec` may be placed here (-Infinity: any time). A `majority` slot also needs the
   * current advert of every member this peer holds alive: a peer that restarted, or came back from
   * the minority, knows members from gossip before it knows what they run, and an unknown holder's
   * slot looks unowned.
   */
  private placeableAt(spec: ServiceSpec): number {
    const at = this.quorum.placeableAt(spec)
    if (at === -Infinity || at === Infinity) return at
    for (const record of this.members.all()) {
      if (record.peer === this.self || (record.status !== 'alive' && record.status !== 'suspect')) continue
      const advert = this.cluster.advert(record.peer)
      if (advert === undefined || advert.incarnation < record.incarnation) return Infinity
    }
    return at
  }

  // --- plumbing ---------------------------------------------------------------------------------

  private send(to: PeerId, message: Message): void {
    this.out.push({ kind: 'send', to, message })
  }

  private broadcast(message: Message): void {
    this.out.push({ kind: 'broadcast', message })
  }

  private flush(): Output[] {
    const advert = this.started ? this.advert.takeDue(this.now) : undefined
    if (advert !== undefined) this.broadcast({ kind: 'advert', advert })
    const out = this.out
    this.out = []
    return out
  }
}

/**
 * Restored tasks of `majority` services are not restarted: while this peer was down the majority may
 * have replaced them, and it cannot know until it hears from them. They are placed again once it has
 * quorum, like any unowned slot.
 */
function withoutFenced(restored: MachineInit['restored']): MachineInit['restored'] {
  return restored?.filter(({ spec }) => !fencedByMajority(spec))
}
