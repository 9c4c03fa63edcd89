// An agent whose output nobody reads any more (the harness that started it died, the terminal closed)
// must still stop cleanly: writing a log line to a closed pipe fails with EPIPE, and an unhandled
// stream error would end the agent without stopping its tasks.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, sleep } from '../../../cli/local-cluster.js'
import { observeTaskRecords } from '../../../node/agent/data-dir.js'
import { ask } from '../../../cli/agent-client.js'
import { loadSpecFiles } from '../../../cli/spec-files.js'
import { isAlive } from '../../../node/runtime/proc.js'
import { repoRoot } from '../../cli/run-cli.js'
import { PEER_COMMAND } from '../../peer-command.js'

const CLI = PEER_COMMAND

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(100)
  }
}

const outputGone = suite('an agent whose output is gone')

outputGone('stops cleanly on SIGTERM, stopping its tasks, after its stdout and stderr readers went away', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pg-'))
  const local = await LocalCluster.create({ base, count: 1, addresses: 'single', command: CLI })
  const agent = local.agent(1)
  let pids: number[] = []
  try {
    await local.start(1)
    const file = join(base, 'one.yaml')
    await writeFile(file, 'services:\n  one:\n    command: ["sleep", "600"]\n    replicas: 1\n    resources: { cpu: 10m, memory: 8Mi }\n')
    const loaded = await loadSpecFiles([file])
    assert.ok(loaded.ok)
    await ask({ peer: agent.socket }, 'POST /v1/apply', { body: { services: loaded.value.services } })
    await until('the task running', 20_000, async () => {
      const { tasks } = await ask({ peer: agent.socket }, 'GET /v1/tasks')
      return tasks.some((task) => task.state === 'running') ? true : undefined
    })
    pids = (await observeTaskRecords(agent.dir)).map((record) => record.pid)
    assert.is(pids.length, 1)
    assert.ok(isAlive(pids[0]!))

    // The reading ends close: from now on every line the agent writes meets EPIPE.
    agent.child!.stdout!.destroy()
    agent.child!.stderr!.unpipe()
    agent.child!.stderr!.destroy()
    await sleep(200)
    agent.child!.kill('SIGTERM')
    const exit = await Promise.race([agent.exited!, sleep(20_000).then(() => 'still running after 20 s')])
    assert.is(exit, 0, 'a clean exit')
    await until('the task process gone', 10_000, async () => (isAlive(pids[0]!) ? undefined : true))
  } finally {
    await local.kill(1).catch(() => undefined)
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
    await rm(base, { recursive: true, force: true })
  }
})

outputGone.run()
