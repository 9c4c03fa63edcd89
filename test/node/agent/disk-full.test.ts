// A full disk under one agent's data directory (a real tmpfs of 1 MiB, filled to the last byte): the
// agent must not crash, must keep its running tasks, must say so in `peer status` and its events, must
// take no new slot (they go to the other agent instead of failing here), must leave no temporary files
// behind, and must pick up again by itself once space frees — saving what it could not meanwhile.
//
// Needs root (mount): it fails, never skips, without it — CI runs as root.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../../../cli/agent-client.js'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import type { StatusAnswer, TaskRow } from '../../../node/control/index.js'
import { runCli } from '../../cli/run-cli.js'
import { PEER_COMMAND } from '../../peer-command.js'
import { cliJson, waitFor, withLogTails } from './cluster-support.js'

const CLI = PEER_COMMAND
const SERVICE_BODY = (replicas: number) => ({ command: ['sleep', '600'], replicas, resources: { cpu: '50m', memory: '16Mi' } })

/** Fills the file system under `dir` to the last byte with one file; answers its path. */
function fill(dir: string): string {
  const filler = join(dir, 'filler')
  // dd stops with "No space left on device" (exit 1) when the disk is full: that is the point.
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' })
  } catch {
    // Full.
  }
  return filler
}

const running = (tasks: readonly TaskRow[], peer: string): string[] => tasks.filter((task) => task.peer === peer && task.state === 'running').map((task) => task.slot).sort()

const diskFull = suite('agent: full data directory')

diskFull('a full data directory: the agent keeps its tasks, says so, takes no new slot, and recovers when space frees', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pdf-'))
  const small = join(base, 'peer-2')
  await mkdir(small)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small])
  let local: LocalCluster | undefined
  try {
    local = await LocalCluster.create({ base, count: 2, addresses: 'range', agentArgs: ['--cpu', '2', '--memory', '1Gi', '--docker', 'off'], command: CLI })
    const [a1, a2] = local.agents as [LocalAgent, LocalAgent]
    try {
      await local.startAll()
      await Promise.all([local.waitForMembers(1, 2), local.waitForMembers(2, 2)])
      const apply = async (replicas: number): Promise<void> => {
        const file = join(base, 'web.json')
        await writeFile(file, JSON.stringify({ services: { web: SERVICE_BODY(replicas) } }))
        const applied = await runCli(['apply', '-f', file, '--data', a1.dir])
        assert.is(applied.code, 0, applied.stderr)
      }
      const tasks = async (): Promise<TaskRow[]> => (await ask({ peer: a1.socket, timeoutMs: 3_000 }, 'GET /v1/tasks')).tasks
      const statusOf = (agent: LocalAgent) => cliJson<StatusAnswer>(['status', '--json', '--data', agent.dir])
      const allRunning = (replicas: number) => async (note: (seen: string) => void) => {
        const seen = await tasks()
        note(seen.map((task) => `${task.slot}@${task.peer.slice(-4)}:${task.state}`).join(' '))
        return seen.length === replicas && seen.every((task) => task.state === 'running') ? seen : undefined
      }

      await apply(4)
      const before = await waitFor('4 replicas running', 20_000, allRunning(4))
      const kept = running(before, a2.peerId!)
      assert.ok(kept.length > 0, `agent 2 runs some replicas: ${JSON.stringify(before)}`)

      const filler = fill(small)
      await waitFor('agent 2 warns that its data directory is full', 10_000, async (note) => {
        const warnings = (await statusOf(a2)).warnings
        note(JSON.stringify(warnings))
        return warnings.some((warning) => warning.source === 'data-dir') ? true : undefined
      })
      await apply(8)
      const during = await waitFor('8 replicas running while agent 2 is full', 20_000, allRunning(8))
      assert.equal(running(during, a2.peerId!), kept, 'agent 2 kept exactly its tasks and took no new one')
      assert.ok(a2.running, 'agent 2 is alive')
      const text = await runCli(['status', '--data', a2.dir])
      assert.match(text.stdout, /Warning \([^)]*\): data directory .* is full/)
      const { events } = await ask({ peer: a2.socket, timeoutMs: 3_000 }, 'GET /v1/events')
      assert.ok(events.some((event) => event.kind === 'agent' && /is full/.test(event.message)), 'an event says the data directory is full')
      assert.ok(!events.some((event) => event.kind === 'task' && event.state === 'failed'), `no task start failed on agent 2: ${JSON.stringify(events.filter((event) => event.kind === 'task'))}`)
      const leftovers = (await readdir(join(small, 'runtime', 'tasks'))).filter((name) => name.endsWith('.tmp'))
      assert.equal(leftovers, [], 'no temporary files left behind')

      await rm(filler)
      await waitFor('agent 2 has room again (no warning)', 10_000, async (note) => {
        const warnings = (await statusOf(a2)).warnings
        note(JSON.stringify(warnings))
        return warnings.length === 0 ? true : undefined
      })
      await apply(12)
      const after = await waitFor('12 replicas running after space freed', 20_000, allRunning(12))
      assert.ok(running(after, a2.peerId!).length > kept.length, `agent 2 takes slots again: ${running(after, a2.peerId!).join(' ')}`)
      // What it runs is on its disk again, for its next start.
      await waitFor('agent 2 saved its tasks', 10_000, async (note) => {
        const saved = JSON.parse(await readFile(join(small, 'assignments.json'), 'utf8')) as { tasks: { task: { slot: string } }[] }
        const slots = saved.tasks.map((entry) => entry.task.slot).sort()
        note(slots.join(' '))
        return JSON.stringify(slots) === JSON.stringify(running(after, a2.peerId!)) ? true : undefined
      })
      assert.ok(a2.running, 'agent 2 is alive')
    } catch (error) {
      throw await withLogTails(error, [a1.log, a2.log])
    }
  } finally {
    await local?.stopAll(5_000)
    execFileSync('umount', ['-l', small])
    await rm(base, { recursive: true, force: true })
  }
})

diskFull.run()
