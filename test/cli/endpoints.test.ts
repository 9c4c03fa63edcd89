// Service discovery and the routing mesh on three real agents (loopback, each on its own 127.0.0.x,
// userspace forwarding as `peer up --local` runs it): a web tier that finds its key-value back end by
// name through its agent's DNS and service address, reached from outside through every agent's
// published port; the back end's host dies and requests succeed again once its replacement runs.
// `peer endpoints` and `peer why` show it; bad ports are refused naming what is wrong.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../../cli/agent-client.js'
import { LocalCluster, type LocalAgent } from '../../cli/local-cluster.js'
import type { EndpointsAnswer } from '../../node/control/index.js'
import { repoRoot, runCli } from './run-cli.js'
import { waitFor, withLogTails } from '../node/agent/cluster-support.js'
import { getRoot as get } from '../http-get.js'
import { PEER_COMMAND } from '../peer-command.js'

const MESH_PORT = 18_080
const fixture = (name: string): string => join(repoRoot, 'examples', 'two-tier', name)

const APP = `services:
  kv:
    driver: process
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture('kv.mjs'))}]
    replicas: 1
    constraints: ["local != peer-1"]
    ports: [{ container: 6379, mode: ingress }]
  web:
    driver: process
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture('web.mjs'))}]
    replicas: 1
    constraints: ["local == peer-1"]
    ports: [{ host: ${MESH_PORT}, container: 80, mode: ingress }]
`

const endpoints = (agent: LocalAgent, service?: string): Promise<EndpointsAnswer> =>
  ask({ peer: agent.socket, timeoutMs: 5_000 }, 'GET /v1/endpoints', service === undefined ? {} : { query: { service } })

/** The pid listening on a TCP port (the back end's process, which a power cut takes down with its agent). */
function listenerPid(port: number): number | undefined {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' })
  const pid = /pid=(\d+)/.exec(out)?.[1]
  return pid === undefined ? undefined : Number(pid)
}

const discovery = suite('service discovery and the routing mesh on three agents')

discovery('names resolve, every agent answers on the published port, and a dead back end is replaced behind its name', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pds-'))
  const local = await LocalCluster.create({ base, count: 3, addresses: 'range', agentArgs: ['--cpu', '1', '--memory', '1Gi', '--docker', 'off'], command: PEER_COMMAND })
  const agents = local.agents as [LocalAgent, LocalAgent, LocalAgent]
  const file = join(base, 'app.yaml')
  try {
    {
      await local.startAll()
      await Promise.all(agents.map((agent) => local.waitForMembers(agent.index, 3)))
      await writeFile(file, APP)
      const applied = await runCli(['apply', '-f', file, '--data', agents[0].dir])
      assert.is(applied.code, 0, applied.stderr)

      // Every agent forwards its published port to web, which reaches kv by name.
      const answers = await waitFor('every agent answers on the published port through both tiers', 20_000, async (note) => {
        const replies = await Promise.all([1, 2, 3].map((i) => get(`127.0.0.${i}`, MESH_PORT)))
        note(JSON.stringify(replies))
        return replies.every((r) => 'status' in r && r.status === 200) ? replies as Array<{ status: number; body: string }> : undefined
      })
      for (const answer of answers) assert.match(answer.body, /^web\/0 <- kv\/0 \d+$/)

      // DNS, asked as a client would: the service address, and SRV with the real host:port of the ready task.
      const kvRows = (await endpoints(agents[1], 'kv')).ports
      assert.is(kvRows.length, 1)
      const kvEndpoint = kvRows[0]!.endpoints[0]!
      assert.ok(kvEndpoint.ready)
      const resolver = new Resolver()
      resolver.setServers([`${agents[1].serviceCidr.replace(/\.0\/24$/, '.1')}:53`])
      assert.equal(await resolver.resolve4('kv.peer'), [kvRows[0]!.serviceAddress!])
      const srv = await resolver.resolveSrv('_6379._tcp.kv.peer')
      assert.equal(srv.map((record) => record.port), [kvEndpoint.port])
      const unknown = await resolver.resolve4('nothing.peer').then(() => 'resolved', (error: NodeJS.ErrnoException) => error.code)
      assert.is(unknown, 'ENOTFOUND')

      // peer endpoints and peer why, as a person reads them.
      const listed = await runCli(['endpoints', '--data', agents[0].dir])
      assert.is(listed.code, 0, listed.stderr)
      assert.match(listed.stdout, /^Forwarding: userspace/)
      assert.match(listed.stdout, new RegExp(`web\\s+80/tcp\\s+web\\.peer:80 \\([\\d.]+\\), mesh :${MESH_PORT}\\s+web/0`))
      const why = await runCli(['why', 'web/0', '--data', agents[0].dir])
      assert.match(why.stdout, /Traffic \(as this agent routes it\):\n {2}port 80\/tcp \(127\.0\.0\.1:\d+\): takes traffic from this agent: \d+ connections/)

      // Bad ports: refused, naming what is wrong, nothing written.
      const clash = join(base, 'clash.yaml')
      await writeFile(clash, `services:\n  other:\n    command: ["sleep", "60"]\n    ports: [{ host: ${MESH_PORT}, container: 80, mode: ingress }]\n`)
      const refused = await runCli(['apply', '-f', clash, '--data', agents[1].dir])
      assert.is(refused.code, 2, refused.stderr)
      assert.match(refused.stderr, new RegExp(`services\\.other\\.ports\\[0\\]: port ${MESH_PORT}/tcp is already published by service "web"`))
      const metricsPort = Number(agents[2].metrics.split(':')[1])
      await writeFile(clash, `services:\n  other:\n    command: ["sleep", "60"]\n    ports: ["${metricsPort}:80"]\n`)
      const own = await runCli(['apply', '-f', clash, '--data', agents[2].dir])
      assert.is(own.code, 2, own.stderr)
      assert.match(own.stderr, new RegExp(`services\\.other\\.ports\\[0\\]\\.host: port ${metricsPort}/tcp is this agent's metrics port`))
      await writeFile(clash, `services:\n  other:\n    command: ["sleep", "60"]\n    ports: [{ host: 70000, container: 80, mode: ingress }]\n`)
      const range = await runCli(['apply', '-f', clash, '--data', agents[2].dir])
      assert.is(range.code, 2, range.stderr)
      assert.match(range.stderr, /services\.other\.ports\[0\]\.host: expected a whole number from 0 to 65535/)
      assert.is((await ask({ peer: agents[0].socket }, 'GET /v1/status')).services.length, 2, 'nothing was written')

      // The back end's host dies as in a power cut: its agent and its task.
      const holder = agents.find((agent) => agent.address.includes(`/${kvEndpoint.address}/`))!
      const pid = listenerPid(kvEndpoint.port)
      assert.ok(pid !== undefined, `a process listens on ${kvEndpoint.port}`)
      const killedAt = Date.now()
      await local.kill(holder.index)
      process.kill(pid!, 'SIGKILL')
      const survivor = agents.find((agent) => agent !== holder && agent.index !== 1)!
      const back = await waitFor('requests reach the replacement back end', 20_000, async (note) => {
        const reply = await get('127.0.0.1', MESH_PORT)
        note(JSON.stringify(reply))
        return 'status' in reply && reply.status === 200 ? reply : undefined
      })
      const recoveredMs = Date.now() - killedAt
      assert.match(back.body, /^web\/0 <- kv\/0 1$/, 'a fresh back end answers (its counter starts again)')
      const moved = (await endpoints(agents[0], 'kv')).ports[0]!.endpoints
      assert.equal(moved.map((e) => [e.address, e.ready]), [[`127.0.0.${survivor.index}`, true]])
      console.log(`back end host killed → first request answered by its replacement after ${recoveredMs} ms`)
    }
  } catch (error) {
    throw await withLogTails(error, agents.map((agent) => agent.log))
  } finally {
    await local.stopAll()
    await rm(base, { recursive: true, force: true })
  }
})

discovery.run()
