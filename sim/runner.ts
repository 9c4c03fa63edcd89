// The simulation: N protocol machines — the very code the agents run — over a modelled network, a
// modelled task runtime and a virtual clock, driven by one seed. Faults strike during a safety phase;
// then everything heals and the cluster must converge (liveness phase), as in TigerBeetle's VOPR.

import { sharedRingBuilder } from './shared-rings.js'
import { sharedMemberRecords } from './shared-records.js'
import {
  addResources, defaultConfig, NO_RESOURCES, PeerMachine, PeerNumbers, placementRequest,
  seededRandom, withProcessingSkew, type Message, type NetworkProfile, type Output, type PeerId, type PeerView, type SeededRandom, type ServiceSpec, type SlotId,
  type TaskState, type TaskView,
} from '../core/index.js'
import { DesiredModel, type DesiredChange } from './desired-model.js'
import { EventQueue } from './event-queue.js'
import { Fanout } from './fanout.js'
import { GOSSIP_HEARTBEAT_MS, GossipHistory } from './gossip-history.js'
import { messageBytes } from './message-size.js'
import { SiteLinkLedger, type SiteLinkFigures } from './site-links.js'
import { faultActions, planFaults, type FaultAction, type FaultEvent, type FaultSpec } from './faults.js'
import { CopyLedger } from './copies.js'
import { OutdatedLedger } from './outdated.js'
import { SlotDownLedger, slotDownSummary, type SlotDownStretch } from './slot-down.js'
import { LIVENESS_INVARIANTS, SAFETY_INVARIANTS, type RunningTask, type Violation, type WorldState } from './invariants.js'
import { Histogram, roundTo as round } from './metrics.js'
import { Network, type NetworkConfig } from './network.js'
import { resourceOrder } from './resource-names.js'
import { lognormal, lognormalSigma } from './random.js'

export interface SimOptions {
  readonly seed: number
  readonly peers: readonly PeerView[]
  readonly services: readonly ServiceSpec[]
  readonly durationMs: number
  readonly faults: FaultSpec
  readonly network: NetworkConfig
  readonly profile: NetworkProfile
  /**
   * When the desired services are applied (at the first peer). Default: once every peer is up (they
   * start over the first second) and past its startup grace, so placement latency measures placement.
   */
  readonly applyAtMs?: number
  /** End of the safety phase (faults only before it); the rest of the run is for convergence. */
  readonly safetyEndMs?: number
  /** Median time for a task to start (create + start), ms. */
  readonly taskStartMs?: number
  /** Sample the world every this many simulated ms (invariants, series). */
  readonly sampleEveryMs?: number
  /** Later edits of the desired state (a trace): at `atMs` after the apply, set or remove a service. */
  readonly edits?: ReadonlyArray<{ readonly atMs: number; readonly name: string; readonly spec: ServiceSpec | null }>
  /** Faults at given times instead of drawn from `faults`: a scenario written out by hand (a partition of one shape, a chosen kill). */
  readonly faultPlan?: readonly FaultEvent[]
  /**
   * Widen the machines' bid windows and round timeouts by this much, as the agent does for the time
   * a busy host takes to act on a message (withProcessingSkew; the agent adds 300 ms). Default 0:
   * the simulator's network delay is all the skew there is. Set it with slow peers that stand for
   * busy hosts, so the machines run with the windows real agents use.
   */
  readonly processingSkewMs?: number
  /**
   * false: every link keeps the profile's timers (no per-link timing, link-timing.ts), as before it
   * existed — to compare the two on one network. Default true.
   */
  readonly linkTiming?: boolean
  /** The machines' siteCutHoldMs (site-cut.ts) instead of the default: a run can outlast a shorter hold. */
  readonly siteCutHoldMs?: number
  /** Called at every task start, with where and when; never changes the run. */
  readonly onTaskStart?: (start: { readonly peer: PeerId; readonly slot: SlotId; readonly atMs: number }) => void
  /** Called every few thousand events with the simulated time reached, for a progress line; never changes the run. */
  readonly onProgress?: (progress: { simulatedMs: number; events: number }) => void
  /** Follows a run step by step (each peer's view, each start), for a test of one property; never changes the run. */
  readonly watch?: SimWatch
  /**
   * Counts the bytes between peers of different sites (their `site` labels) sent from this time on,
   * for SimResult.siteLinks (site-links.ts); never changes the run.
   */
  readonly siteLinksFromMs?: number
  /**
   * Deep-freezes every message a machine sends before the run delivers it. The run hands one message
   * object to all its receivers (a broadcast's record or advert is held by every machine it reached),
   * which is sound only while no machine changes a message it received or sent: frozen, one that did
   * would throw. For tests; never changes the run.
   */
  readonly freezeMessages?: boolean
}

/** What a watcher of a run is shown. */
export interface SimWatch {
  /** After each event the run handled: every peer, with its machine (undefined while it is down). */
  readonly step?: (nowMs: number, peers: ReadonlyArray<{ readonly id: PeerId; readonly machine: PeerMachine | undefined }>) => void
  /** A peer started a copy of a slot. */
  readonly started?: (peer: PeerId, slot: SlotId, nowMs: number) => void
  /**
   * A peer's machine has just taken an input (a message, a tick, a task's change): only that peer's
   * view can have changed, so a watcher of one fact per peer checks one peer, not all of them.
   */
  readonly acted?: (peer: number, machine: PeerMachine, nowMs: number) => void
}

export interface SimMetrics {
  readonly peers: number
  readonly services: number
  readonly replicas: number
  readonly placementMsP50: number
  readonly placementMsP99: number
  readonly placementsMeasured: number
  readonly failoverMsP50: number
  readonly failoverMsP99: number
  readonly failoversMeasured: number
  /** Time from the end of the safety phase until every liveness invariant held; -1 if never. */
  readonly convergeMs: number
  /**
   * Slot-milliseconds during which a slot ran on more than one peer (a conflict's start-first
   * overlap, a partition's second copy under `partition: serve`); under `majority` the safety
   * invariant keeps its slots' share at 0.
   */
  readonly duplicateSlotMs: number
  readonly msgsPerPeerPerSec: number
  readonly bytesPerPeerPerSec: number
  /**
   * Deliveries over the whole run by message kind (a broadcast counts once per peer it reaches; an
   * anti-entropy sync as its digest and state): where the traffic goes as the cluster grows.
   */
  readonly messagesByKind: Readonly<Record<string, number>>
  readonly cpuUtilisation: number
  readonly memoryUtilisation: number
  readonly events: number
  /**
   * Starts by a restarted peer of a slot that then ran on another live peer: a slot started twice
   * because the peer came back (its restored tasks, or slots it took while it knew too little).
   */
  readonly restartStartedTwice: number
  /** Tasks other peers stopped in favour of a restarted peer's restored copy: work moved back for nothing. */
  readonly restartMovedBack: number
  /**
   * Starts of a slot lost with a killed peer, before that peer came back, while another live peer
   * already ran it: the survivors' auctions disagreed and two of them took the same slot.
   */
  readonly failoverStartedTwice: number
  /**
   * Slots where an outdated copy ran beside a copy of the desired version for more than
   * OUTDATED_LIMIT_MS: a copy the conflict rule ranks last that nobody stopped.
   */
  readonly outdatedBesideDesired: number
  /**
   * Desired slots (replicated services and unfinished jobs) with no task of the desired version
   * running on a live peer at the end of the run.
   */
  readonly pendingSlots: number
  /** Slots created (by the apply or a trace row) that never ran their version before the end or their deletion. */
  readonly neverPlacedSlots: number
  /**
   * Each resource's allocated share of live capacity, sampled every simulated second: the mean over
   * the run and the peak. cpu, memory, then each extended resource the peers have, by name.
   */
  readonly allocation: Readonly<Record<string, { readonly meanShare: number; readonly peakShare: number }>>
  /** The longest a slot that had run ran nowhere (a stop-first update, a failover), ms. */
  readonly longestSlotDownMs: number
  /**
   * The longest such stretch beyond the start of the copy that ended it, ms: what stopping, placing
   * and waiting added to the one task start a stop-first update cannot avoid.
   */
  readonly longestSlotDownBeyondStartMs: number
}

export interface SimResult {
  readonly metrics: SimMetrics
  readonly violations: readonly Violation[]
  /** duplicateSlotMs by service. */
  readonly duplicateSlotMsByService: Readonly<Record<string, number>>
  /** Every stretch a slot that had run ran nowhere, in the order they ended (open ones last). */
  readonly slotDown: readonly SlotDownStretch[]
  readonly faults: readonly FaultAction[]
  /** Placement latency CDF as [ms, fraction placed by then]. */
  readonly placementLatencyCdf: ReadonlyArray<readonly [number, number]>
  readonly series: ReadonlyArray<{ name: string; unit: string; points: Array<[number, number]>; group?: string }>
  /** Traffic between sites from SimOptions.siteLinksFromMs to the end; absent when not asked for. */
  readonly siteLinks?: SiteLinkFigures
}

type SimEvent =
  | { readonly t: 'wake'; readonly peer: number; readonly token: number }
  | { readonly t: 'deliver'; readonly to: number; readonly from: PeerId; readonly message: Message; readonly life: number }
  /** `startedAt` names the start it belongs to: news of a copy since stopped and started again is stale. */
  | { readonly t: 'task'; readonly peer: number; readonly life: number; readonly slot: SlotId; readonly startedAt: number; readonly state: TaskState; readonly exitCode?: number }
  | { readonly t: 'desired'; readonly to: number; readonly changes: readonly DesiredChange[]; readonly life: number }
  /** A broadcast arriving at its next recipient (fanout.ts): one event per broadcast, not per recipient. */
  | { readonly t: 'fanout'; readonly fanout: Fanout<Broadcast> }
  /** Broadcasts a partition held back, offered again after the heal (gossip-history.ts). */
  | { readonly t: 'regossip'; readonly from: number; readonly payload: Broadcast; readonly to: Int32Array }
  | { readonly t: 'sync'; readonly a: number; readonly b: number; readonly lifeA: number; readonly lifeB: number }
  | { readonly t: 'fault'; readonly action: FaultAction }
  | { readonly t: 'apply' }
  | { readonly t: 'edit'; readonly index: number }
  | { readonly t: 'sample' }
  | { readonly t: 'start'; readonly peer: number }

/** What a broadcast carries: a protocol message from a peer, or desired-state changes. */
type Broadcast =
  | { readonly kind: 'message'; readonly from: PeerId; readonly message: Message }
  | { readonly kind: 'desired'; readonly changes: readonly DesiredChange[] }

interface SimPeer {
  readonly id: PeerId
  readonly view: PeerView
  machine: PeerMachine | undefined
  /** Bumped on every kill, so events addressed to an earlier life are dropped. */
  life: number
  wakeAt: number
  wakeToken: number
  readonly desired: DesiredModel
  /** What really runs on the peer. */
  readonly running: Map<SlotId, { task: TaskView; up: boolean; startedAt: number }>
  /** The peer's local state on disk, for restarts after a kill. */
  disk: Array<{ task: TaskView; spec: ServiceSpec }>
  /** The members it knew when it died (on disk too, as the agent keeps them). */
  knownMembers: PeerId[]
  /** Slots its current life restored from disk; empty for a first life. */
  restoredSlots: Set<SlotId>
  paused: boolean
}

const FIRST_INCARNATION = 1
/**
 * What each side of a desired-state sync is counted as. The simulator does not run Automerge, so this
 * is a flat guess; a sync runs only when two peers' desired-state digests differ, never when idle.
 */
const SYNC_BYTES = 256
/** Longer than a start-first update's overlap on the modelled network, so only a copy left running counts. */
const OUTDATED_LIMIT_MS = 3_000

export class Simulation {
  private readonly queue = new EventQueue<SimEvent>()
  private readonly random: SeededRandom
  private readonly network: Network<SimEvent>
  /** Candidate rings shared by peers that see the same members (shared-rings.ts). */
  private readonly rings = sharedRingBuilder()
  /** One numbering of the peer ids for every machine's per-member columns (core/protocol/peer-numbers.ts). */
  private readonly peerNumbers = new PeerNumbers()
  /** Member records shared by the machines that make the same one (shared-records.ts). */
  private readonly memberRecords = sharedMemberRecords()
  private readonly peers: SimPeer[]
  private readonly index = new Map<PeerId, number>()
  private readonly config
  private readonly taskRandom: SeededRandom
  private readonly violations: Violation[] = []
  private readonly violationKeys = new Set<string>()
  // Bounded memory however many slots a run places (log buckets, ≤ 0.5 % relative error).
  private readonly placementLatency = new Histogram()
  private readonly failoverLatency = new Histogram()
  /** When each slot became needed and why: measured when a task for it is up. */
  private readonly neededSince = new Map<SlotId, { atMs: number; kind: 'placement' | 'failover'; lostOn?: PeerId }>()
  /** Slots that ever completed, keyed `${slot}#${specHash}`: ground truth for jobs. */
  private readonly completed = new Set<string>()
  /** The desired services as the user last set them, for measuring when a slot is really placed. */
  private readonly currentSpecs = new Map<string, ServiceSpec>()
  private replicasApplied = 0
  private messages = 0
  private readonly messagesByKind = new Map<string, number>()
  private bytes = 0
  private changeIds = 0
  private convergedAtMs = -1
  private readonly safetyEndMs: number
  private readonly applyAtMs: number
  private readonly faultTimeline: FaultAction[]
  private readonly seriesRunning: Array<[number, number]> = []
  private readonly seriesCpu: Array<[number, number]> = []
  /** Allocated share over time of memory and each extended resource (cpu has seriesCpu). */
  private readonly seriesAllocated = new Map<string, Array<[number, number]>>()
  private readonly allocationSum = new Map<string, number>()
  private readonly allocationPeak = new Map<string, number>()
  private allocationSamples = 0
  private readonly seriesMessages: Array<[number, number]> = []
  private messagesAtLastSample = 0
  private events = 0
  private restartStartedTwice = 0
  private restartMovedBack = 0
  private failoverStartedTwice = 0
  /** Slots lost with each killed peer that has not restarted yet, by peer. */
  private readonly lostWith = new Map<PeerId, Set<SlotId>>()
  private readonly copies = new CopyLedger((violation) => this.record(violation))
  private readonly outdated = new OutdatedLedger(OUTDATED_LIMIT_MS)
  private readonly slotDown = new SlotDownLedger()
  private readonly gossipHistory = new GossipHistory<Broadcast>()
  private readonly regossipRandom: SeededRandom
  private readonly siteLinks: SiteLinkLedger | undefined

  constructor(private readonly options: SimOptions) {
    this.random = seededRandom(options.seed)
    this.taskRandom = this.random.fork('tasks')
    this.regossipRandom = this.random.fork('regossip')
    this.peers = options.peers.map((view) => ({
      id: view.id, view, machine: undefined, life: 0, wakeAt: Infinity, wakeToken: 0,
      desired: new DesiredModel(), running: new Map(), disk: [], knownMembers: [], restoredSlots: new Set(), paused: false,
    }))
    this.peers.forEach((p, i) => this.index.set(p.id, i))
    this.siteLinks = options.siteLinksFromMs === undefined ? undefined : new SiteLinkLedger(this.peers.map((p) => p.view.labels.site), options.siteLinksFromMs)
    this.network = new Network<SimEvent>(options.network, this.random.fork('network'), this.peers.map((p) => p.id))
    const { links, ...onePerLink } = withProcessingSkew(defaultConfig(this.peers.length, options.profile), options.processingSkewMs ?? 0)
    const config = options.linkTiming === false ? onePerLink : { ...onePerLink, links }
    this.config = options.siteCutHoldMs === undefined ? config : { ...config, siteCutHoldMs: options.siteCutHoldMs }
    this.applyAtMs = options.applyAtMs ?? 1_000 + this.config.startupGraceMs
    this.safetyEndMs = options.safetyEndMs ?? Math.round(options.durationMs * 0.6)
    const plan = options.faultPlan ?? planFaults(options.faults, this.random.fork('faults'), {
      peers: this.peers.map((p) => p.id),
      durationMs: options.durationMs,
      safetyEndMs: this.safetyEndMs,
    })
    this.faultTimeline = faultActions(plan)
  }

  run(): SimResult {
    const startRandom = this.random.fork('start')
    // Peers come up over the first second, each joining through the first peer.
    this.peers.forEach((_, i) => this.queue.push(i === 0 ? 0 : startRandom.next() * 1_000, { t: 'start', peer: i }))
    this.queue.push(this.applyAtMs, { t: 'apply' })
    this.options.edits?.forEach((edit, index) => this.queue.push(this.applyAtMs + edit.atMs, { t: 'edit', index }))
    for (const action of this.faultTimeline) this.queue.push(action.atMs, { t: 'fault', action })
    const sampleEveryMs = this.options.sampleEveryMs ?? 1_000
    for (let at = sampleEveryMs; at <= this.options.durationMs; at += sampleEveryMs) this.queue.push(at, { t: 'sample' })
    // After the safety phase, check convergence often, so convergeMs is measured finely.
    for (let at = this.safetyEndMs; at <= this.options.durationMs; at += 100) this.queue.push(at, { t: 'sample' })

    for (;;) {
      const next = this.queue.pop()
      if (next === undefined || next.timeMs > this.options.durationMs) break
      this.events++
      this.handle(next.event, next.timeMs)
      this.options.watch?.step?.(next.timeMs, this.peers)
      if ((this.events & 0x3fff) === 0) this.options.onProgress?.({ simulatedMs: next.timeMs, events: this.events })
    }
    const end = this.options.durationMs
    const world = this.world(end)
    for (const check of LIVENESS_INVARIANTS) for (const v of check(world)) this.record(v)
    return this.result(world)
  }

  // --- events ---------------------------------------------------------------------------------

  private handle(event: SimEvent, now: number): void {
    switch (event.t) {
      case 'start':
        this.boot(event.peer, now)
        break
      case 'wake': {
        const peer = this.peers[event.peer]!
        if (event.token !== peer.wakeToken || peer.machine === undefined) return
        peer.wakeAt = Infinity
        // A paused process runs no timers; resume schedules its next wake.
        if (peer.paused) return
        this.act(event.peer, peer.machine.tick(now), now)
        break
      }
      case 'deliver':
        this.deliver(event, now)
        break
      case 'fanout': {
        const fanout = event.fanout
        const i = fanout.advance(this.queue, event)
        const to = fanout.to[i]!
        const life = fanout.lives[i]!
        const payload = fanout.payload
        // The event a separate push per recipient would have queued; built only for a recipient still there.
        if (this.peers[to]!.life !== life) return
        if (payload.kind === 'message') this.deliver({ t: 'deliver', to, from: payload.from, message: payload.message, life }, now)
        else this.deliverDesired({ t: 'desired', to, changes: payload.changes, life }, now)
        break
      }
      case 'regossip':
        this.fanOut(event.from, event.to, event.payload, now)
        break
      case 'task':
        this.onTaskEvent(event, now)
        break
      case 'desired':
        this.deliverDesired(event, now)
        break
      case 'sync': {
        const a = this.peers[event.a]!
        const b = this.peers[event.b]!
        if (a.machine === undefined || b.machine === undefined || a.life !== event.lifeA || b.life !== event.lifeB) return
        const toB = a.desired.missingFrom(b.desired)
        const toA = b.desired.missingFrom(a.desired)
        if (a.desired.merge(toA)) this.act(event.a, a.machine.desiredChanged(a.desired.view(), now), now)
        if (b.desired.merge(toB)) this.act(event.b, b.machine.desiredChanged(b.desired.view(), now), now)
        break
      }
      case 'fault':
        this.onFault(event.action, now)
        break
      case 'apply':
        this.applyServices(now)
        break
      case 'edit': {
        const edit = this.options.edits![event.index]!
        this.applyChanges([{ name: edit.name, spec: edit.spec }], now)
        break
      }
      case 'sample':
        this.sample(now)
        break
    }
  }

  private deliver(event: Extract<SimEvent, { t: 'deliver' }>, now: number): void {
    const machine = this.arrival(event)
    if (machine !== undefined) this.act(event.to, machine.receive(event.from, event.message, now), now)
  }

  private deliverDesired(event: Extract<SimEvent, { t: 'desired' }>, now: number): void {
    const machine = this.arrival(event)
    const peer = this.peers[event.to]!
    if (machine !== undefined && peer.desired.merge(event.changes)) this.act(event.to, machine.desiredChanged(peer.desired.view(), now), now)
  }

  /**
   * The machine that acts on an arrival now, if any: none when the peer died since it was sent (a
   * later life), and none yet when it is paused — the arrival is held until it resumes.
   */
  private arrival(event: Extract<SimEvent, { t: 'deliver' | 'desired' }>): PeerMachine | undefined {
    const peer = this.peers[event.to]!
    if (peer.machine === undefined || peer.life !== event.life) return undefined
    if (peer.paused) {
      this.network.hold(peer.id, event)
      return undefined
    }
    return peer.machine
  }

  private boot(index: number, now: number): void {
    const peer = this.peers[index]!
    peer.life++
    peer.paused = false
    // A new life has no timers: forget any wake scheduled for the previous one.
    peer.wakeAt = Infinity
    peer.wakeToken++
    peer.machine = new PeerMachine({
      self: peer.id,
      incarnation: FIRST_INCARNATION + Math.floor(now),
      capacity: peer.view.capacity,
      labels: peer.view.labels,
      drivers: peer.view.drivers,
      seeds: index === 0 ? [] : [this.peers[0]!.id],
      config: this.config,
      random: this.random.fork(`machine:${peer.id}:${peer.life}`),
      restored: peer.disk,
      knownMembers: peer.knownMembers,
      buildRing: this.rings,
      peerNumbers: this.peerNumbers,
      memberRecord: this.memberRecords,
    })
    // What ran before a power cut is gone (the kill cleared it); after a crash of the agent alone its
    // tasks still run, and the machine's start of a restored task adopts the one running.
    peer.restoredSlots = new Set(peer.disk.map((entry) => entry.task.slot))
    this.act(index, peer.machine.start(now), now)
    if (peer.desired.all().length > 0) this.act(index, peer.machine.desiredChanged(peer.desired.view(), now), now)
  }

  private applyServices(now: number): void {
    this.applyChanges(this.options.services.map((spec) => ({ name: spec.name, spec })), now)
  }

  /** A user's edit at the first live peer, spread as a change would be: locally, then broadcast. */
  private applyChanges(edits: ReadonlyArray<{ name: string; spec: ServiceSpec | null }>, now: number): void {
    const origin = this.peers.findIndex((p) => p.machine !== undefined)
    if (origin < 0) return
    const peer = this.peers[origin]!
    const lamport = peer.desired.nextLamport()
    const changes: DesiredChange[] = edits.map(({ name, spec }) => ({
      id: ++this.changeIds, lamport, value: { kind: 'service', name, spec },
    }))
    for (const { name, spec } of edits) {
      if (spec === null) {
        this.currentSpecs.delete(name)
        continue
      }
      this.currentSpecs.set(name, spec)
      this.replicasApplied += spec.mode === 'global' ? 0 : spec.replicas
      const slots = spec.mode === 'global' ? [] : Array.from({ length: spec.replicas }, (_, i) => `${spec.name}/${i}` as SlotId)
      for (const slot of slots) this.neededSince.set(slot, { atMs: now, kind: 'placement' })
    }
    peer.desired.merge(changes)
    this.act(origin, peer.machine!.desiredChanged(peer.desired.view(), now), now)
    this.broadcastDesired(origin, changes, now)
  }

  private broadcastDesired(from: number, changes: readonly DesiredChange[], now: number): void {
    const recipients = new Int32Array(this.peers.length - 1)
    for (let i = 0, n = 0; i < this.peers.length; i++) if (i !== from) recipients[n++] = i
    this.fanOut(from, recipients, { kind: 'desired', changes }, now)
  }

  /**
   * Sends one broadcast from peer `from` to `recipients` (peer indices) as one queued fanout,
   * returning the peers it will reach. Peers are registered with the network in index order, so its
   * indices are ours.
   */
  private fanOut(from: number, recipients: Int32Array, payload: Broadcast, now: number): Int32Array {
    const sender = this.peers[from]!.id
    const delivery = this.network.broadcastToIndices(sender, recipients)
    if (delivery.unreachable > 0) {
      const missed = Array.from(recipients).filter((to) => to !== from && !this.network.reachable(sender, this.peers[to]!.id))
      this.gossipHistory.hold({ atMs: now, from, payload, missed })
    }
    const count = delivery.indices.length
    if (count === 0) return delivery.indices
    const lives = new Int32Array(count)
    const atMs = new Float64Array(count)
    for (let i = 0; i < count; i++) {
      lives[i] = this.peers[delivery.indices[i]!]!.life
      atMs[i] = now + delivery.delaysMs[i]!
    }
    const fanout = new Fanout(this.queue, payload, delivery.indices, lives, atMs)
    fanout.start(this.queue, { t: 'fanout', fanout })
    return delivery.indices
  }

  /** Carries out a machine's outputs in the modelled world. */
  private act(index: number, outputs: readonly Output[], now: number): void {
    const peer = this.peers[index]!
    if (peer.machine !== undefined) this.options.watch?.acted?.(index, peer.machine, now)
    for (const output of outputs) {
      if (this.options.freezeMessages === true && (output.kind === 'send' || output.kind === 'broadcast')) deepFreeze(output.message)
      switch (output.kind) {
        case 'send': {
          const to = this.index.get(output.to)
          if (to === undefined) break
          const size = messageBytes(output.message)
          for (const delay of this.network.deliveryDelays(peer.id, output.to)) {
            this.count(output.message.kind, size)
            this.siteLinks?.record(index, to, output.message.kind, size, now)
            this.queue.push(now + delay, { t: 'deliver', to, from: peer.id, message: output.message, life: this.peers[to]!.life })
          }
          break
        }
        case 'broadcast': {
          const size = messageBytes(output.message)
          const recipients = new Int32Array(this.peers.length)
          let n = 0
          for (let i = 0; i < this.peers.length; i++) if (i !== index && this.peers[i]!.machine !== undefined) recipients[n++] = i
          const reached = this.fanOut(index, recipients.subarray(0, n), { kind: 'message', from: peer.id, message: output.message }, now)
          this.count(output.message.kind, size, reached.length)
          this.siteLinks?.recordEach(index, reached, output.message.kind, size, now)
          break
        }
        case 'start-task': {
          this.options.watch?.started?.(peer.id, output.task.slot, now)
          if (peer.restoredSlots.size > 0 && this.runsElsewhere(output.task.slot, peer)) this.restartStartedTwice++
          else if (this.lostInFailover(output.task.slot) && this.runsElsewhere(output.task.slot, peer)) this.failoverStartedTwice++
          peer.running.set(output.task.slot, { task: output.task, up: false, startedAt: now })
          this.options.onTaskStart?.({ peer: peer.id, slot: output.task.slot, atMs: now })
          this.copies.started(output.task.slot, peer.id, output.spec, now)
          const startMs = lognormal(this.taskRandom, this.options.taskStartMs ?? 200, lognormalSigma(this.options.taskStartMs ?? 200, (this.options.taskStartMs ?? 200) * 3))
          this.queue.push(now + startMs, { t: 'task', peer: index, life: peer.life, slot: output.task.slot, startedAt: now, state: 'running' })
          if (output.spec.healthcheck !== null) {
            this.queue.push(now + startMs + output.spec.healthcheck.intervalMs * 0.2, { t: 'task', peer: index, life: peer.life, slot: output.task.slot, startedAt: now, state: 'healthy' })
          }
          if (output.spec.mode === 'job') {
            this.queue.push(now + startMs + 5_000, { t: 'task', peer: index, life: peer.life, slot: output.task.slot, startedAt: now, state: 'exited', exitCode: 0 })
          }
          break
        }
        case 'stop-task':
          if (peer.running.has(output.slot) && this.keptByRestoredCopy(output.slot, peer)) this.restartMovedBack++
          peer.running.delete(output.slot)
          this.copies.stopped(output.slot, peer.id, now)
          this.slotDown.down(output.slot, peer.id, now)
          break
        case 'sync-desired': {
          const other = this.index.get(output.peer)
          if (other === undefined) break
          const there = this.network.deliveryDelays(peer.id, output.peer)
          const back = this.network.deliveryDelays(output.peer, peer.id)
          if (there.length === 0 || back.length === 0) break
          this.count('sync', SYNC_BYTES)
          this.count('sync', SYNC_BYTES)
          this.siteLinks?.record(index, other, 'sync', SYNC_BYTES, now)
          this.siteLinks?.record(other, index, 'sync', SYNC_BYTES, now)
          this.queue.push(now + there[0]! + back[0]!, { t: 'sync', a: index, b: other, lifeA: peer.life, lifeB: this.peers[other]!.life })
          break
        }
        case 'rollback':
          break
      }
    }
    this.scheduleWake(index, now)
  }

  /** Whether `slot` really runs on a live peer other than `peer`. */
  private runsElsewhere(slot: SlotId, peer: SimPeer): boolean {
    return this.peers.some((other) => other !== peer && other.machine !== undefined && other.running.has(slot))
  }

  /** Whether `slot` was lost with a killed peer that has not restarted since. */
  private lostInFailover(slot: SlotId): boolean {
    for (const slots of this.lostWith.values()) if (slots.has(slot)) return true
    return false
  }

  /** Whether a live peer other than `peer` runs `slot` from the tasks it restored at its restart. */
  private keptByRestoredCopy(slot: SlotId, peer: SimPeer): boolean {
    return this.peers.some((other) => other !== peer && other.machine !== undefined && other.restoredSlots.has(slot) && other.running.has(slot))
  }

  /** What the agent has on disk when it dies: its tasks (persisted on every change) with their specs. */
  private snapshotDisk(peer: SimPeer): SimPeer['disk'] {
    if (peer.machine === undefined) return peer.disk
    const specs = new Map(peer.desired.view().services.map((spec) => [spec.name as string, spec]))
    const disk: SimPeer['disk'] = []
    for (const task of peer.machine.localTasks()) {
      const spec = specs.get(task.service)
      if (spec !== undefined) disk.push({ task, spec })
    }
    return disk
  }

  private scheduleWake(index: number, now: number): void {
    const peer = this.peers[index]!
    if (peer.machine === undefined) return
    const at = Math.max(now, peer.machine.nextWakeAt())
    if (at === Infinity || at >= peer.wakeAt) return
    peer.wakeAt = at
    this.queue.push(at, { t: 'wake', peer: index, token: ++peer.wakeToken })
  }

  private onTaskEvent(event: Extract<SimEvent, { t: 'task' }>, now: number): void {
    const peer = this.peers[event.peer]!
    if (peer.machine === undefined || peer.life !== event.life) return
    const running = peer.running.get(event.slot)
    if (running === undefined || running.startedAt !== event.startedAt) return
    // The copy is up whether or not its agent can hear of it yet.
    if (event.state === 'running' || event.state === 'healthy') this.slotDown.up(event.slot, peer.id, running.startedAt, now)
    if (peer.paused) {
      // The task changed while its agent was paused; the agent learns of it when it resumes.
      this.network.hold(peer.id, event)
      return
    }
    if (event.state === 'running' || event.state === 'healthy') {
      running.up = true
      const needed = this.neededSince.get(event.slot)
      if (needed !== undefined && running.task.specHash === this.desiredHash(running.task.service)) {
        this.neededSince.delete(event.slot)
        // Failover means running elsewhere: a killed peer that restarts its own tasks is not one.
        if (needed.kind === 'placement') this.placementLatency.record(now - needed.atMs)
        else if (needed.lostOn !== peer.id) this.failoverLatency.record(now - needed.atMs)
      }
    } else if (event.state === 'exited' || event.state === 'failed') {
      peer.running.delete(event.slot)
      this.copies.stopped(event.slot, peer.id, now)
      this.slotDown.down(event.slot, peer.id, now)
      if (event.exitCode === 0) this.completed.add(`${event.slot}#${running.task.specHash}`)
    }
    this.act(event.peer, peer.machine.taskChanged(event.slot, event.state, now, event.exitCode), now)
  }

  /** Whether a replica slot is still wanted by the desired services as the user last set them. */
  private stillDesired(slot: string): boolean {
    const at = slot.lastIndexOf('/')
    const spec = at < 0 ? undefined : this.currentSpecs.get(slot.slice(0, at))
    return spec !== undefined && spec.mode !== 'global' && Number(slot.slice(at + 1)) < spec.replicas
  }

  private desiredHash(service: string): string | undefined {
    const spec = this.currentSpecs.get(service)
    return spec === undefined ? undefined : placementRequest(spec).specHash
  }

  private onFault(action: FaultAction, now: number): void {
    switch (action.kind) {
      case 'kill': {
        const index = this.index.get(action.peer as PeerId)!
        const peer = this.peers[index]!
        if (peer.machine === undefined) return
        for (const slot of peer.running.keys()) if (!this.neededSince.has(slot)) this.neededSince.set(slot, { atMs: now, kind: 'failover', lostOn: peer.id })
        this.lostWith.set(peer.id, new Set(peer.running.keys()))
        peer.disk = this.snapshotDisk(peer)
        peer.knownMembers = peer.machine.memberRecords()
          .filter((record) => record.peer !== peer.id && (record.status === 'alive' || record.status === 'suspect'))
          .map((record) => record.peer)
        peer.machine = undefined
        peer.life++
        peer.wakeAt = Infinity
        peer.wakeToken++
        if (!action.keepTasks) {
          for (const slot of peer.running.keys()) {
            this.copies.stopped(slot, peer.id, now)
            this.slotDown.down(slot, peer.id, now)
          }
          peer.running.clear()
        }
        break
      }
      case 'restart':
        this.lostWith.delete(action.peer as PeerId)
        this.boot(this.index.get(action.peer as PeerId)!, now)
        break
      case 'partition':
        this.network.partition(action.groups)
        break
      case 'heal-partition':
        this.network.heal()
        this.regossip(now)
        break
      case 'pause': {
        const peer = this.peers[this.index.get(action.peer as PeerId)!]!
        peer.paused = true
        this.network.pause(peer.id)
        break
      }
      case 'resume':
        this.resume(this.index.get(action.peer as PeerId)!, now)
        break
      case 'loss-start':
        this.network.setLoss(action.probability)
        break
      case 'loss-end':
        this.network.setLoss(this.options.network.loss)
        break
      case 'duplicate-start':
        this.network.setDuplicate(action.probability)
        break
      case 'duplicate-end':
        this.network.setDuplicate(this.options.network.duplicate)
        break
      case 'heal':
        // The safety phase ends: partitions heal and loss returns to the network's own base rate.
        this.network.heal()
        this.regossip(now)
        this.network.setLoss(this.options.network.loss)
        this.network.setDuplicate(this.options.network.duplicate)
        this.peers.forEach((peer, index) => {
          if (peer.paused) this.resume(index, now)
        })
        break
    }
  }

  /**
   * The links are back: what was broadcast in the last gossip history window and missed someone
   * reaches them now, each broadcast at a heartbeat within the next (gossip-history.ts).
   */
  private regossip(now: number): void {
    for (const held of this.gossipHistory.takeAtHeal(now)) {
      const to = Int32Array.from(held.missed.filter((i) => this.peers[i]!.machine !== undefined))
      if (to.length > 0) this.queue.push(now + this.regossipRandom.next() * GOSSIP_HEARTBEAT_MS, { t: 'regossip', from: held.from, payload: held.payload, to })
    }
  }

  /** A paused peer runs again: what arrived meanwhile is handled now, and its timers restart. */
  private resume(index: number, now: number): void {
    const peer = this.peers[index]!
    peer.paused = false
    for (const held of this.network.resume(peer.id)) this.handle(held, now)
    this.scheduleWake(index, now)
  }

  // --- observation ----------------------------------------------------------------------------

  /** Counts `copies` deliveries of a message of `kind` and `bytes`. */
  private count(kind: string, bytes: number, copies = 1): void {
    this.messages += copies
    this.messagesByKind.set(kind, (this.messagesByKind.get(kind) ?? 0) + copies)
    this.bytes += bytes * copies
  }

  private world(now: number): WorldState {
    const live = this.peers.filter((p) => p.machine !== undefined)
    const tasks: RunningTask[] = []
    for (const peer of live) {
      for (const { task } of peer.running.values()) {
        tasks.push({
          peer: peer.id, slot: task.slot, service: task.service, specHash: task.specHash, cpuMilli: task.resources.cpuMilli, memoryMiB: task.resources.memoryMiB,
          ...(hasAny(task.resources.extended) ? { extended: task.resources.extended } : {}),
        })
      }
    }
    const digests = new Map(live.map((p) => [p.id as string, p.desired.view().digest]))
    const services = live[0]?.desired.view().services ?? []
    const done = this.completed
    const globalPeers = new Map<string, string[]>()
    for (const spec of services) {
      if (spec.mode !== 'global') continue
      const want = placementRequest(spec)
      globalPeers.set(spec.name, live.filter((p) => p.view.drivers.includes(spec.driver) && want.constraints.every((c) => c.test(p.view.labels))).map((p) => p.id))
    }
    const liveViews: PeerView[] = live.map((p) => {
      const running = [...p.running.values()].map((r) => ({ ...r.task, state: 'running' as const }))
      const allocated = running.reduce((sum, t) => addResources(sum, t.resources), NO_RESOURCES)
      return { ...p.view, state: 'alive', tasks: running, allocated }
    })
    return {
      atMs: now,
      peers: live.map((p) => ({
        id: p.id, cpuMilli: p.view.capacity.cpuMilli, memoryMiB: p.view.capacity.memoryMiB,
        ...(hasAny(p.view.capacity.extended) ? { extended: p.view.capacity.extended } : {}),
      })),
      tasks, services, done, digests, globalPeers, liveViews, memberCount: this.peers.length,
    }
  }

  private sample(now: number): void {
    const world = this.world(now)
    for (const check of SAFETY_INVARIANTS) for (const v of check(world)) this.record(v)
    this.outdated.sample(world.tasks, (service) => this.desiredHash(service), now)
    if (now >= this.safetyEndMs && this.convergedAtMs < 0 && now > this.applyAtMs) {
      const problems = LIVENESS_INVARIANTS.flatMap((check) => check(world))
      if (problems.length === 0) this.convergedAtMs = now
    }
    if (now % (this.options.sampleEveryMs ?? 1_000) === 0) {
      const up = world.tasks.length
      let cpu = 0
      let capacity = 0
      for (const t of world.tasks) cpu += t.cpuMilli
      for (const p of world.peers) capacity += p.cpuMilli
      this.seriesRunning.push([now, up])
      this.seriesCpu.push([now, capacity === 0 ? 0 : round(cpu / capacity, 4)])
      this.sampleAllocation(world, now)
      const live = Math.max(1, world.peers.length)
      const perSecond = (this.messages - this.messagesAtLastSample) / live / ((this.options.sampleEveryMs ?? 1_000) / 1000)
      this.messagesAtLastSample = this.messages
      this.seriesMessages.push([now, round(perSecond, 2)])
    }
  }

  /** Every resource's allocated share of live capacity at `now`, for the mean, the peak and the chart. */
  private sampleAllocation(world: WorldState, now: number): void {
    const capacity = new Map<string, number>([['cpu', 0], ['memory', 0]])
    const allocated = new Map<string, number>([['cpu', 0], ['memory', 0]])
    const add = (into: Map<string, number>, name: string, amount: number) => into.set(name, (into.get(name) ?? 0) + amount)
    for (const p of world.peers) {
      add(capacity, 'cpu', p.cpuMilli)
      add(capacity, 'memory', p.memoryMiB)
      for (const name in p.extended) add(capacity, name, p.extended[name]!)
    }
    for (const t of world.tasks) {
      add(allocated, 'cpu', t.cpuMilli)
      add(allocated, 'memory', t.memoryMiB)
      for (const name in t.extended) add(allocated, name, t.extended[name]!)
    }
    // A resource seen once stays in the report; a later sample without it (its peers died) counts 0.
    for (const name of capacity.keys()) if (!this.allocationSum.has(name)) this.allocationSum.set(name, 0)
    this.allocationSamples++
    for (const name of this.allocationSum.keys()) {
      const have = capacity.get(name) ?? 0
      const share = have === 0 ? 0 : (allocated.get(name) ?? 0) / have
      this.allocationSum.set(name, this.allocationSum.get(name)! + share)
      this.allocationPeak.set(name, Math.max(this.allocationPeak.get(name) ?? 0, share))
      if (name === 'cpu') continue
      let series = this.seriesAllocated.get(name)
      if (series === undefined) this.seriesAllocated.set(name, (series = []))
      series.push([now, round(share, 4)])
    }
  }

  /** Desired slots with no task of the desired version running on a live peer. */
  private pendingAtEnd(world: WorldState): number {
    const running = new Set<string>()
    for (const t of world.tasks) running.add(`${t.slot}#${t.specHash}`)
    let pending = 0
    for (const spec of this.currentSpecs.values()) {
      if (spec.mode === 'global') continue
      const hash = placementRequest(spec).specHash
      for (let i = 0; i < spec.replicas; i++) {
        const key = `${spec.name}/${i}#${hash}`
        if (!running.has(key) && !(spec.mode === 'job' && this.completed.has(key))) pending++
      }
    }
    return pending
  }

  private record(violation: Violation): void {
    const key = `${violation.invariant}|${violation.detail}`
    if (this.violationKeys.has(key)) return
    this.violationKeys.add(key)
    this.violations.push(violation)
  }

  private result(world: WorldState): SimResult {
    const seconds = this.options.durationMs / 1000
    let cpu = 0
    let memory = 0
    let cpuCapacity = 0
    let memoryCapacity = 0
    for (const t of world.tasks) {
      cpu += t.cpuMilli
      memory += t.memoryMiB
    }
    for (const p of world.peers) {
      cpuCapacity += p.cpuMilli
      memoryCapacity += p.memoryMiB
    }
    const replicas = this.replicasApplied
    const duplicates = this.copies.duplicateSlotMsByService(this.options.durationMs)
    const stretches = this.slotDown.stretches(this.options.durationMs, (slot) => this.stillDesired(slot))
    const down = slotDownSummary(stretches)
    return {
      metrics: {
        peers: this.peers.length,
        services: this.currentSpecs.size,
        replicas,
        placementMsP50: latencyMs(this.placementLatency, 50),
        placementMsP99: latencyMs(this.placementLatency, 99),
        placementsMeasured: this.placementLatency.count,
        failoverMsP50: latencyMs(this.failoverLatency, 50),
        failoverMsP99: latencyMs(this.failoverLatency, 99),
        failoversMeasured: this.failoverLatency.count,
        convergeMs: this.convergedAtMs < 0 ? -1 : Math.round(this.convergedAtMs - this.safetyEndMs),
        duplicateSlotMs: Object.values(duplicates).reduce((sum, ms) => sum + ms, 0),
        msgsPerPeerPerSec: round(this.messages / this.peers.length / seconds, 2),
        bytesPerPeerPerSec: Math.round(this.bytes / this.peers.length / seconds),
        messagesByKind: Object.fromEntries([...this.messagesByKind].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
        cpuUtilisation: cpuCapacity === 0 ? 0 : round(cpu / cpuCapacity, 4),
        memoryUtilisation: memoryCapacity === 0 ? 0 : round(memory / memoryCapacity, 4),
        events: this.events,
        restartStartedTwice: this.restartStartedTwice,
        restartMovedBack: this.restartMovedBack,
        failoverStartedTwice: this.failoverStartedTwice,
        outdatedBesideDesired: this.outdated.slots,
        pendingSlots: this.pendingAtEnd(world),
        neverPlacedSlots: [...this.neededSince.values()].filter((n) => n.kind === 'placement').length,
        allocation: Object.fromEntries(resourceOrder(this.allocationSum.keys()).map((name) => [name, {
          meanShare: this.allocationSamples === 0 ? 0 : round(this.allocationSum.get(name)! / this.allocationSamples, 4),
          peakShare: round(this.allocationPeak.get(name) ?? 0, 4),
        }])),
        longestSlotDownMs: Math.round(down.longestMs),
        longestSlotDownBeyondStartMs: Math.round(down.longestBeyondStartMs),
      },
      slotDown: stretches,
      violations: this.violations,
      duplicateSlotMsByService: duplicates,
      faults: this.faultTimeline,
      placementLatencyCdf: this.placementLatency.count === 0 ? [] : this.placementLatency.cdf(),
      ...(this.siteLinks === undefined ? {} : { siteLinks: this.siteLinks.figures(this.options.durationMs) }),
      series: [
        { name: 'tasks running', unit: 'tasks', points: this.seriesRunning },
        { name: 'cpu allocated', unit: 'fraction', points: this.seriesCpu, group: 'resources allocated' },
        ...resourceOrder(this.seriesAllocated.keys()).filter((name) => this.seriesAllocated.has(name)).map((name) => ({
          name: `${name} allocated`, unit: 'fraction', points: this.seriesAllocated.get(name)!, group: 'resources allocated',
        })),
        { name: 'messages per peer per second', unit: 'msg/s', points: this.seriesMessages },
      ],
    }
  }
}

const hasAny = (record: Readonly<Record<string, number>>): boolean => Object.keys(record).length > 0

/** A latency histogram's percentile p in ms to 0.1 ms, or -1 when nothing was measured. */
function latencyMs(histogram: Histogram, p: number): number {
  return histogram.count === 0 ? -1 : round(histogram.percentile(p), 1)
}

/** Freezes `value` and everything it holds. */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const inner of Object.values(value)) deepFreeze(inner)
}
