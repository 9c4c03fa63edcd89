// Real agents, each its own process, driven through the real CLI as a user would: placement exactly
// once over five peers, failover after a kill -9, the killed peer's adopted tasks reconciled on its
// return, desired state surviving a full stop, a stranger with another swarm key kept out, bad input
// refused without harm, garbage on the control socket, and `peer up --local` started and stopped.
//
// Every wait polls a condition against an explicit deadline. Task processes outlive a kill -9 of their
// agent on purpose, so every test ends by killing whatever its data directories still name, and
// whatever process mentions its temporary directory.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { readdirSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { hostname, machine, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../../../cli/agent-client.js'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import { observeTaskRecords } from '../../../node/agent/data-dir.js'
import type { NodeRow, NodesAnswer } from '../../../node/control/index.js'
import { controlRequest } from '../../../node/control/index.js'
import { groupMembers, isAlive, readStat } from '../../../node/runtime/proc.js'
import { repoRoot, runCli, type CliResult } from '../../cli/run-cli.js'
import { cliJson, distribution, exactlyOnce, nodes, ps, status, tasksOf, waitFor, waitForTasks, withLogTails, type Placement } from './cluster-support.js'
import { PEER_COMMAND } from '../../peer-command.js'

const CLI = PEER_COMMAND
/** Every task of these tests carries it in its environment, so the OS can be asked what runs. */
const MARK_VARIABLE = 'PEER_TEST_MARK'

// --- Helpers ------------------------------------------------------------------------------------

interface RecordFound {
  readonly dir: string
  readonly slot: string
  readonly pid: number
  readonly startTicks: number | null
}

/** The process driver's task records in `dataDir`, read without touching them. */
async function taskRecords(dataDir: string): Promise<RecordFound[]> {
  return (await observeTaskRecords(dataDir)).map((record) => ({ dir: dataDir, slot: record.slot, pid: record.pid, startTicks: record.startTicks }))
}

/** Records (of every data dir given) whose process is alive: the same pid, started at the same time. */
async function liveRecords(dataDirs: readonly string[]): Promise<RecordFound[]> {
  const all = (await Promise.all(dataDirs.map(taskRecords))).flat()
  return all.filter((record) => isAlive(record.pid, record.startTicks ?? undefined))
}

function procPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number)
}

function readProcFile(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1')
  } catch {
    return ''
  }
}

/** Live (not zombie) processes whose environment holds `PEER_TEST_MARK=<mark>`. */
function markedProcesses(mark: string): number[] {
  const needle = `${MARK_VARIABLE}=${mark}`
  return procPids().filter((pid) => readProcFile(pid, 'environ').split('\0').includes(needle) && isAlive(pid))
}

/** Live processes other than this one whose command line or environment mentions `text`. */
function processesMentioning(text: string): number[] {
  return procPids().filter((pid) => pid !== process.pid && (readProcFile(pid, 'cmdline').includes(text) || readProcFile(pid, 'environ').includes(text)) && isAlive(pid))
}

/**
 * Kills what a test may have left: the process groups its data dirs' task records name (unless the
 * pid now belongs to another process), then any process mentioning `base` (agents by their --data,
 * tasks by their mark). Then removes `base`.
 */
async function reap(base: string, dataDirs: readonly string[]): Promise<void> {
  for (const record of (await Promise.all(dataDirs.map(taskRecords))).flat()) {
    const stat = readStat(record.pid)
    if (stat !== undefined && record.startTicks !== null && stat.startTicks !== record.startTicks) continue
    try {
      process.kill(-record.pid, 'SIGKILL')
    } catch {
      // Gone already.
    }
  }
  for (const pid of processesMentioning(base)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Gone already.
    }
  }
  await rm(base, { recursive: true, force: true })
}

async function dataDirsUnder(base: string): Promise<string[]> {
  try {
    return (await readdir(base, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => join(base, entry.name))
  } catch {
    return []
  }
}

function serviceYaml(name: string, replicas: number, mark: string): string {
  return [
    'services:',
    `  ${name}:`,
    '    command: ["sleep", "600"]',
    `    replicas: ${replicas}`,
    `    env: { ${MARK_VARIABLE}: ${JSON.stringify(mark)} }`,
    '    resources: { cpu: 50m, memory: 16Mi }',
    '',
  ].join('\n')
}

const NO_STACK = /\n\s+at /
/** An event of any kind, with the fields the summary reads where it has them. */
interface EventSeen {
  readonly at: number
  readonly kind: string
  readonly slot?: string
  readonly reason?: string
  readonly peer?: string
  readonly status?: string
}

/**
 * What the agents' event logs say happened since `since`, one line per agent: when it first learned a
 * desired-state change, task starts, stops by reason, and membership changes other than `alive`. Evidence for a failure message or a log line.
 */
async function eventSummary(agents: readonly LocalAgent[], since: number, names: ReadonlyMap<string, string>): Promise<{ starts: number; text: string }> {
  let starts = 0
  const lines: string[] = []
  for (const agent of agents) {
    if (!agent.running) continue
    try {
      const events: readonly EventSeen[] = (await ask({ peer: agent.socket, timeoutMs: 3_000 }, 'GET /v1/events')).events
      const recent = events.filter((event) => event.at >= since)
      const started = recent.filter((event) => event.kind === 'start').length
      const learned = recent.find((event) => event.kind === 'desired')
      starts += started
      const stops = new Map<string, number>()
      for (const event of recent) if (event.kind === 'stop') stops.set(event.reason ?? '?', (stops.get(event.reason ?? '?') ?? 0) + 1)
      const members = recent.filter((event) => event.kind === 'member' && event.status !== 'alive').map((event) => `${names.get(event.peer ?? '') ?? event.peer}:${event.status}@+${event.at - since}ms`)
      lines.push(`peer-${agent.index}: ${learned === undefined ? 'no desired-state change' : `desired state changed @+${learned.at - since}ms`}, ${started} starts, stops ${JSON.stringify(Object.fromEntries(stops))}${members.length > 0 ? `, members ${members.join(' ')}` : ''}`)
    } catch (error) {
      lines.push(`peer-${agent.index}: no events (${error instanceof Error ? error.message : String(error)})`)
    }
  }
  return { starts, text: lines.join('\n') }
}

// --- Tests --------------------------------------------------------------------------------------

const cluster = suite('agents in a cluster, driven through the CLI')

let testStartedAt = 0
cluster.before.each(() => void (testStartedAt = Date.now()))
cluster.after.each(() => console.log(`    test took ${Date.now() - testStartedAt} ms`))

cluster('5 agents run 50 replicas exactly once, fail over a kill -9, take the killed peer back, and keep the desired state over a full restart', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pc-'))
  const local = await LocalCluster.create({ base, count: 5, addresses: 'range', agentArgs: ['--cpu', '2', '--memory', '2Gi'], command: CLI })
  const dirs = local.agents.map((agent) => agent.dir)
  const [a1, a2, a3, a4, a5] = local.agents as [LocalAgent, LocalAgent, LocalAgent, LocalAgent, LocalAgent]
  try {
    let started = Date.now()
    await local.startAll()
    await Promise.all(local.agents.map((agent) => local.waitForMembers(agent.index, 5)))
    const names = new Map(local.agents.map((agent) => [agent.peerId!, `peer-${agent.index}`]))
    console.log(`    5 agents up and meshed: ${Date.now() - started} ms`)

    const specFile = join(base, 'web.yaml')
    await writeFile(specFile, serviceYaml('web', 50, base))
    const appliedAt = Date.now()
    const applied = await runCli(['apply', '-f', specFile, '--data', a1.dir])
    assert.is(applied.code, 0, applied.stderr)

    // Placement: every slot once, over all five peers.
    const placed = await waitForTasks('50 replicas running exactly once', a3, 45_000, (tasks) => exactlyOnce(tasks, 'web', 50))
    let placement = placed.placement
    console.log(`    50 placed and running ${placed.ms} ms after the apply answered; ${distribution(placement.byPeer, names)}; ${(await eventSummary(local.agents, appliedAt, names)).starts} task starts`)
    // Spread: every peer holds some, and counts differ by at most 2 (the auction alone gives ≤ 1).
    const counts = [...placement.byPeer.values()]
    if (placement.byPeer.size !== 5 || Math.max(...counts) - Math.min(...counts) > 2) {
      const { text } = await eventSummary(local.agents, appliedAt, names)
      assert.unreachable(`spread over all 5 peers within 2, got ${distribution(placement.byPeer, names)}; events since the apply:\n${text}`)
    }

    // The processes exist, one per slot, on the peer that advertises the slot.
    await waitFor('50 live task processes, one per slot, where ps says', 15_000, async (note) => {
      const live = await liveRecords(dirs)
      const marked = markedProcesses(base).length
      const where = new Map(live.map((record) => [record.slot, local.agents.find((agent) => agent.dir === record.dir)!.peerId]))
      const mismatched = [...placement.slotPeer].filter(([slot, peer]) => where.get(slot) !== peer)
      note(`${live.length} live records, ${new Set(live.map((r) => r.slot)).size} distinct slots, ${marked} marked processes, ${mismatched.length} slots not where ps says`)
      return live.length === 50 && new Set(live.map((r) => r.slot)).size === 50 && marked === 50 && mismatched.length === 0 ? true : undefined
    })

    // Failover: kill -9 agent 2 (its tasks keep running, orphaned); the other four take its slots.
    const killed = a2.peerId!
    const heldByKilled = placement.byPeer.get(killed) ?? 0
    await local.kill(2)
    // Measured from the agent's exit to the socket first showing every slot running elsewhere.
    const failover = await waitForTasks('every slot running once on the 4 live peers', a4, 30_000, (tasks) => exactlyOnce(tasks, 'web', 50, killed))
    console.log(`failover: ${failover.ms} ms (${heldByKilled} slots moved off the killed peer)`)
    placement = failover.placement
    assert.is(placement.byPeer.size, 4, distribution(placement.byPeer, names))

    // Rejoin: agent 2 adopts its orphans, which now conflict with their replacements; one of each
    // pair must go, leaving 50 live processes in all.
    started = Date.now()
    await local.start(2)
    await local.waitForMembers(2, 5)
    const rejoinedMs = Date.now() - started
    const timeline: string[] = []
    const settled = await waitFor('after the rejoin: every slot once in ps and 50 live processes', 45_000, async (noteLast) => {
      const note = (seen: string): void => {
        if (timeline.at(-1)?.endsWith(seen) !== true) timeline.push(`+${Date.now() - started}ms ${seen}`)
        noteLast(seen)
      }
      const [tasks2, tasks5] = await Promise.all([tasksOf(a2), tasksOf(a5)])
      const seen2 = exactlyOnce(tasks2, 'web', 50)
      const seen5 = exactlyOnce(tasks5, 'web', 50)
      const live = await liveRecords(dirs)
      const slots = new Set(live.map((record) => record.slot))
      const marked = markedProcesses(base).length
      note(`agent 2: ${typeof seen2 === 'string' ? seen2 : 'ok'}; agent 5: ${typeof seen5 === 'string' ? seen5 : 'ok'}; ${live.length} live records over ${slots.size} slots; ${marked} marked processes`)
      if (typeof seen2 === 'string' || typeof seen5 === 'string' || live.length !== 50 || slots.size !== 50 || marked !== 50) return undefined
      const where = new Map(live.map((record) => [record.slot, local.agents.find((agent) => agent.dir === record.dir)!.peerId]))
      const mismatched = [...seen5.slotPeer].filter(([slot, peer]) => where.get(slot) !== peer || seen2.slotPeer.get(slot) !== peer)
      if (mismatched.length > 0) return void note(`${mismatched.length} slots not where ps says, e.g. ${mismatched[0]![0]}`)
      return seen5
    }, 200)
    const settledMs = Date.now() - started
    for (const agent of [a2, a5]) {
      const viaCli = exactlyOnce(await ps(agent), 'web', 50)
      assert.type(viaCli, 'object', `peer ps --json via agent ${agent.index} after the rejoin: ${String(viaCli)}`)
      assert.equal([...(viaCli as Placement).slotPeer].sort(), [...settled.slotPeer].sort(), `agent ${agent.index} agrees where each slot runs`)
    }
    console.log(`    rejoin settled: ${settledMs} ms (agent 2 saw 5 alive after ${rejoinedMs} ms); ${distribution(settled.byPeer, names)}`)
    if (settledMs > 10_000) {
      console.log(`      slow rejoin; what the test saw:\n        ${timeline.join('\n        ')}`)
      console.log(`      events:\n        ${(await eventSummary(local.agents, started, names)).text.replaceAll('\n', '\n        ')}`)
    }

    // Full stop: SIGTERM everyone; graceful agents stop their tasks.
    await local.stopAll()
    for (const agent of local.agents) assert.is(await agent.exited, 0, `agent ${agent.index} exit; its log: ${agent.log}`)
    const leftRecords = await liveRecords(dirs)
    assert.is(leftRecords.length, 0, `task processes alive after a graceful stop: ${leftRecords.map((r) => `${r.slot}:${r.pid}`).join(' ')}`)
    await waitFor('no marked process after a graceful stop', 5_000, (note) => {
      const left = markedProcesses(base)
      note(`pids ${left.join(' ')}`)
      return left.length === 0 ? true : undefined
    })

    // Start again: the desired state comes back from disk, and the replicas with it.
    started = Date.now()
    const restartedAt = started
    await local.startAll()
    await Promise.all(local.agents.map((agent) => local.waitForMembers(agent.index, 5)))
    for (const agent of [a1, a4]) {
      const answer = await status(agent)
      const web = answer.services.find((service) => service.name === 'web')
      assert.ok(web !== undefined, `agent ${agent.index} lists web after the restart: ${JSON.stringify(answer.services)}`)
      assert.is(web!.desired, 50)
    }
    const { entries } = await cliJson<{ entries: { service: string; version: number }[] }>(['history', '--json', '--data', a3.dir])
    assert.ok(entries.some((entry) => entry.service === 'web' && entry.version === 1), JSON.stringify(entries))
    placement = (await waitForTasks('50 replicas running exactly once after the full restart', a1, 45_000, (tasks) => exactlyOnce(tasks, 'web', 50))).placement
    console.log(`    restarted and running again: ${Date.now() - started} ms; ${distribution(placement.byPeer, names)}`)
    // Duplicates started meanwhile stop once their slot's kept task is up: 50 processes remain.
    await waitFor('50 live task processes after the full restart', 20_000, async (note) => {
      const live = await liveRecords(dirs)
      const marked = markedProcesses(base).length
      note(`${live.length} live records over ${new Set(live.map((r) => r.slot)).size} slots, ${marked} marked processes`)
      return live.length === 50 && new Set(live.map((r) => r.slot)).size === 50 && marked === 50 ? true : undefined
    }, 300)
    const afterRestart = await eventSummary(local.agents, restartedAt, names)
    console.log(`    after the full restart: ${afterRestart.starts} task starts for 50 slots\n      ${afterRestart.text.replaceAll('\n', '\n      ')}`)
  } catch (error) {
    throw await withLogTails(error, local.agents.map((agent) => agent.log))
  } finally {
    await local.stopAll(5_000)
    await reap(base, dirs)
  }
})

cluster('an agent with another swarm key cannot join: neither side lists the other, and it says why in its log and peer nodes', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pc-'))
  const local = await LocalCluster.create({ base, count: 2, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi'], command: CLI })
  // The stranger's own data dir, made by `peer init` (a new swarm key); a LocalCluster of one reuses it.
  const strangerBase = join(base, 'stranger')
  const init = await runCli(['init', '--data', join(strangerBase, 'peer-1'), '--json'])
  assert.is(init.code, 0, init.stderr)
  const strangerId = (JSON.parse(init.stdout) as { peer: string }).peer
  const outsiders = await LocalCluster.create({ base: strangerBase, count: 1, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi'], command: CLI })
  const stranger = outsiders.agent(1)
  const [a1, a2] = local.agents as [LocalAgent, LocalAgent]
  try {
    assert.is.not(await readFile(join(stranger.dir, 'swarm.key'), 'utf8'), await readFile(join(a1.dir, 'swarm.key'), 'utf8'))
    await local.startAll()
    await outsiders.start(1, ['--join', a1.address])
    assert.is(stranger.peerId, strangerId)
    await Promise.all([local.waitForMembers(1, 2), local.waitForMembers(2, 2)])

    // For 3 s (while the stranger keeps redialling agent 1 every 2 s): `peer nodes --json` at both
    // ends, and the same answer from the sockets every 200 ms in between.
    const check = (own: readonly NodeRow[], first: readonly NodeRow[], second: readonly NodeRow[], how: string): void => {
      assert.equal(own.map((n) => n.peer), [strangerId], `${how}: the stranger lists only itself: ${JSON.stringify(own)}`)
      for (const [answer, agent] of [[first, a1], [second, a2]] as const) {
        assert.not.ok(answer.some((n) => n.peer === strangerId), `${how}: agent ${agent.index} lists the stranger: ${JSON.stringify(answer)}`)
        assert.is(answer.filter((n) => n.status === 'alive').length, 2, `${how}: agent ${agent.index} still sees both: ${JSON.stringify(answer)}`)
      }
    }
    const nodesOf = async (agent: LocalAgent): Promise<NodeRow[]> => (await ask({ peer: agent.socket, timeoutMs: 3_000 }, 'GET /v1/nodes')).nodes
    check(...(await Promise.all([nodes(stranger), nodes(a1), nodes(a2)])), 'peer nodes --json, first')
    const watchFrom = Date.now()
    let samples = 0
    while (Date.now() - watchFrom < 3_000 || samples < 5) {
      check(...(await Promise.all([nodesOf(stranger), nodesOf(a1), nodesOf(a2)])), `socket, +${Date.now() - watchFrom} ms`)
      samples++
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    check(...(await Promise.all([nodes(stranger), nodes(a1), nodes(a2)])), 'peer nodes --json, last')

    // The stranger says why it is alone: in `peer nodes` (a line under the table, a field in --json)
    // and once in its log, however many times it has redialled (every 2 s) by then.
    const label = a1.address.replace(/^\/ip4\/([^/]+)\/tcp\/(\d+)$/, '$1:$2')
    const failure = await waitFor('the stranger lists its join address as failing, twice tried', 15_000, async (note) => {
      const answer = await cliJson<NodesAnswer>(['nodes', '--json', '--data', stranger.dir])
      note(JSON.stringify(answer.joinFailures))
      const found = answer.joinFailures.find((f) => f.address === a1.address)
      return found !== undefined && found.attempts >= 2 ? found : undefined
    })
    assert.is(failure.kind, 'handshake')
    assert.is(failure.reason, 'pre-shared key mismatch or not a peer')
    const table = await runCli(['nodes', '--data', stranger.dir])
    assert.is(table.code, 0, table.stderr)
    assert.match(table.stdout, new RegExp(`\\njoin ${escapeRegExp(label)}: failing for [0-9.]+[smhd]: pre-shared key mismatch or not a peer\\n`), table.stdout)
    const said = (await readFile(stranger.log, 'utf8')).split('\n').filter((line) => line.includes('cannot join'))
    assert.is(said.length, 1, `one log line for ${failure.attempts} failed dials: ${JSON.stringify(said)}`)
    assert.ok(said[0]!.endsWith(`cannot join ${label}: pre-shared key mismatch or not a peer`), said[0])
    for (const agent of [a1, a2]) assert.equal((await cliJson<NodesAnswer>(['nodes', '--json', '--data', agent.dir])).joinFailures, [], `agent ${agent.index} joins its peer`)

    // Nobody crashed over it: all three still run and answer.
    for (const agent of [a1, a2, stranger]) {
      assert.ok(agent.running, `agent ${agent.dir} still runs; its log: ${agent.log}`)
      const answer = await status(agent)
      assert.is(answer.peer, agent.peerId)
    }
  } catch (error) {
    throw await withLogTails(error, [a1.log, a2.log, stranger.log])
  } finally {
    await Promise.all([local.stopAll(5_000), outsiders.stopAll(5_000)])
    await reap(base, [...local.agents.map((a) => a.dir), stranger.dir])
  }
})

cluster('bad input through the CLI is refused with a clear message and changes nothing', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pc-'))
  const local = await LocalCluster.create({ base, count: 2, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi'], command: CLI })
  const [a1, a2] = local.agents as [LocalAgent, LocalAgent]
  try {
    await local.startAll()
    await Promise.all([local.waitForMembers(1, 2), local.waitForMembers(2, 2)])

    // Every agent adds its built-in labels to the operator's (LocalCluster gives --labels local=peer-N),
    // and each peer's advert carries them to the others: `peer nodes --json` on one agent shows both.
    const seen = await waitFor('both peers\' adverts with their labels', 10_000, async (note) => {
      const rows = await nodes(a1)
      note(JSON.stringify(rows.map((row) => row.labels)))
      return rows.length === 2 && rows.every((row) => row.labels['peer.id'] !== undefined) ? rows : undefined
    })
    for (const row of seen) {
      const agent = row.peer === a1.peerId ? a1 : a2
      assert.equal(row.labels, { local: `peer-${agent.index}`, 'peer.hostname': hostname(), 'peer.id': row.peer, 'peer.os': process.platform, 'peer.arch': machine(), 'peer.mesh': 'userspace' })
    }
    const table = await runCli(['nodes', '--data', a1.dir])
    assert.match(table.stdout, `local=peer-1,peer.arch=${machine()},peer.hostname=${hostname()},peer.os=${process.platform}`)

    const specFile = join(base, 'web.yaml')
    await writeFile(specFile, serviceYaml('web', 2, base))
    const applied = await runCli(['apply', '-f', specFile, '--data', a1.dir])
    assert.is(applied.code, 0, applied.stderr)
    const digest = await waitFor('both agents agree on the desired state', 10_000, async (note) => {
      const [one, two] = await Promise.all([status(a1), status(a2)])
      note(`${one.desiredDigest} vs ${two.desiredDigest}`)
      return one.desiredDigest === two.desiredDigest && one.services.length === 1 ? one.desiredDigest : undefined
    })

    const peerFlags = ['--data', a1.dir]
    const malformed = join(base, 'malformed.yaml')
    await writeFile(malformed, 'services:\n  web:\n    command: ["sleep", "600"\n    replicas: 2\n')
    const negative = join(base, 'negative.yaml')
    await writeFile(negative, 'services:\n  web:\n    command: ["sleep", "600"]\n    replicas: -1\n')

    const runs: Record<string, CliResult> = {}
    const cases: [string, string[]][] = [
      ['malformed', ['apply', '-f', malformed, ...peerFlags]],
      ['negative', ['apply', '-f', negative, ...peerFlags]],
      ['scale', ['scale', 'nope=3', ...peerFlags]],
      ['rm', ['rm', 'nope', ...peerFlags]],
      ['why', ['why', 'nope', ...peerFlags]],
      ['logs', ['logs', 'nope/0', ...peerFlags]],
      ['drain-ambiguous', ['node', 'drain', '12D3Koo', ...peerFlags]],
      ['drain-unknown', ['node', 'drain', '12D3KooWnobodyHasThisId', ...peerFlags]],
      ['revert', ['revert', 'web', '99', ...peerFlags]],
      ['reserved-label', ['agent', '--labels', 'zone=a,peer.hostname=other', '--data', join(base, 'never-started')]],
    ]
    // Three at a time: each is a Node process with a second of start-up CPU on this 2-core machine.
    const queue = [...cases]
    await Promise.all([1, 2, 3].map(async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) runs[next[0]] = await runCli(next[1])
    }))
    const show = (name: string): string => `peer ${cases.find(([n]) => n === name)![1].join(' ')} → ${runs[name]!.code}\nstdout: ${runs[name]!.stdout}\nstderr: ${runs[name]!.stderr}`
    for (const [name] of cases) assert.not.match(runs[name]!.stderr, NO_STACK, `no stack trace: ${show(name)}`)

    assert.is(runs['malformed']!.code, 2, show('malformed'))
    assert.match(runs['malformed']!.stderr, new RegExp(`${escapeRegExp(malformed)}: \\d+:\\d+: `), show('malformed'))
    assert.is(runs['negative']!.code, 2, show('negative'))
    assert.ok(runs['negative']!.stderr.includes(`${negative}: services.web.replicas: `), show('negative'))
    assert.is(runs['scale']!.code, 1, show('scale'))
    assert.match(runs['scale']!.stderr, /nope/, show('scale'))
    assert.is(runs['rm']!.code, 1, show('rm'))
    assert.match(runs['rm']!.stderr, /nope/, show('rm'))
    assert.is(runs['why']!.code, 1, show('why'))
    assert.match(runs['why']!.stderr, /nope/, show('why'))
    // A slot nobody runs: an empty answer or a one-line refusal, never a crash.
    assert.ok(runs['logs']!.code === 0 || runs['logs']!.code === 1, show('logs'))
    if (runs['logs']!.code === 1) assert.is(runs['logs']!.stderr.trim().split('\n').length, 1, show('logs'))
    else assert.is(runs['logs']!.stdout, '', show('logs'))
    for (const name of ['drain-ambiguous', 'drain-unknown']) {
      assert.is(runs[name]!.code, 1, show(name))
      assert.is(runs[name]!.stderr.trim().split('\n').length, 1, show(name))
      assert.match(runs[name]!.stderr, /12D3Koo/, show(name))
    }
    assert.match(runs['drain-ambiguous']!.stderr, /matches 2 peers/, show('drain-ambiguous'))
    assert.is(runs['revert']!.code, 1, show('revert'))
    assert.match(runs['revert']!.stderr, /99/, show('revert'))
    assert.is(runs['reserved-label']!.code, 2, show('reserved-label'))
    assert.match(runs['reserved-label']!.stderr, /--labels: "peer\.hostname": keys starting with "peer\." are reserved/, show('reserved-label'))

    // Nothing was lost or changed, on either peer.
    for (const agent of [a1, a2]) {
      const after = await status(agent)
      assert.is(after.desiredDigest, digest, `agent ${agent.index}'s desired state changed`)
      assert.equal(after.services.map((s) => [s.name, s.desired, s.version]), [['web', 2, 1]])
    }
  } catch (error) {
    throw await withLogTails(error, [a1.log, a2.log])
  } finally {
    await local.stopAll(5_000)
    await reap(base, local.agents.map((a) => a.dir))
  }
})

cluster('garbage on the control socket gets 400s, and the agent keeps answering', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pc-'))
  const local = await LocalCluster.create({ base, count: 1, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi'], command: CLI })
  const agent = local.agent(1)
  try {
    await local.start(1)
    await local.waitForMembers(1, 1)

    // Raw bytes that are not HTTP: a 400 with a JSON error, then the server hangs up, and lives on.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(agent.socket)
      let answer = ''
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Error(`no hang-up within 5 s; got ${JSON.stringify(answer)}`))
      }, 5_000)
      socket.setEncoding('latin1')
      socket.on('data', (chunk: string) => (answer += chunk))
      socket.on('error', () => undefined)
      socket.on('close', () => {
        clearTimeout(timer)
        resolve(answer)
      })
      // One write: a second one could reach a socket the server already closed (EPIPE), and Node
      // would then drop the answer still unread.
      socket.write(Buffer.concat([Buffer.from([0x00, 0xff, 0x16, 0x03, 0x01, 0x02, 0x00, 0x0d, 0x0a]), Buffer.from('garbage that is not HTTP at all\r\n\r\n')]))
    })
    assert.ok(raw.startsWith('HTTP/1.1 400 '), `raw garbage answered: ${JSON.stringify(raw)}`)
    assert.ok(raw.includes('"code":"bad-request"'), `raw garbage answered: ${JSON.stringify(raw)}`)

    // Valid HTTP, invalid JSON body.
    const badJson = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = '{"services": [ {"name": "web", '
      const req = request({ socketPath: agent.socket, method: 'POST', path: '/v1/apply', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 5_000 }, (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }))
      })
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')))
      req.on('error', reject)
      req.end(body)
    })
    assert.is(badJson.status, 400, badJson.body)
    const error = (JSON.parse(badJson.body) as { error?: { code?: unknown; message?: unknown } }).error
    assert.is(error?.code, 'bad-json', badJson.body)
    assert.type(error?.message, 'string', badJson.body)

    const after = await status(agent)
    assert.is(after.peer, agent.peerId)
    assert.ok(agent.running, `the agent still runs; its log: ${agent.log}`)
  } catch (error) {
    throw await withLogTails(error, [agent.log])
  } finally {
    await local.stopAll(5_000)
    await reap(base, [agent.dir])
  }
})

cluster('peer up --local 3 -f examples/hello.yaml runs 3 hello tasks and Ctrl-C stops every agent and task', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pc-'))
  const data = join(base, 'up')
  let child: ChildProcess | undefined
  let exited: Promise<number | string> | undefined
  try {
    child = spawn(CLI[0], [...CLI.slice(1), 'up', '--local', '3', '-f', join(repoRoot, 'examples', 'hello.yaml'), '--data', data], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const started = child
    exited = new Promise((resolve) => started.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')))

    const rows = await waitFor('peer up prints a table with hello/0..2 running', 60_000, (note) => {
      if (started.exitCode !== null) throw new Error(`peer up exited ${started.exitCode}: ${stderr}`)
      const found = stdout.split('\n').map((line) => /^(hello\/\d+)\s.*\brunning\s*$/.exec(line)?.[1]).filter((slot) => slot !== undefined)
      note(`stdout: ${stdout}\nstderr: ${stderr}`)
      return found.length >= 3 ? found : undefined
    }, 200)
    assert.equal([...rows].sort(), ['hello/0', 'hello/1', 'hello/2'], stdout)
    const dirs = await dataDirsUnder(data)
    assert.is(dirs.length, 3)
    const tasks = await liveRecords(dirs)
    assert.equal(tasks.map((t) => t.slot).sort(), ['hello/0', 'hello/1', 'hello/2'], 'one live hello process per slot')

    child.kill('SIGINT')
    const how = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 20 s'), 20_000))])
    assert.is(how, 0, `peer up's exit; stderr: ${stderr}`)

    for (const dir of dirs) {
      const answered = await controlRequest(join(dir, 'control.sock'), 'GET', '/v1/health', undefined, { timeoutMs: 1_000 }).then(() => true, () => false)
      assert.not.ok(answered, `the agent of ${dir} still answers`)
    }
    assert.equal(processesMentioning(data), [], 'no agent process left')
    for (const task of tasks) assert.equal(groupMembers(task.pid), [], `${task.slot}'s process group is gone`)
    assert.equal(await liveRecords(dirs), [], 'no live task records')
  } catch (error) {
    throw await withLogTails(error, (await dataDirsUnder(data)).map((dir) => join(dir, 'agent.log')))
  } finally {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
    await reap(base, await dataDirsUnder(data))
  }
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

cluster.run()
