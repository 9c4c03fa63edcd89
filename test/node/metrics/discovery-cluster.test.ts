// The service-discovery metrics of a real agent (its own process, userspace forwarding as `peer up
// --local` runs it), scraped over HTTP: the two-tier example's services on one agent, requests from
// outside through the published mesh port, each of which makes web resolve kv by name through the
// agent's DNS and connect to it through the agent's service address. /metrics counts exactly those
// connections and queries, shows the endpoints ready, the listeners bound and the mode.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../../../cli/agent-client.js'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import type { EndpointsAnswer } from '../../../node/control/index.js'
import { repoRoot, runCli } from '../../cli/run-cli.js'
import { waitFor, withLogTails } from '../agent/cluster-support.js'
import { getRoot } from '../../http-get.js'
import { PEER_COMMAND } from '../../peer-command.js'
import { scrape, valueOf, type Family } from './prometheus-text.js'

const fixture = (name: string): string => join(repoRoot, 'examples', 'two-tier', name)

const app = (meshPort: number): string => `services:
  kv:
    driver: process
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture('kv.mjs'))}]
    replicas: 1
    ports: [{ container: 6379, mode: ingress }]
  web:
    driver: process
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture('web.mjs'))}]
    replicas: 1
    ports: [{ host: ${meshPort}, container: 80, mode: ingress }]
`

/** A free port on 127.0.0.1 outside the task range (20000–32000): the kernel's ephemeral ports lie above it. */
function freeMeshPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

const connections = (families: ReadonlyMap<string, Family>, service: string): number =>
  valueOf(families, 'peer_mesh_connections_total', { service, protocol: 'tcp' }) ?? 0

const REQUESTS = 5

const metrics = suite('service-discovery metrics of a real agent')

metrics('connections through the mesh and by name, DNS queries, endpoints, listeners and mode', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pdm-'))
  const local = await LocalCluster.create({ base, count: 1, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi', '--docker', 'off'], command: PEER_COMMAND })
  const agent = local.agents[0] as LocalAgent
  let held: Socket | undefined
  try {
    await local.startAll()
    const meshPort = await freeMeshPort()
    const file = join(base, 'app.yaml')
    await writeFile(file, app(meshPort))
    const applied = await runCli(['apply', '-f', file, '--data', agent.dir])
    assert.is(applied.code, 0, applied.stderr)
    await waitFor('web answers through the mesh port, having reached kv by name', 15_000, async (note) => {
      const reply = await getRoot('127.0.0.1', meshPort)
      note(JSON.stringify(reply))
      return 'status' in reply && reply.status === 200 ? reply : undefined
    })

    const before = await scrape(agent.metrics)
    for (let i = 0; i < REQUESTS; i++) {
      const reply = await getRoot('127.0.0.1', meshPort)
      assert.ok('status' in reply && reply.status === 200, JSON.stringify(reply))
    }
    const after = await scrape(agent.metrics)

    // Each request: one connection from outside to web through the mesh port, and one from web to kv
    // through kv's service address, after one query for kv.peer.
    assert.is(connections(after, 'web') - connections(before, 'web'), REQUESTS)
    assert.is(connections(after, 'kv') - connections(before, 'kv'), REQUESTS)
    const answered = (families: ReadonlyMap<string, Family>): number => valueOf(families, 'peer_dns_queries_total', { outcome: 'answered' }) ?? 0
    assert.ok(answered(after) - answered(before) >= REQUESTS, `DNS answered ${answered(after) - answered(before)} queries for ${REQUESTS} requests`)
    assert.is(valueOf(after, 'peer_dns_queries_total', { outcome: 'malformed' }), 0)
    // A connect refused before web listened is a failure (the proxy logs the first of each window), none since.
    const failures = (families: ReadonlyMap<string, Family>): number => valueOf(families, 'peer_mesh_connect_failures_total', { service: 'web' }) ?? -1
    assert.is(failures(after), failures(before))
    const logged = (await readFile(agent.log, 'utf8')).match(/web: tcp endpoint \S+ failed/g)?.length ?? 0
    assert.ok(failures(after) >= logged, `${failures(after)} failed connects counted, ${logged} logged`)

    for (const service of ['web', 'kv']) {
      assert.is(valueOf(after, 'peer_service_endpoints', { service, ready: 'true' }), 1, `${service} ready`)
      assert.is(valueOf(after, 'peer_service_endpoints', { service, ready: 'false' }), 0, `${service} not ready`)
    }
    assert.is(valueOf(after, 'peer_mesh_mode', { mode: 'userspace' }), 1)
    assert.is(valueOf(after, 'peer_mesh_mode', { mode: 'kernel' }), 0)
    // web: its service address and the mesh port; kv: its service address. As `peer endpoints` says.
    const status = (await ask({ peer: agent.socket, timeoutMs: 5_000 }, 'GET /v1/endpoints', {}) as EndpointsAnswer).discovery
    assert.is(status.listeners.length, 3)
    assert.is(valueOf(after, 'peer_mesh_listeners', { state: 'bound' }), status.listeners.filter((l) => l.bound).length)
    assert.is(valueOf(after, 'peer_mesh_listeners', { state: 'unbound' }), status.listeners.filter((l) => !l.bound).length)

    // A connection held open shows while it is open, and leaves when it closes.
    const socket = connect(meshPort, '127.0.0.1')
    held = socket
    await waitFor('the held connection shows as open', 5_000, async (note) => {
      const open = valueOf(await scrape(agent.metrics), 'peer_mesh_open_connections', { service: 'web' })
      note(`open: ${open}`)
      return open === 1 ? true : undefined
    })
    socket.destroy()
    held = undefined
    await waitFor('the closed connection leaves', 5_000, async (note) => {
      const open = valueOf(await scrape(agent.metrics), 'peer_mesh_open_connections', { service: 'web' })
      note(`open: ${open}`)
      return open === 0 ? true : undefined
    })
  } catch (error) {
    throw await withLogTails(error, [agent.log])
  } finally {
    held?.destroy()
    await local.stopAll()
    await rm(base, { recursive: true, force: true })
  }
})

metrics.run()
