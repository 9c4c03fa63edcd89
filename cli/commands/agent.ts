// `peer agent`: runs this host's peer until SIGTERM/SIGINT (or, with --exit-on-stdin-close, until the
// process that started it closes its stdin: a harness that dies takes its agents with it).

import type { Command } from 'commander'
import { Agent } from '../../node/agent/index.js'
import { defaultDataDir, ownLabelsProblem } from '../../node/agent/index.js'
import { LABEL_KEY, LABEL_KEY_RULE, parseCpuMilli, parseDurationMs, parseMemoryMiB, type NetworkProfile } from '../../core/index.js'
import { SetupError } from '../../p2p/index.js'
import { UsageError } from '../exit-codes.js'
import { keepBytecode, trimYoungGeneration } from '../../node/agent/index.js'
import { messageOf } from '../../core/index.js'
import { parseMetricsListen } from '../../node/metrics/index.js'
import { CONTAINER_SERVICE_CIDR, DEFAULT_SERVICE_CIDR, MESH_MODES, parseServiceRange, type DiscoverySettings, type MeshMode } from '../../node/discovery/index.js'
import { DEFAULT_UI_LISTEN } from '../../node/web/index.js'

export const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/4001'

interface AgentCliOptions {
  data?: string
  listen?: string[]
  join: string[]
  mdns?: boolean
  labels: string[]
  cpu?: string
  memory?: string
  profile: string
  keepTasks?: boolean
  exitOnStdinClose?: boolean
  docker: string
  metrics?: string
  ui?: string
  usageInterval: string
  siteCutHold?: string
  mesh: string
  serviceCidr?: string
  dns?: string
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('run this host\'s peer: join the cluster, place and run tasks, answer the CLI')
    .option('--data <dir>', 'data directory made by peer init (default $PEER_DATA, else ~/.peer)')
    .option('--listen <addr...>', `addresses to listen on: multiaddrs or host:port (default ${DEFAULT_LISTEN})`)
    .option('--join <addr...>', 'addresses of peers to join through: multiaddrs or host:port', [])
    .option('--mdns', 'discover peers on the local network by mDNS (LAN only)')
    .option('--labels <k=v,...>', 'labels constraints can match, e.g. zone=a,disk=ssd (repeatable); peer.hostname, peer.id, peer.os and peer.arch are set by the agent', collect, [])
    .option('--cpu <cores>', 'CPU this peer offers, in cores (2) or millicores (1500m); default: all cores')
    .option('--memory <size>', 'memory this peer offers, e.g. 4Gi or 512Mi; default: all memory')
    .option('--profile <lan|wan>', 'protocol timing of links without site labels: lan (failover in ~2 s) or wan (~10 s, for slow or flaky links); with site=<name> labels each link is timed by its site and measured round trip', 'lan')
    .option('--site-cut-hold <duration>', 'how long the slots of another site that went out of reach as a whole (a WAN cut) are left to it before they are replaced here, e.g. 5m, 30s, 0 (label hosts with site=<name>; docs/edge.md)')
    .option('--docker <auto|off>', 'containers: auto runs them when a Docker engine answers (DOCKER_HOST or the local socket), off never', 'auto')
    .option('--metrics <host:port|off>', 'serve Prometheus metrics at http://host:port/metrics (default 127.0.0.1:9464, loopback only; 0.0.0.0:9464 opens it to the network)')
    .option('--ui <host:port|off>', 'serve the read-only web view at http://host:port/ (default 127.0.0.1:9465; beyond loopback it asks for the token in <data>/ui.token)')
    .option('--usage-interval <seconds>', 'how often each task\'s CPU and memory are measured, for metrics, adverts and peer top', '10')
    .option('--mesh <auto|kernel|userspace|off>', 'how published ports and service addresses forward to tasks: kernel NAT rules (root), the userspace proxy, or off; auto picks kernel where it can', 'auto')
    .option('--service-cidr <cidr>', `addresses this agent gives services, <name>.peer (default ${CONTAINER_SERVICE_CIDR} where it runs containers as root, added to lo; else ${DEFAULT_SERVICE_CIDR}, loopback, which only processes reach)`)
    .option('--dns <host:port|off>', 'where to answer DNS for <service>.peer (default: the first address of the service range, port 53 as root, else 5353; skipped when taken)')
    .option('--keep-tasks', 'on exit, leave tasks running and do not announce leaving (for agent upgrades)')
    .option('--exit-on-stdin-close', 'stop when stdin closes (for harnesses and supervisors)')
    .action(async (options: AgentCliOptions) => {
      process.exitCode = await runAgent(options)
    })
}

async function runAgent(options: AgentCliOptions): Promise<number> {
  // Only the agent's own process (it owns the heap), and before the agent compiles what it runs.
  keepBytecode()
  const profile = options.profile
  if (profile !== 'lan' && profile !== 'wan') throw new UsageError(`--profile: expected lan or wan, got ${JSON.stringify(profile)}`)
  const docker = options.docker
  if (docker !== 'auto' && docker !== 'off') throw new UsageError(`--docker: expected auto or off, got ${JSON.stringify(docker)}`)
  const cpuMilli = options.cpu === undefined ? undefined : unit(parseCpuMilli(options.cpu), '--cpu', options.cpu)
  const memoryMiB = options.memory === undefined ? undefined : unit(parseMemoryMiB(options.memory), '--memory', options.memory)
  const metrics = options.metrics === undefined ? undefined : parseMetricsListen(options.metrics)
  if (metrics !== undefined && !metrics.ok) throw new UsageError(metrics.error)
  const ui = options.ui === undefined ? undefined : parseMetricsListen(options.ui, '--ui', DEFAULT_UI_LISTEN.host)
  if (ui !== undefined && !ui.ok) throw new UsageError(ui.error)
  const usageIntervalMs = Number(options.usageInterval) * 1000
  if (!Number.isFinite(usageIntervalMs) || usageIntervalMs < 500) throw new UsageError(`--usage-interval: expected a number of seconds of at least 0.5, got ${JSON.stringify(options.usageInterval)}`)
  const siteCutHoldMs = options.siteCutHold === undefined ? undefined : parseSiteCutHold(options.siteCutHold)
  const discovery = discoverySettings(options)
  const labels = parseLabels(options.labels)
  const listen = (options.listen ?? [DEFAULT_LISTEN]).map((a) => toMultiaddr(a, '--listen'))
  const join = options.join.map((a) => toMultiaddr(a, '--join'))
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`)
  // When whatever reads our output goes away (a harness killed, a closed terminal), writes fail with
  // EPIPE. Unhandled, that error would end the agent without stopping its tasks; the agent goes on
  // (or stops cleanly on stdin closing, with --exit-on-stdin-close) and the lines are lost.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined)

  let agent: Agent
  try {
    agent = await Agent.start({
      dataDir: options.data ?? defaultDataDir(),
      listen,
      join,
      mdns: options.mdns === true,
      labels,
      ...(cpuMilli === undefined ? {} : { cpuMilli }),
      ...(memoryMiB === undefined ? {} : { memoryMiB }),
      profile: profile as NetworkProfile,
      keepTasksOnExit: options.keepTasks === true,
      docker,
      ...(metrics === undefined ? {} : { metrics: metrics.value }),
      ...(ui === undefined ? {} : { ui: ui.value }),
      discovery,
      usageIntervalMs,
      ...(siteCutHoldMs === undefined ? {} : { siteCutHoldMs }),
      log,
    })
  } catch (error) {
    if (error instanceof SetupError) throw new UsageError(error.message, 1)
    throw error
  }
  process.stdout.write(`peer ${agent.self} listening on ${agent.host.addresses().join(' ')}\ncontrol socket ${agent.layout.socket}\n`)
  if (agent.metricsAddress !== undefined) process.stdout.write(`metrics http://${agent.metricsAddress}/metrics\n`)
  if (agent.webView !== undefined) process.stdout.write(`ui http://${agent.webView.address}/\n`)
  // Only the agent's own process does this (not tests or benchmarks that embed an Agent): it owns the heap.
  const stopTrimming = trimYoungGeneration()

  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (why: string): void => {
      if (stopping) {
        log(`${why} again: exiting now`)
        process.exit(130)
      }
      stopping = true
      log(`${why}: leaving the cluster${options.keepTasks ? ' (tasks keep running)' : ' and stopping tasks'}`)
      agent.stop().then(resolve, (error: unknown) => {
        log(`shutdown failed: ${messageOf(error)}`)
        resolve()
      })
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
    if (options.exitOnStdinClose) {
      process.stdin.on('end', () => stop('stdin closed'))
      process.stdin.on('error', () => stop('stdin closed'))
      process.stdin.resume()
    }
  })
  stopTrimming()
  // libp2p and stray sockets may keep timers alive; the agent is done.
  setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref()
  return 0
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function unit(parsed: number | string, flag: string, given: string): number {
  if (typeof parsed === 'string') throw new UsageError(`${flag} ${JSON.stringify(given)}: ${parsed}`)
  return parsed
}

export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const part of values.flatMap((v) => v.split(',')).map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=')
    const key = eq < 0 ? part : part.slice(0, eq)
    if (eq < 0 || !LABEL_KEY.test(key)) throw new UsageError(`--labels: ${JSON.stringify(part)} is not key=value (a key is ${LABEL_KEY_RULE})`)
    labels[key] = part.slice(eq + 1)
  }
  const problem = ownLabelsProblem(labels)
  if (problem !== undefined) throw new UsageError(`--labels: ${problem}`)
  return labels
}

/** --site-cut-hold: a duration (`5m`, `90s`) or 0. */
export function parseSiteCutHold(value: string): number {
  const ms = parseDurationMs(value.trim() === '0' ? 0 : value)
  if (typeof ms === 'string') throw new UsageError(`--site-cut-hold: ${ms}, got ${JSON.stringify(value)}`)
  return ms
}

/** Accepts a multiaddr as is, or host:port (IPv4 or a DNS name) for convenience. */
export function toMultiaddr(address: string, flag: string): string {
  if (address.startsWith('/')) return address
  const match = /^([^:/\s]+):(\d{1,5})$/.exec(address)
  if (match === null || Number(match[2]) > 65535) throw new UsageError(`${flag}: ${JSON.stringify(address)} is neither a multiaddr (/ip4/10.0.0.1/tcp/4001) nor host:port`)
  const host = match[1]!
  const kind = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? 'ip4' : 'dns4'
  return `/${kind}/${host}/tcp/${match[2]}`
}

/** --mesh, --service-cidr and --dns, checked: each problem names its flag. */
export function discoverySettings(options: Pick<AgentCliOptions, 'mesh' | 'serviceCidr' | 'dns'>): DiscoverySettings {
  const mesh = options.mesh as MeshMode
  if (!MESH_MODES.includes(mesh)) throw new UsageError(`--mesh: expected ${MESH_MODES.join(', ')}, got ${JSON.stringify(options.mesh)}`)
  if (options.serviceCidr !== undefined) {
    const range = parseServiceRange(options.serviceCidr)
    if (typeof range === 'string') throw new UsageError(`--service-cidr: ${range}`)
  }
  let dns: DiscoverySettings['dns']
  if (options.dns !== undefined) {
    const parsed = parseMetricsListen(options.dns, '--dns', '')
    if (!parsed.ok) throw new UsageError(parsed.error)
    dns = parsed.value === 'off' ? 'off' : { ...(parsed.value.host === '' ? {} : { host: parsed.value.host }), port: parsed.value.port }
  }
  return { mesh, ...(options.serviceCidr === undefined ? {} : { serviceCidr: options.serviceCidr }), ...(dns === undefined ? {} : { dns }) }
}
