// What an idle `peer agent` costs, run from the build as a user runs it (node dist/bin/main.js; the
// `peer` bin): one agent alone, then a cluster of five on 127.0.0.1–5, each with the process driver
// and one small service running (one `sleep` task per agent). After the agents settle, samples each
// agent's resident memory (VmRSS; anonymous and file-backed pages from smaps_rollup; PSS), its V8 heap
// (GET /v1/stats) and its CPU time (/proc/<pid>/stat) over a window, and prints one JSON line per
// configuration. The design's target: ≤ 100 MB RSS and < 1 % of a core per idle agent.
//
//   npm run bench -- idle-footprint [--cli dist/bin/main.js] [--build] [--agents 1,5]
//                                   [--settle 30] [--window 30] [--docker off|auto] [--keep]
//
// Without --cli it runs dist/bin/main.js, building it first (npm run build) when it is missing or
// --build is given. --docker auto lets agents use a Docker engine when one answers (the service
// still runs with the process driver): that shows what the Docker driver adds.

import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../cli/agent-client.js'
import { servicesFromText } from '../cli/files.js'
import { LocalCluster, sleep, type LocalAgent } from '../cli/local-cluster.js'
import { builtCli } from './built-cli.js'
import { cpuSeconds, residentMemory, type ResidentMemory } from './proc-sample.js'
import { optionOf } from './bench-args.js'

const args = process.argv.slice(2)

const option = (name: string): string | undefined => optionOf(args, name)

function seconds(name: string, fallback: number, least: number): number {
  const text = option(name)
  const value = text === undefined ? fallback : Number(text)
  if (!Number.isFinite(value) || value < least) throw new Error(`${name} must be a number of seconds of at least ${least}, got ${JSON.stringify(text)}`)
  return value
}

const SETTLE_S = seconds('--settle', 30, 0)
/** CPU over at least 30 s: idle timers fire every 1–10 s, so shorter windows mostly measure phase. */
const WINDOW_S = seconds('--window', 30, 30)
const sizes = (option('--agents') ?? '1,5').split(',').map((text) => {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1 || value > 20) throw new Error(`--agents: expected whole numbers from 1 to 20 separated by commas, got ${JSON.stringify(text)}`)
  return value
})
const docker = option('--docker') ?? 'off'
if (docker !== 'off' && docker !== 'auto') throw new Error(`--docker: expected off or auto, got ${JSON.stringify(docker)}`)
const keep = args.includes('--keep')
const MiB = 2 ** 20

const log = (line: string): void => void process.stderr.write(`[idle-footprint ${new Date().toISOString().slice(11, 23)}] ${line}\n`)

function smallService(replicas: number) {
  const yaml = ['services:', '  idle:', '    command: ["sleep", "3600"]', `    replicas: ${replicas}`, '    resources: { cpu: 10m, memory: 8Mi }', ''].join('\n')
  const loaded = servicesFromText('idle.yaml', yaml)
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors))
  return loaded.value
}

async function untilRunning(agent: LocalAgent, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { tasks } = await ask({ peer: agent.socket, timeoutMs: 5_000 }, 'GET /v1/tasks')
    if (tasks.filter((task) => task.state === 'running').length >= count) return
    if (Date.now() > deadline) throw new Error(`${count} tasks not running within ${timeoutMs} ms (${tasks.map((t) => `${t.slot} ${t.state}`).join(', ')})`)
    await sleep(200)
  }
}

const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length
/** Max, mean and each agent's figure, in MB or %. */
const spread = (values: readonly number[], digits = 1) => ({ max: round(Math.max(...values), digits), mean: round(mean(values), digits), each: values.map((v) => round(v, digits)) })

async function measure(cli: string, count: number): Promise<Record<string, unknown>> {
  const base = await mkdtemp(join(tmpdir(), 'peer-idle-'))
  const local = await LocalCluster.create({ base, count, addresses: 'range', agentArgs: ['--docker', docker], command: [process.execPath, cli] })
  try {
    await local.startAll()
    for (const agent of local.agents) await local.waitForMembers(agent.index, count)
    await ask({ peer: local.agent(1).socket, timeoutMs: 10_000 }, 'POST /v1/apply', { body: { services: smallService(count) } })
    await untilRunning(local.agent(1), count)
    log(`${count} agent(s) up, ${count} task(s) running; settling ${SETTLE_S} s, then sampling over ${WINDOW_S} s`)
    await sleep(SETTLE_S * 1000)

    const pids = local.agents.map((agent) => agent.child!.pid!)
    const loadBefore = loadavg()[0]!
    const cpu0 = pids.map(cpuSeconds)
    const traffic0 = await Promise.all(local.agents.map((agent) => ask({ peer: agent.socket, timeoutMs: 5_000 }, 'GET /v1/stats')))
    const t0 = performance.now()
    // Memory is sampled through the window (every 5 s) and its largest value kept: an idle agent's
    // heap saws up and down between collections, and the peak of that saw is what it needs.
    const largest: ResidentMemory[] = pids.map(() => ({ rssBytes: 0, anonBytes: 0, fileBytes: 0, pssBytes: 0, peakRssBytes: 0 }))
    while (performance.now() - t0 < WINDOW_S * 1000) {
      pids.forEach((pid, i) => {
        const now = residentMemory(pid)
        if (now === undefined) throw new Error(`agent ${i + 1} (pid ${pid}) exited while idle; its log: ${local.agent(i + 1).log}`)
        if (now.rssBytes > largest[i]!.rssBytes) largest[i] = now
      })
      await sleep(Math.min(5_000, WINDOW_S * 1000 - (performance.now() - t0)))
    }
    const cpu1 = pids.map(cpuSeconds)
    const elapsed = (performance.now() - t0) / 1000
    const stats = await Promise.all(local.agents.map((agent) => ask({ peer: agent.socket, timeoutMs: 5_000 }, 'GET /v1/stats')))
    const end = pids.map((pid) => residentMemory(pid)!)
    return {
      bench: 'idle-footprint',
      agents: count,
      cli: 'built',
      docker,
      settleS: SETTLE_S,
      windowS: round(elapsed, 0),
      rssMB: spread(largest.map((m) => m.rssBytes / MiB)),
      anonMB: spread(largest.map((m) => m.anonBytes / MiB)),
      fileMB: spread(largest.map((m) => m.fileBytes / MiB)),
      pssMB: spread(largest.map((m) => m.pssBytes / MiB)),
      peakRssMB: spread(end.map((m) => m.peakRssBytes / MiB)),
      heapUsedMB: spread(stats.map((s) => s.heapUsedBytes / MiB)),
      heapTotalMB: spread(stats.map((s) => s.heapTotalBytes / MiB)),
      externalMB: spread(stats.map((s) => s.externalBytes / MiB)),
      cpuPercent: spread(cpu1.map((c, i) => ((c - cpu0[i]!) / elapsed) * 100), 2),
      // The idle floor is the message rate (each message a Yamux frame, a Noise seal and a write at
      // both ends): what each agent sent per second over the window, direct and broadcast.
      directSentPerS: spread(stats.map((s, i) => (s.transport.directSent - traffic0[i]!.transport.directSent) / elapsed)),
      // Per agent (the mean) and second, by message kind: which part of the protocol the direct traffic is.
      directSentPerSByKind: Object.fromEntries([...new Set(stats.flatMap((s) => Object.keys(s.transport.directSentByKind ?? {})))].sort().map((kind) => [
        kind,
        round(stats.reduce((sum, s, i) => sum + (s.transport.directSentByKind?.[kind] ?? 0) - (traffic0[i]!.transport.directSentByKind?.[kind] ?? 0), 0) / elapsed / count, 2),
      ])),
      // Of those, sent by UDP datagram (probes between peers with a direct connection, p2p/datagrams.ts),
      // and pings sent again by stream because their datagram went unanswered.
      datagramsSentPerS: spread(stats.map((s, i) => ((s.transport.datagramsSent ?? 0) - (traffic0[i]!.transport.datagramsSent ?? 0)) / elapsed)),
      datagramFallbacks: stats.reduce((sum, s, i) => sum + (s.transport.datagramFallbacks ?? 0) - (traffic0[i]!.transport.datagramFallbacks ?? 0), 0),
      publishedPerS: spread(stats.map((s, i) => (s.transport.published - traffic0[i]!.transport.published) / elapsed)),
      bytesSentPerS: spread(stats.map((s, i) => (s.transport.bytesSent + s.transport.bytesPublished - traffic0[i]!.transport.bytesSent - traffic0[i]!.transport.bytesPublished) / elapsed), 0),
      node: process.version,
      cores: cpus().length,
      loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) },
    }
  } finally {
    await local.stopAll()
    if (keep) log(`kept ${base}`)
    else await rm(base, { recursive: true, force: true })
  }
}

const cli = builtCli(args, log)
for (const count of sizes) console.log(JSON.stringify(await measure(cli, count)))
