// A damaged desired-state store is said where an operator looks, not only on the agent's stderr:
// `peer status` of the agent that found it shows a warning line (and --json a `warnings` entry), and
// the agent still starts and gets back from its peer by sync what the damage cost it.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import type { StatusAnswer } from '../../../node/control/index.js'
import { repoRoot, runCli } from '../../cli/run-cli.js'
import { cliJson, waitFor, withLogTails } from './cluster-support.js'
import { PEER_COMMAND } from '../../peer-command.js'

const CLI = PEER_COMMAND

const warnings = suite('desired-state store warnings')

warnings('a damaged log and snapshot of a stopped agent: peer status shows both, and sync brings back what was lost', async () => {
  const base = await mkdtemp(join(tmpdir(), 'psw-'))
  const local = await LocalCluster.create({ base, count: 2, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi', '--docker', 'off'], command: CLI })
  const [a1, a2] = local.agents as [LocalAgent, LocalAgent]
  const statusOf = (agent: LocalAgent) => cliJson<StatusAnswer>(['status', '--json', '--data', agent.dir])
  try {
    await local.startAll()
    await Promise.all([local.waitForMembers(1, 2), local.waitForMembers(2, 2)])
    // Replicas 0: the test is about the document, nothing needs to run.
    const spec = join(base, 'web.yaml')
    await writeFile(spec, 'services:\n  web:\n    command: ["sleep", "600"]\n    replicas: 0\n  api:\n    command: ["sleep", "600"]\n    replicas: 0\n')
    const applied = await runCli(['apply', '-f', spec, '--data', a1.dir])
    assert.is(applied.code, 0, applied.stderr)
    const digest = await waitFor('both agents hold the two services', 15_000, async (note) => {
      const [one, two] = await Promise.all([statusOf(a1), statusOf(a2)])
      note(`${one.desiredDigest} ${one.services.length} vs ${two.desiredDigest} ${two.services.length}`)
      return one.desiredDigest === two.desiredDigest && two.services.length === 2 ? one.desiredDigest : undefined
    })
    assert.equal((await statusOf(a2)).warnings, [], 'no warning before the damage')

    await local.stop(2, 5_000)
    // The log: one byte of its last frame flipped (its checksum no longer matches). The snapshot:
    // garbage where none was (the log had not yet been compacted into one).
    const logFile = join(a2.dir, 'desired', 'desired-state.log')
    const log = await readFile(logFile)
    log[log.length - 3] = log[log.length - 3]! ^ 0xff
    await writeFile(logFile, log)
    await writeFile(join(a2.dir, 'desired', 'desired-state.snapshot'), 'not a snapshot at all')
    await local.start(2)

    const after = await statusOf(a2)
    const messages = after.warnings.map((warning) => warning.message)
    assert.is(messages.length, 2, JSON.stringify(after.warnings))
    assert.match(messages[0]!, /^desired state on disk: desired-state\.snapshot was damaged \(bad magic\); moved to desired-state\.snapshot\.damaged-1, loaded from genesis plus the log$/)
    assert.match(messages[1]!, /^desired state on disk: desired-state\.log ended in a damaged frame at byte \d+ \(bad-checksum\); dropped \d+ bytes$/)
    for (const warning of after.warnings) {
      assert.is(warning.source, 'desired-state')
      assert.ok(Math.abs(warning.at - Date.now()) < 60_000, `found at start: ${warning.at}`)
    }
    const text = await runCli(['status', '--data', a2.dir])
    assert.is(text.code, 0, text.stderr)
    for (const message of messages) assert.ok(text.stdout.includes(`): ${message}\n`), text.stdout)
    assert.match(text.stdout, /\nWarning \([0-9.]+s ago\): desired state on disk: desired-state\.snapshot was damaged/)
    // The agent on the other side has nothing to report.
    assert.not.match((await runCli(['status', '--data', a1.dir])).stdout, /Warning/)

    // What the damage dropped comes back from the other agent, and the warnings stay for this life.
    await waitFor('the damaged agent catches up by sync', 20_000, async (note) => {
      const answer = await statusOf(a2)
      note(`${answer.desiredDigest} ${answer.services.length} (want ${digest})`)
      return answer.desiredDigest === digest && answer.services.length === 2 ? true : undefined
    })
    assert.is((await statusOf(a2)).warnings.length, 2)
    assert.ok(a2.running, `agent 2 runs; its log: ${a2.log}`)
  } catch (error) {
    throw await withLogTails(error, [a1.log, a2.log])
  } finally {
    await local.stopAll(5_000)
    await rm(base, { recursive: true, force: true })
  }
})

warnings.run()
