// Five real agents on this machine running one service of 50 containers on the shared Docker engine:
// apply → every container running, then failover trials (kill -9 an agent → every slot running on the
// others, measured on another agent's socket), each followed by the killed agent's restart and the
// cluster settling back to one container per slot. One JSON line per figure. Needs dockerd and
// `peer-test:latest` (scripts/build-test-image.sh).
//
//   npm run bench -- docker-cluster [trials]      (default 5)

import Docker from 'dockerode'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ask } from '../cli/agent-client.js'
import { servicesFromText } from '../cli/files.js'
import { LocalCluster, sleep, type LocalAgent } from '../cli/local-cluster.js'
import type { TaskRow } from '../node/control/index.js'
import { DockerDriver, LABEL } from '../node/runtime/docker-driver.js'
import { percentile } from '../sim/metrics.js'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CLI = [process.execPath, '--import', 'tsx', join(REPO, 'cli', 'main.ts')]
const PEERS = 5
const REPLICAS = 50
const SERVICE = 'benchd'
const TRIALS = Number(process.argv[2] ?? 5)
const POLL_MS = 20

const docker = new Docker()
const engine = await DockerDriver.engineAnswers(docker)
if (!engine.ok) {
  console.error(`no Docker engine: ${engine.error}`)
  process.exit(1)
}
const log = (line: string): void => void process.stderr.write(`[docker-cluster] ${line}\n`)

/** Whether every slot runs exactly once, none on `excluded`. */
function allRunning(tasks: readonly TaskRow[], excluded?: string): boolean {
  const bySlot = new Map<string, TaskRow[]>()
  for (const task of tasks) if (task.service === SERVICE) bySlot.set(task.slot, [...(bySlot.get(task.slot) ?? []), task])
  if (bySlot.size !== REPLICAS) return false
  return [...bySlot.values()].every((rows) => rows.length === 1 && rows[0]!.state === 'running' && rows[0]!.peer !== excluded)
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const began = performance.now()
  for (;;) {
    try {
      if (await check()) return performance.now() - began
    } catch {
      // a busy or restarting agent: ask again
    }
    if (performance.now() - began > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(POLL_MS)
  }
}

async function runningContainers(owners: readonly string[]): Promise<number> {
  const found = await docker.listContainers({ filters: { label: [`${LABEL.service}=${SERVICE}`] } })
  return found.filter((each) => owners.includes(each.Labels[LABEL.owner] ?? '')).length
}

const tasksOf = async (agent: LocalAgent): Promise<TaskRow[]> => (await ask({ peer: agent.socket, timeoutMs: 5_000 }, 'GET /v1/tasks')).tasks

const base = await mkdtemp(join(tmpdir(), 'peer-bench-docker-cluster-'))
const local = await LocalCluster.create({ base, count: PEERS, addresses: 'range', agentArgs: ['--cpu', '4', '--memory', '4Gi'], command: CLI })
let owners: string[] = []
try {
  await local.startAll()
  await Promise.all(local.agents.map((agent) => local.waitForMembers(agent.index, PEERS)))
  owners = local.agents.map((agent) => agent.peerId!)
  const observer = local.agent(1)
  const file = join(base, 'spec.yaml')
  await writeFile(file, ['services:', `  ${SERVICE}:`, `    image: peer-test:latest`, '    command: ["sleep", "3600"]', `    replicas: ${REPLICAS}`, '    resources: { cpu: 50m, memory: 16Mi }', ''].join('\n'))
  const specs = servicesFromText(file, await readFile(file, 'utf8'))
  if (!specs.ok) throw new Error(JSON.stringify(specs.errors))

  const applyStarted = performance.now()
  await ask({ peer: observer.socket }, 'POST /v1/apply', { body: { services: specs.value } })
  await waitUntil('all containers running', 120_000, async () => allRunning(await tasksOf(observer)))
  const appliedMs = performance.now() - applyStarted
  await waitUntil('one container per slot', 30_000, async () => (await runningContainers(owners)) === REPLICAS)
  console.log(JSON.stringify({ bench: 'docker cluster apply → all running', peers: PEERS, containers: REPLICAS, ms: Math.round(appliedMs), engine: engine.version }))

  const failovers: number[] = []
  const settles: number[] = []
  for (let trial = 0; trial < TRIALS; trial++) {
    const victim = local.agent(2 + (trial % (PEERS - 1)))
    const killed = victim.peerId!
    const held = (await tasksOf(observer)).filter((task) => task.service === SERVICE && task.peer === killed).length
    const killedAt = performance.now()
    await local.kill(victim.index)
    await waitUntil('failover', 30_000, async () => allRunning(await tasksOf(observer), killed))
    failovers.push(performance.now() - killedAt)
    log(`trial ${trial + 1}: ${held} containers of the killed agent replaced in ${Math.round(failovers.at(-1)!)} ms`)
    const restartedAt = performance.now()
    await local.start(victim.index)
    await local.waitForMembers(victim.index, PEERS)
    await waitUntil('settled after the restart', 60_000, async () => allRunning(await tasksOf(observer)) && allRunning(await tasksOf(victim)) && (await runningContainers(owners)) === REPLICAS)
    settles.push(performance.now() - restartedAt)
  }
  const summary = (values: number[]) => ({ p50Ms: Math.round(percentile(values, 50)), p99Ms: Math.round(percentile(values, 99)), maxMs: Math.round(Math.max(...values)) })
  console.log(JSON.stringify({ bench: 'docker cluster failover (kill -9 → every slot running elsewhere)', peers: PEERS, containers: REPLICAS, trials: TRIALS, ...summary(failovers) }))
  console.log(JSON.stringify({ bench: 'docker cluster restart → one container per slot again', peers: PEERS, trials: TRIALS, ...summary(settles) }))
} finally {
  await local.stopAll(10_000)
  const left = (await docker.listContainers({ all: true })).filter((each) => owners.includes(each.Labels[LABEL.owner] ?? ''))
  await Promise.all(left.map((each) => docker.getContainer(each.Id).remove({ force: true }).catch(() => {})))
  await rm(base, { recursive: true, force: true })
}
