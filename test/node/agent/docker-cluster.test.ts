// Real agents running real containers: three agents on 127.0.0.1-3 share this machine's Docker
// engine (each sees only its own containers), run a service of six containers exactly once, serve
// `peer logs` and `peer exec` from any peer, replace a kill -9'd agent's containers, and after it
// restarts leave no slot running twice and no stale container behind; `peer rm` and a graceful stop
// leave no container at all. Needs dockerd and `peer-test:latest`: without them this fails.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Docker from 'dockerode'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import { LABEL } from '../../../node/runtime/docker-driver.js'
import { repoRoot, runCli } from '../../cli/run-cli.js'
import { dockerAvailable, TEST_IMAGE } from '../runtime/docker-support.js'
import { exactlyOnce, tasksOf, waitFor, waitForTasks, withLogTails } from './cluster-support.js'
import { PEER_COMMAND } from '../../peer-command.js'

const CLI = PEER_COMMAND
const docker = new Docker()
const SERVICE = 'webd'
const REPLICAS = 6

/** Running containers of the service, by slot, over the given owners (this test's peers). */
async function containersBySlot(owners: readonly string[]): Promise<Map<string, string[]>> {
  const found = await docker.listContainers({ filters: { label: [`${LABEL.service}=${SERVICE}`] } })
  const bySlot = new Map<string, string[]>()
  for (const each of found) {
    if (!owners.includes(each.Labels[LABEL.owner] ?? '')) continue
    const slot = each.Labels[LABEL.slot] ?? '?'
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), each.Labels[LABEL.owner]!])
  }
  return bySlot
}

async function removeContainersOf(owners: readonly string[]): Promise<void> {
  const found = await docker.listContainers({ all: true })
  await Promise.all(found.filter((each) => owners.includes(each.Labels[LABEL.owner] ?? '')).map((each) => docker.getContainer(each.Id).remove({ force: true }).catch(() => {})))
}

const containers = suite('agents running containers')

containers('three agents run containers exactly once, serve logs and exec anywhere, and replace a killed agent\'s containers without doubling them', async () => {
  const available = await dockerAvailable(docker)
  if (!available.ok) assert.unreachable(`no Docker engine or test image: ${available.error} (start dockerd, then run scripts/build-test-image.sh)`)
  const base = await mkdtemp(join(tmpdir(), 'pd-'))
  const local = await LocalCluster.create({ base, count: 3, addresses: 'range', agentArgs: ['--cpu', '2', '--memory', '2Gi'], command: CLI })
  const [a1, a2, a3] = local.agents as [LocalAgent, LocalAgent, LocalAgent]
  let owners: string[] = []
  try {
    await local.startAll()
    await Promise.all(local.agents.map((agent) => local.waitForMembers(agent.index, 3)))
    owners = local.agents.map((agent) => agent.peerId!)
    const nodes = (await runCli(['nodes', '--json', '--data', a1.dir]))
    assert.ok((JSON.parse(nodes.stdout) as { nodes: Array<{ drivers: string[] }> }).nodes.every((node) => node.drivers.includes('docker')), nodes.stdout)

    const spec = join(base, 'webd.yaml')
    await writeFile(spec, [
      'services:',
      `  ${SERVICE}:`,
      `    image: ${TEST_IMAGE}`,
      '    command: ["sh", "-c", "echo started $PEER_SLOT; exec sleep 600"]',
      `    replicas: ${REPLICAS}`,
      '    resources: { cpu: 50m, memory: 16Mi }',
      '',
    ].join('\n'))
    const applied = await runCli(['apply', '-f', spec, '--data', a1.dir])
    assert.is(applied.code, 0, applied.stderr)
    const placed = await waitForTasks(`${REPLICAS} containers running exactly once`, a2, 60_000, (tasks) => exactlyOnce(tasks, SERVICE, REPLICAS))
    await waitFor('one running container per slot', 15_000, async (note) => {
      const bySlot = await containersBySlot(owners)
      note(JSON.stringify(Object.fromEntries(bySlot)))
      return bySlot.size === REPLICAS && [...bySlot.values()].every((list) => list.length === 1) ? true : undefined
    })

    // Logs and exec through an agent that does not run the slot: forwarded to the one that does.
    const slot = `${SERVICE}/0`
    const runner = placed.placement.slotPeer.get(slot)!
    const elsewhere = local.agents.find((agent) => agent.peerId !== runner)!
    const logs = await waitFor('the container\'s output through another peer', 10_000, async () => {
      const result = await runCli(['logs', slot, '--data', elsewhere.dir])
      return result.stdout.includes(`started ${slot}`) ? result : undefined
    })
    assert.is(logs.code, 0)
    const exec = await runCli(['exec', slot, '--data', elsewhere.dir, '--', 'sh', '-c', 'echo in $PEER_SLOT; exit 3'])
    assert.is(exec.code, 3, exec.stderr)
    assert.is(exec.stdout, `in ${slot}\n`)
    const missing = await runCli(['exec', `${SERVICE}/99`, '--data', a1.dir, '--', 'true'])
    assert.is(missing.code, 1)
    assert.match(missing.stderr, `no task of ${SERVICE}/99 runs in the cluster`)

    // kill -9 agent 2: its containers run on, orphaned; the others replace them.
    const killed = a2.peerId!
    await local.kill(2)
    await waitForTasks('every slot running once on the 2 live peers', a3, 30_000, (tasks) => exactlyOnce(tasks, SERVICE, REPLICAS, killed))

    // Agent 2 comes back: it adopts its containers, the conflict rule keeps one per slot, and the
    // losers' containers are stopped and removed.
    await local.start(2)
    await local.waitForMembers(2, 3)
    await waitFor('after the restart: every slot once, one container per slot, none stale', 45_000, async (note) => {
      const [tasks2, tasks3] = await Promise.all([tasksOf(a2), tasksOf(a3)])
      const seen2 = exactlyOnce(tasks2, SERVICE, REPLICAS)
      const seen3 = exactlyOnce(tasks3, SERVICE, REPLICAS)
      const bySlot = await containersBySlot(owners)
      note(`agent 2: ${typeof seen2 === 'string' ? seen2 : 'ok'}; agent 3: ${typeof seen3 === 'string' ? seen3 : 'ok'}; containers ${JSON.stringify(Object.fromEntries([...bySlot].map(([s, o]) => [s, o.map((p) => p.slice(-4))])))}`)
      if (typeof seen2 === 'string' || typeof seen3 === 'string' || bySlot.size !== REPLICAS) return undefined
      const agree = [...bySlot].every(([s, list]) => list.length === 1 && list[0] === seen3.slotPeer.get(s))
      return agree ? true : undefined
    }, 300)
    const stale = await docker.listContainers({ all: true, filters: { label: [`${LABEL.service}=${SERVICE}`, 'status=exited'] } })
    assert.equal(stale.filter((each) => owners.includes(each.Labels[LABEL.owner] ?? '')).map((each) => each.Names), [], 'ended containers are removed')

    // peer rm: every container goes.
    const removed = await runCli(['rm', SERVICE, '--data', a3.dir])
    assert.is(removed.code, 0, removed.stderr)
    await waitFor('no container of the removed service', 30_000, async (note) => {
      const all = (await docker.listContainers({ all: true })).filter((each) => owners.includes(each.Labels[LABEL.owner] ?? ''))
      note(all.map((each) => each.Names.join()).join(' '))
      return all.length === 0 ? true : undefined
    })

    // A graceful stop of every agent stops and removes their containers.
    assert.is((await runCli(['apply', '-f', spec, '--data', a1.dir])).code, 0)
    await waitForTasks(`${REPLICAS} containers running again`, a1, 60_000, (tasks) => exactlyOnce(tasks, SERVICE, REPLICAS))
    await local.stopAll()
    const left = (await docker.listContainers({ all: true })).filter((each) => owners.includes(each.Labels[LABEL.owner] ?? ''))
    assert.equal(left.map((each) => each.Names.join()), [], 'containers left after a graceful stop')
  } catch (error) {
    throw await withLogTails(error, local.agents.map((agent) => agent.log))
  } finally {
    await local.stopAll(5_000)
    await removeContainersOf(owners)
    await rm(base, { recursive: true, force: true })
  }
})

containers.run()
