// A cluster under watch: N hosts with their agents meshed, the observer sampling, the nemesis ready,
// and one service (`sleep 600`, process driver) applied and placed — the starting point of every
// fault test and of the nemesis run. The first apply goes through the real CLI, as an operator's
// would. Writes during faults go straight to an agent's control API, with what `peer apply` and
// `peer scale` send: on a busy two-core machine a CLI process takes seconds just to start, and a
// write must land when the history says it was sent.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ask } from '../../cli/agent-client.js'
import { validateService, type ServiceSpec, type SpecError } from '../../core/index.js'
import { runCli } from '../cli/run-cli.js'
import { Faults } from './faults.js'
import { HistoryRecorder } from './history.js'
import { Hosts, type Host } from './hosts.js'
import { sweepStale } from './network.js'
import { hostsBySlot, Observer } from './observer.js'
import type { Sample } from './history.js'

export const SERVICE = 'web'
const CPU_MILLI = 2_000
const MEMORY_MIB = 2_048
const PLACE_TIMEOUT_MS = 30_000
const WRITE_TIMEOUT_MS = 10_000

/** The service as written: `round` is the env change each apply makes. */
export function serviceBody(replicas: number, round: number): Record<string, unknown> {
  return { command: ['sleep', '600'], replicas, env: { ROUND: String(round) }, resources: { cpu: '50m', memory: '16Mi' } }
}

export function serviceSpec(replicas: number, round: number): ServiceSpec {
  const errors: SpecError[] = []
  const spec = validateService(SERVICE, serviceBody(replicas, round), SERVICE, errors)
  if (spec === undefined) throw new Error(`test service is invalid: ${JSON.stringify(errors)}`)
  return spec
}

/** Whether every slot of `spec` runs exactly once in `sample` (none on `excluded`); else what is wrong. */
export function everySlotOnce(sample: Sample, replicas: number, excluded?: string): true | string {
  const bySlot = hostsBySlot(sample)
  const problems: string[] = []
  for (let i = 0; i < replicas; i++) {
    const hosts = bySlot.get(`${SERVICE}/${i}`) ?? []
    if (hosts.length !== 1) problems.push(`${SERVICE}/${i} on [${hosts.join(' ')}]`)
    else if (hosts[0] === excluded) problems.push(`${SERVICE}/${i} on ${excluded}`)
  }
  if (sample.copies.length !== replicas) problems.push(`${sample.copies.length} copies in all`)
  return problems.length === 0 ? true : problems.join('; ')
}

export interface Cluster {
  readonly hosts: Hosts
  readonly recorder: HistoryRecorder
  readonly observer: Observer
  readonly faults: Faults
  /** Replicas and env round currently desired. */
  replicas: number
  round: number
  /** Polls the observer every 100 ms until every slot runs once; answers how long that took. */
  settled(timeoutMs: number, excluded?: string): Promise<number>
  /** What `peer apply` sends for the service, through `host`'s agent. */
  apply(host: Host, replicas: number, round: number): Promise<void>
  /** What `peer scale web=<replicas>` sends, through `host`'s agent. */
  scale(host: Host, replicas: number): Promise<void>
  /** Each agent's desired state, read back through its API into the history. */
  readBack(): Promise<void>
  teardown(): void
}

export interface StartOptions {
  /** Agents started at once (all by default); fewer on a busy machine, where each loads slowly. */
  readonly startConcurrency?: number
  /** Agents from a build (HostsInit.builtCli) instead of the sources under tsx. */
  readonly builtCli?: string
  /** How long each agent may take to listen (HostsInit.readyTimeoutMs), and the first apply to answer and be placed. */
  readonly readyTimeoutMs?: number
}

export async function startCluster(count: number, replicas: number, log: (line: string) => void = () => {}, options: StartOptions = {}): Promise<Cluster> {
  const swept = sweepStale()
  if (swept.length > 0) log(`removed namespaces of earlier runs: ${swept.join(' ')}`)
  const startedAt = Date.now()
  const { startConcurrency: _, ...hostOptions } = options
  const hosts = await Hosts.create({ count, ...hostOptions })
  const recorder = new HistoryRecorder(hosts.hosts.map((host) => ({ name: host.name, cpuMilli: CPU_MILLI, memoryMiB: MEMORY_MIB })))
  let observer: Observer | undefined
  const teardown = (): void => {
    observer?.stop()
    hosts.teardown()
  }
  try {
    observer = new Observer(hosts.hosts, recorder)
    const faults = new Faults(hosts, recorder)
    await hosts.startAll(options.startConcurrency)
    await Promise.all(hosts.hosts.map((host) => hosts.waitForMembers(host, count, options.readyTimeoutMs)))
    log(`${count} agents in namespaces up and meshed: ${Date.now() - startedAt} ms`)
    observer.start()
    const watched = observer
    const cluster: Cluster = {
      hosts, recorder, observer, faults, replicas, round: 0, teardown,
      async settled(timeoutMs, excluded) {
        const from = Date.now()
        let seen = ''
        for (;;) {
          const verdict = everySlotOnce(watched.latest(), cluster.replicas, excluded)
          if (verdict === true) return Date.now() - from
          seen = verdict
          if (Date.now() - from > timeoutMs) throw new Error(`not every slot once within ${timeoutMs} ms: ${seen}`)
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      },
      async apply(host, wantReplicas, round) {
        await ask({ peer: host.socket, timeoutMs: WRITE_TIMEOUT_MS }, 'POST /v1/apply', { body: { services: [serviceSpec(wantReplicas, round)] } })
      },
      async scale(host, wantReplicas) {
        await ask({ peer: host.socket, timeoutMs: WRITE_TIMEOUT_MS }, 'POST /v1/scale', { body: { service: SERVICE, replicas: wantReplicas } })
      },
      async readBack() {
        await Promise.all(hosts.hosts.map(async (host) => {
          const atMs = recorder.now()
          try {
            const status = await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/status')
            const { spec } = await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/services/:name', { params: { name: SERVICE } })
            recorder.finalRead({ host: host.name, atMs, digest: status.desiredDigest, services: [spec] })
          } catch (error) {
            recorder.finalRead({ host: host.name, atMs, error: (error as Error).message })
          }
        }))
      },
    }
    recorder.desire([serviceSpec(replicas, 0)])
    const file = join(hosts.base, `${SERVICE}.json`)
    writeFileSync(file, JSON.stringify({ services: { [SERVICE]: serviceBody(replicas, 0) } }))
    const applied = await runCli(['apply', '-f', file, '--data', hosts.hosts[0]!.dataDir], options.readyTimeoutMs)
    if (applied.code !== 0) throw new Error(`peer apply via h1 exited ${applied.code}: ${applied.stderr.trim()}`)
    const placedMs = await cluster.settled(Math.max(PLACE_TIMEOUT_MS, options.readyTimeoutMs ?? 0))
    log(`${replicas} replicas placed ${placedMs} ms after the apply answered`)
    return cluster
  } catch (error) {
    teardown()
    throw error
  }
}
