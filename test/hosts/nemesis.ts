// A nemesis run, as Jepsen runs one: a cluster of real agents in namespaces, one service, a seeded
// schedule of faults (schedule.ts) with concurrent writes during some of them, then everything
// healed and the cluster given time to converge. The run only injects and records; the checker
// judges the finished history. Used by `npm run nemesis` (bench/nemesis.ts) for long runs and by
// test/hosts/nemesis.test.ts for a short one in `npm test`.

import { loadavg } from 'node:os'
import { ask } from '../../cli/agent-client.js'
import { percentile } from '../../sim/metrics.js'
import { withLogTails } from '../node/agent/cluster-support.js'
import { check, type Anomaly, type Verdict } from './checker.js'
import { AUX, desiredServices, SERVICE, startCluster, type Cluster, type TaskDriver } from './cluster.js'
import type { FaultKind, History } from './history.js'
import type { AgentExit } from './hosts.js'
import { describeEpisode, faultMs, makeSchedule, OFFLINE_AFTER_RESTART_MS, type Episode, type Schedule, type Writes } from './schedule.js'

export interface NemesisInit {
  readonly hosts: number
  readonly durationMs: number
  readonly seed: number
  /** Replicas of the one service; 2 per host by default. */
  readonly replicas?: number
  /** How tasks run: processes (default) or containers on this machine's Docker engine. */
  readonly driver?: TaskDriver
  readonly log?: (line: string) => void
}

/** The figures of a run, as `npm run nemesis -- --json` prints them. */
export interface NemesisFigures {
  /** The checker's verdict, and no agent died by itself. */
  readonly valid: boolean
  /** Slots that ran nowhere beyond the failover budget, or were never placed. */
  readonly lost: number
  /** Slots that ran twice beyond the conflict window with no fault to explain it, or beyond the heal budget after one. */
  readonly duplicatesAfterHeal: number
  /** Every time any slot ran twice, however briefly, explained or not. */
  readonly duplicateIntervals: number
  readonly failoverMsP50: number
  readonly failoverMsP99: number
  readonly failoverMs: readonly number[]
  readonly spuriousMoves: number
  readonly moves: number
  /** Agents that died by themselves (any exit but the nemesis's SIGKILL). */
  readonly crashes: number
  /** Faults injected, by kind. */
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>
  readonly writes: { readonly ok: number; readonly failed: number }
  /** From the final heal until every slot ran once and every agent held one digest; -1 if never. */
  readonly convergeMs: number
}

export interface NemesisRun {
  readonly schedule: Schedule
  readonly history: History
  readonly verdict: Verdict
  readonly figures: NemesisFigures
  readonly agentExits: readonly AgentExit[]
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] }
  readonly wallMs: number
}

const CONVERGE_TIMEOUT_MS = 30_000
/** Each host's data directory is a tmpfs this big, for the disk-full fault to fill. */
export const DATA_DIR_MIB = 8
/** Watched after convergence, so the last sample stands for a settled cluster. */
const SETTLE_MS = 3_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const round2 = (values: readonly number[]): number[] => values.map((value) => Math.round(value * 100) / 100)

export async function runNemesis(init: NemesisInit): Promise<NemesisRun> {
  const log = init.log ?? (() => {})
  const replicas = init.replicas ?? init.hosts * 2
  const schedule = makeSchedule(init.seed, init.hosts, init.durationMs, replicas)
  const before = round2(loadavg())
  const startedAt = Date.now()
  const cluster = await startCluster(init.hosts, replicas, log, { dataDirMiB: DATA_DIR_MIB, ...(init.driver === undefined ? {} : { driver: init.driver }) })
  try {
    for (const episode of schedule.episodes) await runEpisode(cluster, episode, log)
    const convergeMs = await healAndConverge(cluster, log)
    await sleep(SETTLE_MS)
    await cluster.readBack()
    cluster.observer.stop()
    const history = cluster.recorder.history
    const verdict = check(history)
    const agentExits = [...cluster.hosts.exits]
    return { schedule, history, verdict, figures: figuresOf(history, verdict, agentExits, convergeMs), agentExits, loadAverage: { before, after: round2(loadavg()) }, wallMs: Date.now() - startedAt }
  } catch (error) {
    // The agents' logs are the evidence, and teardown deletes them.
    throw await withLogTails(error, cluster.hosts.hosts.map((host) => host.log))
  } finally {
    cluster.teardown()
  }
}

async function runEpisode(cluster: Cluster, episode: Episode, log: (line: string) => void): Promise<void> {
  const { faults, hosts } = cluster
  const fault = episode.fault
  const named = (names: readonly string[]) => names.map((name) => hosts.host(name))
  log(`t=${cluster.recorder.now()} ms ${describeEpisode(episode)}`)
  switch (fault.kind) {
    case 'crash': await faults.crash(hosts.host(fault.host)); break
    case 'kill': await faults.kill(hosts.host(fault.host)); break
    case 'partition': await faults.partition(fault.groups.map(named)); break
    case 'bridge': await faults.bridge(named(fault.left), hosts.host(fault.bridge), named(fault.right)); break
    case 'loss': await faults.loss(hosts.host(fault.host), fault.probability); break
    case 'pause': faults.pause(hosts.host(fault.host)); break
    case 'one-way': await faults.oneWay(hosts.host(fault.from), hosts.host(fault.to)); break
    case 'offline-reboot': await faults.partition([[hosts.host(fault.host)], hosts.hosts.filter((host) => host.name !== fault.host)]); break
    case 'disk-full': await faults.fillDisk(hosts.host(fault.host)); break
  }
  const injectedAt = Date.now()
  const writes = episode.writes === undefined ? Promise.resolve() : sleep(episode.writes.offsetMs).then(() => writeConcurrently(cluster, episode.writes!, log))
  if (fault.kind === 'offline-reboot') {
    // The power cut and the restart happen inside the isolation. The heal comes as planned, but never
    // sooner than OFFLINE_AFTER_RESTART_MS after the agent listens again: on a loaded machine its
    // start alone can take longer than the plan allowed, and the rejoin limit counts from there.
    const host = hosts.host(fault.host)
    await sleep(fault.crashAfterMs)
    await faults.crash(host)
    await sleep(fault.downMs)
    await faults.restart(host)
    log(`t=${cluster.recorder.now()} ms ${host.name} restarted while isolated`)
    await sleep(OFFLINE_AFTER_RESTART_MS)
  }
  await sleep(Math.max(0, faultMs(fault) - (Date.now() - injectedAt)))
  switch (fault.kind) {
    case 'crash':
    case 'kill': await faults.restart(hosts.host(fault.host)); break
    case 'partition':
    case 'bridge':
    case 'offline-reboot': await faults.heal(); break
    case 'loss': await faults.endLoss(hosts.host(fault.host)); break
    case 'pause': faults.resume(hosts.host(fault.host)); break
    case 'one-way': await faults.endOneWay(); break
    case 'disk-full': await faults.freeDisk(hosts.host(fault.host)); break
  }
  await writes
  await sleep(episode.quietMs)
}

/**
 * A scale through one host and an apply through another (and, during a partition, aux created or
 * removed through a third), sent together. Scale and apply set the same replica count and aux is
 * another service, so the merge is known whatever order they land in: it is desired from when they
 * were sent. Should one fail, what the others wrote is desired instead.
 */
export async function writeConcurrently(cluster: Cluster, writes: Writes, log: (line: string) => void): Promise<void> {
  const { recorder, hosts } = cluster
  const fromMs = recorder.now()
  const was = { replicas: cluster.replicas, round: cluster.round, aux: cluster.aux }
  const auxWrite = writes.auxVia === undefined ? undefined : was.aux ? 'rm' as const : 'apply' as const
  recorder.desire(desiredServices(writes.replicas, writes.round, auxWrite === undefined ? was.aux : !was.aux, cluster.driver), fromMs)
  const timed = async (kind: 'scale' | 'apply' | 'rm', host: string, detail: string, write: () => Promise<void>): Promise<boolean> => {
    try {
      await write()
      recorder.operation({ kind, host, fromMs, toMs: recorder.now(), ok: true, detail })
      return true
    } catch (error) {
      recorder.operation({ kind, host, fromMs, toMs: recorder.now(), ok: false, detail: `${detail}: ${(error as Error).message}` })
      return false
    }
  }
  const auxVia = writes.auxVia
  const [scaled, applied, auxDone] = await Promise.all([
    timed('scale', writes.scaleVia, `${SERVICE}=${writes.replicas}`, () => cluster.scale(hosts.host(writes.scaleVia), writes.replicas)),
    timed('apply', writes.applyVia, `env ROUND=${writes.round}, replicas ${writes.replicas}`, () => cluster.apply(hosts.host(writes.applyVia), writes.replicas, writes.round)),
    auxVia === undefined || auxWrite === undefined
      ? Promise.resolve(false)
      : auxWrite === 'rm'
        ? timed('rm', auxVia, AUX, () => cluster.removeAux(hosts.host(auxVia)))
        : timed('apply', auxVia, `create ${AUX}`, () => cluster.createAux(hosts.host(auxVia))),
  ])
  const now = { replicas: scaled || applied ? writes.replicas : was.replicas, round: applied ? writes.round : was.round, aux: auxDone ? !was.aux : was.aux }
  if (!(scaled && applied && (auxWrite === undefined || auxDone))) recorder.desire(desiredServices(now.replicas, now.round, now.aux, cluster.driver))
  cluster.replicas = now.replicas
  cluster.round = now.round
  cluster.aux = now.aux
  const auxAnswer = auxWrite === undefined ? '' : `, ${auxWrite === 'rm' ? 'rm' : 'create'} ${AUX} via ${auxVia} ${auxDone ? 'ok' : 'failed'}`
  log(`t=${recorder.now()} ms writes answered: scale via ${writes.scaleVia} ${scaled ? 'ok' : 'failed'}, apply via ${writes.applyVia} ${applied ? 'ok' : 'failed'}${auxAnswer} (${recorder.now() - fromMs} ms)`)
}

/**
 * Lifts whatever is still on (nothing, when every episode ended its own fault), then waits until
 * every slot runs once and every agent holds one desired-state digest. Answers how long that took,
 * or -1 when it did not happen within the timeout (the checker's final state then says what is wrong).
 */
async function healAndConverge(cluster: Cluster, log: (line: string) => void): Promise<number> {
  const { faults, hosts, recorder } = cluster
  await faults.heal()
  await faults.endOneWay()
  for (const host of hosts.hosts) {
    await faults.endLoss(host)
    await faults.freeDisk(host)
    if (recorder.openFaults('pause', host.name).length > 0) faults.resume(host)
    if (host.agent === undefined) await faults.restart(host)
  }
  const healedAt = Date.now()
  try {
    await cluster.settled(CONVERGE_TIMEOUT_MS)
    for (;;) {
      const digests = await Promise.all(hosts.hosts.map((host) => ask({ peer: host.socket, timeoutMs: 3_000 }, 'GET /v1/status').then((status) => status.desiredDigest, () => 'no answer')))
      if (new Set(digests).size === 1 && digests[0] !== 'no answer') break
      if (Date.now() - healedAt > CONVERGE_TIMEOUT_MS) throw new Error(`digests still differ: ${digests.join(' ')}`)
      await sleep(200)
    }
    await cluster.settled(CONVERGE_TIMEOUT_MS)
    const ms = Date.now() - healedAt
    log(`t=${recorder.now()} ms healed; converged after ${ms} ms`)
    return ms
  } catch (error) {
    log(`t=${recorder.now()} ms healed; did not converge: ${(error as Error).message}`)
    return -1
  }
}

function figuresOf(history: History, verdict: Verdict, exits: readonly AgentExit[], convergeMs: number): NemesisFigures {
  const count = (kinds: readonly Anomaly['kind'][]): number => verdict.anomalies.filter((anomaly) => kinds.includes(anomaly.kind)).length
  const faults: Partial<Record<FaultKind, number>> = {}
  for (const fault of history.faults) faults[fault.kind] = (faults[fault.kind] ?? 0) + 1
  const operations = history.operations ?? []
  const crashes = exits.filter((exit) => exit.signal !== 'SIGKILL').length
  return {
    valid: verdict.valid && crashes === 0,
    lost: count(['lost', 'never-placed']),
    duplicatesAfterHeal: count(['duplicate']),
    duplicateIntervals: verdict.duplicates.length,
    failoverMsP50: percentile(verdict.failoverMs, 50),
    failoverMsP99: percentile(verdict.failoverMs, 99),
    failoverMs: verdict.failoverMs,
    spuriousMoves: verdict.moves.filter((move) => move.spurious).length,
    moves: verdict.moves.length,
    crashes,
    faults,
    writes: { ok: operations.filter((operation) => operation.ok).length, failed: operations.filter((operation) => !operation.ok).length },
    convergeMs,
  }
}
