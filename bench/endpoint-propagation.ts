// How fast every agent's routing follows an endpoint change: N real agents on this machine (loopback,
// userspace forwarding, as `peer up --local` runs them), one service with a port reachable by name.
// Each trial scales it up by one; the new task's peer records when it turned `running` (its event
// log), and every agent's GET /v1/endpoints is polled until it lists the new endpoint as ready. The
// figure is that delay, per agent and trial: what the issue calls "endpoint change → all peers'
// routing updated". Polling every POLL_MS adds up to that much.
//
//   npm run bench -- endpoint-propagation [--agents 5] [--trials 20]
// One JSON line: { bench, agents, trials, samples, p50Ms, p99Ms, maxMs, load }.

import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../cli/agent-client.js'
import { LocalCluster, type LocalAgent } from '../cli/local-cluster.js'
import { validateServices } from '../core/index.js'
import { percentile } from '../sim/metrics.js'
import { PEER_COMMAND } from '../test/peer-command.js'
import { optionOf } from './bench-args.js'

const args = process.argv.slice(2)
const AGENTS = Number(optionOf(args, '--agents') ?? 5)
const TRIALS = Number(optionOf(args, '--trials') ?? 20)
const POLL_MS = 10
const log = (line: string): void => void process.stderr.write(`[endpoint-propagation] ${line}\n`)

function service(replicas: number) {
  const result = validateServices({ services: { kv: { driver: 'process', command: ['sleep', '3600'], replicas, resources: { cpu: '10m', memory: '8Mi' }, ports: [{ container: 6379, mode: 'ingress' }] } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

async function main(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'pep-'))
  const local = await LocalCluster.create({ base, count: AGENTS, addresses: 'range', agentArgs: ['--cpu', '4', '--memory', '4Gi', '--docker', 'off'], command: PEER_COMMAND })
  const agents = local.agents as LocalAgent[]
  const samples: number[] = []
  try {
    await local.startAll()
    await Promise.all(agents.map((agent) => local.waitForMembers(agent.index, AGENTS)))
    for (let trial = 0; trial < TRIALS; trial++) {
      const slot = `kv/${trial}`
      await ask({ peer: agents[0]!.socket }, 'POST /v1/apply', { body: { services: service(trial + 1) } })
      const seenAt = new Map<number, number>()
      const deadline = Date.now() + 15_000
      while (seenAt.size < agents.length && Date.now() < deadline) {
        await Promise.all(agents.map(async (agent) => {
          if (seenAt.has(agent.index)) return
          const answer = await ask({ peer: agent.socket, timeoutMs: 5_000 }, 'GET /v1/endpoints', { query: { service: 'kv' } })
          if (answer.ports[0]?.endpoints.some((e) => e.slot === slot && e.ready)) seenAt.set(agent.index, Date.now())
        }))
        await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      }
      if (seenAt.size < agents.length) throw new Error(`${slot}: only ${seenAt.size} of ${agents.length} agents listed it within 15 s`)
      // When it turned running, on the peer that runs it.
      let runningAt: number | undefined
      for (const agent of agents) {
        const { events } = await ask({ peer: agent.socket }, 'GET /v1/events')
        const event = events.find((e) => e.kind === 'task' && e.slot === slot && e.state === 'running')
        if (event !== undefined) runningAt = event.at
      }
      if (runningAt === undefined) throw new Error(`${slot}: no agent recorded it running`)
      for (const at of seenAt.values()) samples.push(Math.max(0, at - runningAt))
      log(`trial ${trial + 1}: slowest agent ${Math.max(...[...seenAt.values()].map((at) => at - runningAt!))} ms`)
    }
  } finally {
    await local.stopAll()
    await rm(base, { recursive: true, force: true })
  }
  const sorted = [...samples].sort((a, b) => a - b)
  console.log(JSON.stringify({
    bench: 'endpoint-propagation', agents: AGENTS, trials: TRIALS, samples: samples.length,
    p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1], pollMs: POLL_MS, load: loadavg()[0],
  }))
}

await main()
