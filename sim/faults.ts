// Faults: what may go wrong in a run (a FaultSpec, from `--faults` or drawn per seed for `--swarm`),
// and when exactly it goes wrong (a plan of timed FaultEvents drawn from the seed).
//
// A run has two phases, as in TigerBeetle's VOPR and FoundationDB's simulation. In the safety phase
// [0, safetyEndMs] faults strike and safety invariants must hold throughout. At safetyEndMs every
// fault has ended (partitions healed, peers resumed and restarted, loss back to the network's base
// rate), and in the liveness phase that follows the cluster must converge. The one lasting fault is a
// permanent kill (a kill without restartAtMs): a host that died stays dead, and liveness means the
// survivors take over its work.
//
// Slow peers are not timed events: slowness is a property of the hardware, chosen once per run
// (see `networkConfigWithFaults`).

import type { Random, SeededRandom } from '../core/index.js'
import type { NetworkConfig } from './network.js'
import { lognormal, lognormalSigma, sample } from './random.js'

export interface FaultSpec {
  /** Peers killed during the safety phase (distinct peers; about half restart before it ends). */
  readonly kill: number
  /** Partitions, one after another, each healed before the next. */
  readonly partition: number
  /** Clock-free pauses (SIGSTOP-like) of single peers. */
  readonly pause: number
  /** Message loss probability during the safety phase. */
  readonly loss: number
  /** Duplication probability during the safety phase. */
  readonly dup: number
  /** Fraction of peers whose links are slow for the whole run. */
  readonly slow: number
}

export const NO_FAULTS: FaultSpec = { kill: 0, partition: 0, pause: 0, loss: 0, dup: 0, slow: 0 }

const COUNT_KEYS = ['kill', 'partition', 'pause'] as const
const FRACTION_KEYS = ['loss', 'dup', 'slow'] as const
const FAULT_KEYS: readonly string[] = [...COUNT_KEYS, ...FRACTION_KEYS]
/** More than this many timed faults of one kind would only slow a run down, not find more bugs. */
export const MAX_FAULT_COUNT = 10_000

export type FaultSpecResult = { ok: true; spec: FaultSpec } | { ok: false; error: string }

/** Parses `kill=3,partition=1,loss=0.05,pause=2,dup=0.01,slow=0.1`; empty or `none` means no faults. */
export function parseFaultSpec(text: string): FaultSpecResult {
  const trimmed = text.trim()
  const spec: { -readonly [K in keyof FaultSpec]: number } = { ...NO_FAULTS }
  if (trimmed === '' || trimmed === 'none') return { ok: true, spec }
  const seen = new Set<string>()
  for (const part of trimmed.split(',')) {
    const item = part.trim()
    const equals = item.indexOf('=')
    if (equals <= 0) return { ok: false, error: `faults: expected key=value, got ${JSON.stringify(item)} (keys: ${FAULT_KEYS.join(', ')})` }
    const key = item.slice(0, equals).trim()
    const raw = item.slice(equals + 1).trim()
    if (!FAULT_KEYS.includes(key)) return { ok: false, error: `faults: unknown key ${JSON.stringify(key)}; expected one of ${FAULT_KEYS.join(', ')}` }
    if (seen.has(key)) return { ok: false, error: `faults: ${key} is given twice` }
    seen.add(key)
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN
    if ((COUNT_KEYS as readonly string[]).includes(key)) {
      if (!Number.isInteger(value) || value > MAX_FAULT_COUNT) {
        return { ok: false, error: `faults: ${key}=${raw} must be a whole number from 0 to ${MAX_FAULT_COUNT}` }
      }
    } else if (!(value >= 0 && value <= 1)) {
      return { ok: false, error: `faults: ${key}=${raw} must be a ${key === 'slow' ? 'fraction of peers' : 'probability'} from 0 to 1` }
    }
    spec[key as keyof FaultSpec] = value
  }
  return { ok: true, spec }
}

/** The `--faults` text of a spec (the inverse of parseFaultSpec). */
export function formatFaultSpec(spec: FaultSpec): string {
  const parts = FAULT_KEYS.filter((key) => spec[key as keyof FaultSpec] > 0).map((key) => `${key}=${spec[key as keyof FaultSpec]}`)
  return parts.length === 0 ? 'none' : parts.join(',')
}

/**
 * A fault profile for one seed of `--swarm`, so different seeds explore different worlds: some calm,
 * some lossy, some with crashes and partitions together.
 */
export function randomFaultSpec(random: SeededRandom): FaultSpec {
  const loss = random.chance(0.4) ? 0 : round(random.next() * 0.1, 3)
  const dup = random.chance(0.5) ? 0 : round(random.next() * 0.02, 3)
  const slow = random.chance(0.5) ? 0 : round(random.next() * 0.2, 2)
  return { kill: random.int(6), partition: random.int(3), pause: random.int(4), loss, dup, slow }
}

/** The network of a run with this fault spec: slow peers as the spec asks (10× slower unless the base says otherwise). */
export function networkConfigWithFaults(base: NetworkConfig, spec: FaultSpec): NetworkConfig {
  if (spec.slow === 0) return base
  const factor = base.slowPeers.factor > 1 ? base.slowPeers.factor : 10
  return { ...base, slowPeers: { fraction: spec.slow, factor } }
}

// --- the plan ---

export type FaultEvent =
  /**
   * A host dies. By default a power cut: the agent and every task it runs are gone. With `keepTasks`
   * only the agent dies (a crash of the agent process): its tasks run on as orphans, and the next life
   * finds them still running.
   */
  | { readonly atMs: number; readonly kind: 'kill'; readonly peer: string; readonly restartAtMs?: number; readonly keepTasks?: boolean }
  | { readonly atMs: number; readonly kind: 'partition'; readonly groups: readonly (readonly string[])[]; readonly healAtMs: number }
  | { readonly atMs: number; readonly kind: 'pause'; readonly peer: string; readonly resumeAtMs: number }
  | { readonly atMs: number; readonly kind: 'loss'; readonly probability: number; readonly untilMs: number }
  | { readonly atMs: number; readonly kind: 'duplicate'; readonly probability: number; readonly untilMs: number }
  /** The safety phase ends: everything heals; from here the cluster must converge. Always last. */
  | { readonly atMs: number; readonly kind: 'heal' }

export interface FaultPlanOptions {
  readonly peers: readonly string[]
  readonly durationMs: number
  readonly safetyEndMs: number
}

/** Faults start inside [START, END) of the safety phase, so the cluster forms first and has time to feel each fault. */
const FAULT_WINDOW_START = 0.1
const FAULT_WINDOW_END = 0.8

/**
 * Timed faults for one run, sorted by time. Every fault starts and ends inside [0, safetyEndMs];
 * the last event is `heal` at safetyEndMs. Each kind draws from its own fork of `random`, so changing
 * the number of kills does not move the partitions. Kills and pauses strike distinct peers and never
 * the same one, so counts are capped: kills at N - 1 (someone survives), pauses at the peers not killed.
 */
export function planFaults(spec: FaultSpec, random: SeededRandom, options: FaultPlanOptions): FaultEvent[] {
  const { peers, durationMs, safetyEndMs } = options
  if (!(Number.isFinite(safetyEndMs) && safetyEndMs >= 0 && durationMs >= safetyEndMs)) {
    throw new RangeError(`need 0 <= safetyEndMs <= durationMs, got safetyEndMs ${safetyEndMs}, durationMs ${durationMs}`)
  }
  const events: FaultEvent[] = []
  const windowStart = safetyEndMs * FAULT_WINDOW_START
  const windowEnd = safetyEndMs * FAULT_WINDOW_END
  const startTime = (r: Random) => round(windowStart + r.next() * (windowEnd - windowStart), 3)
  const inSafety = (ms: number) => Math.min(safetyEndMs, round(ms, 3))
  const endBefore = (startMs: number, r: Random) => inSafety(startMs + faultDurationMs(r, safetyEndMs))

  const killRandom = random.fork('kill')
  const killed = sample(killRandom, peers, Math.min(spec.kill, Math.max(0, peers.length - 1)))
  for (const peer of killed) {
    const atMs = startTime(killRandom)
    // About half the kills are crashes that come back; the rest are hosts that are gone for good.
    const restart = killRandom.chance(0.5)
    const restartAtMs = endBefore(atMs, killRandom)
    events.push(restart ? { atMs, kind: 'kill', peer, restartAtMs } : { atMs, kind: 'kill', peer })
  }

  const partitionRandom = random.fork('partition')
  if (peers.length >= 2 && spec.partition > 0) {
    // One window per partition, so each heals before the next begins.
    const slotMs = (windowEnd - windowStart) / spec.partition
    for (let i = 0; i < spec.partition; i++) {
      const from = windowStart + i * slotMs
      const atMs = round(from + partitionRandom.next() * slotMs * 0.5, 3)
      const healAtMs = inSafety(Math.min(from + slotMs, atMs + faultDurationMs(partitionRandom, safetyEndMs)))
      events.push({ atMs, kind: 'partition', groups: partitionGroups(partitionRandom, peers), healAtMs })
    }
  }

  const pauseRandom = random.fork('pause')
  const killedSet = new Set(killed)
  const unkilled = peers.filter((peer) => !killedSet.has(peer))
  // Distinct peers, so one peer's resume never cuts short another pause of the same peer.
  for (const peer of sample(pauseRandom, unkilled, spec.pause)) {
    const atMs = startTime(pauseRandom)
    events.push({ atMs, kind: 'pause', peer, resumeAtMs: inSafety(atMs + pauseDurationMs(pauseRandom)) })
  }

  if (spec.loss > 0) events.push({ atMs: 0, kind: 'loss', probability: spec.loss, untilMs: safetyEndMs })
  if (spec.dup > 0) events.push({ atMs: 0, kind: 'duplicate', probability: spec.dup, untilMs: safetyEndMs })
  events.push({ atMs: safetyEndMs, kind: 'heal' })

  // Stable sort: equal times keep the order above (kills, partitions, pauses, loss, heal last).
  return events.sort((a, b) => a.atMs - b.atMs || (a.kind === 'heal' ? 1 : 0) - (b.kind === 'heal' ? 1 : 0))
}

/** A fault lasts from a short blip to a third of the safety phase (log-uniform, so both are common). */
function faultDurationMs(random: Random, safetyEndMs: number): number {
  const shortest = Math.min(200, safetyEndMs / 100)
  const longest = Math.max(shortest, safetyEndMs / 3)
  const u = random.next()
  return shortest > 0 ? shortest * Math.pow(longest / shortest, u) : 0
}

/**
 * Pauses are mostly short (GC, a stalled disk) but sometimes outlast failure detection (median 1.5 s,
 * p99 15 s), which is when a paused peer comes back as a zombie that others have already replaced.
 */
function pauseDurationMs(random: Random): number {
  return lognormal(random, 1500, lognormalSigma(1500, 15_000))
}

/** A partition's groups, every peer listed: usually a minority cut off, sometimes a three-way split. */
function partitionGroups(random: SeededRandom, peers: readonly string[]): string[][] {
  const order = sample(random, peers, peers.length)
  if (peers.length >= 3 && random.chance(0.25)) {
    const first = 1 + random.int(peers.length - 2)
    const second = first + 1 + random.int(peers.length - first - 1)
    return [order.slice(0, first), order.slice(first, second), order.slice(second)].map(sortedNames)
  }
  const minority = 1 + random.int(Math.floor(peers.length / 2))
  return [order.slice(0, minority), order.slice(minority)].map(sortedNames)
}

function sortedNames(names: string[]): string[] {
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

// --- the plan as start and end actions, for a runner that wants one timeline ---

export type FaultAction =
  | { readonly atMs: number; readonly kind: 'kill'; readonly peer: string; readonly keepTasks?: boolean }
  | { readonly atMs: number; readonly kind: 'restart'; readonly peer: string }
  | { readonly atMs: number; readonly kind: 'partition'; readonly groups: readonly (readonly string[])[] }
  | { readonly atMs: number; readonly kind: 'heal-partition' }
  | { readonly atMs: number; readonly kind: 'pause'; readonly peer: string }
  | { readonly atMs: number; readonly kind: 'resume'; readonly peer: string }
  | { readonly atMs: number; readonly kind: 'loss-start'; readonly probability: number }
  | { readonly atMs: number; readonly kind: 'loss-end' }
  | { readonly atMs: number; readonly kind: 'duplicate-start'; readonly probability: number }
  | { readonly atMs: number; readonly kind: 'duplicate-end' }
  | { readonly atMs: number; readonly kind: 'heal' }

/**
 * The plan as a timeline of starts and ends. At equal times, ends come before starts (a partition
 * heals before the next one begins, a peer restarts before it is paused) and `heal` comes last.
 */
export function faultActions(plan: readonly FaultEvent[]): FaultAction[] {
  const actions: Array<{ action: FaultAction; rank: number }> = []
  const end = (action: FaultAction) => actions.push({ action, rank: 0 })
  const start = (action: FaultAction) => actions.push({ action, rank: 1 })
  for (const event of plan) {
    switch (event.kind) {
      case 'kill':
        start({ atMs: event.atMs, kind: 'kill', peer: event.peer, ...(event.keepTasks ? { keepTasks: true } : {}) })
        if (event.restartAtMs !== undefined) end({ atMs: event.restartAtMs, kind: 'restart', peer: event.peer })
        break
      case 'partition':
        start({ atMs: event.atMs, kind: 'partition', groups: event.groups })
        end({ atMs: event.healAtMs, kind: 'heal-partition' })
        break
      case 'pause':
        start({ atMs: event.atMs, kind: 'pause', peer: event.peer })
        end({ atMs: event.resumeAtMs, kind: 'resume', peer: event.peer })
        break
      case 'loss':
        start({ atMs: event.atMs, kind: 'loss-start', probability: event.probability })
        end({ atMs: event.untilMs, kind: 'loss-end' })
        break
      case 'duplicate':
        start({ atMs: event.atMs, kind: 'duplicate-start', probability: event.probability })
        end({ atMs: event.untilMs, kind: 'duplicate-end' })
        break
      case 'heal':
        actions.push({ action: event, rank: 2 })
        break
    }
  }
  return actions.sort((a, b) => a.action.atMs - b.action.atMs || a.rank - b.rank).map((entry) => entry.action)
}

/** One line a person can read, e.g. `12.345 s kill peer-0003 (restarts at 20.000 s)`. */
export function describeFaultEvent(event: FaultEvent): string {
  const at = seconds(event.atMs)
  switch (event.kind) {
    case 'kill':
      return `${at} ${event.keepTasks ? 'kill the agent of' : 'kill'} ${event.peer}${event.restartAtMs === undefined ? ' (for good)' : ` (restarts at ${seconds(event.restartAtMs)})`}`
    case 'partition':
      return `${at} partition into ${event.groups.map((g) => g.length).join(' / ')} peers (heals at ${seconds(event.healAtMs)})`
    case 'pause':
      return `${at} pause ${event.peer} (resumes at ${seconds(event.resumeAtMs)})`
    case 'loss':
      return `${at} loss ${event.probability} until ${seconds(event.untilMs)}`
    case 'duplicate':
      return `${at} duplication ${event.probability} until ${seconds(event.untilMs)}`
    case 'heal':
      return `${at} safety phase ends: everything heals`
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
