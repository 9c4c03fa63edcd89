// A load on the desired state that once killed an agent (an uncaught RangeError from the pnet
// cipher's WebAssembly memory after a 2,000-service apply and dozens of large changes): three real
// agents on 127.0.0.1–3 (process driver), then
//
//   bulk        one apply of `services` services (replicas 0, so nothing runs) on agent 1
//   sequential  `applies` applies in a row on agent 1, each changing the env of three services
//   concurrent  an applier on each agent at once, `concurrentApplies` applies each; in round r all
//               three change the same service (concurrent writes to one field) and one of their own
//
// After each phase every agent must still run (process alive, no exit code) and answer on its
// socket; at the end all must hold the same desired state (heads digest) and every service. Shared
// by test/node/agent/load.test.ts (sizes that fit the suite) and bench/agent-load.ts (full size).

import { readFileSync } from 'node:fs'
import { ask } from '../../../cli/agent-client.js'
import { servicesFromText } from '../../../cli/files.js'
import { LocalCluster, sleep, type LocalAgent } from '../../../cli/local-cluster.js'
import type { ServiceSpec } from '../../../core/index.js'
import type { StatsAnswer } from '../../../node/control/index.js'

export interface LoadSizes {
  readonly services: number
  readonly applies: number
  /** Applies by each of the three concurrent appliers. */
  readonly concurrentApplies: number
}

/** The sizes of the finding this scenario reproduces. */
export const FULL_LOAD: LoadSizes = { services: 2_000, applies: 200, concurrentApplies: 50 }

export interface LoadOptions {
  /** Holds the agents' data directories (peer-1 … peer-3). */
  readonly base: string
  readonly sizes: LoadSizes
  /** The command that runs the CLI (LocalClusterOptions.command). */
  readonly command: readonly string[]
  /** Progress, one line per phase. */
  readonly log?: (line: string) => void
}

export interface AgentFigures {
  readonly index: number
  readonly peer: string
  /** The largest rssBytes of GET /v1/stats, sampled every STATS_EVERY_MS (answers a busy agent could not give in time are missing). */
  readonly peakRssBytes: number
  /** The kernel's high-water mark of the agent's resident memory (VmHWM), the true peak; null off Linux. */
  readonly vmHwmBytes: number | null
  readonly rssBytes: number
  readonly heapUsedBytes: number
  readonly externalBytes: number
  readonly connectionFaults: number
  readonly syncFailures: number
  /** Stats requests that got no answer within STATS_TIMEOUT_MS while sampling. */
  readonly statsUnanswered: number
  /** Membership changes other than to alive this agent saw during the load (`peer events`), as `<peer id tail>:<status>@+<ms since the bulk apply>`: peers it suspected or declared dead while they were busy. */
  readonly membersNotAlive: readonly string[]
}

export interface LoadResult {
  readonly sizes: LoadSizes
  /** Wall time of each phase, ms. */
  readonly phases: {
    readonly start: number
    readonly bulkApply: number
    readonly bulkConverge: number
    readonly sequential: number
    readonly concurrent: number
    readonly converge: number
  }
  /** Answer times of the sequential applies, ms. */
  readonly sequentialApplyMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly digest: string
  readonly services: number
  readonly agents: readonly AgentFigures[]
}

const AGENTS = 3
const STATS_EVERY_MS = 500
const STATS_TIMEOUT_MS = 10_000
/** A whole phase: generous, the point is that it ends, not how fast (that is the benchmark's). */
const PHASE_TIMEOUT_MS = 240_000
const ENV = 'LOAD_ROUND'

/** `count` services named s0000…, replicas 0, each with ENV=0, normalised as `peer apply` sends them. */
export function loadServices(count: number): ServiceSpec[] {
  const width = String(count - 1).length
  const lines = ['services:']
  for (let index = 0; index < count; index++) {
    lines.push(`  s${String(index).padStart(width, '0')}:`, '    command: ["sleep", "600"]', '    replicas: 0', `    env: { ${ENV}: "0" }`, '    resources: { cpu: 10m, memory: 8Mi }')
  }
  const loaded = servicesFromText('load.yaml', `${lines.join('\n')}\n`)
  if (!loaded.ok) throw new Error(`the load's services do not validate: ${JSON.stringify(loaded.errors.slice(0, 3))}`)
  return loaded.value
}

function withRound(spec: ServiceSpec, round: string): ServiceSpec {
  return { ...spec, env: { ...spec.env, [ENV]: round } }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { sizes } = options
  const log = options.log ?? (() => undefined)
  const specs = loadServices(sizes.services)
  const local = await LocalCluster.create({ base: options.base, count: AGENTS, addresses: 'range', agentArgs: ['--cpu', '2', '--memory', '2Gi', '--docker', 'off'], command: options.command })
  const agents = local.agents
  const sampler = new StatsSampler(agents)
  const phases: Record<string, number> = {}
  /** Runs a phase and times it; then (unless told not to, when the next phase waits for the work this one started) checks every agent is up. */
  const timed = async <T>(name: string, work: () => Promise<T>, check = true): Promise<T> => {
    const from = performance.now()
    const value = await work()
    phases[name] = Math.round(performance.now() - from)
    log(`${name}: ${phases[name]} ms`)
    if (check) await allUp(agents, `after ${name}`)
    return value
  }
  try {
    await timed('start', async () => {
      await local.startAll()
      await Promise.all(agents.map((agent) => local.waitForMembers(agent.index, AGENTS)))
    })
    sampler.start()
    const [a1] = agents as [LocalAgent, LocalAgent, LocalAgent]

    const loadFrom = Date.now()
    const bulkDigest = await timed('bulkApply', async () => {
      await ask({ peer: a1.socket, timeoutMs: PHASE_TIMEOUT_MS }, 'POST /v1/apply', { body: { services: specs } })
      return (await ask({ peer: a1.socket, timeoutMs: PHASE_TIMEOUT_MS }, 'GET /v1/status')).desiredDigest
    }, false)
    await timed('bulkConverge', () => converged(agents, bulkDigest))

    const applyMs: number[] = []
    await timed('sequential', async () => {
      for (let round = 1; round <= sizes.applies; round++) {
        // Three services spread over the document, a different three each round.
        const changed = [round * 7, round * 13 + 1, round * 31 + 2].map((n) => specs[n % specs.length]!)
        const from = performance.now()
        await ask({ peer: a1.socket, timeoutMs: PHASE_TIMEOUT_MS }, 'POST /v1/apply', { body: { services: changed.map((spec) => withRound(spec, `seq-${round}`)) } })
        applyMs.push(performance.now() - from)
      }
    })

    await timed('concurrent', () =>
      Promise.all(agents.map(async (agent, applier) => {
        for (let round = 1; round <= sizes.concurrentApplies; round++) {
          const shared = specs[(round * 17) % specs.length]!
          const own = specs[(round * 17 + 1 + applier * 101) % specs.length]!
          const value = `c${applier + 1}-${round}`
          await ask({ peer: agent.socket, timeoutMs: PHASE_TIMEOUT_MS }, 'POST /v1/apply', { body: { services: [withRound(shared, value), withRound(own, value)] } })
        }
      })),
    )

    const digest = await timed('converge', () => converged(agents))
    const counts = await Promise.all(agents.map(async (agent) => (await ask({ peer: agent.socket, timeoutMs: STATS_TIMEOUT_MS }, 'GET /v1/status')).services.length))
    if (counts.some((count) => count !== sizes.services)) throw new Error(`services held by agents 1–3: ${counts.join(', ')}; ${sizes.services} applied`)
    sampler.stop()
    await sampler.settled()
    const figures = await Promise.all(agents.map((agent) => figuresOf(agent, sampler, loadFrom)))
    applyMs.sort((a, b) => a - b)
    const at = (q: number): number => Math.round(applyMs[Math.min(applyMs.length - 1, Math.floor(q * applyMs.length))] ?? 0)
    return {
      sizes,
      phases: phases as unknown as LoadResult['phases'],
      sequentialApplyMs: { p50: at(0.5), p99: at(0.99), max: Math.round(applyMs.at(-1) ?? 0) },
      digest,
      services: sizes.services,
      agents: figures,
    }
  } finally {
    sampler.stop()
    await sampler.settled()
    await local.stopAll(10_000)
  }
}

/** Every agent's process is alive (no exit code or signal) and its control socket answers. */
async function allUp(agents: readonly LocalAgent[], when: string): Promise<void> {
  for (const agent of agents) {
    const child = agent.child
    if (!agent.running || child === undefined || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${when}: agent ${agent.index} is gone (exit ${child?.exitCode ?? '-'}, signal ${child?.signalCode ?? '-'}); its log: ${agent.log}`)
    }
    try {
      await ask({ peer: agent.socket, timeoutMs: STATS_TIMEOUT_MS }, 'GET /v1/health')
    } catch (error) {
      throw new Error(`${when}: agent ${agent.index} does not answer on its socket: ${error instanceof Error ? error.message : String(error)}; its log: ${agent.log}`)
    }
  }
}

/** Until every agent holds the same heads digest (`target` when given); resolves with it. */
async function converged(agents: readonly LocalAgent[], target?: string): Promise<string> {
  const deadline = performance.now() + PHASE_TIMEOUT_MS
  let last = ''
  for (;;) {
    try {
      const digests = await Promise.all(agents.map(async (agent) => (await ask({ peer: agent.socket, timeoutMs: STATS_TIMEOUT_MS }, 'GET /v1/status')).desiredDigest))
      last = digests.join(' ')
      const [first] = digests
      if (first !== undefined && digests.every((digest) => digest === first) && (target === undefined || first === target)) return first
    } catch (error) {
      last = `error: ${error instanceof Error ? error.message : String(error)}`
    }
    if (performance.now() > deadline) throw new Error(`the agents did not agree on the desired state within ${PHASE_TIMEOUT_MS} ms; last: ${last}`)
    for (const agent of agents) if (!agent.running) throw new Error(`agent ${agent.index} is gone while converging; its log: ${agent.log}`)
    await sleep(250)
  }
}

/** Samples every agent's GET /v1/stats, one request per agent at a time, keeping the largest rssBytes. */
class StatsSampler {
  readonly peakRss = new Map<number, number>()
  readonly unanswered = new Map<number, number>()
  private running = false
  private loops: Promise<void>[] = []

  constructor(private readonly agents: readonly LocalAgent[]) {}

  start(): void {
    this.running = true
    this.loops = this.agents.map(async (agent) => {
      while (this.running) {
        const from = performance.now()
        try {
          const stats = await ask({ peer: agent.socket, timeoutMs: STATS_TIMEOUT_MS }, 'GET /v1/stats')
          this.note(agent.index, stats)
        } catch {
          this.unanswered.set(agent.index, (this.unanswered.get(agent.index) ?? 0) + 1)
        }
        await sleep(Math.max(0, STATS_EVERY_MS - (performance.now() - from)))
      }
    })
  }

  note(index: number, stats: StatsAnswer): void {
    this.peakRss.set(index, Math.max(this.peakRss.get(index) ?? 0, stats.rssBytes))
  }

  stop(): void {
    this.running = false
  }

  async settled(): Promise<void> {
    await Promise.all(this.loops)
  }
}

async function figuresOf(agent: LocalAgent, sampler: StatsSampler, since: number): Promise<AgentFigures> {
  const stats = await ask({ peer: agent.socket, timeoutMs: STATS_TIMEOUT_MS }, 'GET /v1/stats')
  sampler.note(agent.index, stats)
  const { events } = await ask({ peer: agent.socket, timeoutMs: STATS_TIMEOUT_MS }, 'GET /v1/events')
  const membersNotAlive = events.flatMap((event) => (event.kind === 'member' && event.at >= since && event.status !== 'alive' ? [`${event.peer.slice(-6)}:${event.status}@+${event.at - since}ms`] : []))
  return {
    index: agent.index,
    peer: stats.peer,
    peakRssBytes: sampler.peakRss.get(agent.index) ?? stats.rssBytes,
    vmHwmBytes: highWaterMark(agent.child?.pid),
    rssBytes: stats.rssBytes,
    heapUsedBytes: stats.heapUsedBytes,
    externalBytes: stats.externalBytes,
    connectionFaults: stats.connectionFaults,
    syncFailures: stats.desired.syncFailures,
    statsUnanswered: sampler.unanswered.get(agent.index) ?? 0,
    membersNotAlive,
  }
}

function highWaterMark(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1]
    return kib === undefined ? null : Number(kib) * 1024
  } catch {
    return null
  }
}
