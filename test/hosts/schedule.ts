// The nemesis's plan: a seeded list of fault episodes over a run, made before anything runs, so one
// seed always gives the same schedule (and the run prints it). Each episode is one fault, maybe with
// two concurrent writes from two hosts the fault leaves alone, then a quiet period long enough for
// failover and conflict resolution to finish and be measured before the next fault starts.
//
// The fault kinds are dealt from a shuffled deck, not drawn independently: a short run then still
// meets as many different faults as it has room for, instead of three partitions in a row.

import { seededRandom, type SeededRandom } from '../../core/index.js'
import { shuffle } from '../../sim/random.js'

export type FaultStep =
  /** Power cut, power back after `downMs`. */
  | { readonly kind: 'crash'; readonly host: string; readonly downMs: number }
  /** The agent alone SIGKILLed (its tasks run on), started again after `downMs`. */
  | { readonly kind: 'kill'; readonly host: string; readonly downMs: number }
  | { readonly kind: 'partition'; readonly shape: 'halves' | 'isolate'; readonly groups: readonly (readonly string[])[]; readonly durationMs: number }
  /** `left` and `right` cut apart; `bridge` reaches both. */
  | { readonly kind: 'bridge'; readonly left: readonly string[]; readonly bridge: string; readonly right: readonly string[]; readonly durationMs: number }
  | { readonly kind: 'loss'; readonly host: string; readonly probability: number; readonly durationMs: number }
  /** SIGSTOP of the agent, SIGCONT after `durationMs`. */
  | { readonly kind: 'pause'; readonly host: string; readonly durationMs: number }

/** A `peer scale` through one host and a `peer apply` (an env change) through another, at once. */
export interface Writes {
  /** After the fault began. */
  readonly offsetMs: number
  readonly scaleVia: string
  readonly applyVia: string
  /** Both writes set this replica count, so their merge is the same whatever order they land in. */
  readonly replicas: number
  /** The env change: ROUND=<round>. */
  readonly round: number
}

export interface Episode {
  /** From the start of the schedule. */
  readonly atMs: number
  readonly fault: FaultStep
  readonly writes?: Writes
  /** Calm after the fault ended, before the next one. */
  readonly quietMs: number
}

export interface Schedule {
  readonly seed: number
  readonly hosts: number
  readonly durationMs: number
  readonly episodes: readonly Episode[]
}

export const LOSS_PROBABILITY = 0.2
export const PAUSE_MS = 5_000
/** The first fault waits this long, so the cluster's startup work is over. */
const LEAD_IN_MS = 2_000
const KINDS = ['crash', 'kill', 'halves', 'isolate', 'bridge', 'loss', 'pause'] as const
type Kind = (typeof KINDS)[number]

/** The fault's own duration (until it is lifted). */
export function faultMs(fault: FaultStep): number {
  return fault.kind === 'crash' || fault.kind === 'kill' ? fault.downMs : fault.durationMs
}

/** Hosts a fault touches directly; writes go through the others. */
function hostsHit(fault: FaultStep): readonly string[] {
  if (fault.kind === 'partition') return fault.groups.flat()
  if (fault.kind === 'bridge') return [...fault.left, fault.bridge, ...fault.right]
  return [fault.host]
}

const between = (random: SeededRandom, lowMs: number, highMs: number): number => lowMs + random.int(Math.floor((highMs - lowMs) / 100) + 1) * 100

function faultOf(kind: Kind, names: readonly string[], random: SeededRandom): FaultStep {
  const shuffled = shuffle(random, names.slice())
  switch (kind) {
    case 'crash':
      return { kind, host: shuffled[0]!, downMs: between(random, 3_000, 10_000) }
    case 'kill':
      return { kind, host: shuffled[0]!, downMs: between(random, 3_000, 10_000) }
    case 'halves': {
      const half = Math.floor(names.length / 2)
      return { kind: 'partition', shape: 'halves', groups: [shuffled.slice(0, half).sort(), shuffled.slice(half).sort()], durationMs: between(random, 8_000, 15_000) }
    }
    case 'isolate':
      return { kind: 'partition', shape: 'isolate', groups: [[shuffled[0]!], shuffled.slice(1).sort()], durationMs: between(random, 8_000, 15_000) }
    case 'bridge': {
      const [bridge, ...rest] = shuffled
      const half = Math.floor(rest.length / 2)
      return { kind, left: rest.slice(0, half).sort(), bridge: bridge!, right: rest.slice(half).sort(), durationMs: between(random, 8_000, 15_000) }
    }
    case 'loss':
      return { kind, host: shuffled[0]!, probability: LOSS_PROBABILITY, durationMs: between(random, 10_000, 20_000) }
    case 'pause':
      return { kind, host: shuffled[0]!, durationMs: PAUSE_MS }
  }
}

/**
 * The schedule for `hosts` hosts (h1 … hN) over `durationMs`, from `seed`. Episodes are added while
 * they end within the duration; at least one is always planned. `baseReplicas` is the service's
 * replica count at the start; writes move it between that and two more.
 */
export function makeSchedule(seed: number, hosts: number, durationMs: number, baseReplicas: number): Schedule {
  if (!(Number.isSafeInteger(hosts) && hosts >= 2)) throw new RangeError(`a nemesis needs at least 2 hosts, not ${hosts}`)
  const random = seededRandom(seed).fork('nemesis-schedule')
  const names = Array.from({ length: hosts }, (_, i) => `h${i + 1}`)
  // A bridge needs a host beside two non-empty sides.
  const kinds = KINDS.filter((kind) => kind !== 'bridge' || hosts >= 3)
  const episodes: Episode[] = []
  let deck: Kind[] = []
  let atMs = LEAD_IN_MS
  let round = 0
  for (;;) {
    if (deck.length === 0) deck = shuffle(random, kinds.slice())
    const fault = faultOf(deck.pop()!, names, random)
    const quietMs = between(random, 6_000, 9_000)
    const endMs = atMs + faultMs(fault) + quietMs
    if (endMs > durationMs && episodes.length > 0) break
    // Writes during faults that leave at least two hosts untouched; a partition's sides would each
    // take only their own write until the heal, which the checker cannot yet tell from a lost one.
    const bystanders = names.filter((name) => !hostsHit(fault).includes(name))
    let writes: Writes | undefined
    if (bystanders.length >= 2 && random.chance(0.6)) {
      round++
      const [scaleVia, applyVia] = shuffle(random, bystanders.slice())
      writes = { offsetMs: between(random, 500, Math.min(3_000, faultMs(fault) - 500)), scaleVia: scaleVia!, applyVia: applyVia!, replicas: round % 2 === 1 ? baseReplicas + 2 : baseReplicas, round }
    }
    episodes.push({ atMs, fault, ...(writes === undefined ? {} : { writes }), quietMs })
    atMs = endMs
  }
  return { seed, hosts, durationMs, episodes }
}

/** One line per episode, for logs. */
export function describeEpisode(episode: Episode): string {
  const fault = episode.fault
  const what = fault.kind === 'partition'
    ? `partition ${fault.shape} ${fault.groups.map((group) => group.join(' ')).join(' | ')} for ${fault.durationMs} ms`
    : fault.kind === 'bridge'
      ? `partition ${fault.left.join(' ')} | ${fault.right.join(' ')} bridged by ${fault.bridge} for ${fault.durationMs} ms`
      : fault.kind === 'loss'
        ? `loss ${fault.probability * 100} % on ${fault.host} for ${fault.durationMs} ms`
        : fault.kind === 'pause'
          ? `pause ${fault.host} for ${fault.durationMs} ms`
          : `${fault.kind} ${fault.host}, back after ${fault.downMs} ms`
  const writes = episode.writes === undefined ? '' : `; +${episode.writes.offsetMs} ms: scale web=${episode.writes.replicas} via ${episode.writes.scaleVia} and apply ROUND=${episode.writes.round} via ${episode.writes.applyVia}`
  return `at ${episode.atMs} ms: ${what}${writes}; quiet ${episode.quietMs} ms`
}
