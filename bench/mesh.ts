// What the userspace proxy of the routing mesh costs an HTTP service: a small HTTP server on loopback
// (its own process), loaded by autocannon directly and through a UserspaceProxy (its own process, as
// in an agent), in one run:
//   - throughput: as many requests as 10 keep-alive connections carry, requests/s and p50/p99 latency
//     for both paths, and the ratio (goal ≥ 0.5 of direct);
//   - a fixed rate of 1,000 requests/s on each path, both at the same time (so the shared machine's
//     noise falls on both): p50/p99 for both paths and the p99 the proxy adds (goal ≤ 1 ms).
// Latencies are autocannon's per-response times in ms, taken unrounded from its 'response' events
// (its own histogram has 1 ms resolution). Direct and proxied runs alternate, --rounds times each; the
// medians are reported, and the ratio and added latency are medians (with min and max) of the rounds'
// pairs. Prints one JSON line per figure.
//
//   npm run bench -- mesh [--duration 10] [--rounds 2] [--connections 10] [--rate 1000]
//
// The machine is shared and has 2 cores, which the load generator, the server and the proxy share:
// the load average is printed with every figure.

import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import type { PeerId, ServiceName, SlotId } from '../core/index.js'
import { parseStat } from '../node/metrics/index.js'
import { UserspaceProxy } from '../node/discovery/proxy/index.js'
import type { Endpoint } from '../node/discovery/types.js'
import { optionOf } from './bench-args.js'
import { load as loadUrl, loadFlags, median, round, spread, summary, type LoadOptions, type Run } from './http-load.js'

const args = process.argv.slice(2)

// Child roles: the same file, run again with --role, so the bench needs no helper files.
const role = optionOf(args, '--role')
// A child ends with its parent (the IPC channel closes), through exit() so a --cpu-prof is written.
if (role !== undefined) process.once('disconnect', () => process.exit(0))
if (role === 'server') {
  const server = createServer((_request, response) => response.end('hello from the mesh\n'))
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }))
} else if (role === 'proxy') {
  const target = Number(optionOf(args, '--target'))
  const endpoint: Endpoint = { slot: 'web/0' as SlotId, peer: 'bench' as PeerId, address: '127.0.0.1', port: target, local: true, ready: true, state: 'running' }
  const proxy = new UserspaceProxy({ endpoints: { ready: () => [endpoint] }, log: (line) => process.stderr.write(`${line}\n`) })
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as { port: number }).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const [status] = await proxy.apply([{ service: 'web' as ServiceName, target: 80, protocol: 'tcp', host: '127.0.0.1', port, role: 'mesh' }])
  if (!status!.bound) throw new Error(status!.error)
  process.send!({ port })
} else {
  await main()
}

async function main(): Promise<void> {
  const { duration, rounds, connections, rate } = loadFlags(args, 'mesh')
  const self = fileURLToPath(import.meta.url)
  const children: ChildProcess[] = []
  const start = async (...roleArgs: string[]): Promise<{ child: ChildProcess; port: number }> => {
    const child = fork(self, roleArgs, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(child)
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { port: number }).port))
      child.once('exit', (code) => reject(new Error(`${roleArgs.join(' ')} exited with ${code} before listening`)))
    })
    return { child, port }
  }
  try {
    const server = await start('--role', 'server')
    const proxy = await start('--role', 'proxy', '--target', String(server.port))
    const paths = { direct: server.port, userspace: proxy.port } as const
    const cpuSeconds = (child: ChildProcess): number => parseStat(readFileSync(`/proc/${child.pid}/stat`, 'latin1'))!.cpuTicks / 100

    // Warm up both paths (JIT, connection setup) before anything is measured.
    for (const port of Object.values(paths)) await load(port, { connections, duration: 2 })

    const measured = { throughput: { direct: [] as Run[], userspace: [] as Run[] }, fixed: { direct: [] as Run[], userspace: [] as Run[] } }
    // CPU time per request of each process (µs): on 2 shared cores the three processes compete, so
    // this says what the proxy costs apart from the contention.
    const cpu = { direct: [] as Cpu[], userspace: [] as Cpu[] }
    const generatorSeconds = (): number => {
      const usage = process.cpuUsage()
      return (usage.user + usage.system) / 1e6
    }
    for (let i = 0; i < rounds; i++) {
      for (const path of ['direct', 'userspace'] as const) {
        const before = { generator: generatorSeconds(), server: cpuSeconds(server.child), proxy: cpuSeconds(proxy.child) }
        const run = await load(paths[path], { connections, duration })
        const perRequest = (seconds: number): number => (seconds * 1e6) / (run.requestsPerSecond * run.seconds)
        cpu[path].push({
          generator: perRequest(generatorSeconds() - before.generator),
          server: perRequest(cpuSeconds(server.child) - before.server),
          proxy: perRequest(cpuSeconds(proxy.child) - before.proxy),
          proxyCores: (cpuSeconds(proxy.child) - before.proxy) / run.seconds,
        })
        measured.throughput[path].push(run)
      }
      // Both paths at once, each at the fixed rate: a scheduling hiccup on the shared machine then falls
      // on both, and the difference is what the proxy adds.
      const [direct, userspace] = await Promise.all([load(paths.direct, { connections, duration, overallRate: rate }), load(paths.userspace, { connections, duration, overallRate: rate })])
      measured.fixed.direct.push(direct!)
      measured.fixed.userspace.push(userspace!)
    }

    const common = { connections, durationSeconds: duration, rounds }
    const line = (figure: object): void => console.log(JSON.stringify({ bench: 'mesh', ...figure, loadAverage1m: round(loadavg()[0]!, 2) }))
    const direct = summary(measured.throughput.direct)
    const userspace = summary(measured.throughput.userspace)
    const cpuOf = (runs: Cpu[]) => ({
      cpuMicrosecondsPerRequest: { generator: round(median(runs.map((c) => c.generator)), 1), server: round(median(runs.map((c) => c.server)), 1), proxy: round(median(runs.map((c) => c.proxy)), 1) },
      proxyCpuCores: round(median(runs.map((c) => c.proxyCores)), 2),
    })
    line({ figure: 'throughput', path: 'direct', ...direct, ...cpuOf(cpu.direct), ...common })
    line({ figure: 'throughput', path: 'userspace', ...userspace, ...cpuOf(cpu.userspace), ...common })
    // Paired by round (each proxied run right after its direct run), so a burst of load from other
    // processes on the shared machine skews one pair rather than one side.
    const paired = (pick: (direct: Run, userspace: Run) => number, runs: { direct: Run[]; userspace: Run[] }): number[] => runs.direct.map((d, i) => pick(d, runs.userspace[i]!))
    line({ figure: 'throughput-ratio', ratio: spread(paired((d, u) => u.requestsPerSecond / d.requestsPerSecond, measured.throughput)), goal: '>= 0.5' })
    const fixedDirect = summary(measured.fixed.direct)
    const fixedUserspace = summary(measured.fixed.userspace)
    line({ figure: 'fixed-rate', path: 'direct', rate, ...fixedDirect, ...common })
    line({ figure: 'fixed-rate', path: 'userspace', rate, ...fixedUserspace, ...common })
    line({ figure: 'added-latency-at-rate', rate, addedP99Ms: spread(paired((d, u) => u.p99Ms - d.p99Ms, measured.fixed)), addedP50Ms: spread(paired((d, u) => u.p50Ms - d.p50Ms, measured.fixed)), goal: 'p99 <= 1 ms' })
  } finally {
    for (const child of children) child.kill()
  }
}

interface Cpu {
  generator: number
  server: number
  proxy: number
  proxyCores: number
}

/** One autocannon run against 127.0.0.1:port. A declaration, not a const: main() runs before this line. */
function load(port: number, options: LoadOptions): Promise<Run> {
  return loadUrl(`http://127.0.0.1:${port}/`, options)
}
