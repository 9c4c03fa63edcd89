// What kernel forwarding (NAT rules) costs an HTTP service, on hosts in network namespaces (root):
// a small HTTP server on host S, autocannon on host C, and three paths in one run:
//   - direct:  C → S, the server's own address;
//   - service: C → 127.77.0.5:80 on C itself, DNATed by a KernelForwarder running in C to S (the same
//              one hop as direct: this is the rules' own cost);
//   - mesh:    C → the published port on a third host F, whose KernelForwarder sends it on to S
//              (the routing mesh: one more hop, through F's NAT and MASQUERADE).
// Figures: as many requests as --connections keep-alive connections carry (requests/s, p50/p99, goal
// ≥ 0.9 of direct), and a fixed --rate on every path at the same time (p50/p99 and the latency each
// path adds, goal p99 ≤ 1 ms). Latencies are autocannon's per-response times in ms, unrounded.
// Throughput runs alternate, --rounds times each; medians are reported, and ratios and added
// latencies are medians (with min and max) of the rounds' pairs. One JSON line per figure, with the
// load average.
//
//   npm run bench -- mesh-kernel [--duration 10] [--rounds 2] [--connections 10] [--rate 1000]
//
// The machine has 2 shared cores: the server, the load generator and the kernel's packet work share
// them. Everything made (namespaces, processes, rules) is removed on every way out.

import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:http'
import { loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { PeerId, ServiceName, SlotId } from '../core/index.js'
import { KernelForwarder, kernelForwardingAvailable } from '../node/discovery/kernel/index.js'
import type { Endpoint, Listener } from '../node/discovery/types.js'
import { inNamespace } from '../test/hosts/command.js'
import { checkNamespacesWork, createNetwork, destroyNetworkSync, planNetwork, sweepStale } from '../test/hosts/network.js'
import { optionOf } from './bench-args.js'
import { load, loadFlags, round, spread, summary, type Run } from './http-load.js'

const args = process.argv.slice(2)
const SERVER_PORT = 9000
const SERVICE_ADDRESS = '127.77.0.5'
const MESH_PORT = 8080

// Child roles: this file run again inside a namespace with --role; each says `ready` (or its result)
// on stdout and ends when its stdin closes.
const role = optionOf(args, '--role')
if (role === 'server') {
  const server = createServer((_request, response) => response.end('hello from the mesh\n'))
  server.listen(SERVER_PORT, '0.0.0.0', () => console.log('ready'))
  process.stdin.on('end', () => process.exit(0)).resume()
} else if (role === 'forwarder') {
  const endpoint: Endpoint = { slot: 'web/0' as SlotId, peer: 'bench' as PeerId, address: optionOf(args, '--endpoint')!, port: SERVER_PORT, local: false, ready: true, state: 'running' }
  const listener: Listener = optionOf(args, '--kind') === 'mesh'
    ? { service: 'web' as ServiceName, target: 80, protocol: 'tcp', host: '0.0.0.0', port: MESH_PORT, role: 'mesh' }
    : { service: 'web' as ServiceName, target: 80, protocol: 'tcp', host: SERVICE_ADDRESS, port: 80, role: 'service' }
  const check = await kernelForwardingAvailable()
  if (!check.ok) throw new Error(check.reason)
  const forwarder = await KernelForwarder.start({ ready: () => [endpoint] })
  const [status] = await forwarder.apply([listener])
  if (!status!.bound) throw new Error(status!.error)
  console.log('ready')
  process.stdin.on('end', () => void forwarder.close().then(() => process.exit(0))).resume()
} else if (role === 'load') {
  const rate = optionOf(args, '--rate')
  const run = await load(optionOf(args, '--url')!, { connections: Number(optionOf(args, '--connections')), duration: Number(optionOf(args, '--duration')), ...(rate === undefined ? {} : { overallRate: Number(rate) }) })
  console.log(JSON.stringify(run))
} else {
  await main()
}

async function main(): Promise<void> {
  const { duration, rounds, connections, rate } = loadFlags(args, 'mesh-kernel')
  sweepStale()
  await checkNamespacesWork().catch((error: Error) => {
    throw new Error(`mesh-kernel needs network namespaces (root, iproute2, iptables): ${error.message}`)
  })
  const plan = planNetwork(3)
  const [server, client, meshHost] = plan.hosts as [typeof plan.hosts[0], typeof plan.hosts[0], typeof plan.hosts[0]]
  const namespaces = [...plan.hosts.map((host) => host.namespace), plan.bridgeNamespace]
  const teardown = (): void => void destroyNetworkSync(namespaces)
  process.once('exit', teardown)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  const self = fileURLToPath(import.meta.url)
  const children: ChildProcess[] = []
  /** Runs this file with `roleArgs` in `namespace`; resolves with its first stdout line. */
  const start = (namespace: string, ...roleArgs: string[]): Promise<string> => {
    const command = inNamespace(namespace, [process.execPath, '--import', 'tsx', self, ...roleArgs])
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] })
    children.push(child)
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`${roleArgs.join(' ')} in ${namespace} exited with ${code} before answering`)))
    })
  }
  /** One autocannon run from inside C (never from this process: its namespace must see no traffic). */
  const run = async (url: string, fixedRate?: number, seconds = duration): Promise<Run> =>
    JSON.parse(await start(client.namespace, '--role', 'load', '--url', url, '--connections', String(connections), '--duration', String(seconds), ...(fixedRate === undefined ? [] : ['--rate', String(fixedRate)]))) as Run
  try {
    await createNetwork(plan)
    await start(server.namespace, '--role', 'server')
    await start(client.namespace, '--role', 'forwarder', '--kind', 'service', '--endpoint', server.address)
    await start(meshHost.namespace, '--role', 'forwarder', '--kind', 'mesh', '--endpoint', server.address)
    const urls = { direct: `http://${server.address}:${SERVER_PORT}/`, service: `http://${SERVICE_ADDRESS}/`, mesh: `http://${meshHost.address}:${MESH_PORT}/` } as const
    const paths = Object.keys(urls) as Array<keyof typeof urls>
    // Warm up every path (JIT, ARP, connection tracking) before anything is measured.
    for (const path of paths) {
      const warm = await run(urls[path], undefined, 2)
      if (warm.errors > 0 || warm.requestsPerSecond === 0) throw new Error(`${path} path (${urls[path]}) does not answer: ${JSON.stringify(warm)}`)
    }
    const measured = Object.fromEntries(paths.map((path) => [path, { throughput: [] as Run[], fixed: [] as Run[] }])) as Record<keyof typeof urls, { throughput: Run[]; fixed: Run[] }>
    for (let i = 0; i < rounds; i++) {
      for (const path of paths) measured[path].throughput.push(await run(urls[path]))
      // Every path at once, each at the fixed rate: a scheduling hiccup on the shared machine then
      // falls on all of them, and the difference is what the path adds.
      const fixed = await Promise.all(paths.map((path) => run(urls[path], rate)))
      paths.forEach((path, index) => measured[path].fixed.push(fixed[index]!))
    }
    const common = { connections, durationSeconds: duration, rounds }
    const line = (figure: object): void => console.log(JSON.stringify({ bench: 'mesh-kernel', ...figure, loadAverage1m: round(loadavg()[0]!, 2) }))
    // Paired by round (each path's run beside the direct one of the same round), so a burst of load
    // from other processes skews one pair rather than one side.
    const paired = (path: 'service' | 'mesh', kind: 'throughput' | 'fixed', figure: (run: Run, direct: Run) => number): number[] =>
      measured[path][kind].map((run, i) => figure(run, measured.direct[kind][i]!))
    for (const path of paths) line({ figure: 'throughput', path, ...summary(measured[path].throughput), ...common })
    for (const path of ['service', 'mesh'] as const) {
      line({ figure: 'throughput-ratio', path, ratio: spread(paired(path, 'throughput', (run, direct) => run.requestsPerSecond / direct.requestsPerSecond)), goal: '>= 0.9' })
    }
    for (const path of paths) line({ figure: 'fixed-rate', path, rate, ...summary(measured[path].fixed), ...common })
    for (const path of ['service', 'mesh'] as const) {
      line({
        figure: 'added-latency-at-rate', path, rate,
        addedP99Ms: spread(paired(path, 'fixed', (run, direct) => run.p99Ms - direct.p99Ms)),
        addedP50Ms: spread(paired(path, 'fixed', (run, direct) => run.p50Ms - direct.p50Ms)),
        goal: 'p99 <= 1 ms',
      })
    }
  } finally {
    // Closing a forwarder's stdin makes it remove its rules; the namespaces go after.
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      child.stdin!.end()
    })))
    teardown()
  }
}
