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
import { Hosts, type Host, type HostsInit } from './hosts.js'
import { sweepStale } from './network.js'
import { ContainerObserver, killContainersOf, removeContainersSync } from './container-observer.js'
import { hostsBySlot, Observer, type Watch } from './observer.js'
import type { Sample } from './history.js'

export const SERVICE = 'web'
/**
 * A second service, of one replica, that writes during partitions create and remove (`peer rm`), so
 * a removal made on one side of a partition is judged after the heal like any other write.
 */
export const AUX = 'aux'
const CPU_MILLI = 2_000
const MEMORY_MIB = 2_048
const PLACE_TIMEOUT_MS = 30_000
const WRITE_TIMEOUT_MS = 10_000

/** How the services' tasks run: processes, or containers of the test image (scripts/build-test-image.sh). */
export type TaskDriver = 'process' | 'docker'
export const TEST_IMAGE = 'peer-test:latest'

const runsOn = (driver: TaskDriver): Record<string, unknown> => (driver === 'docker' ? { driver: 'docker', image: TEST_IMAGE } : {})

/** The service as written: `round` is the env change each apply makes. */
export function serviceBody(replicas: number, round: number, driver: TaskDriver = 'process'): Record<string, unknown> {
  return { ...runsOn(driver), command: ['sleep', '600'], replicas, env: { ROUND: String(round) }, resources: { cpu: '50m', memory: '16Mi' } }
}

export function serviceSpec(replicas: number, round: number, driver: TaskDriver = 'process'): ServiceSpec {
  const errors: SpecError[] = []
  const spec = validateService(SERVICE, serviceBody(replicas, round, driver), SERVICE, errors)
  if (spec === undefined) throw new Error(`test service is invalid: ${JSON.stringify(errors)}`)
  return spec
}

export function auxSpec(driver: TaskDriver = 'process'): ServiceSpec {
  const errors: SpecError[] = []
  const spec = validateService(AUX, { ...runsOn(driver), command: ['sleep', '600'], replicas: 1, resources: { cpu: '50m', memory: '16Mi' } }, AUX, errors)
  if (spec === undefined) throw new Error(`test service is invalid: ${JSON.stringify(errors)}`)
  return spec
}

/** Every service desired: web as written, and aux when it exists. */
export function desiredServices(replicas: number, round: number, aux: boolean, driver: TaskDriver = 'process'): ServiceSpec[] {
  return [serviceSpec(replicas, round, driver), ...(aux ? [auxSpec(driver)] : [])]
}

/**
 * Whether every slot of web runs exactly once in `sample` (none on `excluded`), and aux's one slot
 * once when `aux` (else not at all); else what is wrong.
 */
export function everySlotOnce(sample: Sample, replicas: number, excluded?: string, aux = false): true | string {
  const bySlot = hostsBySlot(sample)
  const problems: string[] = []
  const slots = [...Array.from({ length: replicas }, (_, i) => `${SERVICE}/${i}`), ...(aux ? [`${AUX}/0`] : [])]
  for (const slot of slots) {
    const hosts = bySlot.get(slot) ?? []
    if (hosts.length !== 1) problems.push(`${slot} on [${hosts.join(' ')}]`)
    else if (hosts[0] === excluded) problems.push(`${slot} on ${excluded}`)
  }
  if (sample.copies.length !== slots.length) problems.push(`${sample.copies.length} copies in all`)
  return problems.length === 0 ? true : problems.join('; ')
}

export interface Cluster {
  readonly hosts: Hosts
  readonly recorder: HistoryRecorder
  readonly observer: Watch
  readonly faults: Faults
  readonly driver: TaskDriver
  /** Replicas and env round currently desired, and whether aux exists. */
  replicas: number
  round: number
  aux: boolean
  /** Polls the observer every 100 ms until every slot runs once; answers how long that took. */
  settled(timeoutMs: number, excluded?: string): Promise<number>
  /** What `peer apply` sends for the service, through `host`'s agent. */
  apply(host: Host, replicas: number, round: number): Promise<void>
  /** What `peer scale web=<replicas>` sends, through `host`'s agent. */
  scale(host: Host, replicas: number): Promise<void>
  /** What `peer apply` of aux sends, through `host`'s agent. */
  createAux(host: Host): Promise<void>
  /** What `peer rm aux` sends, through `host`'s agent. */
  removeAux(host: Host): Promise<void>
  /** Each agent's desired state, read back through its API into the history. */
  readBack(): Promise<void>
  teardown(): void
}

export interface ClusterInit {
  /** Each host's data directory on a tmpfs of this size (the disk-full fault needs one). */
  readonly dataDirMiB?: number
  /** Processes (default), or containers on this machine's Docker engine, watched through it. */
  readonly driver?: TaskDriver
  /** Agents started at once (all by default); fewer on a busy machine, where each loads slowly. */
  readonly startConcurrency?: number
  /** Agents from this build's `cli/main.js` (HostsInit.builtCli) instead of the tests' own build. */
  readonly builtCli?: string
  /** Environment added to each host's agent (HostsInit.agentEnvFor). */
  readonly agentEnvFor?: HostsInit['agentEnvFor']
  /** How long each agent may take to listen (HostsInit.readyTimeoutMs), and the first apply to answer and be placed. */
  readonly readyTimeoutMs?: number
}

export async function startCluster(count: number, replicas: number, log: (line: string) => void = () => {}, init: ClusterInit = {}): Promise<Cluster> {
  const swept = sweepStale()
  if (swept.length > 0) log(`removed namespaces of earlier runs: ${swept.join(' ')}`)
  const startedAt = Date.now()
  const { startConcurrency, driver: taskDriver, ...hostOptions } = init
  const driver = taskDriver ?? 'process'
  const hosts = await Hosts.create({ count, ...hostOptions, docker: driver === 'docker' })
  const recorder = new HistoryRecorder(hosts.hosts.map((host) => ({ name: host.name, cpuMilli: CPU_MILLI, memoryMiB: MEMORY_MIB })))
  let observer: Watch | undefined
  const teardown = (): void => {
    observer?.stop()
    try {
      hosts.teardown()
    } finally {
      // The engine outlives the hosts: its containers of this run go after the agents that made them.
      if (driver === 'docker') removeContainersSync(hosts.hosts)
    }
  }
  try {
    observer = driver === 'docker' ? new ContainerObserver(hosts.hosts, recorder) : new Observer(hosts.hosts, recorder)
    const faults = new Faults(hosts, recorder, driver === 'docker' ? (host) => killContainersOf(host) : undefined)
    await hosts.startAll(startConcurrency)
    await Promise.all(hosts.hosts.map((host) => hosts.waitForMembers(host, count, init.readyTimeoutMs)))
    log(`${count} agents in namespaces up and meshed: ${Date.now() - startedAt} ms`)
    observer.start()
    const watched = observer
    const cluster: Cluster = {
      hosts, recorder, observer, faults, driver, replicas, round: 0, aux: false, teardown,
      async settled(timeoutMs, excluded) {
        const from = Date.now()
        let seen = ''
        for (;;) {
          const verdict = everySlotOnce(watched.latest(), cluster.replicas, excluded, cluster.aux)
          if (verdict === true) return Date.now() - from
          seen = verdict
          if (Date.now() - from > timeoutMs) throw new Error(`not every slot once within ${timeoutMs} ms: ${seen}`)
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      },
      async apply(host, wantReplicas, round) {
        await ask({ peer: host.socket, timeoutMs: WRITE_TIMEOUT_MS }, 'POST /v1/apply', { body: { services: [serviceSpec(wantReplicas, round, driver)] } })
      },
      async scale(host, wantReplicas) {
        await ask({ peer: host.socket, timeoutMs: WRITE_TIMEOUT_MS }, 'POST /v1/scale', { body: { service: SERVICE, replicas: wantReplicas } })
      },
      async createAux(host) {
        await ask({ peer: host.socket, timeoutMs: WRITE_TIMEOUT_MS }, 'POST /v1/apply', { body: { services: [auxSpec(driver)] } })
      },
      async removeAux(host) {
        await ask({ peer: host.socket, timeoutMs: WRITE_TIMEOUT_MS }, 'POST /v1/remove', { body: { services: [AUX] } })
      },
      async readBack() {
        await Promise.all(hosts.hosts.map(async (host) => {
          const atMs = recorder.now()
          try {
            const status = await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/status')
            // Every service it holds, so a removed one still held is seen too.
            const { services } = await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/cluster')
            recorder.finalRead({ host: host.name, atMs, digest: status.desiredDigest, services })
          } catch (error) {
            recorder.finalRead({ host: host.name, atMs, error: (error as Error).message })
          }
        }))
      },
    }
    recorder.desire([serviceSpec(replicas, 0, driver)])
    const file = join(hosts.base, `${SERVICE}.json`)
    writeFileSync(file, JSON.stringify({ services: { [SERVICE]: serviceBody(replicas, 0, driver) } }))
    const applied = await runCli(['apply', '-f', file, '--data', hosts.hosts[0]!.dataDir], init.readyTimeoutMs)
    if (applied.code !== 0) throw new Error(`peer apply via h1 exited ${applied.code}: ${applied.stderr.trim()}`)
    const placedMs = await cluster.settled(Math.max(PLACE_TIMEOUT_MS, init.readyTimeoutMs ?? 0))
    log(`${replicas} replicas placed ${placedMs} ms after the apply answered`)
    return cluster
  } catch (error) {
    teardown()
    throw error
  }
}
