// An agent's metrics: the peer_ metrics (definitions.ts) and Node's process metrics in one registry
// per agent. Counters move as things happen — the machine's observer events, the agent's outputs,
// probes, sync runs, control requests; gauges are read from the agent when scraped. Task usage is
// measured on its own timer (the advert needs it whether or not anyone scrapes).
//
// Nothing here changes what the agent does: a metric that cannot be read is left as it was.

import { Registry } from 'prom-client'
import {
  messageOf,
  TASK_STATES,
  type MemberStatus,
  type Output,
  type PeerId,
  type PeerMachine,
  type ProtocolEvent,
  type SlotId,
  type TaskUsage,
} from '../../core/index.js'
import { countGossipTraffic, PROTOCOL_TOPIC, type GossipTraffic, type Host, type P2pTransport } from '../../p2p/index.js'
import type { DriverSet, ProbeObserver } from '../runtime/index.js'
import { definePeerMetrics, defineTaskUsageMetrics, type PeerMetrics, type TaskUsageMetrics } from './definitions.js'
import { CumulativeCounts } from './cumulative-counts.js'
import { collectProcessMetrics } from './event-loop-delay.js'
import { showDiscovery, type DiscoveryMetricsSource } from './discovery-metrics.js'
import { FailoverTracker } from './failover-tracker.js'
import { TaskUsageSampler, type MeasuredTask } from './task-usage.js'
import { serveMetrics, type MetricsListen, type MetricsServer } from './http.js'

/** What the metrics read of a running agent. */
export interface MetricsSource {
  readonly self: PeerId
  readonly host: Pick<Host, 'pubsub'>
  readonly transport: Pick<P2pTransport, 'stats' | 'onMessage'>
  readonly replica: { storedBytes(): number; onChange(listener: () => void): () => void }
  readonly machine: Pick<PeerMachine, 'memberRecords' | 'localTasks' | 'pendingServices' | 'peerViews'>
  readonly driver: Pick<DriverSet, 'list'>
  /** Service discovery and the routing mesh; absent: no discovery metrics have values. */
  readonly discovery?: DiscoveryMetricsSource
  /** Hands a new measurement of this peer's tasks to its advert. */
  reportUsage(usage: readonly TaskUsage[]): void
  readonly log: (line: string) => void
}

export interface AgentMetricsInit {
  /** How often every task's CPU and memory is measured. */
  readonly usageIntervalMs?: number
  readonly version?: string
}

export const METRICS_DEFAULTS = {
  /**
   * Task usage is measured every 10 s: often enough for `peer top` and a dashboard, rare enough that
   * one pass over /proc (or one stats call per container) costs well under 1 % of a core with a
   * thousand tasks, and that the advert it changes goes out at most that often.
   */
  usageIntervalMs: 10_000,
}

const MEMBER_STATES: readonly MemberStatus[] = ['alive', 'suspect', 'dead', 'left']
const CONTROL_METHODS = new Set(['GET', 'POST', 'DELETE', 'PUT', 'HEAD'])
/** Conflicts remembered to count each once; past this the memory starts over (a conflict then may count twice). */
const CONFLICTS_REMEMBERED = 10_000

export class AgentMetrics {
  readonly registry = new Registry()
  readonly metrics: PeerMetrics
  /** The per-task gauges, and their text as of the last measurement (definitions.ts says why). */
  private readonly usageRegistry = new Registry()
  private readonly usage: TaskUsageMetrics
  private usageText: string | undefined
  private source: MetricsSource | undefined
  private readonly detach: Array<() => void> = []
  private gossip: GossipTraffic | undefined
  private readonly memberStatus = new Map<PeerId, MemberStatus>()
  private readonly failovers = new FailoverTracker()
  private readonly lastStarted = new Map<SlotId, string>()
  private readonly conflictsSeen = new Set<string>()
  /** Cumulative counts from elsewhere (transport, gossip, discovery), as last added to our counters. */
  private readonly cumulative = new CumulativeCounts()
  private readonly addUp = this.cumulative.addUp
  private readonly sampler = new TaskUsageSampler()
  private usageTimer: NodeJS.Timeout | undefined
  private sampling: Promise<void> | undefined
  private closed = false
  private server: MetricsServer | undefined
  private readonly usageIntervalMs: number
  private readonly version: string
  private readonly stopProcessMetrics: () => void

  constructor(init: AgentMetricsInit = {}) {
    this.usageIntervalMs = init.usageIntervalMs ?? METRICS_DEFAULTS.usageIntervalMs
    this.version = init.version ?? '0.1.0'
    this.metrics = definePeerMetrics(this.registry)
    this.usage = defineTaskUsageMetrics(this.usageRegistry)
    this.stopProcessMetrics = collectProcessMetrics(this.registry)
  }

  // --- hooks handed to the parts before the agent exists ------------------------------------------

  /** The protocol machine's observer. */
  readonly observe = (event: ProtocolEvent): void => {
    const m = this.metrics
    switch (event.kind) {
      case 'refute':
        m.refutes.inc()
        break
      case 'round':
        m.rounds.inc()
        break
      case 'auction':
        m.auctionDuration.observe(event.durationMs / 1000)
        break
      case 'claim':
        m.claims.inc()
        break
      case 'conflict': {
        const key = `${event.slot} ${event.loser} ${event.loserEpoch}`
        if (this.conflictsSeen.has(key)) break
        if (this.conflictsSeen.size >= CONFLICTS_REMEMBERED) this.conflictsSeen.clear()
        this.conflictsSeen.add(key)
        m.conflicts.inc({ yielded: event.loser === this.source?.self ? 'self' : 'other' })
        break
      }
    }
  }

  readonly probe: ProbeObserver = ({ passed, durationMs }) => {
    this.metrics.healthChecks.inc({ result: passed ? 'pass' : 'fail' })
    this.metrics.healthCheckDuration.observe(durationMs / 1000)
  }

  readonly syncRun = (outcome: { ok: true; rounds: number } | { ok: false }, durationMs: number): void => {
    this.metrics.syncs.inc({ result: outcome.ok ? 'ok' : 'failed' })
    if (outcome.ok) this.metrics.syncRounds.inc(outcome.rounds)
    this.metrics.syncDuration.observe(durationMs / 1000)
  }

  readonly controlRequest = (request: { route: string; method: string; status: number }): void => {
    const method = CONTROL_METHODS.has(request.method) ? request.method : 'other'
    this.metrics.controlRequests.inc({ route: request.route, method, status: String(request.status) })
  }

  // --- the running agent ----------------------------------------------------------------------------

  /** Starts reading the agent: its messages, desired-state changes and, on a timer, its tasks' usage. */
  attach(source: MetricsSource): void {
    this.source = source
    this.metrics.info.set({ peer_id: source.self, version: this.version }, 1)
    this.gossip = countGossipTraffic(source.host)
    this.detach.push(
      () => this.gossip?.detach(),
      source.transport.onMessage((_from, message) => {
        if (message.kind === 'bid') this.metrics.bidsReceived.inc()
      }),
      source.replica.onChange(() => this.metrics.desiredChanges.inc()),
    )
    this.scheduleUsage(0)
  }

  /** After every input the agent fed the machine: what it output, and what changed in membership. */
  afterFeed(outputs: readonly Output[]): void {
    const source = this.source
    if (source === undefined) return
    for (const output of outputs) {
      if ((output.kind === 'send' || output.kind === 'broadcast') && output.message.kind === 'bid') this.metrics.bidsSent.inc()
      else if (output.kind === 'start-task') {
        if (this.lastStarted.get(output.task.slot) === output.task.specHash) this.metrics.restarts.inc()
        this.lastStarted.set(output.task.slot, output.task.specHash)
      } else if (output.kind === 'stop-task') this.lastStarted.delete(output.slot)
    }
    const at = performance.now()
    for (const record of source.machine.memberRecords()) {
      const before = this.memberStatus.get(record.peer)
      if (before === record.status) continue
      this.memberStatus.set(record.peer, record.status)
      if (record.peer === source.self) continue
      if (record.status === 'suspect') this.metrics.suspicions.inc()
      if (record.status === 'dead') {
        this.metrics.deadVerdicts.inc()
        this.failovers.peerDead(record.peer, source.machine.peerViews(), at)
      }
      if (record.status === 'alive') this.failovers.peerBack(record.peer)
    }
    if (this.failovers.pending) {
      for (const ms of this.failovers.check(source.machine.peerViews(), at)) this.metrics.failoverDuration.observe(ms / 1000)
    }
  }

  /** A runtime driver failed to start or stop a task. */
  driverError(driver: string, operation: 'start' | 'stop'): void {
    this.metrics.driverErrors.inc({ driver, operation })
  }

  /** The metrics in Prometheus' text format, gauges read now. */
  async render(): Promise<string> {
    this.refresh()
    this.usageText ??= await this.usageRegistry.metrics()
    return `${await this.registry.metrics()}\n${this.usageText}`
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** Serves these metrics at GET /metrics on `listen`; resolves with the address bound. Rejects when it cannot bind. */
  async serve(listen: MetricsListen): Promise<string> {
    this.server = await serveMetrics(listen, () => this.render(), this.contentType)
    return this.server.address
  }

  async close(): Promise<void> {
    this.closed = true
    this.stopProcessMetrics()
    await this.server?.close()
    clearTimeout(this.usageTimer)
    await this.sampling
    for (const detach of this.detach) detach()
  }

  // --- gauges and cumulative counts, read at scrape time -------------------------------------------

  private refresh(): void {
    const source = this.source
    if (source === undefined) return
    const m = this.metrics
    const members = source.machine.memberRecords()
    for (const state of MEMBER_STATES) m.members.set({ state }, members.filter((record) => record.status === state).length)
    const tasks = source.machine.localTasks()
    const byState = new Map<string, number>(TASK_STATES.map((state) => [state, 0]))
    for (const task of tasks) byState.set(task.state, (byState.get(task.state) ?? 0) + 1)
    for (const [state, count] of byState) m.tasks.set({ state }, count)
    m.slotsPending.reset()
    for (const pending of source.machine.pendingServices()) {
      const top = [...pending.rejections].sort((a, b) => b.peers - a.peers)[0]
      m.slotsPending.inc({ reason: top?.reason ?? 'no-candidate' }, pending.slots.length)
    }
    m.desiredSize.set(source.replica.storedBytes())
    const stats = source.transport.stats()
    this.addUp(m.directMessages, { direction: 'out' }, stats.directSent)
    this.addUp(m.directMessages, { direction: 'in' }, stats.directReceived)
    this.addUp(m.directBytes, { direction: 'out' }, stats.bytesSent)
    this.addUp(m.directBytes, { direction: 'in' }, stats.bytesReceived)
    this.addUp(m.messagesRejected, {}, stats.rejected + stats.directInvalid)
    for (const [topic, traffic] of this.gossip?.byTopic() ?? []) {
      const name = topicName(topic)
      this.addUp(m.gossipMessages, { topic: name, direction: 'out' }, traffic.messagesOut)
      this.addUp(m.gossipMessages, { topic: name, direction: 'in' }, traffic.messagesIn)
      this.addUp(m.gossipBytes, { topic: name, direction: 'out' }, traffic.bytesOut)
      this.addUp(m.gossipBytes, { topic: name, direction: 'in' }, traffic.bytesIn)
    }
    if (source.discovery !== undefined) showDiscovery(m, source.discovery, this.addUp)
  }

  // --- task usage ------------------------------------------------------------------------------------

  private scheduleUsage(delayMs: number): void {
    if (this.closed) return
    this.usageTimer = setTimeout(() => {
      this.sampling = this.sampleUsage().finally(() => {
        this.sampling = undefined
        this.scheduleUsage(this.usageIntervalMs)
      })
    }, delayMs)
    this.usageTimer.unref()
  }

  private async sampleUsage(): Promise<void> {
    const source = this.source
    if (source === undefined) return
    try {
      const began = performance.now()
      const running = (await source.driver.list()).filter((task) => !task.stopping)
      const measured = await this.sampler.sample(running, Date.now())
      this.metrics.usageSampleDuration.observe((performance.now() - began) / 1000)
      if (this.closed) return
      await this.showUsage(measured)
      source.reportUsage(measured.map((task) => ({
        slot: task.slot,
        cpuMilli: Math.round((task.cpuCores ?? 0) * 1000),
        memoryMiB: Math.round(task.memoryBytes / (1024 * 1024)),
      })))
    } catch (error) {
      source.log(`measuring task usage failed: ${messageOf(error)}`)
    }
  }

  private async showUsage(measured: readonly MeasuredTask[]): Promise<void> {
    const m = this.usage
    m.taskCpu.reset()
    m.taskMemory.reset()
    m.taskCpuRequested.reset()
    m.taskMemoryRequested.reset()
    for (const task of measured) {
      const labels = { service: task.service, slot: task.slot }
      if (task.cpuCores !== undefined) m.taskCpu.set(labels, task.cpuCores)
      m.taskMemory.set(labels, task.memoryBytes)
      m.taskCpuRequested.set(labels, task.requestedCpuMilli / 1000)
      m.taskMemoryRequested.set(labels, task.requestedMemoryMiB * 1024 * 1024)
    }
    this.usageText = await this.usageRegistry.metrics()
  }
}

/** Topic names as labels: the protocol's own topics by their last word, so dashboards read `protocol`, `desired`, `addresses`. */
function topicName(topic: string): string {
  return topic === PROTOCOL_TOPIC ? 'protocol' : topic.slice(topic.lastIndexOf('/') + 1)
}
