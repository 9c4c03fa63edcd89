// Ten real agents on this machine and one service of 100 replicas, driven over the control sockets:
// apply, failover and idle figures, then the same scenario in `peer sim`. What each key measures, how
// to read it and how to run it: BENCHMARKS.md, "What the cluster benchmark measures".

import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ask } from '../cli/agent-client.js'
import { LocalCluster, sleep, type LocalAgent } from '../cli/local-cluster.js'
import type { StatsAnswer, TaskRow } from '../node/control/index.js'
import type { ServiceSpec } from '../core/index.js'
import { servicesFromText } from '../cli/files.js'
import { isAlive, readStat } from '../node/runtime/proc.js'
import { cpuSeconds } from './proc-sample.js'
import { parseFaultSpec } from '../sim/faults.js'
import { percentile } from '../sim/metrics.js'
import { simulate } from '../sim/simulate.js'
import { messageOf } from '../core/error-message.js'
import { observeTaskRecords } from '../node/agent/data-dir.js'
import type { TaskRecord } from '../node/runtime/records.js'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const PEERS = 10
const REPLICAS = 100
const WRITER = 1
const OBSERVER = 10
const POLL_MS = 15
const QUIET_MS = 10_000
const IDLE_WINDOW_MS = 30_000
const SIM_FAULTS = 'kill=1'
const SIM_DURATION_MS = 60_000

const args = process.argv.slice(2)
const keep = args.includes('--keep')
const cliFlag = args.indexOf('--cli')
const builtCli = cliFlag >= 0 ? args[cliFlag + 1] : undefined
if (cliFlag >= 0 && builtCli === undefined) throw new Error('--cli needs the path of a built peer bin (dist/bin/main.js)')
/** Agents run the TypeScript sources under tsx, or with --cli a build (npm run build: dist/bin/main.js). */
const CLI = builtCli === undefined ? [process.execPath, '--import', 'tsx', join(REPO, 'cli', 'main.ts')] : [process.execPath, resolve(builtCli)]
const TRIALS = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--cli') ?? 8)
if (!(TRIALS >= 1)) throw new Error(`trials must be at least 1, got ${TRIALS}`)

const log = (line: string): void => void process.stderr.write(`[cluster ${new Date().toISOString().slice(11, 23)}] ${line}\n`)

/** Every task carries it in its environment, so processes left behind can be found even without a record. */
const MARK_VARIABLE = 'PEER_BENCH_MARK'

function specYaml(name: string, mark = ''): string {
  const env = mark === '' ? [] : [`    env: { ${MARK_VARIABLE}: ${JSON.stringify(mark)} }`]
  return ['services:', `  ${name}:`, '    command: ["sleep", "3600"]', `    replicas: ${REPLICAS}`, ...env, '    resources: { cpu: 50m, memory: 16Mi }', ''].join('\n')
}

function spec(name: string, mark = ''): ServiceSpec {
  const loaded = servicesFromText(`${name}.yaml`, specYaml(name, mark))
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors))
  return loaded.value[0]!
}

// --- Statistics --------------------------------------------------------------------------------

// percentile is nearest rank (sim/metrics.ts): with fewer than 100 samples, p99 is the maximum.
const median = (values: readonly number[]): number => percentile(values, 50)
const round = (value: number, digits = 0): number => (value < 0 ? value : Math.round(value * 10 ** digits) / 10 ** digits)

// --- Talking to agents -------------------------------------------------------------------------

/** Polls get 5 s: a busy agent may be slow to answer, and a poll that fails is simply repeated. */
const polled = (agent: LocalAgent) => ({ peer: agent.socket, timeoutMs: 5_000 })
const tasksOf = async (agent: LocalAgent): Promise<TaskRow[]> => (await ask(polled(agent), 'GET /v1/tasks')).tasks
const digestOf = async (agent: LocalAgent): Promise<string> => (await ask(polled(agent), 'GET /v1/status')).desiredDigest
const aliveOf = async (agent: LocalAgent): Promise<number> => (await ask(polled(agent), 'GET /v1/status')).members.alive
const statsOf = (agent: LocalAgent): Promise<StatsAnswer> => ask(polled(agent), 'GET /v1/stats')

/**
 * Polls `probe` every POLL_MS until it returns a value; resolves with it and the performance.now() at
 * which the answer that showed it arrived. A probe that throws (an agent busy or restarting) is retried.
 */
async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<{ value: T; at: number; last: string }> {
  const deadline = performance.now() + timeoutMs
  let last = 'nothing yet'
  for (;;) {
    const started = performance.now()
    try {
      const value = await probe()
      if (value !== undefined) return { value, at: performance.now(), last }
    } catch (error) {
      last = `error: ${messageOf(error)}`
    }
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last})`)
    await sleep(Math.max(0, POLL_MS - (performance.now() - started)))
  }
}

interface Check {
  readonly ok: boolean
  /** Slots advertised by two or more peers (other than `excluded`) at once. */
  readonly duplicates: number
  readonly problem: string
}

/** Every slot of `service` once and running, none on `excluded`, nothing beyond the replica count. */
function exactlyOnce(tasks: readonly TaskRow[], service: string, excluded?: string): Check {
  const bySlot = new Map<string, TaskRow[]>()
  for (const task of tasks) if (task.service === service) bySlot.set(task.slot, [...(bySlot.get(task.slot) ?? []), task])
  let duplicates = 0
  const problems: string[] = []
  for (let index = 0; index < REPLICAS; index++) {
    const rows = bySlot.get(`${service}/${index}`) ?? []
    if (rows.filter((row) => row.peer !== excluded).length > 1) duplicates++
    if (rows.length === 0) problems.push(`${index} missing`)
    else if (rows.length > 1) problems.push(`${index} on ${rows.length} peers`)
    else if (rows[0]!.state !== 'running') problems.push(`${index} ${rows[0]!.state}`)
    else if (rows[0]!.peer === excluded) problems.push(`${index} on the killed peer`)
  }
  if (bySlot.size > REPLICAS) problems.push(`${bySlot.size - REPLICAS} extra slots`)
  return { ok: problems.length === 0, duplicates, problem: `${problems.length} slots not right (${problems.slice(0, 4).join(', ')})` }
}

// --- Task processes ------------------------------------------------------------------------------

/** Logs where the live task processes are and what the agents advertise, slot by slot, where they differ. */
async function explainUnsettled(local: LocalCluster, service: string): Promise<void> {
  const byDir = await Promise.all(local.agents.map(async (agent) => ({ agent, live: (await observeTaskRecords(agent.dir)).filter((r) => isAlive(r.pid, r.startTicks ?? undefined)) })))
  const names = new Map(local.agents.map((a) => [a.peerId, `a${a.index}`]))
  const advertised = await tasksOf(local.agent(OBSERVER)).catch(() => [] as TaskRow[])
  const lines: string[] = []
  for (let index = 0; index < REPLICAS; index++) {
    const slot = `${service}/${index}`
    const processes = byDir.flatMap(({ agent, live }) => live.filter((r) => r.slot === slot).map(() => `a${agent.index}`)).sort()
    const rows = advertised.filter((t) => t.slot === slot).map((t) => `${names.get(t.peer) ?? t.peer.slice(-6)}:${t.state}`).sort()
    if (processes.length !== 1 || rows.length !== 1 || rows[0] !== `${processes[0]}:running`) lines.push(`${slot} processes on [${processes.join(' ')}] advertised [${rows.join(' ')}]`)
  }
  const total = byDir.reduce((n, d) => n + d.live.length, 0)
  log(`  ${total} live task processes (${byDir.map((d) => `a${d.agent.index}=${d.live.length}`).join(' ')}); ${lines.length} slot(s) differ: ${lines.slice(0, 30).join('; ')}`)
}

async function liveTasks(dirs: readonly string[]): Promise<TaskRecord[]> {
  return (await Promise.all(dirs.map(observeTaskRecords))).flat().filter((r) => isAlive(r.pid, r.startTicks ?? undefined))
}

/** SIGKILLs the process group of every task a data dir still records (unless its pid was reused). */
async function killTasks(dirs: readonly string[]): Promise<number> {
  let killed = 0
  for (const record of (await Promise.all(dirs.map(observeTaskRecords))).flat()) {
    const stat = readStat(record.pid)
    if (stat === undefined || (record.startTicks !== null && stat.startTicks !== record.startTicks)) continue
    try {
      process.kill(-record.pid, 'SIGKILL')
      killed++
    } catch {
      // Gone already.
    }
  }
  return killed
}

/** Live processes whose environment holds `PEER_BENCH_MARK=<mark>`. */
function markedProcesses(mark: string): number[] {
  const needle = `${MARK_VARIABLE}=${mark}`
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(needle) && isAlive(Number(name))) pids.push(Number(name))
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids
}

// --- Event timelines (diagnostics) ---------------------------------------------------------------

/** An event of any kind, with the fields the timelines read where it has them. */
type SeenEvent = { at: number; kind: string; digest?: string; slot?: string; state?: string; peer?: string; status?: string; reason?: string; detail?: string }
const eventsOf = async (agent: LocalAgent): Promise<SeenEvent[]> => (await ask(polled(agent), 'GET /v1/events')).events

/**
 * From every agent's event log, relative to `fromEpoch`: when each learned the desired state with
 * `digest`, and the first and last task start it issued and saw running for `service` since then.
 */
async function timeline(local: LocalCluster, fromEpoch: number, digest: string, service: string): Promise<{ learned: number[]; claimed: number | undefined; line: string }> {
  const all = await Promise.all(local.agents.map(eventsOf))
  const learned: number[] = []
  const parts: string[] = []
  const firstStart = new Map<string, number>()
  all.forEach((events, i) => {
    const recent = events.filter((e) => e.at >= fromEpoch - 5)
    const got = recent.find((e) => e.kind === 'desired' && e.digest === digest)
    if (got !== undefined) learned.push(got.at - fromEpoch)
    const mine = (e: SeenEvent) => e.slot?.startsWith(`${service}/`) === true
    const starts = recent.filter((e) => e.kind === 'start' && mine(e)).map((e) => e.at - fromEpoch)
    for (const e of recent) if (e.kind === 'start' && mine(e)) firstStart.set(e.slot!, Math.min(firstStart.get(e.slot!) ?? Infinity, e.at - fromEpoch))
    const running = recent.filter((e) => e.kind === 'task' && e.state === 'running' && mine(e)).map((e) => e.at - fromEpoch)
    const span = (xs: number[]) => (xs.length === 0 ? '-' : `${Math.min(...xs)}..${Math.max(...xs)}`)
    parts.push(`a${i + 1} desired ${got === undefined ? '?' : got.at - fromEpoch} start ${starts.length}@${span(starts)} running ${span(running)}`)
  })
  // Claimed: when the last slot got its first start (the design's "all claimed"; running adds the task's own start).
  const claimed = firstStart.size === REPLICAS ? Math.max(...firstStart.values()) : undefined
  return { learned, claimed, line: parts.join('; ') }
}

// --- CPU -------------------------------------------------------------------------------------

/**
 * Just after meshing, agents are still busy connecting (Noise handshakes, identify, a desired-state
 * sync with every peer): ten of them kept this 2-core host at 175 % CPU for about two seconds, and an
 * apply in that window measures startup, not placement. Trials start once the agents' CPU over a
 * second falls below QUIET_CPU_PER_AGENT each (idle is about 6 %), or after QUIET_MAX_MS.
 */
const QUIET_CPU_PER_AGENT = 0.15
const QUIET_MAX_MS = 30_000

async function untilQuiet(local: LocalCluster): Promise<number> {
  const from = performance.now()
  while (performance.now() - from < QUIET_MAX_MS) {
    const before = agentsCpu(local)
    await sleep(1_000)
    const used = agentsCpu(local).reduce((sum, c, i) => sum + c - before[i]!, 0)
    if (used < QUIET_CPU_PER_AGENT * local.agents.length) break
  }
  return Math.round(performance.now() - from)
}

const agentsCpu = (local: LocalCluster): number[] => local.agents.map((a) => (a.running && a.child?.pid !== undefined ? cpuSeconds(a.child.pid) : 0))

/** The host's busy and total CPU time so far (all cores, /proc/stat), in ticks. */
function hostCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

const busyBetween = (a: { busy: number; total: number }, b: { busy: number; total: number }): number => (b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total))

/** Logs what every live agent's event log says about `slots` since `fromEpoch` (a slow failover). */
async function explainSlow(local: LocalCluster, fromEpoch: number, slots: readonly string[]): Promise<void> {
  const wanted = new Set(slots.slice(0, 3))
  const lines: string[] = []
  await Promise.all(local.agents.filter((a) => a.running).map(async (agent) => {
    for (const e of await eventsOf(agent).catch(() => [])) {
      if (e.at < fromEpoch || e.slot === undefined || !wanted.has(e.slot)) continue
      lines.push(`+${e.at - fromEpoch} a${agent.index} ${e.slot} ${e.kind}${e.state ? ` ${e.state}` : ''}${e.reason ? ` (${e.reason})` : ''}${e.detail ? ` (${e.detail})` : ''}`)
    }
  }))
  lines.sort((a, b) => Number(/\+(\d+)/.exec(a)![1]) - Number(/\+(\d+)/.exec(b)![1]))
  log(`  slow slots ${[...wanted].join(', ')}: ${lines.join('; ')}`)
}

// --- Wire bytes --------------------------------------------------------------------------------

/** bytes_sent of every TCP socket the given processes own, by socket (local and remote address). */
function socketBytes(pids: ReadonlySet<number>): Map<string, number> | undefined {
  const ss = spawnSync('ss', ['-tinpH', 'state', 'established'], { encoding: 'utf8' })
  if (ss.status !== 0) return undefined
  const out = new Map<string, number>()
  // Each socket: a line with addresses and users:(("node",pid=…)), then an indented line of counters.
  const lines = ss.stdout.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const pid = /pid=(\d+)/.exec(line)
    if (pid === null || !pids.has(Number(pid[1]))) continue
    const fields = line.trim().split(/\s+/)
    const key = `${pid[1]} ${fields[2]} ${fields[3]}`
    const counters = lines[i + 1] ?? ''
    const sent = /bytes_sent:(\d+)/.exec(counters)
    out.set(key, sent === null ? 0 : Number(sent[1]))
  }
  return out
}

/** Bytes sent between two samples: the growth of sockets in both, all of sockets opened since. */
function bytesBetween(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0
  for (const [key, bytes] of after) total += bytes - (before.get(key) ?? 0)
  return total
}

// --- The benchmark -----------------------------------------------------------------------------

interface RealResult {
  applyMs: number[]
  applyAnswerMs: number[]
  stateSyncMs: number[]
  stateSyncEventMs: number[]
  applyClaimedMs: number[]
  slotPlacementMs: number[]
  failoverMs: number[]
  slotFailoverMs: number[]
  slotsMoved: number[]
  rejoinMs: number[]
  applyCpuSec: number[]
  applyHostBusy: number[]
  duplicatesSeen: number
  unsettled: number
}

async function applyTrials(local: LocalCluster, mark: string, result: RealResult): Promise<string> {
  const writer = local.agent(WRITER)
  const observer = local.agent(OBSERVER)
  let service = ''
  for (let trial = 0; trial < TRIALS; trial++) {
    if (service !== '') {
      const gone = service
      await ask({ peer: writer.socket }, 'POST /v1/remove', { body: { services: [gone] } })
      await poll(`${gone} removed`, 60_000, async () => {
        const all = await Promise.all(local.agents.map(tasksOf))
        return all.every((tasks) => !tasks.some((t) => t.service === gone)) ? true : undefined
      })
      await poll(`${gone}'s processes gone`, 60_000, async () => ((await liveTasks(local.agents.map((a) => a.dir))).length === 0 ? true : undefined))
      await sleep(1_000)
    }
    service = `b${trial}`
    const body = { services: [spec(service, mark)] }
    const statsBefore = await Promise.all(local.agents.map(statsOf))
    const cpuBefore = agentsCpu(local)
    const hostBefore = hostCpu()
    const sentEpoch = Date.now()
    const sent = performance.now()
    let duplicates = 0
    let answered = -1
    let answeredEpoch = -1
    const answer = ask({ peer: writer.socket }, 'POST /v1/apply', { body }).then(() => {
      answered = performance.now()
      answeredEpoch = Date.now()
    })
    const running = poll(`${service}: ${REPLICAS} running`, 60_000, async () => {
      const tasks = await tasksOf(observer)
      const check = exactlyOnce(tasks, service)
      duplicates = Math.max(duplicates, check.duplicates)
      return check.ok ? tasks : undefined
    })
    running.catch(() => undefined) // awaited below; a failed apply must not leave it unhandled
    await answer
    // The writer's digest now; then each agent is polled until it holds it (and not after: nothing
    // else edits the desired state, so it keeps it), which keeps the polling load off settled agents.
    const target = await digestOf(writer)
    const waiting = new Set(local.agents.filter((a) => a.index !== WRITER))
    const synced = await poll(`${service}: desired state on all peers`, 30_000, async () => {
      const pending = [...waiting]
      const digests = await Promise.all(pending.map(digestOf))
      pending.forEach((agent, i) => digests[i] === target && waiting.delete(agent))
      return waiting.size === 0 ? target : undefined
    })
    const { value: tasks, at } = await running
    const cpu = agentsCpu(local).reduce((sum, c, i) => sum + c - cpuBefore[i]!, 0)
    const hostBusy = busyBetween(hostBefore, hostCpu())
    const statsAfter = await Promise.all(local.agents.map(statsOf))
    const sum = (pick: (s: StatsAnswer) => number) => statsAfter.reduce((total, s, i) => total + pick(s) - pick(statsBefore[i]!), 0)
    const traffic = `${sum((s) => s.transport.published)} broadcasts, ${sum((s) => s.transport.directSent)} direct (${Math.round(sum((s) => s.transport.bytesPublished + s.transport.bytesSent) / 1024)} KB)`
    result.applyCpuSec.push(cpu)
    result.applyHostBusy.push(hostBusy)
    result.applyMs.push(at - sent)
    result.applyAnswerMs.push(answered - sent)
    result.stateSyncMs.push(synced.at - answered)
    const slotTimes = tasks.filter((t) => t.service === service).map((t) => t.since - sentEpoch)
    result.slotPlacementMs.push(...slotTimes)
    result.duplicatesSeen += duplicates
    const peers = new Map<string, number>()
    for (const t of tasks) if (t.service === service) peers.set(t.peer, (peers.get(t.peer) ?? 0) + 1)
    const events = await timeline(local, sentEpoch, synced.value, service)
    const lastLearned = Math.max(...events.learned) - (answeredEpoch - sentEpoch)
    if (events.learned.length === PEERS) result.stateSyncEventMs.push(lastLearned)
    if (events.claimed !== undefined) result.applyClaimedMs.push(events.claimed)
    log(`apply ${trial + 1}/${TRIALS}: all claimed ${events.claimed ?? '?'} ms, all running ${Math.round(at - sent)} ms (answer ${Math.round(answered - sent)} ms; desired on all peers ${Math.round(synced.at - answered)} ms after it by polling, ${events.learned.length === PEERS ? lastLearned : '?'} ms by their event logs; per slot p50 ${Math.round(median(slotTimes))} ms); spread ${[...peers.values()].sort((a, b) => a - b).join(' ')}; ${traffic}; agents used ${cpu.toFixed(2)} CPU s, host ${Math.round(hostBusy * 100)} % busy${duplicates > 0 ? `; ${duplicates} slot(s) seen on two peers` : ''}`)
    log(`  ms after sending: ${events.line}`)
    const how = statsAfter.map((s, i) => {
      const d = (pick: (x: StatsAnswer['desired']) => number) => pick(s.desired) - pick(statsBefore[i]!.desired)
      return `a${i + 1} gossip ${d((x) => x.gossipReceived)} sync ${d((x) => x.syncsRun)}/${d((x) => x.syncsServed)}${d((x) => x.syncFailures) > 0 ? ` failed ${d((x) => x.syncFailures)}` : ''}`
    })
    log(`  desired-state messages received (gossip, syncs run/served): ${how.join('; ')}`)
  }
  return service
}

async function failoverTrials(local: LocalCluster, service: string, result: RealResult): Promise<void> {
  const observer = local.agent(OBSERVER)
  const dirs = local.agents.map((a) => a.dir)
  const victims = local.agents.map((a) => a.index).filter((i) => i !== WRITER && i !== OBSERVER)
  for (let trial = 0; trial < TRIALS; trial++) {
    const victim = local.agent(victims[trial % victims.length]!)
    const before = await tasksOf(observer)
    const held = new Set(before.filter((t) => t.service === service && t.peer === victim.peerId).map((t) => t.slot))
    const killedEpoch = Date.now()
    const killed = performance.now()
    const exited = local.kill(victim.index)
    let duplicates = 0
    const { value: tasks, at } = await poll(`failover of agent ${victim.index}`, 60_000, async () => {
      const now = await tasksOf(observer)
      const check = exactlyOnce(now, service, victim.peerId)
      duplicates = Math.max(duplicates, check.duplicates)
      return check.ok ? now : undefined
    })
    await exited
    result.failoverMs.push(at - killed)
    result.slotsMoved.push(held.size)
    const slotTimes = tasks.filter((t) => held.has(t.slot)).map((t) => t.since - killedEpoch)
    result.slotFailoverMs.push(...slotTimes)
    result.duplicatesSeen += duplicates
    const seen = (await eventsOf(observer)).filter((e) => e.at >= killedEpoch && e.kind === 'member' && e.peer === victim.peerId)
    if (at - killed > 3_000) await explainSlow(local, killedEpoch, tasks.filter((t) => held.has(t.slot) && t.since - killedEpoch > 2_500).map((t) => t.slot))
    log(`failover ${trial + 1}/${TRIALS}: kill -9 agent ${victim.index} (${held.size} slots) → all running elsewhere ${Math.round(at - killed)} ms (per slot p50 ${Math.round(median(slotTimes))} / max ${Math.round(Math.max(...slotTimes))} ms; agent ${OBSERVER} saw it ${seen.map((e) => `${e.status} at ${e.at - killedEpoch}`).join(', ')})${duplicates > 0 ? `; ${duplicates} slot(s) seen on two live peers` : ''}`)

    // Back to whole: the agent restarts, adopts its orphaned tasks, and each conflict keeps one.
    const restarted = performance.now()
    await local.start(victim.index)
    try {
      await poll(`agent ${victim.index} rejoined and every slot once`, 60_000, async () => {
        const [alive, seen, own] = await Promise.all([aliveOf(observer), tasksOf(observer), tasksOf(victim)])
        if (alive !== PEERS || !exactlyOnce(seen, service).ok || !exactlyOnce(own, service).ok) return undefined
        const live = await liveTasks(dirs)
        return live.length === REPLICAS && new Set(live.map((r) => r.slot)).size === REPLICAS ? true : undefined
      })
      result.rejoinMs.push(performance.now() - restarted)
      log(`  agent ${victim.index} back, cluster whole: ${Math.round(performance.now() - restarted)} ms`)
    } catch (error) {
      result.unsettled++
      log(`  NOT SETTLED: ${messageOf(error)}`)
      await explainUnsettled(local, service)
    }
    await sleep(1_000)
  }
}

async function idle(local: LocalCluster): Promise<Record<string, number>> {
  log(`idle: ${QUIET_MS / 1000} s quiet, then two samples ${IDLE_WINDOW_MS / 1000} s apart`)
  await sleep(QUIET_MS)
  const pids = new Set(local.agents.map((a) => a.child!.pid!))
  const wire0 = socketBytes(pids)
  const t0 = performance.now()
  const cpu0 = agentsCpu(local)
  const host0 = hostCpu()
  const first = await Promise.all(local.agents.map(statsOf))
  await sleep(IDLE_WINDOW_MS)
  const wire1 = socketBytes(pids)
  const cpu1 = agentsCpu(local)
  const host1 = hostCpu()
  const second = await Promise.all(local.agents.map(statsOf))
  const seconds = (performance.now() - t0) / 1000
  const msgs = second.map((s, i) => (s.transport.published + s.transport.directSent - first[i]!.transport.published - first[i]!.transport.directSent) / seconds)
  const bytes = second.map((s, i) => (s.transport.bytesPublished + s.transport.bytesSent - first[i]!.transport.bytesPublished - first[i]!.transport.bytesSent) / seconds)
  const rss = second.map((s, i) => Math.max(s.rssBytes, first[i]!.rssBytes) / 2 ** 20)
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length
  log(`idle per agent: msgs/s ${msgs.map((m) => m.toFixed(1)).join(' ')}; bytes/s ${bytes.map((b) => Math.round(b)).join(' ')}; RSS MB ${rss.map((r) => r.toFixed(0)).join(' ')}`)
  return {
    idleCpuPercent: round(mean(cpu1.map((c, i) => ((c - cpu0[i]!) / seconds) * 100)), 1),
    idleHostBusyPercent: round(busyBetween(host0, host1) * 100, 1),
    idleRssMB: round(Math.max(...rss), 1),
    idleRssMBMean: round(mean(rss), 1),
    idleHeapUsedMBMean: round(mean(second.map((s) => s.heapUsedBytes / 2 ** 20)), 1),
    msgsPerPeerPerSec: round(mean(msgs), 2),
    bytesPerPeerPerSec: round(mean(bytes)),
    ...(wire0 !== undefined && wire1 !== undefined ? { wireBytesPerPeerPerSec: round(bytesBetween(wire0, wire1) / seconds / PEERS) } : {}),
  }
}

async function real(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'pb-'))
  const local = await LocalCluster.create({ base, count: PEERS, addresses: 'range', agentArgs: ['--cpu', '4', '--memory', '4Gi'], command: CLI })
  const dirs = local.agents.map((a) => a.dir)
  const result: RealResult = {
    applyMs: [], applyAnswerMs: [], stateSyncMs: [], stateSyncEventMs: [], applyClaimedMs: [], slotPlacementMs: [], failoverMs: [], slotFailoverMs: [], slotsMoved: [], rejoinMs: [],
    applyCpuSec: [], applyHostBusy: [], duplicatesSeen: 0, unsettled: 0,
  }
  const started = performance.now()
  let line: Record<string, unknown> | undefined
  let failure: unknown
  try {
    await writeFile(join(base, 'spec.yaml'), specYaml('b'))
    await local.startAll()
    await Promise.all(local.agents.map((a) => local.waitForMembers(a.index, PEERS, 90_000)))
    log(`${PEERS} agents up and meshed in ${Math.round(performance.now() - started)} ms (base ${base})`)
    const quietAfter = await untilQuiet(local)
    log(`startup work over ${quietAfter} ms after meshing (agents below ${QUIET_CPU_PER_AGENT * 100} % of a core each)`)
    const service = await applyTrials(local, base, result)
    await failoverTrials(local, service, result)
    const idleNumbers = await idle(local)
    const down = local.agents.filter((a) => !a.running).map((a) => a.index)
    if (down.length > 0) log(`agents not running at the end: ${down.join(', ')} (see their agent.log)`)
    line = {
      bench: 'cluster',
      source: 'real',
      peers: PEERS,
      replicas: REPLICAS,
      trials: TRIALS,
      agents: builtCli === undefined ? 'tsx' : 'built',
      startupQuietMs: quietAfter,
      applyMsP50: round(percentile(result.applyMs, 50)),
      applyMsP99: round(percentile(result.applyMs, 99)),
      applyClaimedMsP50: round(percentile(result.applyClaimedMs, 50)),
      applyClaimedMsP99: round(percentile(result.applyClaimedMs, 99)),
      applyAnswerMsP50: round(percentile(result.applyAnswerMs, 50)),
      stateSyncMsP50: round(percentile(result.stateSyncMs, 50)),
      stateSyncMsP99: round(percentile(result.stateSyncMs, 99)),
      stateSyncEventMsP99: round(percentile(result.stateSyncEventMs, 99)),
      applyCpuSecP50: round(percentile(result.applyCpuSec, 50), 2),
      applyHostBusyPercentP50: round(percentile(result.applyHostBusy, 50) * 100),
      slotPlacementMsP50: round(percentile(result.slotPlacementMs, 50)),
      slotPlacementMsP99: round(percentile(result.slotPlacementMs, 99)),
      failoverMsP50: round(percentile(result.failoverMs, 50)),
      failoverMsP99: round(percentile(result.failoverMs, 99)),
      slotFailoverMsP50: round(percentile(result.slotFailoverMs, 50)),
      slotFailoverMsP99: round(percentile(result.slotFailoverMs, 99)),
      slotsMovedMean: round(result.slotsMoved.reduce((a, b) => a + b, 0) / Math.max(1, result.slotsMoved.length), 1),
      rejoinMsP50: round(percentile(result.rejoinMs, 50)),
      ...idleNumbers,
      duplicatesSeen: result.duplicatesSeen,
      unsettledRejoins: result.unsettled,
      agentsDown: down.length,
    }
  } catch (error) {
    failure = error
  } finally {
    await local.stopAll(5_000)
    // A graceful stop stops every task; count what is still alive, then kill it.
    await sleep(500)
    const exits = await Promise.all(local.agents.map(async (a) => `a${a.index}=${a.exited === undefined ? '-' : await a.exited}`))
    if (!exits.every((e) => e.endsWith('=0'))) log(`agent exits after the graceful stop: ${exits.join(' ')}`)
    const marked = markedProcesses(base)
    if (marked.length > 0) {
      const perDir = await Promise.all(local.agents.map(async (a) => `a${a.index}=${(await observeTaskRecords(a.dir)).filter((r) => isAlive(r.pid, r.startTicks ?? undefined)).length}`))
      log(`task processes alive after every agent stopped gracefully, by the data dir recording them: ${perDir.join(' ')}`)
    }
    const recorded = await killTasks(dirs)
    for (const pid of marked) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
    if (recorded + marked.length > 0) log(`after the graceful stop: killed ${recorded} recorded task process group(s) and ${marked.length} marked task process(es) still alive`)
    if (line !== undefined) line = { ...line, tasksLeftAfterStop: marked.length, wallMs: Math.round(performance.now() - started) }
    if (keep) log(`kept ${base}`)
    else await rm(base, { recursive: true, force: true })
  }
  if (failure !== undefined) throw failure
  console.log(JSON.stringify(line))
}

function simulated(): void {
  const faults = parseFaultSpec(SIM_FAULTS)
  if (!faults.ok) throw new Error(faults.error)
  const runs = Array.from({ length: TRIALS }, (_, i) =>
    simulate({ seed: i + 1, services: [spec('b')], peerCount: PEERS, durationMs: SIM_DURATION_MS, faults: faults.spec, network: 'lan' }, '').json)
  const measured = runs.filter((r) => r.failoversMeasured > 0)
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length
  console.log(JSON.stringify({
    bench: 'cluster',
    source: 'sim',
    peers: PEERS,
    replicas: REPLICAS,
    trials: TRIALS,
    faults: SIM_FAULTS,
    simulatedMs: SIM_DURATION_MS,
    applyMsP50: round(median(runs.map((r) => r.placementMsP99))),
    applyMsP99: round(Math.max(...runs.map((r) => r.placementMsP99))),
    slotPlacementMsP50: round(median(runs.map((r) => r.placementMsP50))),
    slotPlacementMsP99: round(Math.max(...runs.map((r) => r.placementMsP99))),
    failoverMsP50: measured.length === 0 ? -1 : round(median(measured.map((r) => r.failoverMsP99))),
    failoverMsP99: measured.length === 0 ? -1 : round(Math.max(...measured.map((r) => r.failoverMsP99))),
    slotFailoverMsP50: measured.length === 0 ? -1 : round(median(measured.map((r) => r.failoverMsP50))),
    slotFailoverMsP99: measured.length === 0 ? -1 : round(Math.max(...measured.map((r) => r.failoverMsP99))),
    killsMeasured: measured.length,
    msgsPerPeerPerSec: round(mean(runs.map((r) => r.msgsPerPeerPerSec)), 2),
    bytesPerPeerPerSec: round(mean(runs.map((r) => r.bytesPerPeerPerSec))),
    violations: runs.reduce((n, r) => n + r.violations.length, 0),
  }))
}

await real()
simulated()
