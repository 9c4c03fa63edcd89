// `peer history` and `peer revert` after concurrent writes on two real agents: a scale on one while
// the other was down, an env change on the other while the first was down, then both back together.
// Both edits used to become "version 2" with no version holding the merged spec; now each has an id
// of its own, the merge is version 3 with both as parents, and `peer revert web 2` names the ids
// instead of guessing.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../../cli/agent-client.js'
import { LocalCluster, type LocalAgent } from '../../cli/local-cluster.js'
import type { HistoryEntry } from '../../crdt/index.js'
import { repoRoot, runCli } from './run-cli.js'
import { waitFor, withLogTails } from '../node/agent/cluster-support.js'
import { PEER_COMMAND } from '../peer-command.js'

const CLI = PEER_COMMAND

// Constrained to a label no agent has: the test is about the document, nothing needs to run.
const spec = (log: string) =>
  `services:\n  web:\n    command: ["sleep", "600"]\n    replicas: 1\n    constraints: ["zone == nowhere"]\n    env:\n      LOG: ${log}\n`

// Waiting and checking go straight to the control API: each CLI run is a second of Node start-up,
// and only the commands under test need to be the real CLI.
const status = (agent: LocalAgent) => ask({ peer: agent.socket, timeoutMs: 5_000 }, 'GET /v1/status')

const versions = suite('peer history and peer revert after concurrent writes')

versions('each concurrent version has its own id, their merge is a version, and revert takes an id but not a shared number', async () => {
  const base = await mkdtemp(join(tmpdir(), 'phr-'))
  const local = await LocalCluster.create({ base, count: 2, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi', '--docker', 'off'], command: CLI })
  const [a1, a2] = local.agents as [LocalAgent, LocalAgent]
  const cli = async (args: string[], agent: LocalAgent, code = 0) => {
    const result = await runCli([...args, '--data', agent.dir])
    assert.is(result.code, code, `peer ${args.join(' ')}: ${result.stdout}${result.stderr}`)
    return result
  }
  const file = join(base, 'web.yaml')
  try {
    await local.startAll()
    await Promise.all([local.waitForMembers(1, 2), local.waitForMembers(2, 2)])
    await writeFile(file, spec('info'))
    await cli(['apply', '-f', file], a1)
    await waitFor('both agents hold web', 15_000, async () => ((await status(a2)).services.length === 1 ? true : undefined))

    // Each agent edits while the other is down, so neither edit has seen the other.
    await local.stop(2, 5_000)
    await cli(['scale', 'web=3'], a1)
    await local.stop(1, 5_000)
    await local.start(2)
    await writeFile(file, spec('debug'))
    await cli(['apply', '-f', file], a2)
    await local.start(1)
    await waitFor('both agents hold both edits', 20_000, async (note) => {
      const [one, two] = await Promise.all([status(a1), status(a2)])
      note(`${one.desiredDigest} vs ${two.desiredDigest}`)
      return one.desiredDigest === two.desiredDigest ? true : undefined
    })

    const { entries } = await ask({ peer: a1.socket }, 'GET /v1/history', { query: { service: 'web' } })
    assert.equal(entries.map((e) => [e.version, e.action]), [[1, 'create'], [2, 'scale'], [2, 'update'], [3, 'merge']])
    const [, scaled, changed] = entries as [HistoryEntry, HistoryEntry, HistoryEntry, HistoryEntry]
    assert.match(scaled.id, /^2·[0-9a-f]{4}$/)
    assert.match(changed.id, /^2·[0-9a-f]{4}$/)
    const text = (await cli(['history', 'web'], a1)).stdout
    assert.is((await cli(['history', 'web'], a2)).stdout, text, 'both agents list the same history')
    const lines = text.trimEnd().split('\n')
    assert.is(lines.length, 5, text)
    assert.match(lines[2]!, new RegExp(`^web\\s+${scaled.id}\\s+scale\\s+\\S+\\s+[\\d-]+ [\\d:]+\\s+replicas$`))
    assert.match(lines[3]!, new RegExp(`^web\\s+${changed.id}\\s+update\\s+\\S+\\s+[\\d-]+ [\\d:]+\\s+env\\.LOG$`))
    assert.match(lines[4]!, new RegExp(`^web\\s+3\\s+merge \\(of ${scaled.id}, ${changed.id}\\)\\s+-\\s+[\\d-]+ [\\d:]+\\s+env\\.LOG, replicas$`))
    const before = await status(a1)
    assert.equal(before.services.map((s) => [s.name, s.desired, s.version]), [['web', 3, 3]], 'the service is at the merge')

    const ambiguous = await cli(['revert', 'web', '2'], a1, 1)
    assert.ok(ambiguous.stderr.includes(`has 2 versions 2, written concurrently on different peers: ${scaled.id}, ${changed.id}; name one of these ids`), ambiguous.stderr)
    assert.is(ambiguous.stderr.trim().split('\n').length, 1, ambiguous.stderr)

    // `.` types the same id as `·`.
    const reverted = await cli(['revert', 'web', changed.id.replace('·', '.')], a2)
    assert.match(reverted.stdout, /web\s+updated\s+4\s+replicas/)
    await waitFor('agent 1 sees the revert', 15_000, async () => ((await status(a1)).services[0]?.version === 4 ? true : undefined))
    const after = (await cli(['history', 'web'], a1)).stdout.trimEnd().split('\n')
    assert.match(after[4]!, /^web\s+3\s+merge /)
    assert.match(after[5]!, new RegExp(`^web\\s+4\\s+revert \\(from ${changed.id}\\)\\s+`))
    assert.equal((await status(a1)).services.map((s) => [s.desired, s.version]), [[1, 4]])
    // Without a version, revert goes to the newest earlier version whose tasks differ (a scale alone
    // does not count, as in a rollback), named by its id although its number is shared: the scale.
    const back = await cli(['revert', 'web'], a1)
    assert.match(back.stdout, /web\s+updated\s+5\s+env\.LOG, replicas/, back.stdout)
    const last = (await ask({ peer: a1.socket }, 'GET /v1/history', { query: { service: 'web' } })).entries.at(-1)!
    assert.equal([last.id, last.revertedFromId], ['5', scaled.id])
  } catch (error) {
    throw await withLogTails(error, [a1.log, a2.log])
  } finally {
    await local.stopAll(5_000)
    await rm(base, { recursive: true, force: true })
  }
})

versions.run()
