// A real agent running containers with the spec's container fields, where the agent's own part
// matters: secret files it writes under their targets (a file name in /run/secrets, an absolute
// path mounted on its own), and the stop grace it passes to the driver when a task is stopped —
// the service's stopGrace, not the agent's default of 5 s. Needs dockerd and `peer-test:latest`.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Docker from 'dockerode'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import { AGENT_DEFAULTS } from '../../../node/agent/config.js'
import { LABEL } from '../../../node/runtime/docker-driver.js'
import { repoRoot, runCli } from '../../cli/run-cli.js'
import { dockerAvailable, TEST_IMAGE } from '../runtime/docker-support.js'
import { waitFor, withLogTails } from './cluster-support.js'
import { PEER_COMMAND } from '../../peer-command.js'

const CLI = PEER_COMMAND
const docker = new Docker()

async function cliOk(args: readonly string[], input?: string): Promise<string> {
  const result = await runCli(args, 60_000, input)
  if (result.code !== 0) throw new Error(`peer ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`)
  return result.stdout
}

/** The running containers of a service of this agent's. */
async function containersOf(agent: LocalAgent, service: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ filters: { label: [`${LABEL.owner}=${agent.peerId}`, `${LABEL.service}=${service}`] } })
}

const fields = suite('an agent running containers with the spec\'s container fields')

fields('secrets reach the container under their targets, and a stop waits out the service\'s own grace', async () => {
  const available = await dockerAvailable(docker)
  if (!available.ok) assert.unreachable(`no Docker engine or test image: ${available.error} (start dockerd, then run scripts/build-test-image.sh)`)
  const base = await mkdtemp(join(tmpdir(), 'pf-'))
  const local = await LocalCluster.create({ base, count: 1, addresses: 'range', agentArgs: ['--cpu', '2', '--memory', '2Gi'], command: CLI })
  const [agent] = local.agents as [LocalAgent]
  // Longer than the agent's default, so a stop that used the default would end the task early.
  const graceMs = AGENT_DEFAULTS.stopGraceMs + 5_000
  try {
    await local.start(1)
    await local.waitForMembers(1, 1)
    await cliOk(['secret', 'create', 'prom-config', '-f', '-', '--data', agent.dir], 'scrape_interval: 5s')
    await cliOk(['secret', 'create', 'tls', '-f', '-', '--data', agent.dir], 'private')
    const specFile = join(base, 'fields.yaml')
    await writeFile(specFile, [
      'services:',
      '  box:',
      `    image: ${TEST_IMAGE}`,
      '    entrypoint: [sh, -c]',
      '    command: ["cat /etc/prometheus/prometheus.yml; echo; cat /run/secrets/key.pem; echo; ls /run/secrets; sleep 600"]',
      '    secrets:',
      '      - { name: prom-config, target: /etc/prometheus/prometheus.yml }',
      '      - { name: tls, target: key.pem }',
      '    resources: { cpu: 100m, memory: 32Mi }',
      '  stubborn:',
      `    image: ${TEST_IMAGE}`,
      '    command: [sh, -c, "trap \\"\\" TERM; echo ready; while :; do sleep 0.1; done"]',
      `    stopGrace: ${graceMs}ms`,
      '    resources: { cpu: 100m, memory: 32Mi }',
      '',
    ].join('\n'))
    await cliOk(['apply', '-f', specFile, '--data', agent.dir])

    const lines = await waitFor('box/0 to print its secrets', 60_000, async (note) => {
      const got = (await cliOk(['logs', 'box/0', '--data', agent.dir])).split('\n').filter((line) => line !== '')
      note(JSON.stringify(got))
      return got.length >= 4 ? got : undefined
    })
    // The absolute target's file is in /run/secrets under the secret's name; the other under its target.
    assert.equal(lines.slice(0, 4), ['scrape_interval: 5s', 'private', 'key.pem', 'prom-config'])

    await waitFor('stubborn/0 to run', 60_000, async () => ((await cliOk(['logs', 'stubborn/0', '--data', agent.dir])).includes('ready') ? true : undefined))
    const [running] = await containersOf(agent, 'stubborn')
    assert.ok(running !== undefined, 'the stubborn container runs')
    const removedAt = Date.now()
    await cliOk(['rm', 'stubborn', '--data', agent.dir])
    // Past the default grace (and a margin for the stop to be dispatched), it still runs: SIGTERM is
    // ignored and the service asked for longer.
    await new Promise((resolve) => setTimeout(resolve, AGENT_DEFAULTS.stopGraceMs + 1_500))
    assert.is((await containersOf(agent, 'stubborn')).length, 1, 'killed at the default grace, not the service\'s')
    await waitFor('stubborn/0 to be killed once its grace is over', graceMs + 20_000, async () => ((await containersOf(agent, 'stubborn')).length === 0 ? true : undefined))
    assert.ok(Date.now() - removedAt >= graceMs - 500, `gone ${Date.now() - removedAt} ms after rm, before its ${graceMs} ms grace`)
  } catch (error) {
    throw await withLogTails(error, [agent.log])
  } finally {
    await local.stopAll(30_000).catch(() => undefined)
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.owner}=${agent.peerId ?? 'none'}`] } }).catch(() => [])
    await Promise.all(left.map((each) => docker.getContainer(each.Id).remove({ force: true, v: true }).catch(() => undefined)))
    if (agent.peerId !== undefined) await rm(join('/dev/shm', `peer-${process.getuid!()}`, agent.peerId), { recursive: true, force: true })
    await rm(base, { recursive: true, force: true })
  }
})

fields.run()
