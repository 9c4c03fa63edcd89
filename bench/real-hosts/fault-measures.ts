// The fault measures of the real-hosts benchmark, each run `runs` times on one cluster of agents in
// network namespaces (test/hosts/cluster.ts), from a settled cluster. Faults come from the nemesis
// (test/hosts/faults.ts), what ran where from the observer (processes in each namespace, every
// 100 ms), and the judging from the checker (test/hosts/checker.ts) over the history since the run
// began; the agents' event logs add what only they know (who declared whom dead).

import { cpus } from 'node:os'
import { ask } from '../../cli/agent-client.js'
import { check, FAILOVER_BUDGET_MS, HEAL_BUDGET_MS, type Verdict } from '../../test/hosts/checker.js'
import type { Cluster } from '../../test/hosts/cluster.js'
import type { Host } from '../../test/hosts/hosts.js'
import { hostsBySlot } from '../../test/hosts/observer.js'
import { CONTROL_TIMEOUT_MS, describeTraffic, eventsSince, healBreakdown, statusesOf, trafficTotals } from './agent-events.js'
import type { MeasureLine } from './figures.js'
import { agentsCpuSeconds } from './quiet.js'

/** A cluster that has not settled by then is stuck, not slow. */
const STUCK_MS = 30_000
const RESTART_WATCH_MS = 10_000
const AFTER_MS = 3_000
export const PARTITION_MS = 30_000
export const LOSS_MS = 60_000
export const LOSS_PROBABILITY = 0.2
export const PAUSE_MS = 5_000

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export interface MeasureContext {
  readonly cluster: Cluster
  readonly runs: number
  readonly log: (line: string) => void
}

/** The checker's verdict over the history so far, which has not settled at its end. */
const judge = (cluster: Cluster): Verdict => check(cluster.recorder.history, { settledAtEnd: false })

/** Distinct slots that ran twice at some moment in [fromMs, toMs), however briefly. */
function slotsTwice(verdict: Verdict, fromMs: number, toMs = Infinity): string[] {
  return [...new Set(verdict.duplicates.filter((interval) => interval.fromMs >= fromMs && interval.fromMs < toMs).map((interval) => interval.slot))].sort()
}

/** Each slot still doubled past the heal budget: its hosts and when its copies overlapped, from the heal. */
function lateCopies(verdict: Verdict, healedMs: number): string {
  const late = verdict.duplicates.filter((interval) => interval.toMs - healedMs > HEAL_BUDGET_MS || interval.open)
  if (late.length === 0) return 'none doubled (a slot missing instead)'
  return late.map((interval) => `${interval.slot} on ${interval.hosts.join('+')} ${Math.round(interval.fromMs - healedMs)}…${interval.open ? 'open' : Math.round(interval.toMs - healedMs)} ms`).join(', ')
}

/**
 * Samples before `atMs` are dropped once a run is judged: a run of the whole benchmark takes ~15 min
 * of samples every 100 ms, and each measure is judged from a settled cluster on its own stretch.
 */
function forgetBefore(cluster: Cluster, atMs: number): void {
  const samples = cluster.recorder.history.samples
  const keepFrom = samples.findIndex((sample) => sample.atMs >= atMs - 1_000)
  if (keepFrom > 0) samples.splice(0, keepFrom)
}

/** Hosts other than h1 (the writer) that run slots now, most first, rotated by run. */
function victimFor(cluster: Cluster, run: number): Host {
  const perHost = new Map<string, number>()
  for (const [, hosts] of hostsBySlot(cluster.observer.latest())) for (const host of hosts) perHost.set(host, (perHost.get(host) ?? 0) + 1)
  const candidates = cluster.hosts.hosts.filter((host) => host.index !== 1 && (perHost.get(host.name) ?? 0) > 0)
  if (candidates.length === 0) throw new Error('no host other than h1 runs a slot')
  return candidates[run % candidates.length]!
}

/**
 * Power cut: the host's traffic dropped, then every process on it killed (test/hosts/faults.ts).
 * Failover is the checker's: from the crash until every slot the host ran was seen running on another
 * host. Then power comes back while every peer is reachable, and the 10 s after that must run no slot
 * twice.
 */
export async function crashAndRestart({ cluster, runs, log }: MeasureContext): Promise<MeasureLine[]> {
  const failoverMs: number[] = []
  const twiceDuringFailover: string[][] = []
  const lost: number[] = []
  const twiceAfterRestart: string[][] = []
  const slotsMoved: number[] = []
  let unmeasured = 0
  for (let run = 0; run < runs; run++) {
    await cluster.settled(STUCK_MS)
    const victim = victimFor(cluster, run)
    const fault = await cluster.faults.crash(victim)
    const onceElsewhere = await cluster.settled(STUCK_MS, victim.name).catch((error: Error) => (log(`  crash ${victim.name}: ${error.message}`), -1))
    await sleep(AFTER_MS)
    const restartMs = cluster.recorder.now()
    await cluster.faults.restart(victim)
    await sleep(RESTART_WATCH_MS)
    const verdict = judge(cluster)
    const failover = verdict.failovers.find((entry) => entry.host === victim.name && entry.fromMs === fault.fromMs)
    if (failover?.ms === undefined) unmeasured++
    else failoverMs.push(failover.ms)
    slotsMoved.push(failover?.slots.length ?? 0)
    twiceDuringFailover.push(slotsTwice(verdict, fault.fromMs, restartMs))
    lost.push(verdict.anomalies.filter((anomaly) => anomaly.kind === 'lost' && anomaly.toMs >= fault.fromMs).length)
    twiceAfterRestart.push(slotsTwice(verdict, restartMs))
    log(`crash ${run + 1}/${runs}: ${victim.name} (${failover?.slots.length ?? '?'} slots) → every slot elsewhere ${failover?.ms ?? 'never'} ms (settled poll ${onceElsewhere} ms); twice meanwhile [${twiceDuringFailover.at(-1)!.join(' ')}]; restarted, twice after [${twiceAfterRestart.at(-1)!.join(' ')}]`)
    forgetBefore(cluster, cluster.recorder.now())
  }
  const startedTwice = twiceDuringFailover.reduce((sum, slots) => sum + slots.length, 0)
  const lostTotal = lost.reduce((a, b) => a + b, 0)
  const restartTwice = twiceAfterRestart.reduce((sum, slots) => sum + slots.length, 0)
  return [
    {
      measure: 'crash-failover',
      target: `≤ ${FAILOVER_BUDGET_MS} ms p99, 0 lost, 0 slots started twice`,
      met: unmeasured === 0 && Math.max(...failoverMs) <= FAILOVER_BUDGET_MS && lostTotal === 0 && startedTwice === 0,
      values: failoverMs,
      unit: 'ms',
      detail: { unmeasured, slotsMoved, lost: lostTotal, slotsStartedTwice: startedTwice, slotsStartedTwicePerRun: twiceDuringFailover },
    },
    {
      measure: 'crash-restart',
      target: '0 slots run twice after the crashed host restarts (peers reachable)',
      met: restartTwice === 0,
      values: twiceAfterRestart.map((slots) => slots.length),
      unit: 'slots',
      detail: { slotsRunTwice: twiceAfterRestart, watchedMs: RESTART_WATCH_MS },
    },
  ]
}

/**
 * Partition into 40 % | 60 % of the hosts (4 | 6 at 10, 2 | 3 at 5) for 30 s; both sides serve every
 * slot meanwhile. From the heal until every slot runs once (observer), and whether any slot stayed
 * doubled beyond the heal budget or doubled again afterwards.
 */
export async function partitionHeal({ cluster, runs, log }: MeasureContext): Promise<MeasureLine[]> {
  const healCpuMs: number[] = []
  const onceMs: number[] = []
  const doubledBeyond: number[] = []
  const redoubled: number[] = []
  const all = cluster.hosts.hosts
  const cut = Math.round(all.length * 0.4)
  for (let run = 0; run < runs; run++) {
    await cluster.settled(STUCK_MS)
    // Rotate which hosts form the small side, so each run splits differently.
    const rotated = all.map((_, i) => all[(i + run * cut) % all.length]!)
    const groups = [rotated.slice(0, cut), rotated.slice(cut)]
    const fault = await cluster.faults.partition(groups)
    await sleep(PARTITION_MS)
    const healedMs = cluster.recorder.now()
    const healedEpochMs = Date.now()
    const trafficBefore = await trafficTotals(all)
    const cpuBefore = agentsCpuSeconds(all)
    await cluster.faults.heal()
    const liftedMs = cluster.recorder.now() - healedMs
    const ms = await cluster.settled(STUCK_MS).then(() => cluster.recorder.now() - healedMs, () => -1)
    // What the agents spent from the heal to one copy of every slot, all of them together: next to
    // the machine's cores × that time, it says whether the heal waited for CPU.
    const cpuMs = Math.round(agentsCpuSeconds(all).reduce((sum, seconds, i) => sum + seconds - cpuBefore[i]!, 0) * 1000)
    healCpuMs.push(cpuMs)
    const traffic = describeTraffic(trafficBefore, await trafficTotals(all))
    await sleep(AFTER_MS)
    const side = new Map(groups.flatMap((group, index) => group.map((host) => [host.name, index] as const)))
    const names = new Map(all.map((host) => [host.peerId, host.name]))
    log(`  heal at ${new Date(healedEpochMs).toISOString().slice(11, 23)}: ${healBreakdown(await eventsSince(all, healedEpochMs), healedEpochMs, (host) => side.get(host) ?? -1, (peer) => names.get(peer))}`)
    const verdict = judge(cluster)
    const beyond = verdict.anomalies.filter((anomaly) => anomaly.kind === 'duplicate' && anomaly.fromMs >= fault.fromMs).length
    const again = slotsTwice(verdict, healedMs + Math.max(0, ms) + 1).length
    if (ms >= 0) onceMs.push(ms)
    doubledBeyond.push(beyond)
    redoubled.push(again)
    log(`  messages from the heal to one copy of every slot, all agents: ${traffic}`)
    if (ms > HEAL_BUDGET_MS || ms < 0) log(`  copies after the heal past ${HEAL_BUDGET_MS} ms: ${lateCopies(verdict, healedMs)}`)
    log(`partition ${run + 1}/${runs}: ${fault.detail} for ${PARTITION_MS} ms → every slot once ${ms} ms after the heal began (its firewall rules all lifted at ${liftedMs} ms; agents' CPU meanwhile ${cpuMs} ms, ${cpus().length} cores); doubled beyond the budget ${beyond}, doubled again after ${again}`)
    forgetBefore(cluster, cluster.recorder.now())
  }
  return [{
    measure: 'partition-heal',
    target: `one copy of every slot ≤ ${HEAL_BUDGET_MS} ms after the heal (${cut} | ${all.length - cut} for ${PARTITION_MS / 1000} s)`,
    met: onceMs.length === runs && Math.max(...onceMs) <= HEAL_BUDGET_MS && doubledBeyond.every((n) => n === 0) && redoubled.every((n) => n === 0),
    values: onceMs,
    unit: 'ms',
    detail: { split: `${cut}|${all.length - cut}`, partitionMs: PARTITION_MS, doubledBeyondBudget: doubledBeyond, doubledAgainAfter: redoubled, agentsCpuMsUntilOnce: healCpuMs },
  }]
}

/**
 * 20 % loss in and out of one host's link for 60 s. Nothing may move and no agent may declare the
 * host dead (suspicions are counted too: they are allowed, and say how close it came).
 */
export async function lossOnOneLink({ cluster, runs, log }: MeasureContext): Promise<MeasureLine[]> {
  const moves: number[] = []
  const deadVerdicts: number[] = []
  const suspicions: number[] = []
  for (let run = 0; run < runs; run++) {
    await cluster.settled(STUCK_MS)
    const victim = victimFor(cluster, run)
    const fromEpoch = Date.now()
    const fromMs = cluster.recorder.now()
    await cluster.faults.loss(victim, LOSS_PROBABILITY)
    await sleep(LOSS_MS)
    await cluster.faults.endLoss(victim)
    await sleep(AFTER_MS)
    const verdict = judge(cluster)
    const moved = verdict.moves.filter((move) => move.arrivedMs >= fromMs)
    const others = cluster.hosts.hosts.filter((host) => host !== victim)
    const statuses = statusesOf(await eventsSince(others, fromEpoch), victim.peerId)
    const dead = [...statuses.values()].filter((seen) => seen.includes('dead')).length
    const suspected = [...statuses.values()].reduce((sum, seen) => sum + seen.filter((status) => status === 'suspect').length, 0)
    moves.push(moved.length)
    deadVerdicts.push(dead)
    suspicions.push(suspected)
    log(`loss ${run + 1}/${runs}: ${LOSS_PROBABILITY * 100} % on ${victim.name} for ${LOSS_MS} ms → ${moved.length} moves${moved.length > 0 ? ` (${moved.map((move) => `${move.slot} ${move.from}→${move.to}`).join(', ')})` : ''}; agents that declared it dead ${dead}; suspicions ${suspected}`)
    forgetBefore(cluster, cluster.recorder.now())
  }
  return [{
    measure: 'loss',
    target: `0 moves and the host never declared dead (${LOSS_PROBABILITY * 100} % loss on one link for ${LOSS_MS / 1000} s)`,
    met: moves.every((n) => n === 0) && deadVerdicts.every((n) => n === 0),
    values: moves,
    unit: 'moves',
    detail: { agentsDeclaringDead: deadVerdicts, suspicions },
  }]
}

/**
 * SIGSTOP of one agent for 5 s, then SIGCONT: the others declare it dead and replace its slots; it
 * must refute (alive at a higher incarnation on every other agent), and no slot may stay doubled
 * beyond the heal budget. The figure is the time from resuming until every slot runs once.
 */
export async function pauseAndResume({ cluster, runs, log }: MeasureContext): Promise<MeasureLine[]> {
  const onceMs: number[] = []
  const refuteMs: number[] = []
  const doubled: number[] = []
  let notRefuted = 0
  for (let run = 0; run < runs; run++) {
    await cluster.settled(STUCK_MS)
    const victim = victimFor(cluster, run)
    const others = cluster.hosts.hosts.filter((host) => host !== victim)
    const seenBy = async (host: Host): Promise<{ status: string; incarnation: number }> => {
      const { nodes } = await ask({ peer: host.socket, timeoutMs: CONTROL_TIMEOUT_MS }, 'GET /v1/nodes')
      const row = nodes.find((node) => node.peer === victim.peerId)
      return { status: row?.status ?? 'unknown', incarnation: row?.incarnation ?? -1 }
    }
    const before = Math.max(...(await Promise.all(others.map(seenBy))).map((seen) => seen.incarnation))
    const fromMs = cluster.recorder.now()
    cluster.faults.pause(victim)
    await sleep(PAUSE_MS)
    cluster.faults.resume(victim)
    const resumedMs = cluster.recorder.now()
    let refuted = -1
    for (const deadline = Date.now() + STUCK_MS; Date.now() < deadline;) {
      const seen = await Promise.all(others.map((host) => seenBy(host).catch(() => ({ status: 'no answer', incarnation: -1 }))))
      if (seen.every((entry) => entry.status === 'alive' && entry.incarnation > before)) {
        refuted = cluster.recorder.now() - resumedMs
        break
      }
      await sleep(100)
    }
    const once = await cluster.settled(STUCK_MS).then(() => cluster.recorder.now() - resumedMs, () => -1)
    await sleep(AFTER_MS)
    const verdict = judge(cluster)
    const beyond = verdict.anomalies.filter((anomaly) => anomaly.kind === 'duplicate' && anomaly.fromMs >= fromMs).length
    if (refuted < 0) notRefuted++
    else refuteMs.push(refuted)
    if (once >= 0) onceMs.push(once)
    doubled.push(beyond)
    log(`pause ${run + 1}/${runs}: ${victim.name} stopped ${PAUSE_MS} ms → refuted ${refuted} ms after resuming; every slot once ${once} ms after resuming; doubled beyond the budget ${beyond}; doubles [${slotsTwice(verdict, fromMs).join(' ')}]`)
    forgetBefore(cluster, cluster.recorder.now())
  }
  return [{
    measure: 'pause',
    target: `the paused agent refutes; no slot left doubled (once ≤ ${HEAL_BUDGET_MS} ms after resuming)`,
    met: notRefuted === 0 && doubled.every((n) => n === 0) && onceMs.length === runs,
    values: onceMs,
    unit: 'ms',
    detail: { pauseMs: PAUSE_MS, refuteMs, notRefuted, doubledBeyondBudget: doubled },
  }]
}
