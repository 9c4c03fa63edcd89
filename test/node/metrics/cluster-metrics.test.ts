// Metrics of real agents, each its own process, scraped over HTTP and read by a real Prometheus
// parser: three agents run a service of process tasks with a healthcheck; the metrics show the tasks
// by state where they run, the claims, bids, gossip and control requests that placed them, each
// task's real memory, and `peer top` shows used vs requested. Then one agent is killed -9: a survivor
// counts the dead verdict and observes the failover. A second test runs a container on the real
// Docker engine and finds its memory and CPU. Bad --metrics input is refused.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Docker from 'dockerode'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import { observeTaskRecords } from '../../../node/agent/data-dir.js'
import { isAlive } from '../../../node/runtime/proc.js'
import { LABEL } from '../../../node/runtime/docker-driver.js'
import type { NodesAnswer, TaskRow, TopAnswer } from '../../../node/control/index.js'
import { runCli } from '../../cli/run-cli.js'
import { PEER_COMMAND } from '../../peer-command.js'
import { dockerAvailable, TEST_IMAGE } from '../runtime/docker-support.js'
import { cliJson, exactlyOnce, tasksOf, waitFor, waitForTasks, withLogTails } from '../agent/cluster-support.js'
import { countOf, get, scrape, valueOf, type Family } from './prometheus-text.js'

const CLI = PEER_COMMAND
/** Measured every second here (10 s by default), so usage shows up within the test's patience. */
const AGENT_ARGS = ['--cpu', '2', '--memory', '2Gi', '--usage-interval', '1']

/** The sum of a labelled gauge or counter over all its samples whose labels include `labels`. */
function sumOf(families: ReadonlyMap<string, Family>, name: string, labels: Readonly<Record<string, string>> = {}): number {
  return (families.get(name)?.metrics ?? [])
    .filter((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value))
    .reduce((sum, metric) => sum + Number(metric.value ?? 0), 0)
}

/** Writes a one-service spec (`fields`, one YAML line each) and applies it through `agent` with the real CLI. */
async function applyService(base: string, agent: LocalAgent, service: string, fields: readonly string[]): Promise<void> {
  const spec = join(base, `${service}.yaml`)
  await writeFile(spec, ['services:', `  ${service}:`, ...fields.map((field) => `    ${field}`), ''].join('\n'))
  const applied = await runCli(['apply', '-f', spec, '--data', agent.dir])
  assert.is(applied.code, 0, applied.stderr)
}

/** Healthy is running with a passed healthcheck: exactlyOnce asks for running. */
const asRunning = (tasks: readonly TaskRow[]): TaskRow[] => tasks.map((task) => (task.state === 'healthy' ? { ...task, state: 'running' } : task))

/** On failure, the error carries the tail of every agent's log. */
function logged<T>(local: LocalCluster, waiting: Promise<T>): Promise<T> {
  return waiting.catch(async (error: unknown) => {
    throw await withLogTails(error, local.agents.map((agent) => agent.log))
  })
}

/** Kills the task process groups the data dirs' records name, if still theirs; the agents are stopped by the caller. */
async function killTasks(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (const record of await observeTaskRecords(dir).catch(() => [])) {
      if (!isAlive(record.pid, record.startTicks ?? undefined)) continue
      try {
        process.kill(-record.pid, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
  }
}

const metrics = suite('metrics of real agents')

metrics('three agents: tasks, placement, gossip, control and task memory in /metrics; peer top; a kill -9 gives a failover observation', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pm-'))
  const local = await LocalCluster.create({ base, count: 3, addresses: 'range', agentArgs: AGENT_ARGS, command: CLI })
  const [a1, a2, a3] = local.agents as [LocalAgent, LocalAgent, LocalAgent]
  const dirs = local.agents.map((agent) => agent.dir)
  try {
    await local.startAll()
    await Promise.all(local.agents.map((agent) => local.waitForMembers(agent.index, 3)))

    await applyService(base, a1, 'idle', [
      'command: ["sh", "-c", "exec sleep 600"]',
      'replicas: 3',
      'resources: { cpu: 100m, memory: 32Mi }',
      'healthcheck: { command: ["true"], interval: 1s, timeout: 1s, retries: 1 }',
    ])
    await logged(local, waitForTasks('3 replicas running exactly once', a2, 45_000, (tasks) => exactlyOnce(asRunning(tasks), 'idle', 3)))

    // Each agent's peer_tasks counts what it runs by state; together, the three replicas.
    const tasks = await tasksOf(a2)
    const scraped = await Promise.all(local.agents.map((agent) => scrape(agent.metrics)))
    const active = (families: ReadonlyMap<string, Family>) => sumOf(families, 'peer_tasks', { state: 'running' }) + sumOf(families, 'peer_tasks', { state: 'healthy' }) + sumOf(families, 'peer_tasks', { state: 'starting' })
    local.agents.forEach((agent, i) => {
      assert.is(active(scraped[i]!), tasks.filter((task) => task.peer === agent.peerId).length, `peer-${agent.index}'s peer_tasks`)
      assert.is(valueOf(scraped[i]!, 'peer_members', { state: 'alive' }), 3, `peer-${agent.index} sees 3 members alive`)
      assert.is(valueOf(scraped[i]!, 'peer_info', { peer_id: agent.peerId! }), 1)
    })
    assert.is(scraped.reduce((sum, families) => sum + valueOf(families, 'peer_claims_total')!, 0) >= 3, true, 'three slots claimed in all')
    assert.ok(scraped.reduce((sum, families) => sum + valueOf(families, 'peer_bids_sent_total')!, 0) > 0, 'bids were sent')
    assert.ok(scraped.every((families) => valueOf(families, 'peer_gossip_messages_total', { topic: 'protocol', direction: 'in' })! > 0), 'protocol gossip arrived at every agent')
    assert.ok(scraped.every((families) => valueOf(families, 'peer_desired_state_changes_total')! >= 1), 'every agent took in the apply')
    assert.ok(scraped.every((families) => valueOf(families, 'peer_desired_state_size_bytes')! > 0))
    assert.ok(valueOf(scraped[0]!, 'peer_control_requests_total', { route: '/v1/apply', method: 'POST', status: '200' })! >= 1, 'the apply went through peer-1\'s control socket')
    assert.ok(scraped.every((families) => valueOf(families, 'process_resident_memory_bytes')! > 10_000_000), 'process metrics are there')

    // Task usage: the real memory of every task (sh exec'd into sleep), and healthchecks counted.
    const measured = await waitFor('every task\'s memory measured above 0, and healthchecks counted', 30_000, async (note) => {
      const now = await Promise.all(local.agents.map((agent) => scrape(agent.metrics)))
      const memory = now.flatMap((families) => (families.get('peer_task_memory_bytes')?.metrics ?? []).map((metric) => ({ slot: metric.labels?.['slot'], bytes: Number(metric.value) })))
      const checks = now.reduce((sum, families) => sum + sumOf(families, 'peer_health_checks_total', { result: 'pass' }), 0)
      note(`${JSON.stringify(memory)}; ${checks} passed probes`)
      return memory.length === 3 && memory.every((entry) => entry.bytes > 0) && checks >= 3 ? now : undefined
    })
    for (const families of measured) {
      for (const metric of families.get('peer_task_memory_requested_bytes')?.metrics ?? []) assert.is(Number(metric.value), 32 * 1024 * 1024)
      assert.ok(countOf(families, 'peer_health_check_duration_seconds') >= 1, 'probe durations observed')
    }

    // peer top --json, from any agent: every task measured, used memory above 0, requested as specified.
    const top = await waitFor('peer top shows all 3 tasks measured', 20_000, async (note) => {
      const answer = await cliJson<TopAnswer>(['top', '--json', '--data', a3.dir])
      note(JSON.stringify(answer.services))
      const service = answer.services.find((row) => row.service === 'idle')
      return service !== undefined && service.measured === 3 ? answer : undefined
    })
    const idle = top.services.find((row) => row.service === 'idle')!
    assert.equal(idle.requested, { cpuMilli: 300, memoryMiB: 96 })
    assert.ok(idle.used !== null && idle.used.memoryMiB >= 0 && idle.used.cpuMilli >= 0)
    assert.is(top.peers.length, 3)
    // The same measurements in the placement view: peer nodes --json.
    const { nodes } = await cliJson<NodesAnswer>(['nodes', '--json', '--data', a3.dir])
    // (Measured every second here, so the figures may have moved between the two answers.)
    for (const row of top.peers.filter((peer) => peer.measured > 0)) {
      const used = nodes.find((node) => node.peer === row.peer)?.used
      assert.ok(used !== null && used !== undefined && used.memoryMiB >= 0 && used.cpuMilli >= 0, `peer nodes shows what ${row.peer} uses: ${JSON.stringify(used)}`)
    }
    const text = await runCli(['top', '--data', a3.dir])
    assert.is(text.code, 0, text.stderr)
    assert.match(text.stdout, /SERVICE\s+TASKS\s+CPU USED/)
    assert.match(text.stdout, /^idle\s+3\s+/m)

    // Kill -9 a peer that runs a task; a survivor declares it dead and sees its slots run elsewhere.
    const victim = local.agents.find((agent) => tasks.some((task) => task.peer === agent.peerId))!
    const survivor = local.agents.find((agent) => agent !== victim)!
    const before = countOf(await scrape(survivor.metrics), 'peer_failover_duration_seconds')
    await local.kill(victim.index)
    await logged(local, waitForTasks('3 replicas running again without the killed peer', survivor, 45_000, (rows) => exactlyOnce(asRunning(rows), 'idle', 3, victim.peerId)))
    const after = await waitFor('the survivor observed the failover', 15_000, async (note) => {
      const families = await scrape(survivor.metrics)
      note(`failover count ${countOf(families, 'peer_failover_duration_seconds')}, dead verdicts ${valueOf(families, 'peer_member_dead_verdicts_total')}`)
      return countOf(families, 'peer_failover_duration_seconds') > before ? families : undefined
    })
    assert.ok(valueOf(after, 'peer_member_dead_verdicts_total')! >= 1)
    assert.is(valueOf(after, 'peer_members', { state: 'dead' }), 1)
    const failoverSeconds = Number(after.get('peer_failover_duration_seconds')!.metrics[0]!.sum)
    assert.ok(failoverSeconds > 0 && failoverSeconds < 60, `failover took ${failoverSeconds} s`)
    console.log(`    failover observed by peer-${survivor.index}: ${failoverSeconds.toFixed(2)} s`)

    // Only /metrics is served.
    assert.is((await get(survivor.metrics, '/')).status, 404)
  } finally {
    await local.stopAll(10_000)
    await killTasks(dirs)
    await rm(base, { recursive: true, force: true })
  }
})

metrics('a container\'s memory and CPU show up in /metrics and peer top (real Docker engine, peer-test:latest)', async () => {
  const docker = new Docker()
  const available = await dockerAvailable(docker)
  if (!available.ok) assert.unreachable(`no Docker engine or test image: ${available.error} (start dockerd, then run scripts/build-test-image.sh)`)
  const base = await mkdtemp(join(tmpdir(), 'pmd-'))
  const local = await LocalCluster.create({ base, count: 1, addresses: 'range', agentArgs: AGENT_ARGS, command: CLI })
  const agent = local.agent(1)
  try {
    await local.start(1)
    // A busy loop at a quarter of a core (the engine enforces the limit), so CPU is unmistakable.
    await applyService(base, agent, 'busyd', [`image: ${TEST_IMAGE}`, 'command: ["sh", "-c", "while :; do :; done"]', 'resources: { cpu: 250m, memory: 64Mi }'])
    await logged(local, waitForTasks('the container running', agent, 60_000, (tasks) => exactlyOnce(tasks, 'busyd', 1)))
    const families = await waitFor('the container\'s CPU and memory measured', 30_000, async (note) => {
      const now = await scrape(agent.metrics)
      const cpu = valueOf(now, 'peer_task_cpu_cores', { service: 'busyd', slot: 'busyd/0' })
      const memory = valueOf(now, 'peer_task_memory_bytes', { service: 'busyd', slot: 'busyd/0' })
      note(`cpu ${cpu} cores, memory ${memory} bytes`)
      return cpu !== undefined && cpu > 0.05 && memory !== undefined && memory > 0 ? now : undefined
    })
    const cpu = valueOf(families, 'peer_task_cpu_cores', { slot: 'busyd/0' })!
    // The engine caps it at 0.25 of a core; measured over a 1 s interval it may read a little over.
    assert.ok(cpu < 0.5, `CPU ${cpu} cores with a 250m limit`)
    assert.is(valueOf(families, 'peer_task_cpu_requested_cores', { slot: 'busyd/0' }), 0.25)
    const top = await cliJson<TopAnswer>(['top', '--json', '--data', agent.dir])
    const row = top.services.find((service) => service.service === 'busyd')
    assert.ok(row?.used !== null && row !== undefined && row.used.cpuMilli > 50, JSON.stringify(top.services))
  } finally {
    await local.stopAll(15_000)
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.service}=busyd`] } }).catch(() => [])
    await Promise.all(left.filter((each) => each.Labels[LABEL.owner] === agent.peerId).map((each) => docker.getContainer(each.Id).remove({ force: true }).catch(() => undefined)))
    await rm(base, { recursive: true, force: true })
  }
})

metrics('bad --metrics, --usage-interval and peer top --interval values are refused with exit 2, naming the flag; no agent is exit 1; a taken address given on purpose stops the start', async () => {
  for (const [flag, value] of [['--metrics', 'nowhere'], ['--metrics', '1.2.3.4:99999'], ['--usage-interval', '0'], ['--usage-interval', 'soon']] as const) {
    const result = await runCli(['agent', '--data', '/nonexistent', flag, value])
    assert.is(result.code, 2, `${flag} ${value}: ${result.stderr}`)
    assert.match(result.stderr, flag)
  }
  const interval = await runCli(['top', '--interval', '0', '--peer', '/nonexistent/control.sock'])
  assert.is(interval.code, 2, interval.stderr)
  assert.match(interval.stderr, /--interval/)
  const noAgent = await runCli(['top', '--json', '--peer', '/nonexistent/control.sock'])
  assert.is(noAgent.code, 1, noAgent.stderr)
  assert.match(noAgent.stderr, /\/nonexistent\/control\.sock/)
  const base = await mkdtemp(join(tmpdir(), 'pmf-'))
  const local = await LocalCluster.create({ base, count: 2, addresses: 'single', command: CLI })
  try {
    const first = await local.start(1)
    // Agent 2 asks for agent 1's metrics address: that is a promise it cannot keep.
    const refused = await local.start(2, ['--metrics', first.metrics]).then(() => 'started', (error: unknown) => String(error))
    assert.match(refused, /agent 2 exited/)
    assert.match(await readFile(local.agent(2).log, 'utf8'), new RegExp(`--metrics ${first.metrics.replace(/\./g, '\\.')}: cannot listen there`))
    assert.is(local.agent(2).running, false)
  } finally {
    await local.stopAll(10_000)
    await rm(base, { recursive: true, force: true })
  }
})

metrics.run()
