// The agent: one host's peer. It wires the pieces and decides nothing itself — the protocol machine
// (core/protocol) decides; the agent feeds it from libp2p, the runtime driver, the desired-state
// document and real timers, and carries out what it outputs. The simulator feeds the same machine from
// a model, so what `peer sim` says about placement and failover is what this process does.
//
// Inputs → machine: messages (transport), new connections (host), task events (driver), desired-state
// changes (replica), the time (one timer at machine.nextWakeAt()).
// Machine → outputs: send/broadcast (transport), start/stop (driver), sync-desired (replica),
// rollback (a revert written to the desired state).
//
// Secrets: just before a task whose spec lists secrets starts, the agent opens them from its copy of
// the desired state with the cluster key (cluster-key.ts) and writes them as files on a memory-only
// file system (secret-files.ts); the driver shows that directory to the task. Directories of tasks
// no longer running are swept after every task end and at start. Values appear nowhere else: not in
// logs, events, answers or errors.

import { randomBytes } from 'node:crypto'
import { availableParallelism, totalmem } from 'node:os'
import { describeError, desiredState, headsDigest, lastVersionOtherThan, readSecret, revert, type DesiredDoc } from '../../crdt/index.js'
import { createHost, P2pTransport, type Host, type HostTuning } from '../../p2p/index.js'
import {
  defaultConfig,
  withProcessingSkew,
  seededRandom,
  type DesiredView,
  type MemberStatus,
  type NetworkProfile,
  type Output,
  type PeerId,
  PeerMachine,
  type Resources,
  type ServiceName,
  type ServiceSpec,
  type SlotId,
} from '../../core/index.js'
import { dockerEngineAnswers, DriverSet, loadDockerDriver, ProcessDriver, type ProbeObserver, type RuntimeDriver, type StartOptions, type TaskEvent } from '../runtime/index.js'
import { startControlServer, type ControlServer } from '../control/index.js'
import { controlRoutes, type AgentContext, type OwnPort } from './api.js'
import { serveExec } from './exec.js'
import { serveLogs } from './logs.js'
import { readAssignments, writeAssignments, type Assignment } from './assignments.js'
import { readKnownMembers, writeKnownMembers } from './known-members.js'
import { deriveClusterKey } from './cluster-key.js'
import { AGENT_DEFAULTS, stopGraceOf } from './config.js'
import { openDataDir, type DataDir } from './data-dir.js'
import { DesiredReplica } from './desired-replica.js'
import { EventLog } from './event-log.js'
import { DataDirSpace } from './data-dir-space.js'
import { WakeTimer } from './wake-timer.js'
import { findSecretsRoot, SecretFiles, type SecretFile } from './secret-files.js'
import { BUILT_IN_LABELS, builtInLabels, ownLabelsProblem } from './peer-labels.js'
import { SlotOrders } from './slot-orders.js'
import { SlotHistory } from './slot-history.js'
import { messageOf, secretFileName, type TaskUsage } from '../../core/index.js'
import { AgentMetrics, openMetricsEndpoint, type MetricsListen } from '../metrics/index.js'
import { openWebView, type WebViewServer } from '../web/index.js'
import { chainPrefixOf, DISCOVERY_DEFAULTS, meshHostOf, openDiscovery, planForwarder, TunnelClient, TunnelServer, type Discovery, type DiscoverySettings, type RegistryInputs } from '../discovery/index.js'

export interface AgentOptions {
  readonly dataDir: string
  /** Multiaddrs to listen on. */
  readonly listen: readonly string[]
  /** Multiaddrs of peers to join through. */
  readonly join: readonly string[]
  /** Also find peers on the local network by mDNS (createHost's `mdns`). */
  readonly mdns?: boolean
  /** The operator's labels; the agent adds its built-in ones (peer-labels.ts), whose keys these may not use. */
  readonly labels: Readonly<Record<string, string>>
  /** What this host offers for placement; the machine's own size when absent. */
  readonly cpuMilli?: number
  readonly memoryMiB?: number
  readonly profile: NetworkProfile
  /** On exit, leave tasks running and do not announce leaving (an agent upgrade): the next start adopts them. */
  readonly keepTasksOnExit: boolean
  readonly log: (line: string) => void
  readonly hostTuning?: Partial<HostTuning>
  /**
   * Containers: `auto` (default) runs them when a Docker engine answers at start (DOCKER_HOST or the
   * local socket) and otherwise offers only processes; `off` never does.
   */
  readonly docker?: 'auto' | 'off'
  /**
   * Where /metrics is served (node/metrics/http.ts), or `off`. Absent: 127.0.0.1:9464, and an agent
   * that finds that port taken says so and runs on without it; an address given must be bound.
   */
  readonly metrics?: MetricsListen | 'off'
  /** Where the web view is served (node/web), or `off`. Absent: 127.0.0.1:9465, skipped when taken. */
  readonly ui?: MetricsListen | 'off'
  /** How often tasks' CPU and memory are measured (METRICS_DEFAULTS.usageIntervalMs when absent). */
  readonly usageIntervalMs?: number
  /** The machine's siteCutHoldMs (core/protocol/site-cut.ts); its default when absent. */
  readonly siteCutHoldMs?: number
  /** Service discovery and the routing mesh (node/discovery); `{ mesh: 'auto' }` when absent. */
  readonly discovery?: DiscoverySettings
}

/** What the agent found of a container engine at start, for `peer nodes` and /v1/stats. */
export type EngineStatus = { readonly state: 'up'; readonly version: string } | { readonly state: 'absent' | 'off'; readonly detail: string }

/** Stops that leave the endpoints before the task is signalled (stopTask); not a duplicate's, nor a fenced one's. */
const DRAINED_STOPS = new Set(['superseded', 'scaled-down', 'not-desired', 'ineligible', 'leaving'])

/** A monotonic clock on the epoch scale: the machine's deadlines must not jump with the wall clock. */
const now = (): number => Math.round(performance.timeOrigin + performance.now())

export class Agent implements AgentContext {
  readonly events = new EventLog()
  private readonly wake = new WakeTimer(now, () => this.feed(this.machine.tick(now())))
  private readonly specs = new Map<SlotId, ServiceSpec>()
  private assignmentsKey = ''
  private assignmentsWrite: Promise<void> = Promise.resolve()
  private membersKey = ''
  private membersWrite: Promise<void> = Promise.resolve()
  private readonly memberStatus = new Map<PeerId, MemberStatus>()
  /** When each peer was last heard from (any message), for `peer nodes`. */
  readonly lastHeard = new Map<PeerId, number>()
  /** Connections to peers opened since start (libp2p peer:connect): more than the peers means churn. */
  peerConnects = 0
  private stopping: Promise<void> | undefined
  private readonly detach: Array<() => void> = []
  private control: ControlServer | undefined
  /** Secret task directories (SecretFiles.taskDirName) with starts in progress, and how many. */
  private readonly secretStarts = new Map<string, number>()
  /** Secret task directories whose start finished, with the sweep round current then. */
  private readonly secretStarted = new Map<string, number>()
  private sweepRound = 0
  private sweeping: Promise<void> | undefined
  private sweepAgain = false
  /** The order of the machine's start and stop outputs per slot (slot-orders.ts). */
  private readonly slotOrders = new SlotOrders()
  /** Where each slot ran and why it moved, as this peer saw it (slot-history.ts). */
  readonly slotHistory = new SlotHistory()
  /** host:port of /metrics, when served. */
  metricsAddress: string | undefined
  /** Whether the data directory has room (data-dir-space.ts). */
  readonly space: DataDirSpace
  private spaceTimer: NodeJS.Timeout | undefined
  /** The web view, when served. */
  webView: WebViewServer | undefined
  /** Service names, endpoints, the routing mesh (node/discovery). */
  discovery: Discovery | undefined
  /** Serves tunnels to this agent's tasks for peers that reach it only through a relay. */
  tunnels: TunnelServer | undefined
  /** Stops waiting for forwarders to drop the task first (stopTask), by slot. */
  private readonly draining = new Map<SlotId, Promise<void>>()
  /** The desired services as last read, for the endpoint registry. */
  private desiredServices: readonly ServiceSpec[] = []

  private constructor(
    readonly self: PeerId,
    readonly layout: DataDir,
    readonly host: Host,
    readonly transport: P2pTransport,
    readonly replica: DesiredReplica,
    readonly driver: DriverSet,
    readonly engine: EngineStatus,
    readonly machine: PeerMachine,
    /** Seals and opens secrets in the desired state (cluster-key.ts). */
    readonly clusterKey: Uint8Array,
    private readonly secretFiles: SecretFiles,
    private readonly options: AgentOptions,
    private readonly metrics: AgentMetrics,
  ) {
    this.space = new DataDirSpace({
      root: layout.root,
      log: options.log,
      event: (message) => this.events.push({ at: Date.now(), kind: 'agent', message }),
      changed: (full) => this.onSpaceChanged(full),
    })
  }

  static async start(options: AgentOptions): Promise<Agent> {
    const labelsProblem = ownLabelsProblem(options.labels)
    if (labelsProblem !== undefined) throw new Error(`labels: ${labelsProblem}`)
    const { layout, swarmKey } = await openDataDir(options.dataDir)
    const host = await createHost({ dataDir: layout.root, swarmKey, listen: options.listen, join: options.join, mdns: options.mdns === true, log: options.log, ...(options.hostTuning ? { tuning: options.hostTuning } : {}) })
    const metrics = new AgentMetrics(options.usageIntervalMs === undefined ? {} : { usageIntervalMs: options.usageIntervalMs })
    const cleanup: Array<() => Promise<unknown>> = [() => host.stop(), () => metrics.close()]
    try {
      const self = host.peerId as PeerId
      const transport = new P2pTransport(host, { log: options.log })
      await transport.start()
      cleanup.unshift(() => transport.stop())
      const replica = await DesiredReplica.open({ dir: layout.desired, self, host, transport, log: options.log, onSyncRun: metrics.syncRun })
      cleanup.unshift(() => replica.close())
      const { driver, engine } = await openDrivers(options, layout, self, swarmKey.fingerprint, metrics.probe)
      cleanup.unshift(() => driver.close())
      options.log(engine.state === 'up'
        ? `runs containers with the Docker engine ${engine.version}`
        : `runs processes only: ${engine.detail}`)

      const restored = await restoreTasks(layout, self, driver, options.log)
      const known = await readKnownMembers(layout.members, self)
      for (const problem of known.problems) options.log(problem)
      // Before the machine: the forwarder's mode is one of this peer's labels. The registry reads the
      // agent once it exists; until then there is nothing to route.
      let started: Agent | undefined
      const meshHost = meshHostOf(options.listen)
      const settings = options.discovery ?? { mesh: 'auto' }
      const discovery = await openDiscovery({
        self, settings, plan: await planForwarder(settings.mesh, chainPrefixOf(self)), meshHost, log: options.log, runsContainers: engine.state === 'up',
        tunnel: new TunnelClient(host.tunnels),
        inputs: () => started?.discoveryInputs(meshHost) ?? { self, services: [], peers: [], addressOf: () => undefined },
      })
      cleanup.unshift(() => discovery.close())
      // Tunnels from peers that reach this one only through a relay, to the tasks it runs itself.
      const tunnels = await TunnelServer.start({ node: host.node, links: host.tunnels, ports: () => discovery.registry.all(), log: options.log })
      cleanup.unshift(() => tunnels.stop())
      const secretFiles = new SecretFiles(await findSecretsRoot(), self)
      if (!secretFiles.root.ok) options.log(`tasks that use secrets cannot run here: ${secretFiles.root.reason}`)
      // Left by an earlier life: keep only the directories of the tasks still running.
      await secretFiles.keepOnly(new Set((await driver.list()).map((task) => SecretFiles.taskDirName(task.slot, task.specHash))))
      const capacity: Resources = {
        cpuMilli: options.cpuMilli ?? availableParallelism() * 1000,
        memoryMiB: options.memoryMiB ?? Math.floor(totalmem() / (1024 * 1024)),
        extended: {},
      }
      const machine = new PeerMachine({
        self,
        // Grows across restarts, so this life outranks the "dead" record others hold of the last one.
        incarnation: Date.now(),
        capacity,
        labels: { ...options.labels, ...builtInLabels(self), [BUILT_IN_LABELS.mesh]: discovery.status().mode },
        drivers: driver.names,
        seeds: [],
        config: {
          ...withProcessingSkew(defaultConfig(AGENT_DEFAULTS.clusterSizeHint, options.profile), AGENT_DEFAULTS.processingSkewMs),
          ...(options.siteCutHoldMs === undefined ? {} : { siteCutHoldMs: options.siteCutHoldMs }),
        },
        random: seededRandom(randomBytes(16).toString('hex')),
        restored,
        knownMembers: known.members,
        observe: metrics.observe,
      })
      const agent = new Agent(self, layout, host, transport, replica, driver, engine, machine, deriveClusterKey(swarmKey.bytes), secretFiles, options, metrics)
      for (const { task, spec } of restored) agent.specs.set(task.slot, spec)
      agent.discovery = discovery
      agent.tunnels = tunnels
      started = agent
      agent.begin()
      cleanup.unshift(() => agent.stop({ stopTasks: false }))
      await serveLogs(agent)
      await serveExec(agent)
      const routes = controlRoutes(agent)
      agent.control = await startControlServer(layout.socket, routes, { log: options.log, onRequest: metrics.controlRequest })
      metrics.attach({ self, host, transport, replica, machine, driver, discovery, log: options.log, reportUsage: (usage) => agent.reportUsage(usage) })
      agent.metricsAddress = await openMetricsEndpoint(metrics, options.metrics, options.log)
      agent.webView = await openWebView({ choice: options.ui, dataDir: layout.root, routes, log: options.log })
      return agent
    } catch (error) {
      for (const step of cleanup) await step().catch(() => undefined)
      throw error
    }
  }

  private begin(): void {
    const { machine, transport, replica, driver, host } = this
    // A host of this site reached through a relay may have a route of its own (a site of routed
    // subnets). Read at each check: an operator may give a peer its site in the desired state.
    host.siteMates((peer) => {
      const ownSite = machine.siteOf(this.self)
      return ownSite !== undefined && machine.siteOf(peer as PeerId) === ownSite
    })
    this.detach.push(
      transport.onMessage((from, message) => {
        this.lastHeard.set(from, now())
        // A message that trips a bug is one lost message, said in the log, not the end of the agent.
        try {
          this.feed(machine.receive(from, message, now()))
        } catch (error) {
          this.options.log(`handling a ${message.kind} message from ${from} failed: ${messageOf(error)}`)
        }
      }),
      transport.onInvalid((invalid) => this.options.log(`rejected a ${invalid.channel} message from ${invalid.from}: ${invalid.error.path === '' ? '' : `${invalid.error.path}: `}${invalid.error.message}`)),
      driver.onEvent((event) => this.onTaskEvent(event)),
      replica.onChange((doc) => this.onDesired(doc)),
    )
    const onConnect = (event: CustomEvent<{ toString(): string }>): void => {
      const peer = event.detail.toString() as PeerId
      this.peerConnects++
      this.lastHeard.set(peer, now())
      this.feed(machine.connected(peer, now()))
      // Anti-entropy on connect: gossip loses whatever was published while we were apart.
      void replica.syncWith(peer)
    }
    host.node.addEventListener('peer:connect', onConnect)
    this.detach.push(() => host.node.removeEventListener('peer:connect', onConnect))

    this.events.push({ at: Date.now(), kind: 'agent', message: `peer ${this.self} started, listening on ${host.addresses().join(' ')}` })
    this.feed(machine.start(now()))
    const desired = desiredView(replica.doc, this.options.log)
    this.desiredServices = desired.services
    this.slotHistory.keepServices(new Set(desired.services.map((spec) => spec.name)))
    this.feed(machine.desiredChanged(desired, now()))
    for (const peer of transport.peers()) this.feed(machine.connected(peer, now()))
    void this.space.check()
    this.spaceTimer = setInterval(() => void this.space.check(), AGENT_DEFAULTS.spaceCheckIntervalMs)
    this.spaceTimer.unref()
  }

  // --- inputs -----------------------------------------------------------------------------------

  private onTaskEvent(event: TaskEvent): void {
    if (event.state === 'exited' || event.state === 'failed') this.sweepSecrets()
    // The end of a task the machine asked to stop: it already forgot it (and may hold a new task in
    // the same slot), so this is not news for it.
    if (event.stopRequested) return
    this.events.push({
      at: Date.now(),
      kind: 'task',
      slot: event.slot,
      state: event.state,
      ...(event.exitCode === undefined ? {} : { exitCode: event.exitCode }),
      ...(event.detail === undefined ? {} : { detail: event.detail }),
    })
    this.feed(this.machine.taskChanged(event.slot, event.state, now(), event.exitCode))
  }

  private onDesired(doc: DesiredDoc): void {
    const view = desiredView(doc, this.options.log)
    this.desiredServices = view.services
    this.events.push({ at: Date.now(), kind: 'desired', digest: view.digest, services: view.services.length })
    this.slotHistory.keepServices(new Set(view.services.map((spec) => spec.name)))
    this.feed(this.machine.desiredChanged(view, now()))
  }

  /**
   * Full: the machine stops taking slots. Room again: it takes them, and what could not be saved
   * meanwhile is saved now (the write keys are reset, so the next save writes whatever it holds).
   */
  private onSpaceChanged(full: boolean): void {
    if (!full) {
      this.assignmentsKey = ''
      this.membersKey = ''
      this.replica.persistPending().catch((error: unknown) => this.options.log(`desired state: saving after the disk had room again failed: ${messageOf(error)}`))
    }
    this.feed(this.machine.diskFullChanged(full, now()))
  }

  // --- outputs ----------------------------------------------------------------------------------

  private feed(outputs: readonly Output[]): void {
    if (this.stopping !== undefined) return
    this.metrics.afterFeed(outputs)
    // Nothing awaits these; a failure left unhandled would end the process.
    for (const output of outputs) this.dispatch(output).catch((error: unknown) => this.options.log(`${output.kind} failed: ${messageOf(error)}`))
    this.schedule()
    this.noteMembers()
    this.slotHistory.observe(this.machine.peerViews(), (peer) => this.memberStatus.get(peer), Date.now())
    this.saveAssignments()
    this.saveMembers()
    this.discovery?.changed()
  }

  /** Ports this agent listens on itself (api.ts refuses services that publish them). */
  ownPorts(): OwnPort[] {
    const own: OwnPort[] = []
    for (const address of this.host.addresses()) {
      const port = /\/tcp\/(\d+)/.exec(address)?.[1]
      if (port !== undefined) own.push({ port: Number(port), protocol: 'tcp', what: 'peer-to-peer' })
    }
    const portOf = (hostPort: string | undefined): number | undefined => (hostPort === undefined ? undefined : Number(/:(\d+)$/.exec(hostPort)?.[1]))
    const metrics = portOf(this.metricsAddress)
    if (metrics !== undefined) own.push({ port: metrics, protocol: 'tcp', what: 'metrics' })
    const ui = portOf(this.webView?.address)
    if (ui !== undefined) own.push({ port: ui, protocol: 'tcp', what: 'web view' })
    const dns = portOf(this.discovery?.dnsAddress)
    if (dns !== undefined) own.push({ port: dns, protocol: 'udp', what: 'DNS' }, { port: dns, protocol: 'tcp', what: 'DNS' })
    return own
  }

  /** What the endpoint registry is derived from: the desired services, every peer's tasks, their addresses. */
  discoveryInputs(meshHost: string): RegistryInputs {
    // This peer's own tasks are reached on its own address (loopback when it listens on every one).
    const own = meshHost === '0.0.0.0' || meshHost === '::' ? '127.0.0.1' : meshHost
    return {
      self: this.self,
      services: this.desiredServices,
      peers: this.machine.peerViews(),
      addressOf: (peer) => (peer === this.self ? own : this.host.peerAddress(peer)),
      // A punched link is direct, but to the peer's NAT router: its own addresses stay out of reach.
      tunnelled: (peer) => { const kind = this.host.linkTo(peer)?.kind; return kind === 'relayed' || kind === 'punched' },
    }
  }

  private dispatch(output: Output): Promise<unknown> {
    switch (output.kind) {
      case 'send':
        return this.transport.send(output.to, output.message)
      case 'broadcast':
        return this.transport.broadcast(output.message)
      case 'start-task':
        return this.startTask(output.task.slot, output.task, output.spec, this.slotOrders.issue(output.task.slot))
      case 'stop-task':
        this.slotOrders.issue(output.slot)
        this.events.push({ at: Date.now(), kind: 'stop', slot: output.slot, reason: output.reason })
        return this.stopTask(output.slot, output.reason)
      case 'sync-desired':
        return this.replica.syncWith(output.peer)
      case 'rollback':
        return this.rollback(output.service, output.failedSpecHash)
    }
  }

  /**
   * Stops a task. One that takes traffic and is stopped on purpose (an update, a scale-down, a drain)
   * first leaves the endpoints — its advert already dropped it — and is signalled only once every
   * forwarder had time to hear so: it receives no new connection while it shuts down, and its open
   * ones get its whole stop grace. A duplicate is stopped at once: two copies must not run longer.
   */
  private stopTask(slot: SlotId, reason: string): Promise<void> {
    // The spec the task was started with: a replacement's start-task comes after this output.
    const spec = this.specs.get(slot)
    const drain = DRAINED_STOPS.has(reason) && this.discovery?.registry.all().some((port) => port.endpoints.some((e) => e.slot === slot && e.local && e.ready)) === true
    const stopped = (drain ? new Promise((resolve) => setTimeout(resolve, DISCOVERY_DEFAULTS.drainMs)) : Promise.resolve())
      .then(() => this.driver.stop(slot, stopGraceOf(spec)))
      .catch((error: unknown) => {
        this.metrics.driverError(spec?.driver ?? 'unknown', 'stop')
        this.options.log(`stopping ${slot} failed: ${messageOf(error)}`)
      })
    if (!drain) return stopped
    // A replacement in the same slot starts once this stop is through, as the driver's own order would have it.
    const done = stopped.finally(() => {
      if (this.draining.get(slot) === done) this.draining.delete(slot)
    })
    this.draining.set(slot, done)
    return done
  }

  private async startTask(slot: SlotId, task: Parameters<RuntimeDriver['start']>[0], spec: ServiceSpec, ticket: number): Promise<void> {
    this.specs.set(slot, spec)
    this.events.push({ at: Date.now(), kind: 'start', slot, specHash: task.specHash })
    const secretsDir = SecretFiles.taskDirName(slot, task.specHash)
    const uses = (spec.secrets ?? []).length > 0
    if (uses) this.secretStarts.set(secretsDir, (this.secretStarts.get(secretsDir) ?? 0) + 1)
    try {
      await this.runTask(slot, task, spec, ticket)
    } finally {
      this.slotOrders.settle(slot, ticket)
      if (uses) {
        const left = (this.secretStarts.get(secretsDir) ?? 1) - 1
        if (left > 0) this.secretStarts.set(secretsDir, left)
        else this.secretStarts.delete(secretsDir)
        this.secretStarted.set(secretsDir, this.sweepRound)
        // The task this one replaced in its slot has ended by now: its files can go.
        this.sweepSecrets()
      }
    }
  }

  private async runTask(slot: SlotId, task: Parameters<RuntimeDriver['start']>[0], spec: ServiceSpec, ticket: number): Promise<void> {
    await this.draining.get(slot)
    const prepared = await this.writeSecrets(task, spec)
    // A stop (or another start) of this slot issued since is the machine's last word on it.
    if (!this.slotOrders.isLatest(slot, ticket)) return
    const dns = this.discovery?.dnsAddress
    const options: StartOptions = prepared.ok ? { ...prepared.options, ...(dns === undefined ? {} : { dns }) } : {}
    let result = !prepared.ok
      ? { ok: false as const, error: 'failed' as const, detail: prepared.detail }
      : await this.driver.start(task, spec, options).catch((error: unknown) => ({ ok: false as const, error: 'failed' as const, detail: messageOf(error) }))
    if (prepared.ok && !result.ok && result.error === 'slot-busy') {
      // The driver runs this slot at another version the machine does not know of (left by an
      // earlier life of this agent): replace it, with the grace of the spec it runs.
      const running = (await this.driver.list()).find((info) => info.slot === slot)
      await this.driver.stop(slot, stopGraceOf(running?.spec))
      if (!this.slotOrders.isLatest(slot, ticket)) return
      result = await this.driver.start(task, spec, options).catch((error: unknown) => ({ ok: false as const, error: 'failed' as const, detail: messageOf(error) }))
    }
    // A stop of this slot reached the driver while the start waited for the slot's previous task:
    // the machine gave it after this start, and nothing was launched.
    if (!result.ok && result.error === 'cancelled') return
    if (!result.ok) {
      this.metrics.driverError(spec.driver, 'start')
      this.space.failed(`the record of ${slot}`, result.detail)
      this.options.log(`cannot start ${slot}: ${result.detail}`)
      this.events.push({ at: Date.now(), kind: 'task', slot, state: 'failed', detail: result.detail })
      this.feed(this.machine.taskChanged(slot, 'failed', now()))
    }
  }

  /**
   * Opens the secrets the spec lists from this peer's copy of the desired state and writes them as
   * the task's files. The reason it cannot names the secret, never its value.
   */
  private async writeSecrets(task: Parameters<RuntimeDriver['start']>[0], spec: ServiceSpec): Promise<{ ok: true; options: StartOptions } | { ok: false; detail: string }> {
    const refs = spec.secrets ?? []
    if (refs.length === 0) return { ok: true, options: {} }
    const files: SecretFile[] = []
    try {
      for (const ref of refs) {
        const opened = readSecret(this.replica.doc, ref.name, this.clusterKey)
        if (!opened.ok) return { ok: false, detail: `cannot open secret ${JSON.stringify(ref.name)}: ${describeError(opened.error)}` }
        // Under its target when that is a file name; an absolute target's file keeps the secret's
        // name, and the Docker driver mounts it from there.
        files.push({ name: secretFileName(ref), value: opened.value })
      }
      const written = await this.secretFiles.write(task.slot, task.specHash, files, spec.driver === 'docker' ? 'container' : 'owner')
      return written.ok ? { ok: true, options: { secretsDir: written.dir } } : { ok: false, detail: written.reason }
    } finally {
      for (const file of files) file.value.fill(0)
    }
  }

  /**
   * Removes the secret files of tasks that no longer run here. Runs one at a time; a call while one
   * runs makes it run once more. A directory whose start finished during a sweep is kept by it.
   */
  private sweepSecrets(): void {
    if (this.stopping !== undefined || !this.secretFiles.root.ok) return
    if (this.sweeping !== undefined) {
      this.sweepAgain = true
      return
    }
    this.sweeping = (async () => {
      const round = ++this.sweepRound
      const running = await this.driver.list()
      const keep = new Set(running.map((info) => SecretFiles.taskDirName(info.slot, info.specHash)))
      for (const name of this.secretStarts.keys()) keep.add(name)
      for (const [name, at] of this.secretStarted) {
        if (at >= round) keep.add(name)
        else this.secretStarted.delete(name)
      }
      await this.secretFiles.keepOnly(keep)
    })()
      .catch((error: unknown) => this.options.log(`removing secret files of ended tasks failed: ${messageOf(error)}`))
      .finally(() => {
        this.sweeping = undefined
        if (this.sweepAgain) {
          this.sweepAgain = false
          this.sweepSecrets()
        }
      })
  }

  /** Writes the last version whose spec differs from the failed one back, as a new version. */
  private async rollback(service: ServiceName, failedSpecHash: string): Promise<void> {
    const result = await this.replica.edit((doc) => {
      const target = lastVersionOtherThan(doc, service, failedSpecHash)
      if (target === undefined) return { ok: false, error: { kind: 'unknown-version', service, version: 0 } }
      return revert(doc, service, target.id, this.self, Date.now())
    })
    const detail = result.ok ? `reverted: version ${failedSpecHash} failed its health deadline` : `could not roll back: ${result.error.kind}`
    this.events.push({ at: Date.now(), kind: 'rollback', service, detail })
  }

  /** A new measurement of what this peer's tasks use, for its advert. */
  reportUsage(usage: readonly TaskUsage[]): void {
    this.feed(this.machine.reportUsage(usage, now()))
  }

  private schedule(): void {
    this.wake.set(this.machine.nextWakeAt())
  }

  private noteMembers(): void {
    for (const record of this.machine.memberRecords()) {
      if (this.memberStatus.get(record.peer) === record.status) continue
      this.memberStatus.set(record.peer, record.status)
      if (record.peer === this.self) continue
      this.events.push({ at: Date.now(), kind: 'member', peer: record.peer, status: record.status, incarnation: record.incarnation })
      // A relay's connections may look open for seconds more (a host that lost power answers nothing,
      // and a ping waits 5 s); links relayed through it move to another relay only once they close.
      if (record.status === 'dead') this.host.dropRelay(record.peer)
      else if (record.status === 'suspect') this.host.moveOffRelay(record.peer)
      else if (record.status === 'alive') this.host.memberAlive(record.peer)
    }
  }

  /** Persists this peer's tasks when the set (or a task's outcome) changed; writes are serial and coalesce. */
  private saveAssignments(): void {
    if (this.space.full) return
    const tasks = this.machine.localTasks()
    const key = tasks.map((t) => `${t.slot} ${t.specHash} ${t.state === 'complete' || t.state === 'failed' ? t.state : ''}`).sort().join('\n')
    if (key === this.assignmentsKey) return
    this.assignmentsKey = key
    const assignments: Assignment[] = []
    for (const task of tasks) {
      const spec = this.specs.get(task.slot)
      if (spec !== undefined) assignments.push({ task, spec })
    }
    for (const slot of this.specs.keys()) if (!tasks.some((t) => t.slot === slot)) this.specs.delete(slot)
    this.assignmentsWrite = this.assignmentsWrite
      .then(() => writeAssignments(this.layout.assignments, assignments))
      .catch((error: unknown) => {
        this.space.failed(this.layout.assignments, error)
        // Out of space: saved again when the disk has room (onSpaceChanged), not retried meanwhile.
        if (this.space.full && this.assignmentsKey === key) this.assignmentsKey = ''
        this.options.log(`cannot save local tasks to ${this.layout.assignments}: ${messageOf(error)}`)
      })
  }

  /**
   * Persists the live members (alive or suspect) when that set changed, for the next start to hear
   * from before it restarts its tasks; writes are serial and coalesce. Records of incarnation 0 are
   * the last life's members not yet heard from in this one: kept, so a restart during a restart
   * still waits for them.
   */
  private saveMembers(): void {
    if (this.space.full) return
    const members = this.machine.memberRecords()
      .filter((record) => record.peer !== this.self && (record.status === 'alive' || record.status === 'suspect'))
      .map((record) => record.peer)
      .sort()
    const key = members.join('\n')
    if (key === this.membersKey) return
    this.membersKey = key
    this.membersWrite = this.membersWrite
      .then(() => writeKnownMembers(this.layout.members, members))
      .catch((error: unknown) => {
        this.space.failed(this.layout.members, error)
        if (this.space.full && this.membersKey === key) this.membersKey = ''
        this.options.log(`cannot save the known members to ${this.layout.members}: ${messageOf(error)}`)
      })
  }

  // --- shutdown ---------------------------------------------------------------------------------

  /**
   * Leaves the cluster: with `stopTasks`, announces leaving (so others re-place the work at once) and
   * stops every task; without, just goes quiet and leaves tasks running for the next start to adopt.
   */
  stop(options: { stopTasks: boolean } = { stopTasks: !this.options.keepTasksOnExit }): Promise<void> {
    this.stopping ??= this.shutdown(options.stopTasks)
    return this.stopping
  }

  private async shutdown(stopTasks: boolean): Promise<void> {
    this.wake.cancel()
    clearInterval(this.spaceTimer)
    const outputs = this.machine.leave(now(), { stopTasks })
    await Promise.all(outputs.map((output) => this.dispatch(output)))
    if (stopTasks) {
      // The leave broadcast is handed to gossipsub; give it a moment on the wire before the host goes.
      await new Promise((resolve) => setTimeout(resolve, AGENT_DEFAULTS.leaveFlushMs))
    }
    // Record what runs now: nothing after a stop, the same tasks when they are kept.
    const kept = stopTasks ? [] : [...this.specs].flatMap(([slot, spec]) => {
      const task = this.machine.localTasks().find((t) => t.slot === slot)
      return task === undefined ? [] : [{ task, spec }]
    })
    this.assignmentsWrite = this.assignmentsWrite.then(() => writeAssignments(this.layout.assignments, kept)).catch(() => undefined)
    await this.assignmentsWrite
    await this.membersWrite
    await this.sweeping
    // Tasks kept running keep their secret files; stopped ones need none.
    if (stopTasks) await this.secretFiles.keepOnly(new Set()).catch((error: unknown) => this.options.log(`removing secret files failed: ${messageOf(error)}`))
    for (const detach of this.detach) detach()
    await this.discovery?.close()
    await this.metrics.close()
    await this.webView?.close()
    await this.control?.close()
    await this.replica.close().catch((error: unknown) => this.options.log(`closing the desired state: ${messageOf(error)}`))
    await this.transport.stop()
    await this.host.stop()
    await this.driver.close()
  }
}

/** The machine's view of the desired-state document. */
export function desiredView(doc: DesiredDoc, log: (line: string) => void): DesiredView {
  const state = desiredState(doc)
  for (const invalid of state.invalid) log(`service ${invalid.service} in the desired state is invalid and ignored: ${invalid.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`)
  return {
    digest: headsDigest(doc),
    services: state.services.map((service) => service.spec),
    peers: new Map(state.peers.map((settings) => [settings.peer, { drain: settings.drain, cordon: settings.cordon, labels: settings.labels }])),
  }
}

/**
 * This peer's tasks from its last life. Tasks the driver still runs that are not among them (a stop
 * that never finished before a crash) are stopped; the rest are handed to the machine, which restarts
 * them at once — the driver adopts those still running instead of starting them twice.
 */
async function restoreTasks(layout: DataDir, self: PeerId, driver: DriverSet, log: (line: string) => void): Promise<Assignment[]> {
  const { assignments, problems } = await readAssignments(layout.assignments, self)
  for (const problem of problems) log(problem)
  const wanted = new Set(assignments.map(({ task }) => `${task.slot} ${task.specHash}`))
  for (const running of await driver.list()) {
    if (wanted.has(`${running.slot} ${running.specHash}`)) continue
    log(`stopping ${running.slot} (${running.spec.driver} ${running.handle}): left running by an earlier agent, no longer this peer's`)
    await driver.stop(running.slot, stopGraceOf(running.spec))
  }
  return assignments
}


/**
 * The process driver always; the Docker driver when an engine answers (and containers are not turned
 * off). Both keep logs in the same runtime directory, so a slot's output reads the same either way.
 */
async function openDrivers(options: AgentOptions, layout: DataDir, self: PeerId, cluster: string, onProbe: ProbeObserver): Promise<{ driver: DriverSet; engine: EngineStatus }> {
  const drivers: RuntimeDriver[] = [new ProcessDriver({ now, onProbe }, { dataDir: layout.runtime })]
  let engine: EngineStatus
  if (options.docker === 'off') {
    engine = { state: 'off', detail: 'containers are turned off (--docker off)' }
  } else {
    const answer = await dockerEngineAnswers()
    if (answer.ok) {
      const publishAddress = singleListenAddress(options.listen)
      const DockerDriver = await loadDockerDriver()
      drivers.push(new DockerDriver({ now, onProbe }, { owner: self, cluster, dataDir: layout.runtime, ...(publishAddress ? { publishAddress } : {}) }))
      engine = { state: 'up', version: answer.version }
    } else {
      engine = { state: 'absent', detail: `no Docker engine answers (${answer.error}); this peer takes no container` }
    }
  }
  return { driver: new DriverSet(drivers), engine }
}

/** The one IPv4 address an agent listens on, if it listens on exactly one specific address. */
export function singleListenAddress(listen: readonly string[]): string | undefined {
  const addresses = new Set(listen.map((address) => /^\/ip4\/([0-9.]+)\//.exec(address)?.[1] ?? '*'))
  const [only] = addresses
  return addresses.size === 1 && only !== '*' && only !== '0.0.0.0' ? only : undefined
}
