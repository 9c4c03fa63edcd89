// A small in-memory cluster for the protocol machine's tests: N PeerMachines, one virtual clock, a
// time-ordered queue of deliveries, wakes and task reports, and a fixed link latency. A modelled
// runtime answers 'start-task' with 'running' (and 'healthy' when the spec has a health check) after a
// fixed delay. Tests can drop messages, partition, kill, restart and add peers, feed desired state to
// all or some peers, and read back every output each machine produced. Deterministic: one seed.
//
// Kept independent of sim/ on purpose: the tests should not depend on the simulator they help check.

import {
  defaultConfig, PeerMachine, peerId, replicaSlot, seededRandom, serviceName, validateServices,
  type DesiredView, type Driver, type MachineConfig, type MachineInit, type MemberRecord, type Message, type Output, type PeerId,
  type PeerSettings, type Random, type Resources, type ServiceSpec, type SlotId, type TaskState, type TaskView,
} from '../../../core/index.js'
import type { ProtocolEvent } from '../../../core/index.js'

// --- options --------------------------------------------------------------------------------------

export interface PeerOptions {
  readonly id: string
  readonly labels?: Record<string, string>
  readonly capacity?: Resources
  readonly drivers?: Driver[]
}

/** One step of a modelled task after its start: report `state` this long after the start. */
export interface TaskStep {
  readonly afterMs: number
  readonly state: TaskState
  readonly exitCode?: number
}

/** What the modelled runtime does with a started task. */
export type TaskScript = (peer: PeerId, task: TaskView, spec: ServiceSpec) => TaskStep[]

export interface ClusterOptions {
  /** A count (peers p0, p1, …) or the peers themselves. */
  readonly peers: number | ReadonlyArray<string | PeerOptions>
  /** One-way delay of every message, ms. */
  readonly latencyMs?: number
  /** Time from 'start-task' to 'running', ms. */
  readonly taskStartMs?: number
  readonly seed?: number
  /** Overrides of defaultConfig(N). */
  readonly config?: Partial<MachineConfig>
  /** Peers every peer joins through; default the first peer. */
  readonly seeds?: readonly string[]
  /** Carry out 'sync-desired' by handing the newer desired view to the older side. Default true. */
  readonly syncDesired?: boolean
  /** Overrides the modelled runtime (default: running after taskStartMs, healthy 50 ms later if checked). */
  readonly script?: TaskScript
}

export const DEFAULT_CAPACITY: Resources = { cpuMilli: 4000, memoryMiB: 8192, extended: {} }

// --- world ----------------------------------------------------------------------------------------

export interface RunningTask {
  readonly task: TaskView
  readonly spec: ServiceSpec
  /** Start number on this peer: reports of an earlier start of the slot are ignored. */
  readonly run: number
  state: TaskState
  since: number
}

export interface SimPeer {
  readonly id: PeerId
  readonly labels: Record<string, string>
  readonly capacity: Resources
  readonly drivers: Driver[]
  machine: PeerMachine
  /** Whether the host feeds its machine (false once killed or left). */
  up: boolean
  /** Bumped on every kill and restart: messages and reports for an earlier life are dropped. */
  life: number
  incarnation: number
  wakeAt: number
  wakeToken: number
  desired: { view: DesiredView; version: number }
  /** What really runs on the host, by slot. */
  readonly running: Map<SlotId, RunningTask>
  /** What the host would restore after a crash: its machine's tasks at the time (active or ended). */
  disk: Array<{ task: TaskView; spec: ServiceSpec }>
  /** The members its machine held alive or suspect when it died (kept on disk, as the agent does). */
  knownMembers: PeerId[]
  /** The spec each slot was last started with here, kept after the task ends (the host's local state). */
  readonly specs: Map<SlotId, ServiceSpec>
}

export interface LogEntry {
  readonly at: number
  readonly peer: PeerId
  readonly output: Output
}

export interface ReportEntry {
  readonly at: number
  readonly peer: PeerId
  readonly slot: SlotId
  readonly state: TaskState
  readonly exitCode?: number
}

type Event =
  | { readonly kind: 'deliver'; readonly to: PeerId; readonly from: PeerId; readonly message: Message; readonly life: number }
  | { readonly kind: 'wake'; readonly peer: PeerId; readonly token: number }
  | { readonly kind: 'task'; readonly peer: PeerId; readonly life: number; readonly run: number; readonly slot: SlotId; readonly step: TaskStep }
  | { readonly kind: 'call'; readonly fn: () => void }

interface Queued {
  readonly at: number
  readonly order: number
  readonly event: Event
}

/** A link rule: return true to drop this message. */
export type DropRule = (from: PeerId, to: PeerId, message: Message) => boolean

const EMPTY_VIEW: DesiredView = { digest: 'empty', services: [], peers: new Map() }

export const p = peerId
export const slot = (service: string, index: number): SlotId => replicaSlot(serviceName(service), index)

/** Validated services from the body a user would write: `services({ web: { command: 'serve', replicas: 3 } })`. */
export function services(body: Record<string, unknown>): ServiceSpec[] {
  const result = validateServices({ services: body })
  if (!result.ok) throw new Error(`invalid services: ${JSON.stringify(result.errors)}`)
  return result.services
}

/** One validated service named `name`. */
export function service(name: string, body: Record<string, unknown>): ServiceSpec {
  return services({ [name]: body })[0]!
}

/** A lone machine for input/output tests, with small defaults (4 cores, 8 GiB, both drivers, no seeds). */
export function makeMachine(init: Partial<Omit<MachineInit, 'self'>> & { self: string }): PeerMachine {
  return new PeerMachine({
    incarnation: 1,
    capacity: DEFAULT_CAPACITY,
    labels: {},
    drivers: ['docker', 'process'],
    seeds: [],
    config: defaultConfig(3),
    random: seededRandom(7),
    ...init,
    self: p(init.self),
  })
}

export class Cluster {
  now = 0
  readonly config: MachineConfig
  readonly latencyMs: number
  readonly taskStartMs: number
  readonly peers = new Map<PeerId, SimPeer>()
  /** Every output of every machine, in order. */
  readonly log: LogEntry[] = []
  /** Every task state change the runtime reported to a machine. */
  readonly reports: ReportEntry[] = []
  /** Messages addressed to peers that are not in the cluster (fakes a test talks through). */
  readonly external: Array<{ at: number; from: PeerId; to: PeerId; message: Message }> = []
  /** Called with each output before the world carries it out (the world is as it was when it was emitted). */
  readonly hooks: Array<(peer: PeerId, output: Output, now: number) => void> = []
  /** What every machine told its observer (core/protocol/observer.ts), in order. */
  readonly observed: Array<{ readonly peer: PeerId; readonly event: ProtocolEvent }> = []
  script: TaskScript

  private readonly queue: Queued[] = []
  private order = 0
  private readonly rules = new Set<DropRule>()
  private readonly random: Random
  private readonly seeds: PeerId[]
  private readonly syncDesired: boolean
  private desiredVersion = 0
  private runs = 0
  private sameTimeEvents = 0
  private lastEventAt = -1

  constructor(options: ClusterOptions) {
    const list: PeerOptions[] = typeof options.peers === 'number'
      ? Array.from({ length: options.peers }, (_, i) => ({ id: `p${i}` }))
      : options.peers.map((item) => (typeof item === 'string' ? { id: item } : item))
    this.config = { ...defaultConfig(list.length), ...options.config }
    this.latencyMs = options.latencyMs ?? 1
    this.taskStartMs = options.taskStartMs ?? 50
    this.random = seededRandom(options.seed ?? 1)
    this.seeds = (options.seeds ?? [list[0]!.id]).map(p)
    this.syncDesired = options.syncDesired ?? true
    this.script = options.script ?? ((_peer, _task, spec) => [
      { afterMs: this.taskStartMs, state: 'running' },
      ...(spec.healthcheck === null ? [] : [{ afterMs: this.taskStartMs + 50, state: 'healthy' as const }]),
    ])
    for (const options of list) this.add(options)
  }

  // --- peers ------------------------------------------------------------------------------------

  peer(id: string): SimPeer {
    const found = this.peers.get(p(id))
    if (found === undefined) throw new Error(`no peer ${id}`)
    return found
  }

  machine(id: string): PeerMachine {
    return this.peer(id).machine
  }

  ids(): PeerId[] {
    return [...this.peers.keys()]
  }

  /** Adds a peer (not started). */
  add(options: PeerOptions): SimPeer {
    const id = p(options.id)
    const peer: SimPeer = {
      id,
      labels: options.labels ?? {},
      capacity: options.capacity ?? DEFAULT_CAPACITY,
      drivers: options.drivers ?? ['docker', 'process'],
      machine: undefined as unknown as PeerMachine,
      up: false,
      life: 0,
      incarnation: 0,
      wakeAt: Infinity,
      wakeToken: 0,
      desired: { view: EMPTY_VIEW, version: 0 },
      running: new Map(),
      disk: [],
      knownMembers: [],
      specs: new Map(),
    }
    peer.machine = this.build(peer, [])
    this.peers.set(id, peer)
    return peer
  }

  /** Starts every peer not yet started, now. */
  startAll(): void {
    for (const peer of this.peers.values()) if (!peer.up && peer.life === 0) this.start(peer.id)
  }

  /** Starts a peer's current machine; it is given the desired state its host holds, as an agent loads it. */
  start(id: string): void {
    const peer = this.peer(id)
    peer.up = true
    if (peer.life === 0) peer.life = 1
    this.feed(peer, peer.machine.start(this.now))
    if (peer.desired.version > 0) this.feed(peer, peer.machine.desiredChanged(peer.desired.view, this.now))
  }

  /** The host dies: its machine is no longer fed, what ran on it is gone, and its disk keeps its tasks. */
  kill(id: string): void {
    const peer = this.peer(id)
    peer.disk = this.diskOf(peer)
    peer.knownMembers = peer.machine.memberRecords()
      .filter((record) => record.peer !== peer.id && (record.status === 'alive' || record.status === 'suspect'))
      .map((record) => record.peer)
    peer.up = false
    peer.life++
    peer.wakeAt = Infinity
    peer.running.clear()
  }

  /**
   * A new life of a peer: a fresh machine with a higher incarnation that restores the tasks it ran
   * (unless `restore` is false), then started.
   */
  restart(id: string, options: { restore?: boolean; incarnation?: number } = {}): PeerMachine {
    const peer = this.peer(id)
    if (peer.up) this.kill(id)
    peer.life++
    peer.machine = this.build(peer, options.restore === false ? [] : peer.disk, options.incarnation, options.restore === false ? [] : peer.knownMembers)
    this.start(id)
    return peer.machine
  }

  /** Graceful leave: the machine says goodbye, then its host stops it and its tasks. */
  leave(id: string): void {
    const peer = this.peer(id)
    this.feed(peer, peer.machine.leave(this.now))
    peer.up = false
    peer.life++
    peer.running.clear()
  }

  private build(peer: SimPeer, restored: Array<{ task: TaskView; spec: ServiceSpec }>, incarnation?: number, knownMembers: PeerId[] = []): PeerMachine {
    peer.incarnation = incarnation ?? peer.incarnation + 1
    return new PeerMachine({
      self: peer.id,
      incarnation: peer.incarnation,
      capacity: peer.capacity,
      labels: peer.labels,
      drivers: peer.drivers,
      seeds: this.seeds,
      config: this.config,
      random: this.random.fork(`${peer.id}#${peer.incarnation}`),
      restored,
      knownMembers,
      observe: (event) => this.observed.push({ peer: peer.id, event }),
    })
  }

  private diskOf(peer: SimPeer): Array<{ task: TaskView; spec: ServiceSpec }> {
    const out: Array<{ task: TaskView; spec: ServiceSpec }> = []
    for (const task of peer.machine.localTasks()) {
      const spec = peer.specs.get(task.slot)
      if (spec !== undefined) out.push({ task, spec })
    }
    return out
  }

  // --- network ----------------------------------------------------------------------------------

  /** Drops every message the rule matches until the returned function is called. */
  drop(rule: DropRule): () => void {
    this.rules.add(rule)
    return () => this.rules.delete(rule)
  }

  /** Cuts every link between the two groups until the returned function (or heal) is called. */
  partition(a: readonly string[], b: readonly string[]): () => void {
    const left = new Set(a.map(p))
    const right = new Set(b.map(p))
    return this.drop((from, to) => (left.has(from) && right.has(to)) || (right.has(from) && left.has(to)))
  }

  /** Removes every drop rule and partition. */
  heal(): void {
    this.rules.clear()
  }

  /** Whether a message on this link would get through now. */
  linked(from: PeerId, to: PeerId, message: Message): boolean {
    for (const rule of this.rules) if (rule(from, to, message)) return false
    return true
  }

  /** Delivers a message to a peer as if `from` (any id, also one outside the cluster) had sent it now. */
  inject(from: string, to: string, message: Message): Output[] {
    const peer = this.peer(to)
    const outputs = peer.machine.receive(p(from), message, this.now)
    this.feed(peer, outputs)
    return outputs
  }

  /** The host of `id` reports a new connection to `other`. */
  connect(id: string, other: string): Output[] {
    const peer = this.peer(id)
    const outputs = peer.machine.connected(p(other), this.now)
    this.feed(peer, outputs)
    return outputs
  }

  // --- desired state ----------------------------------------------------------------------------

  /**
   * A new desired-state version (services and per-peer settings), given at once to `to` (default every
   * peer). Peers not given it learn it through 'sync-desired'. Returns the view.
   */
  apply(services: readonly ServiceSpec[], options: { to?: readonly string[]; settings?: Record<string, Partial<PeerSettings>> } = {}): DesiredView {
    const version = ++this.desiredVersion
    const settings = new Map<PeerId, PeerSettings>()
    for (const [id, partial] of Object.entries(options.settings ?? {})) {
      settings.set(p(id), { drain: false, cordon: false, labels: {}, ...partial })
    }
    const view: DesiredView = { digest: `v${version}`, services, peers: settings }
    const targets = options.to?.map((id) => this.peer(id)) ?? [...this.peers.values()]
    for (const peer of targets) this.adopt(peer, view, version)
    return view
  }

  private adopt(peer: SimPeer, view: DesiredView, version: number): void {
    if (peer.desired.version >= version) return
    peer.desired = { view, version }
    if (peer.up) this.feed(peer, peer.machine.desiredChanged(view, this.now))
  }

  // --- tasks ------------------------------------------------------------------------------------

  /** The runtime reports a task's exit (removing it from what runs) and the machine hears of it. */
  exit(id: string, slotId: SlotId, exitCode: number, state: 'exited' | 'failed' = 'exited'): Output[] {
    const peer = this.peer(id)
    peer.running.delete(slotId)
    return this.report(peer, slotId, state, exitCode)
  }

  /** The runtime reports a state change of a running task (e.g. 'unhealthy'). */
  setState(id: string, slotId: SlotId, state: TaskState): Output[] {
    const peer = this.peer(id)
    const running = peer.running.get(slotId)
    if (running !== undefined) {
      running.state = state
      running.since = this.now
    }
    return this.report(peer, slotId, state)
  }

  /** The host of `id` finds its data directory full (or with room again). */
  diskFull(id: string, full: boolean): Output[] {
    const peer = this.peer(id)
    const outputs = peer.machine.diskFullChanged(full, this.now)
    this.feed(peer, outputs)
    return outputs
  }

  private report(peer: SimPeer, slotId: SlotId, state: TaskState, exitCode?: number): Output[] {
    this.reports.push({ at: this.now, peer: peer.id, slot: slotId, state, ...(exitCode === undefined ? {} : { exitCode }) })
    const outputs = peer.machine.taskChanged(slotId, state, this.now, exitCode)
    this.feed(peer, outputs)
    return outputs
  }

  // --- time -------------------------------------------------------------------------------------

  /** Runs a test action at virtual time `at`. */
  at(at: number, fn: () => void): void {
    this.push(at, { kind: 'call', fn })
  }

  runUntil(until: number): void {
    for (;;) {
      const next = this.queue[0]
      if (next === undefined || next.at > until) break
      this.queue.shift()
      this.now = Math.max(this.now, next.at)
      this.guard()
      this.handle(next.event)
    }
    this.now = Math.max(this.now, until)
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms)
  }

  /** Runs until `until`, calling `observe` after every event (to check an invariant at every step). */
  runObserving(observe: () => void, until: number): void {
    this.runUntilTrue(() => {
      observe()
      return false
    }, until)
  }

  /** Runs until `condition` holds (checked after each event) or `until`; returns the time it first held, or undefined. */
  runUntilTrue(condition: () => boolean, until: number): number | undefined {
    if (condition()) return this.now
    for (;;) {
      const next = this.queue[0]
      if (next === undefined || next.at > until) break
      this.queue.shift()
      this.now = Math.max(this.now, next.at)
      this.guard()
      this.handle(next.event)
      if (condition()) return this.now
    }
    this.now = Math.max(this.now, until)
    return undefined
  }

  private guard(): void {
    if (this.now === this.lastEventAt) {
      if (++this.sameTimeEvents > 100_000) throw new Error(`livelock: over 100,000 events at t=${this.now}`)
    } else {
      this.lastEventAt = this.now
      this.sameTimeEvents = 0
    }
  }

  private push(at: number, event: Event): void {
    const item: Queued = { at, order: this.order++, event }
    // Binary search for the first entry later than `at`: equal times keep insertion order.
    let low = 0
    let high = this.queue.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.queue[mid]!.at <= at) low = mid + 1
      else high = mid
    }
    this.queue.splice(low, 0, item)
  }

  private handle(event: Event): void {
    switch (event.kind) {
      case 'call':
        event.fn()
        break
      case 'wake': {
        const peer = this.peers.get(event.peer)
        if (peer === undefined || !peer.up || peer.wakeToken !== event.token) return
        peer.wakeAt = Infinity
        this.feed(peer, peer.machine.tick(this.now))
        break
      }
      case 'deliver': {
        const peer = this.peers.get(event.to)
        if (peer === undefined || !peer.up || peer.life !== event.life) return
        this.feed(peer, peer.machine.receive(event.from, event.message, this.now))
        break
      }
      case 'task': {
        const peer = this.peers.get(event.peer)
        if (peer === undefined || !peer.up || peer.life !== event.life) return
        const running = peer.running.get(event.slot)
        if (running === undefined || running.run !== event.run) return
        const { state, exitCode } = event.step
        if (state === 'exited' || state === 'failed' || state === 'complete') peer.running.delete(event.slot)
        else {
          running.state = state
          running.since = this.now
        }
        this.report(peer, event.slot, state, exitCode)
        break
      }
    }
  }

  /** Carries out a machine's outputs, then schedules its next wake. */
  private feed(peer: SimPeer, outputs: readonly Output[]): void {
    for (const output of outputs) {
      for (const hook of this.hooks) hook(peer.id, output, this.now)
      this.log.push({ at: this.now, peer: peer.id, output })
      switch (output.kind) {
        case 'send':
          this.transmit(peer.id, output.to, output.message)
          break
        case 'broadcast':
          for (const other of this.peers.keys()) if (other !== peer.id) this.transmit(peer.id, other, output.message)
          break
        case 'start-task': {
          const run = ++this.runs
          peer.specs.set(output.task.slot, output.spec)
          peer.running.set(output.task.slot, { task: output.task, spec: output.spec, run, state: 'starting', since: this.now })
          for (const step of this.script(peer.id, output.task, output.spec)) {
            this.push(this.now + step.afterMs, { kind: 'task', peer: peer.id, life: peer.life, run, slot: output.task.slot, step })
          }
          break
        }
        case 'stop-task':
          peer.running.delete(output.slot)
          break
        case 'sync-desired':
          if (this.syncDesired) this.scheduleSync(peer.id, output.peer)
          break
        case 'rollback':
          break
      }
    }
    this.scheduleWake(peer)
  }

  private transmit(from: PeerId, to: PeerId, message: Message): void {
    const target = this.peers.get(to)
    if (target === undefined) {
      this.external.push({ at: this.now, from, to, message })
      return
    }
    if (!this.linked(from, to, message)) return
    this.push(this.now + this.latencyMs, { kind: 'deliver', to, from, message, life: target.life })
  }

  /** The sync protocol, modelled: after a round trip, the side with the older view takes the newer one. */
  private scheduleSync(from: PeerId, to: PeerId): void {
    const a = this.peers.get(from)
    const b = this.peers.get(to)
    if (a === undefined || b === undefined) return
    const probe: Message = { kind: 'state', members: [], adverts: [] }
    if (!this.linked(from, to, probe) || !this.linked(to, from, probe)) return
    this.push(this.now + 2 * this.latencyMs, {
      kind: 'call',
      fn: () => {
        if (!a.up || !b.up) return
        if (a.desired.version > b.desired.version) this.adopt(b, a.desired.view, a.desired.version)
        else if (b.desired.version > a.desired.version) this.adopt(a, b.desired.view, b.desired.version)
      },
    })
  }

  private scheduleWake(peer: SimPeer): void {
    if (!peer.up) return
    const wanted = peer.machine.nextWakeAt()
    if (!Number.isFinite(wanted)) {
      peer.wakeAt = Infinity
      peer.wakeToken++
      return
    }
    const at = Math.max(wanted, this.now)
    if (at === peer.wakeAt) return
    peer.wakeAt = at
    this.push(at, { kind: 'wake', peer: peer.id, token: ++peer.wakeToken })
  }

  // --- reading the world ------------------------------------------------------------------------

  /** Outputs of one kind (optionally of one peer, optionally since a time). */
  outputs<K extends Output['kind']>(kind: K, options: { peer?: string; since?: number } = {}): Array<{ at: number; peer: PeerId; output: Extract<Output, { kind: K }> }> {
    const out: Array<{ at: number; peer: PeerId; output: Extract<Output, { kind: K }> }> = []
    for (const entry of this.log) {
      if (entry.output.kind !== kind) continue
      if (options.peer !== undefined && entry.peer !== options.peer) continue
      if (options.since !== undefined && entry.at < options.since) continue
      out.push(entry as { at: number; peer: PeerId; output: Extract<Output, { kind: K }> })
    }
    return out
  }

  /** Messages of one kind that peers sent (directly or by broadcast), as logged outputs. */
  messages<K extends Message['kind']>(kind: K, options: { peer?: string; since?: number } = {}): Array<{ at: number; peer: PeerId; to?: PeerId; message: Extract<Message, { kind: K }> }> {
    const out: Array<{ at: number; peer: PeerId; to?: PeerId; message: Extract<Message, { kind: K }> }> = []
    for (const entry of this.log) {
      const output = entry.output
      if (output.kind !== 'send' && output.kind !== 'broadcast') continue
      if (output.message.kind !== kind) continue
      if (options.peer !== undefined && entry.peer !== options.peer) continue
      if (options.since !== undefined && entry.at < options.since) continue
      const message = output.message as Extract<Message, { kind: K }>
      out.push(output.kind === 'send' ? { at: entry.at, peer: entry.peer, to: output.to, message } : { at: entry.at, peer: entry.peer, message })
    }
    return out
  }

  /** What runs on live hosts now: slot → peers (tasks started and not stopped or exited). */
  placement(service?: string): Map<SlotId, PeerId[]> {
    const out = new Map<SlotId, PeerId[]>()
    for (const peer of this.peers.values()) {
      if (!peer.up) continue
      for (const [slotId, task] of peer.running) {
        if (service !== undefined && task.task.service !== service) continue
        const list = out.get(slotId)
        if (list === undefined) out.set(slotId, [peer.id])
        else list.push(peer.id)
      }
    }
    return out
  }

  /** Tasks on live hosts, flattened, optionally of one service. */
  tasks(service?: string): Array<RunningTask & { peer: PeerId }> {
    const out: Array<RunningTask & { peer: PeerId }> = []
    for (const peer of this.peers.values()) {
      if (!peer.up) continue
      for (const task of peer.running.values()) {
        if (service === undefined || task.task.service === service) out.push({ ...task, peer: peer.id })
      }
    }
    return out
  }

  /** Slots up (running or healthy) on live hosts: slot → peers. */
  upSlots(service?: string): Map<SlotId, PeerId[]> {
    const out = new Map<SlotId, PeerId[]>()
    for (const task of this.tasks(service)) {
      if (task.state !== 'running' && task.state !== 'healthy') continue
      const list = out.get(task.task.slot)
      if (list === undefined) out.set(task.task.slot, [task.peer])
      else list.push(task.peer)
    }
    return out
  }

  /** What `observer` believes about `target`. */
  record(observer: string, target: string): MemberRecord | undefined {
    return this.machine(observer).memberRecords().find((r) => r.peer === target)
  }

  /** Every live peer but `target` holds it with this status (and at least this incarnation). */
  allSee(target: string, status: MemberRecord['status'], minIncarnation = 0): boolean {
    for (const peer of this.peers.values()) {
      if (!peer.up || peer.id === target) continue
      const record = this.record(peer.id, target)
      if (record === undefined || record.status !== status || record.incarnation < minIncarnation) return false
    }
    return true
  }

  /** Every live peer knows every other live peer as alive. */
  converged(): boolean {
    const live = [...this.peers.values()].filter((peer) => peer.up)
    return live.every((observer) => live.every((target) => observer === target || this.record(observer.id, target.id)?.status === 'alive'))
  }
}

/** A compact sorted rendering of a placement, for assertions: ['web/0@p1', …]. */
export function describePlacement(placement: ReadonlyMap<SlotId, readonly PeerId[]>): string[] {
  const out: string[] = []
  for (const [slotId, peers] of placement) for (const peer of peers) out.push(`${slotId}@${peer}`)
  return out.sort()
}
