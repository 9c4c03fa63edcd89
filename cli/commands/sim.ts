// `peer sim`: the placement core and the peer protocol machine over a modelled network of N peers,
// with seeded faults. One seed reproduces a run exactly; `--json` is byte-identical for a seed.

import type { Command } from 'commander'
import { writeFile } from 'node:fs/promises'
import { assumeSecretsExist, parseDurationMs } from '../../core/index.js'
import { formatFileError, loadInventory, readTextFile } from '../files.js'
import { addSpecFileOptions, loadSpecFiles, problemLines, type SpecFileOptions } from '../spec-files.js'
import { parseTrace } from '../../sim/index.js'
import { NO_FAULTS, parseFaultSpec } from '../../sim/index.js'
import { renderHtmlReport } from '../../sim/index.js'
import { simulate, type SimulateJson } from '../../sim/index.js'
import { PEER_PROFILES, type PeerProfile } from '../../sim/index.js'
import { DEFAULT_FILL_FAILURES_IN_ROW, DEFAULT_LOSSES, fillWorkload, parseLosses, parseSweep, serviceForTraceEntry, syntheticPeerViews, syntheticServices, type Loss } from '../../sim/index.js'
import { STRATEGIES, parseConstraint, seededRandom, type ServiceSpec, type Strategy } from '../../core/index.js'
import { runFill, runSweep } from './sim-capacity.js'
import { perSecond, progressLine } from './sim-progress.js'
import { EXIT_OK, EXIT_UNPLACEABLE, UsageError } from '../exit-codes.js'
import { table } from '../table.js'

interface SimCliOptions extends Omit<SpecFileOptions, 'profile'> {
  composeProfile?: string[]
  file?: string[]
  trace?: string
  replicas?: string
  peers?: string
  inventory?: string
  profile: string
  seed: string
  duration: string
  faults?: string
  swarm?: boolean
  network: string
  report?: string
  json?: boolean
  fill?: boolean
  fillFailures?: string
  strategy?: string
  constraint?: string[]
  sweep?: string
  lose?: string
}

/** Most peers one run may model: the design's ceiling. */
export const MAX_SIM_PEERS = 100_000

export function registerSim(program: Command): void {
  addSpecFileOptions(program
    .command('sim')
    .description('simulate a cluster running the real placement and protocol code, with seeded faults')
    .option('-f, --file <path...>', 'service spec file(s); without it, --replicas synthetic replicas')
    .option('--replicas <n>', 'synthetic workload: this many replicas in services of 1-50')
    .option('--trace <file.csv>', 'workload trace: name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time (seconds)')
    .option('--peers <n>', 'number of synthetic peers (default 20)')
    .option('--inventory <path>', 'peers from an inventory file instead of --peers')
    .option('--profile <name>', `synthetic peer mix: ${PEER_PROFILES.join(', ')}`, 'datacenter')
    .option('--seed <n>', 'seed for every random choice of the run', '1')
    .option('--duration <time>', 'simulated time', '120s')
    .option('--faults <spec>', 'faults in the first 60% of the run, e.g. kill=3,partition=1,pause=1,loss=0.05,dup=0.01,slow=0.1')
    .option('--swarm', 'draw the fault profile from the seed (each seed explores a different world)')
    .option('--network <profile>', 'lan or wan latencies', 'lan')
    .option('--report <file.html>', 'write an HTML report with charts')
    .option('--json', 'print the metrics as one stable JSON object')
    .option('--fill', 'capacity: place services drawn from the workload, none leaving, until the fleet is full; compare strategies')
    .option('--fill-failures <n>', `with --fill: stop after this many arrivals in a row find no room (default ${DEFAULT_FILL_FAILURES_IN_ROW})`)
    .option('--strategy <list>', 'with --fill: strategies to compare (binpack,spread; default both); with --trace: the strategy of every row without its own')
    .option('--constraint <expr...>', 'with --trace: a label constraint for every row, e.g. "zone == z1"')
    .option('--sweep <sizes>', 'capacity: the smallest fleet for the workload, e.g. peers=200,400,800 (synthetic peers of --profile)')
    .option('--lose <levels>', `with --sweep: losses to survive, e.g. 10%,zone (default ${DEFAULT_LOSSES.map(formatLossLevel).join(',')}; none for no loss)`), '--compose-profile')
    .action(async (options: SimCliOptions) => {
      process.exitCode = await runSim(options)
    })
}

function positiveInteger(value: string, flag: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UsageError(`${flag}: expected a whole number from 1 to ${max}, got ${JSON.stringify(value)}`)
  return Number(value)
}

export async function runSim(options: SimCliOptions): Promise<number> {
  const seed = /^\d+$/.test(options.seed) && Number(options.seed) <= 0xffffffff ? Number(options.seed) : undefined
  if (seed === undefined) throw new UsageError(`--seed: expected a whole number from 0 to 4294967295, got ${JSON.stringify(options.seed)}`)
  const durationMs = parseDurationMs(options.duration)
  if (typeof durationMs === 'string' || durationMs < 1_000) throw new UsageError(`--duration: expected at least 1s, such as "120s" or "10m"`)
  if (options.network !== 'lan' && options.network !== 'wan') throw new UsageError('--network: expected lan or wan')
  if (!PEER_PROFILES.includes(options.profile as PeerProfile)) throw new UsageError(`--profile: expected one of ${PEER_PROFILES.join(', ')}`)
  if (options.peers !== undefined && options.inventory !== undefined) throw new UsageError('give --peers or --inventory, not both')
  const workloads = [options.file, options.replicas, options.trace].filter((w) => w !== undefined).length
  if (workloads > 1) throw new UsageError('give one of -f, --replicas and --trace')
  if (options.faults !== undefined && options.swarm) throw new UsageError('give --faults or --swarm, not both')
  let faults = NO_FAULTS
  if (options.faults !== undefined) {
    const parsed = parseFaultSpec(options.faults)
    if (!parsed.ok) throw new UsageError(`--faults: ${parsed.error}`)
    faults = parsed.spec
  }

  const capacity = checkCapacityOptions(options)

  let services: ServiceSpec[] | undefined
  if (options.file !== undefined) {
    const loaded = await loadSpecFiles(options.file, {
      ...(options.format ? { format: options.format } : {}),
      ...(options.envFile ? { envFile: options.envFile } : {}),
      ...(options.composeProfile ? { profile: options.composeProfile } : {}),
      ...(options.strict ? { strict: true } : {}),
    })
    if (!loaded.ok) throw new UsageError(problemLines(loaded.errors))
    if (loaded.value.warnings.length > 0) process.stderr.write(`${problemLines(loaded.value.warnings)}\n`)
    // The simulated cluster holds no secrets: the ones the files name are taken to exist.
    services = loaded.value.services.map(assumeSecretsExist)
  }
  let peers
  if (options.inventory !== undefined) {
    const loaded = await loadInventory(options.inventory, services ?? [])
    if (!loaded.ok) throw new UsageError(loaded.errors.map(formatFileError).join('\n'))
    peers = loaded.value
  }
  let trace
  if (options.trace !== undefined) {
    const text = await readTextFile(options.trace)
    if (!text.ok) throw new UsageError(text.errors.map(formatFileError).join('\n'))
    const parsed = parseTrace(text.value)
    if (!parsed.ok) throw new UsageError(parsed.errors.map((e) => `${options.trace}:${e.line}${e.column !== undefined ? `:${e.column}` : ''}: ${e.message}`).join('\n'))
    trace = parsed.entries
  }
  const peerCount = options.peers === undefined ? 20 : positiveInteger(options.peers, '--peers', MAX_SIM_PEERS)
  const replicas = options.replicas === undefined ? undefined : positiveInteger(options.replicas, '--replicas', 10_000_000)
  if (services === undefined && replicas === undefined && trace === undefined) throw new UsageError('peer sim needs -f <spec file>, --replicas <n> or --trace <file.csv>')

  const reproduce = reproduceCommand(options)
  const traceDefaults = {
    ...(capacity.traceStrategy !== undefined ? { strategy: capacity.traceStrategy } : {}),
    ...(options.constraint !== undefined ? { constraints: options.constraint } : {}),
  }
  if (capacity.mode !== 'run') {
    // A capacity study places a whole workload at once: trace rows are services, their times ignored.
    const workload = services ?? (trace !== undefined
      ? trace.map((entry) => serviceForTraceEntry(entry, traceDefaults))
      : syntheticServices(seededRandom(seed).fork('workload'), { replicas: replicas! }))
    const output = { json: options.json === true, report: options.report, reproduce }
    if (capacity.mode === 'sweep') return runSweep({ seed, sizes: capacity.sizes, profile: options.profile as PeerProfile, services: workload, losses: capacity.losses }, output)
    const drawable = fillWorkload(workload)
    if (!drawable.ok) throw new UsageError(`--fill: ${drawable.error}`)
    const fleet = peers ?? syntheticPeerViewsFor(seed, peerCount, options.profile as PeerProfile)
    return runFill({ seed, peers: fleet, services: drawable.services, strategies: capacity.strategies, failuresInRow: capacity.failuresInRow }, output)
  }

  const started = performance.now()
  const progress = progressLine({ enabled: process.stderr.isTTY === true && !options.json })
  const result = simulate({
    seed, durationMs, faults, network: options.network,
    ...(options.swarm ? { swarm: true } : {}),
    ...(services ? { services } : {}),
    ...(trace ? { trace, traceDefaults } : {}),
    ...(replicas !== undefined ? { replicas } : {}),
    ...(peers ? { peers } : { peerCount, peerProfile: options.profile as PeerProfile }),
    onProgress: ({ simulatedMs, events }) => {
      const elapsed = performance.now() - started
      progress.update(simulatedMs / durationMs, `simulated ${(simulatedMs / 1000).toFixed(1)}s of ${durationMs / 1000}s · ${perSecond(events, elapsed)} events/s`)
    },
  }, reproduce)
  progress.done()
  const wallMs = performance.now() - started

  if (options.report !== undefined) await writeFile(options.report, renderHtmlReport(result.report))
  if (options.json) process.stdout.write(`${JSON.stringify(result.json)}\n`)
  else process.stdout.write(simText(result.json, reproduce))
  // Wall time differs from run to run, so it stays out of the reproducible output.
  process.stderr.write(`simulated ${durationMs / 1000}s in ${(wallMs / 1000).toFixed(1)}s wall, ${result.json.events} events\n`)
  return result.json.violations.length > 0 ? EXIT_UNPLACEABLE : EXIT_OK
}

type CapacityMode =
  | { mode: 'run'; traceStrategy?: Strategy }
  | { mode: 'fill'; strategies: Strategy[]; failuresInRow: number; traceStrategy?: undefined }
  | { mode: 'sweep'; sizes: number[]; losses: Loss[]; traceStrategy?: Strategy }

/** The capacity flags (--fill, --sweep and what goes with them), checked against each other. */
function checkCapacityOptions(options: SimCliOptions): CapacityMode {
  if (options.fill && options.sweep !== undefined) throw new UsageError('give --fill or --sweep, not both')
  if (options.fillFailures !== undefined && !options.fill) throw new UsageError('--fill-failures goes with --fill')
  if (options.lose !== undefined && options.sweep === undefined) throw new UsageError('--lose goes with --sweep')
  if (options.constraint !== undefined && options.trace === undefined) throw new UsageError('--constraint applies to the rows of a --trace')
  for (const text of options.constraint ?? []) {
    const parsed = parseConstraint(text)
    if (typeof parsed === 'string') throw new UsageError(`--constraint ${JSON.stringify(text)}: ${parsed}`)
  }
  const strategies = options.strategy === undefined ? undefined : options.strategy.split(',').map((s) => s.trim())
  for (const strategy of strategies ?? []) {
    if (!STRATEGIES.includes(strategy as Strategy)) throw new UsageError(`--strategy: expected ${STRATEGIES.join(', ')} (or both, comma-separated), got ${JSON.stringify(strategy)}`)
  }
  if (strategies !== undefined && new Set(strategies).size !== strategies.length) throw new UsageError(`--strategy: ${options.strategy} names a strategy twice`)
  if ((options.fill || options.sweep !== undefined) && (options.faults !== undefined || options.swarm)) {
    throw new UsageError(`--faults and --swarm apply to a simulated run, not to ${options.fill ? '--fill' : '--sweep (give the losses with --lose)'}`)
  }
  if (options.fill) {
    const failuresInRow = options.fillFailures === undefined ? DEFAULT_FILL_FAILURES_IN_ROW : positiveInteger(options.fillFailures, '--fill-failures', 1_000_000)
    return { mode: 'fill', strategies: (strategies ?? ['binpack', 'spread']) as Strategy[], failuresInRow }
  }
  if (strategies !== undefined && strategies.length > 1) throw new UsageError('--strategy lists several strategies only with --fill; for --trace rows give one')
  if (strategies !== undefined && options.trace === undefined) throw new UsageError('--strategy applies to --fill (strategies to compare) or to the rows of a --trace')
  const traceStrategy = strategies?.[0] as Strategy | undefined
  if (options.sweep !== undefined) {
    if (options.inventory !== undefined || options.peers !== undefined) throw new UsageError('--sweep draws its own fleets of each size (--profile); leave out --peers and --inventory')
    const sizes = parseSweep(options.sweep, MAX_SIM_PEERS)
    if (!sizes.ok) throw new UsageError(`--sweep: ${sizes.error}`)
    const losses = options.lose === undefined ? { ok: true as const, losses: [...DEFAULT_LOSSES] } : parseLosses(options.lose)
    if (!losses.ok) throw new UsageError(`--lose: ${losses.error}`)
    return { mode: 'sweep', sizes: sizes.sizes, losses: losses.losses, ...(traceStrategy ? { traceStrategy } : {}) }
  }
  return { mode: 'run', ...(traceStrategy ? { traceStrategy } : {}) }
}

const formatLossLevel = (loss: Loss): string => (loss.kind === 'share' ? `${loss.share * 100}%` : loss.kind)

function syntheticPeerViewsFor(seed: number, count: number, profile: PeerProfile) {
  return syntheticPeerViews(seededRandom(seed).fork('peers'), count, profile)
}

function reproduceCommand(options: SimCliOptions): string {
  const parts = ['peer sim']
  if (options.file) parts.push(...options.file.map((f) => `-f ${f}`))
  if (options.replicas) parts.push(`--replicas ${options.replicas}`)
  if (options.trace) parts.push(`--trace ${options.trace}`)
  if (options.inventory) parts.push(`--inventory ${options.inventory}`)
  else if (options.sweep) parts.push(`--profile ${options.profile}`)
  else parts.push(`--peers ${options.peers ?? 20}`, `--profile ${options.profile}`)
  // A capacity study has no simulated time or network.
  if (!options.fill && !options.sweep) parts.push(`--duration ${options.duration}`, `--network ${options.network}`)
  if (options.faults) parts.push(`--faults ${options.faults}`)
  if (options.swarm) parts.push('--swarm')
  if (options.fill) parts.push('--fill')
  if (options.fillFailures) parts.push(`--fill-failures ${options.fillFailures}`)
  if (options.sweep) parts.push(`--sweep ${options.sweep}`)
  if (options.lose) parts.push(`--lose ${options.lose}`)
  if (options.strategy) parts.push(`--strategy ${options.strategy}`)
  for (const constraint of options.constraint ?? []) parts.push(`--constraint '${constraint}'`)
  parts.push(`--seed=${options.seed}`)
  return parts.join(' ')
}

export function simText(json: SimulateJson, reproduce: string): string {
  const ms = (v: number) => (v < 0 ? '-' : `${v} ms`)
  const lines = [
    `Simulated ${json.peers} peers, ${json.services} services, ${json.replicas} replicas for ${json.durationMs / 1000}s (seed ${json.seed}, faults ${json.faults}, ${json.network})`,
    '',
    table(['MEASURE', 'P50', 'P99', 'SAMPLES'], [
      ['placement (apply → running)', ms(json.placementMsP50), ms(json.placementMsP99), String(json.placementsMeasured)],
      ['failover (kill → running elsewhere)', ms(json.failoverMsP50), ms(json.failoverMsP99), String(json.failoversMeasured)],
    ]),
    '',
    `converged ${json.convergeMs < 0 ? 'never' : `${json.convergeMs} ms after the faults ended`}`,
    `traffic ${json.msgsPerPeerPerSec} messages and ${json.bytesPerPeerPerSec} bytes per peer per second`,
    `utilisation cpu ${(json.cpuUtilisation * 100).toFixed(1)}%, memory ${(json.memoryUtilisation * 100).toFixed(1)}%`,
    `allocated over the run (mean / peak): ${Object.entries(json.allocation).map(([name, a]) => `${name} ${(a.meanShare * 100).toFixed(1)}% / ${(a.peakShare * 100).toFixed(1)}%`).join(', ')}`,
    `pending at the end: ${json.pendingSlots} slots (${json.neverPlacedSlots} never placed)`,
  ]
  if (json.violations.length === 0) {
    lines.push('', 'invariants: all held')
  } else {
    lines.push('', `invariants: ${json.violations.length} violated`)
    for (const v of json.violations.slice(0, 20)) lines.push(`  ${v.invariant} at ${(v.atMs / 1000).toFixed(1)}s: ${v.detail}`)
    if (json.violations.length > 20) lines.push(`  … and ${json.violations.length - 20} more (see --json)`)
    lines.push(`reproduce with ${reproduce}`)
  }
  return `${lines.join('\n')}\n`
}
