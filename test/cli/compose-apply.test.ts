// A Compose file applied to real agents running real containers, as a user coming from
// `docker stack deploy` would: `${VAR}` from the `.env` beside it, a secret and a config from files
// (created in the cluster on apply, and left alone when re-applied unchanged), a bind mount, a user,
// a working directory, two replicas at most one per host; what peer cannot honour (a network) is one
// warning line, and `--strict` refuses it. Needs dockerd and `peer-test:latest`: without them this fails.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Docker from 'dockerode'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type LocalAgent } from '../../cli/local-cluster.js'
import { LABEL } from '../../node/runtime/docker-driver.js'
import { repoRoot, runCli } from './run-cli.js'
import { dockerAvailable, TEST_IMAGE } from '../node/runtime/docker-support.js'
import { exactlyOnce, waitFor, waitForTasks } from '../node/agent/cluster-support.js'
import { PEER_COMMAND } from '../peer-command.js'

const CLI = PEER_COMMAND
const docker = new Docker()

const COMPOSE = `
x-limits: &limits
  cpus: '0.1'
  memory: 32M

services:
  web:
    image: \${IMAGE}
    command: ["sh", "-c", "echo token=$$(cat /run/secrets/api_token) conf=$$(cat /etc/app/app.conf) greeting=$$GREETING uid=$$(id -u) pwd=$$(pwd) data=$$(cat /data/hello.txt); exec sleep 600"]
    environment:
      GREETING: hello-\${WHO:-world}
    user: "1000"
    working_dir: /tmp
    volumes:
      - ./data:/data:ro
    secrets: [api_token]
    configs:
      - source: app_conf
        target: /etc/app/app.conf
    networks: [front]
    deploy:
      replicas: 2
      placement:
        max_replicas_per_node: 1
      resources:
        limits: *limits

networks:
  front: {}

secrets:
  api_token:
    file: ./token.txt

configs:
  app_conf:
    file: ./app.conf
`

const compose = suite('peer apply of a Compose file')

compose('a Compose file runs on real agents with its secrets, config, mounts and environment; re-applied unchanged it changes nothing', async () => {
  const available = await dockerAvailable(docker)
  if (!available.ok) assert.unreachable(`no Docker engine or test image: ${available.error} (start dockerd, then run scripts/build-test-image.sh)`)
  const base = await mkdtemp(join(tmpdir(), 'pc-'))
  const project = join(base, 'project')
  await mkdir(join(project, 'data'), { recursive: true })
  await writeFile(join(project, 'docker-compose.yml'), COMPOSE)
  await writeFile(join(project, '.env'), `IMAGE=${TEST_IMAGE}\nWHO=compose\n`)
  await writeFile(join(project, 'token.txt'), 's3cret')
  await writeFile(join(project, 'app.conf'), 'level=debug')
  await writeFile(join(project, 'data', 'hello.txt'), 'from-the-host')
  const file = join(project, 'docker-compose.yml')

  const local = await LocalCluster.create({ base, count: 2, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi'], command: CLI })
  const [a1, a2] = local.agents as [LocalAgent, LocalAgent]
  let owners: string[] = []
  try {
    await local.startAll()
    await Promise.all(local.agents.map((agent) => local.waitForMembers(agent.index, 2)))
    owners = local.agents.map((agent) => agent.peerId!)

    const strict = await runCli(['apply', '-f', file, '--strict', '--data', a1.dir])
    assert.is(strict.code, 2, strict.stderr)
    assert.match(strict.stderr, /networks/)
    assert.is(strict.stdout, '')

    const applied = await runCli(['apply', '-f', file, '--data', a1.dir])
    assert.is(applied.code, 0, applied.stderr)
    // One line about the network peer cannot honour; nothing else.
    const warnings = applied.stderr.trimEnd().split('\n').filter((line) => line !== '')
    assert.ok(warnings.length >= 1 && warnings.every((line) => line.startsWith(file)), applied.stderr)
    assert.ok(warnings.some((line) => /front/.test(line)), applied.stderr)
    assert.match(applied.stdout, /api_token\s+secret\s+created/)
    assert.match(applied.stdout, /app_conf\s+config\s+created/)
    assert.match(applied.stdout, /web\s+created/)

    const placed = await waitForTasks('two replicas running exactly once', a2, 60_000, (tasks) => exactlyOnce(tasks, 'web', 2))
    assert.is(new Set(placed.placement.slotPeer.values()).size, 2, 'max_replicas_per_node: 1 puts the two on different hosts')

    const logs = await waitFor('the container saw its secret, config, env, user, workdir and mount', 20_000, async (note) => {
      const result = await runCli(['logs', 'web/0', '--data', a2.dir])
      note(result.stdout + result.stderr)
      return /token=s3cret/.test(result.stdout) ? result.stdout : undefined
    })
    assert.match(logs, /token=s3cret conf=level=debug greeting=hello-compose uid=1000 pwd=\/tmp data=from-the-host/)

    const found = await docker.listContainers({ filters: { label: [`${LABEL.service}=web`] } })
    const ours = found.filter((c) => owners.includes(c.Labels[LABEL.owner] ?? ''))
    assert.is(ours.length, 2)
    const inspected = await docker.getContainer(ours[0]!.Id).inspect()
    assert.is(inspected.HostConfig.NanoCpus, 100_000_000)
    assert.is(inspected.HostConfig.Memory, 32 * 1024 * 1024)

    const again = await runCli(['apply', '-f', file, '--data', a2.dir])
    assert.is(again.code, 0, again.stderr)
    assert.match(again.stdout, /api_token\s+secret\s+unchanged/)
    assert.match(again.stdout, /app_conf\s+config\s+unchanged/)
    assert.match(again.stdout, /web\s+unchanged/)
  } finally {
    await local.stopAll()
    const left = await docker.listContainers({ all: true })
    await Promise.all(left.filter((c) => owners.includes(c.Labels[LABEL.owner] ?? '')).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})))
    await rm(base, { recursive: true, force: true })
  }
})

compose('an external secret that does not exist refuses the whole apply before anything is written', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pc-'))
  const file = join(base, 'compose.yml')
  await writeFile(file, `services:\n  api:\n    image: ${TEST_IMAGE}\n    secrets: [db_password]\nsecrets:\n  db_password:\n    external: true\n`)
  const local = await LocalCluster.create({ base, count: 1, addresses: 'range', command: CLI })
  try {
    await local.startAll()
    const refused = await runCli(['apply', '-f', file, '--data', local.agent(1).dir])
    assert.is(refused.code, 1, refused.stderr)
    assert.match(refused.stderr, /external secret "db_password" does not exist/)
    const services = await runCli(['status', '--json', '--data', local.agent(1).dir])
    assert.not.match(services.stdout, /"api"/)
  } finally {
    await local.stopAll()
    await rm(base, { recursive: true, force: true })
  }
})

compose.run()
