// Secrets end to end, with real agents (each its own process) driven through the real CLI:
//
// - process driver, two agents: a secret created from a file reaches tasks on both peers as a 0600
//   file in a 0700 directory named by PEER_SECRETS_DIR; a new version (from stdin, through the other
//   agent) replaces the tasks with a new spec version that reads the new value; a service naming a
//   secret that does not exist stays pending and `peer why` says why; a secret in use cannot be
//   removed; when the tasks end their files go.
// - Docker driver: a container reads the secret at /run/secrets.
//
// Neither value is ever in a file under the agents' data directories (the desired state, task
// records, logs, the agents' own logs), nor in events, history or --json answers. The process tasks
// print their secret base64-encoded, so that even their own output files hold no plaintext and the
// search covers every file; the container prints it as it is, read from the engine while it runs.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import Docker from 'dockerode'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask, stream } from '../../../cli/agent-client.js'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import { observeTaskRecords } from '../../../node/agent/data-dir.js'
import type { ServiceAnswer, TaskRow } from '../../../node/control/index.js'
import { DockerDriver, LABEL } from '../../../node/runtime/docker-driver.js'
import { isAlive } from '../../../node/runtime/proc.js'
import { waitFor } from './cluster-support.js'
import { repoRoot, runCli } from '../../cli/run-cli.js'
import { PEER_COMMAND } from '../../peer-command.js'

const CLI = PEER_COMMAND
const MARK_VARIABLE = 'PEER_TEST_MARK'
const TEST_IMAGE = 'peer-test:latest'

// --- Helpers ------------------------------------------------------------------------------------

async function cli(args: readonly string[], input?: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return runCli(args, 60_000, input)
}

async function cliOk(args: readonly string[], input?: string): Promise<string> {
  const result = await cli(args, input)
  if (result.code !== 0) throw new Error(`peer ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`)
  return result.stdout
}

const tasksOf = async (agent: LocalAgent, service: string): Promise<TaskRow[]> =>
  (await ask({ peer: agent.socket, timeoutMs: 3_000 }, 'GET /v1/tasks', { query: { service } })).tasks

/** A slot's output lines, as `peer logs` gets them (from whichever peer runs it). */
async function logLines(agent: LocalAgent, slot: string): Promise<string[]> {
  const lines: string[] = []
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), 5_000)
  try {
    for await (const line of stream({ peer: agent.socket }, 'GET /v1/logs/:slot', { params: { slot } }, controller.signal)) lines.push(line.line)
  } finally {
    clearTimeout(timer)
  }
  return lines
}

/** Every regular file under `dir`, with its bytes. */
async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = []
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile()) out.push({ path, bytes: await readFile(path) })
  }
  return out
}

/** Files under `dirs` holding any of `values`. */
async function filesHolding(dirs: readonly string[], values: readonly string[]): Promise<string[]> {
  const files = (await Promise.all(dirs.map(filesUnder))).flat()
  assert.ok(files.length > 2, `expected the data directories to hold files, found ${files.length}`)
  return files.filter((file) => values.some((value) => file.bytes.includes(value))).map((file) => file.path)
}

/** This user's directory of secret files for one agent (node/agent/secret-files.ts). */
const secretsDirOf = (agent: LocalAgent): string => join('/dev/shm', `peer-${process.getuid!()}`, agent.peerId!)

function readProcFile(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1')
  } catch {
    return ''
  }
}

/** Kills task processes marked with `mark`, the agents' task record groups, and removes `base`. */
async function reap(base: string, dataDirs: readonly string[], mark: string): Promise<void> {
  for (const dir of dataDirs) {
    for (const record of await observeTaskRecords(dir).catch(() => [])) {
      if (isAlive(record.pid, record.startTicks ?? undefined)) {
        try {
          process.kill(-record.pid, 'SIGKILL')
        } catch {
          // Gone already.
        }
      }
    }
  }
  const needle = `${MARK_VARIABLE}=${mark}`
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const pid = Number(name)
    if (pid === process.pid) continue
    if (readProcFile(pid, 'environ').split('\0').includes(needle) || readProcFile(pid, 'cmdline').includes(base)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
  }
  await rm(base, { recursive: true, force: true })
}

const decoded = (line: string): string => Buffer.from(line.trim(), 'base64').toString('utf8')

// --- Tests --------------------------------------------------------------------------------------

const secrets = suite('secrets with real agents')

secrets('process tasks read the secret from PEER_SECRETS_DIR; a new version rolls them; the plaintext is on no disk', async () => {
  const base = await mkdtemp(join(tmpdir(), 'ps-'))
  const outside = await mkdtemp(join(tmpdir(), 'peer-secret-value-'))
  const local = await LocalCluster.create({ base, count: 2, addresses: 'range', agentArgs: ['--cpu', '2', '--memory', '2Gi', '--docker', 'off'], command: CLI })
  const [a1, a2] = local.agents as [LocalAgent, LocalAgent]
  const first = `first-${randomBytes(12).toString('hex')}`
  const second = `second-${randomBytes(12).toString('hex')}`
  try {
    await local.startAll()
    await Promise.all([local.waitForMembers(1, 2), local.waitForMembers(2, 2)])

    // Created from a file (kept outside the data directories, and removed at once).
    const valueFile = join(outside, 'db-pass')
    await writeFile(valueFile, first)
    assert.is(await cliOk(['secret', 'create', 'db-pass', '-f', valueFile, '--data', a1.dir]), `created secret db-pass: version 1, ${first.length} bytes\n`)
    await rm(outside, { recursive: true, force: true })

    const specFile = join(base, 'reader.yaml')
    await writeFile(specFile, [
      'services:',
      '  reader:',
      '    command: ["sh", "-c", "base64 \\"$PEER_SECRETS_DIR/db-pass\\"; stat -c %a \\"$PEER_SECRETS_DIR\\" \\"$PEER_SECRETS_DIR/db-pass\\"; sleep 600"]',
      '    replicas: 2',
      '    maxPerNode: 1',
      '    secrets: [db-pass]',
      `    env: { ${MARK_VARIABLE}: ${JSON.stringify(base)} }`,
      '    resources: { cpu: 50m, memory: 16Mi }',
      '',
    ].join('\n'))
    await cliOk(['apply', '-f', specFile, '--data', a2.dir])

    // Both slots run, one on each peer, and each read the value: the other agent opened it with the
    // cluster key it derived from the same swarm key.
    const running = async (hash?: string): Promise<TaskRow[] | undefined> => {
      const tasks = await tasksOf(a1, 'reader')
      const up = tasks.filter((task) => task.state === 'running' && (hash === undefined || task.specHash === hash))
      return up.length === 2 && new Set(up.map((task) => task.peer)).size === 2 && tasks.length === 2 ? up : undefined
    }
    const v1 = await waitFor('reader/0 and reader/1 running on both peers', 45_000, () => running())
    for (const slot of ['reader/0', 'reader/1']) {
      const lines = await waitFor(`${slot} to print its secret`, 15_000, async (note) => {
        const got = await logLines(a1, slot)
        note(JSON.stringify(got))
        return got.length >= 3 ? got : undefined
      })
      assert.is(decoded(lines[0]!), first, slot)
      assert.equal(lines.slice(1, 3), ['700', '600'], `${slot}: directory and file modes`)
    }
    const viaCli = await cliOk(['logs', 'reader/0', '--data', a2.dir])
    assert.is(decoded(viaCli.split('\n')[0]!), first)

    // While they run, each agent's directory holds the task's files, in owner-only directories.
    for (const agent of [a1, a2]) {
      const dirs = await readdir(secretsDirOf(agent))
      assert.is(dirs.length, 1, `${agent.peerId}: ${dirs.join(', ')}`)
      assert.match(dirs[0]!, new RegExp(`^reader_[01]\\.${v1[0]!.specHash}$`))
      assert.is((await stat(secretsDirOf(agent))).mode & 0o777, 0o700)
      assert.is((await stat(join(secretsDirOf(agent), '..'))).mode & 0o777, 0o700)
    }

    // A service naming a secret that does not exist is pending, and `peer why` says why.
    const waiterFile = join(base, 'waiter.yaml')
    await writeFile(waiterFile, 'services:\n  waiter:\n    command: ["sleep", "600"]\n    secrets: [not-created]\n')
    await cliOk(['apply', '-f', waiterFile, '--data', a1.dir])
    const why = await waitFor('peer why waiter to name the missing secret', 20_000, async (note) => {
      const result = await cli(['why', 'waiter', '--data', a2.dir])
      note(`${result.code}: ${result.stdout}${result.stderr}`)
      return result.code === 1 && result.stdout.includes('secret does not exist') ? result.stdout : undefined
    })
    assert.match(why, 'secret does not exist (not-created)')
    const status = JSON.parse(await cliOk(['status', 'waiter', '--json', '--data', a1.dir])) as ServiceAnswer
    assert.is(status.service.pending, 1)
    assert.equal(status.spec.secrets, [{ name: 'not-created', version: 0 }])

    // A secret in use cannot be removed.
    const refused = await cli(['secret', 'rm', 'db-pass', '--data', a1.dir])
    assert.is(refused.code, 1)
    assert.match(refused.stderr, 'secret "db-pass" is used by reader')

    // A new version, from stdin, through the other agent: the tasks are replaced by a new version of
    // the service, which reads the new value.
    assert.is(await cliOk(['secret', 'create', 'db-pass', '-f', '-', '--data', a2.dir], second), `updated secret db-pass: version 2, ${second.length} bytes\n`)
    const readerStatus = await waitFor('the reader service at a new specHash', 15_000, async () => {
      const answer = JSON.parse(await cliOk(['status', 'reader', '--json', '--data', a1.dir])) as ServiceAnswer
      return answer.service.specHash !== v1[0]!.specHash ? answer : undefined
    })
    assert.equal(readerStatus.spec.secrets, [{ name: 'db-pass', version: 2 }])
    const v2 = await waitFor('both slots running the new version', 45_000, () => running(readerStatus.service.specHash))
    for (const slot of ['reader/0', 'reader/1']) {
      await waitFor(`${slot} to print the new value`, 15_000, async (note) => {
        const got = await logLines(a1, slot)
        note(JSON.stringify(got))
        return got.some((line) => decoded(line) === second) ? true : undefined
      })
    }
    // The replaced tasks' files are gone; the new ones' are there.
    await waitFor('only the new version\'s secret directories', 10_000, async (note) => {
      const dirs = [...(await readdir(secretsDirOf(a1))), ...(await readdir(secretsDirOf(a2)))].sort()
      note(dirs.join(', '))
      return dirs.length === 2 && dirs.every((dir) => dir.endsWith(`.${v2[0]!.specHash}`)) ? true : undefined
    })

    // The plaintext is in no file of the data directories (nor anywhere under the test's base, which
    // holds the agents' own logs), nor in what the agents answer.
    assert.equal(await filesHolding([base], [first, second]), [])
    const answers = JSON.stringify([
      await ask({ peer: a1.socket }, 'GET /v1/events'),
      await ask({ peer: a2.socket }, 'GET /v1/events'),
      await ask({ peer: a1.socket }, 'GET /v1/history'),
      await ask({ peer: a1.socket }, 'GET /v1/secrets'),
      await ask({ peer: a1.socket }, 'GET /v1/cluster'),
      await ask({ peer: a2.socket }, 'GET /v1/status'),
    ])
    for (const value of [first, second]) assert.not.ok(answers.includes(value), 'a value in an answer')
    const history = await cliOk(['history', 'reader', '--json', '--data', a1.dir])
    assert.not.ok(history.includes(first) || history.includes(second))

    // Once the services are gone, so are the files; then the secret may go too.
    await cliOk(['rm', 'reader', 'waiter', '--data', a1.dir])
    await waitFor('the secret directories emptied', 20_000, async (note) => {
      const dirs = [...(await readdir(secretsDirOf(a1)).catch(() => [])), ...(await readdir(secretsDirOf(a2)).catch(() => []))]
      note(dirs.join(', '))
      return dirs.length === 0 ? true : undefined
    })
    assert.is(await cliOk(['secret', 'rm', 'db-pass', '--data', a2.dir]), 'removed secret db-pass\n')
    assert.equal(JSON.parse(await cliOk(['secret', 'ls', '--json', '--data', a1.dir])), { secrets: [] })
  } finally {
    await local.stopAll(10_000).catch(() => undefined)
    for (const agent of local.agents) if (agent.peerId !== undefined) await rm(secretsDirOf(agent), { recursive: true, force: true })
    await reap(base, local.agents.map((agent) => agent.dir), base)
    await rm(outside, { recursive: true, force: true })
  }
})

secrets('a container reads its secret at /run/secrets; the plaintext is not in the data directory', async () => {
  const docker = new Docker()
  const engine = await DockerDriver.engineAnswers(docker)
  if (!engine.ok) assert.unreachable(`no Docker engine answers (${engine.error}); start dockerd and run scripts/build-test-image.sh`)
  await docker.getImage(TEST_IMAGE).inspect().catch(() => assert.unreachable(`image ${TEST_IMAGE} is missing: run scripts/build-test-image.sh`))

  const base = await mkdtemp(join(tmpdir(), 'pd-'))
  const local = await LocalCluster.create({ base, count: 1, addresses: 'range', agentArgs: ['--cpu', '2', '--memory', '2Gi'], command: CLI })
  const [agent] = local.agents as [LocalAgent]
  const value = `container-${randomBytes(12).toString('hex')}`
  try {
    await local.start(1)
    await local.waitForMembers(1, 1)
    const nodes = await ask({ peer: agent.socket }, 'GET /v1/nodes')
    assert.equal(nodes.nodes[0]!.drivers, ['docker', 'process'], 'the agent runs containers')

    await cliOk(['secret', 'create', 'db-pass', '-f', '-', '--data', agent.dir], value)
    const specFile = join(base, 'box.yaml')
    await writeFile(specFile, [
      'services:',
      '  box:',
      `    image: ${TEST_IMAGE}`,
      '    command: [sh, -c, "cat /run/secrets/db-pass; echo; sleep 30"]',
      '    secrets: [db-pass]',
      '    resources: { cpu: 100m, memory: 32Mi }',
      '',
    ].join('\n'))
    await cliOk(['apply', '-f', specFile, '--data', agent.dir])
    const lines = await waitFor('box/0 to print its secret', 60_000, async (note) => {
      const got = await logLines(agent, 'box/0')
      note(JSON.stringify(got))
      return got.length > 0 ? got : undefined
    })
    assert.is(lines[0], value)

    const [task] = (await ask({ peer: agent.socket }, 'GET /v1/tasks', { query: { service: 'box' } })).tasks
    const containers = await docker.listContainers({ filters: { label: [`${LABEL.owner}=${agent.peerId}`] } })
    assert.is(containers.length, 1)
    const mount = (await docker.getContainer(containers[0]!.Id).inspect()).Mounts.find((m) => m.Destination === '/run/secrets')
    assert.equal([mount?.Source, mount?.RW], [join(secretsDirOf(agent), `box_0.${task!.specHash}`), false])

    assert.equal(await filesHolding([agent.dir], [value]), [])
  } finally {
    await local.stopAll(15_000).catch(() => undefined)
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.owner}=${agent.peerId ?? 'none'}`] } }).catch(() => [])
    await Promise.all(left.map((each) => docker.getContainer(each.Id).remove({ force: true, v: true }).catch(() => undefined)))
    if (agent.peerId !== undefined) await rm(secretsDirOf(agent), { recursive: true, force: true })
    await reap(base, [agent.dir], base)
  }
})

secrets.run()
