// The nemesis's plan: a seeded list of fault episodes over a run, made before anything runs, so one
// seed always gives the same schedule (and the run prints it). Each episode is one fault, maybe with
// two concurrent writes from two hosts the fault leaves alone, then a quiet period long enough for
// failover and conflict resolution to finish and be measured before the next fault starts.
//
// The fault kinds are dealt from a shuffled deck, not drawn independently: a short run then still
// meets as many different faults as it has room for, instead of three partitions in a row. Adding
// one-way drops, offline reboots and full disks to the deck changed every seed's schedule: a seed
// reproduces the schedule of the version that ran it.

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
  /** `from`'s packets to `to` dropped, `to`'s to `from` delivered, for `durationMs`. */
  | { readonly kind: 'one-way'; readonly from: string; readonly to: string; readonly durationMs: number }
  /**
   * The host isolated, then (`crashAfterMs` later) a power cut, power back `downMs` after that while
   * still isolated, so it restarts its tasks from its disk after its rejoin limit; the isolation is
   * healed `isolatedMs` after it began.
   */
  | { readonly kind: 'offline-reboot'; readonly host: string; readonly crashAfterMs: number; readonly downMs: number; readonly isolatedMs: number }
  /** The file system under the host's data directory filled to the last byte, freed after `durationMs`. */
  | { readonly kind: 'disk-full'; readonly host: string; readonly durationMs: number }

/**
 * A `peer scale` through one host and a `peer apply` (an env change) through another, at once;
 * during a partition they go through hosts on different sides, with a third write beside them.
 */
export interface Writes {
  /** After the fault began. */
  readonly offsetMs: number
  readonly scaleVia: string
  readonly applyVia: string
  /** Both writes set this replica count, so their merge is the same whatever order they land in. */
  readonly replicas: number
  /** The env change: ROUND=<round>. */
  readonly round: number
  /**
   * During a partition: through this host, aux is created when it does not exist, or removed
   * (`peer rm`) when it does — a write to another service than the two beside it, so the merge of
   * all three is known whatever order they land in.
   */
  readonly auxVia?: string
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
const KINDS = ['crash', 'kill', 'halves', 'isolate', 'bridge', 'loss', 'pause', 'one-way', 'offline-reboot', 'disk-full'] as const
type Kind = (typeof KINDS)[number]
/**
 * Past the rejoin limit (rejoinLimitMs, 6 s on a LAN) after the restart, so the isolated host has
 * restarted its tasks from its disk before the heal.
 */
export const OFFLINE_AFTER_RESTART_MS = 9_000

/** The fault's own duration (until it is lifted). */
export function faultMs(fault: FaultStep): number {
  switch (fault.kind) {
    case 'crash':
    case 'kill':
      return fault.downMs
    case 'offline-reboot':
      return fault.isolatedMs
    default:
      return fault.durationMs
  }
}

/** Hosts a fault touches directly; writes go through the others. */
function hostsHit(fault: FaultStep): readonly string[] {
  if (fault.kind === 'partition') return fault.groups.flat()
  if (fault.kind === 'bridge') return [...fault.left, fault.bridge, ...fault.right]
  if (fault.kind === 'one-way') return [fault.from, fault.to]
  return [fault.host]
}

/** For a partition, its two sides (a bridge host belongs to neither): writes go through both. */
function sides(fault: FaultStep): readonly (readonly string[])[] | undefined {
  if (fault.kind === 'partition') return fault.groups
  if (fault.kind === 'bridge') return [fault.left, fault.right]
  return undefined
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
    case 'one-way':
      return { kind, from: shuffled[0]!, to: shuffled[1]!, durationMs: between(random, 8_000, 15_000) }
    case 'offline-reboot': {
      const crashAfterMs = between(random, 1_000, 3_000)
      const downMs = between(random, 3_000, 6_000)
      return { kind, host: shuffled[0]!, crashAfterMs, downMs, isolatedMs: crashAfterMs + downMs + OFFLINE_AFTER_RESTART_MS }
    }
    case 'disk-full':
      return { kind, host: shuffled[0]!, durationMs: between(random, 8_000, 15_000) }
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
    // Writes during a partition go through hosts on different sides, and each side takes only its
    // own until the heal: after it, every agent must hold all of them. Other faults' writes go
    // through two hosts the fault leaves alone, when there are two.
    const bystanders = names.filter((name) => !hostsHit(fault).includes(name))
    const split = sides(fault)
    let writes: Writes | undefined
    if (split !== undefined && random.chance(0.8)) {
      round++
      const [one, other] = shuffle(random, split.slice())
      const scaleVia = one![random.int(one!.length)]!
      const applyVia = other![random.int(other!.length)]!
      const either = [...one!, ...other!]
      writes = { offsetMs: between(random, 500, 3_000), scaleVia, applyVia, replicas: round % 2 === 1 ? baseReplicas + 2 : baseReplicas, round, auxVia: either[random.int(either.length)]! }
    } else if (split === undefined && bystanders.length >= 2 && random.chance(0.6)) {
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
          : fault.kind === 'one-way'
            ? `one-way drop ${fault.from} → ${fault.to} for ${fault.durationMs} ms`
            : fault.kind === 'offline-reboot'
              ? `offline reboot of ${fault.host}: isolated, power cut after ${fault.crashAfterMs} ms, back ${fault.downMs} ms later, healed after ${fault.isolatedMs} ms`
              : fault.kind === 'disk-full'
                ? `disk full on ${fault.host} for ${fault.durationMs} ms`
                : `${fault.kind} ${fault.host}, back after ${fault.downMs} ms`
  const aux = episode.writes?.auxVia === undefined ? '' : ` and create or remove aux via ${episode.writes.auxVia}`
  const writes = episode.writes === undefined ? '' : `; +${episode.writes.offsetMs} ms: scale web=${episode.writes.replicas} via ${episode.writes.scaleVia} and apply ROUND=${episode.writes.round} via ${episode.writes.applyVia}${aux}`
  return `at ${episode.atMs} ms: ${what}${writes}; quiet ${episode.quietMs} ms`
}
