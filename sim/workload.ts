// Synthetic clusters and workloads, drawn from a seed: services as a user would write them (run
// through the real validator, so every default is the real one) and peers in the inventory shape
// that `validateInventory` reads.
//
// The shapes follow what published cluster traces show: most services are small and a few are
// large, requests cluster on round numbers, and a minority of services pin themselves to a zone or
// an architecture. Constraints only name labels that `syntheticPeers` hands out (zone z1–z4, arch
// amd64/arm64), so a constrained service is placeable whenever capacity allows.

import {
  validateInventory, validateService,
  type PeerView, type Random, type SeededRandom, type ServiceSpec, type SpecError,
} from '../core/index.js'
import { lognormal } from './random.js'

export const ZONES: readonly string[] = ['z1', 'z2', 'z3', 'z4']
export const ARCHES: readonly string[] = ['amd64', 'arm64']

/** Fractions of services with each trait; each trait is drawn independently per service. */
export interface WorkloadMix {
  /** Pinned by a label constraint (a zone, a set of zones, or an architecture). */
  readonly constrained: number
  /** `strategy: binpack` instead of the default spread. */
  readonly binpack: number
  /** Spread over zones (`spreadBy: zone`). */
  readonly spreadByZone: number
  /** At most one replica per peer (`maxPerNode: 1`). */
  readonly onePerPeer: number
  /** Asks for one GPU (needs peers with GPUs, e.g. the `datacenter` profile). */
  readonly gpu: number
}

export const DEFAULT_MIX: WorkloadMix = { constrained: 0.2, binpack: 0.2, spreadByZone: 0.3, onePerPeer: 0.05, gpu: 0 }

export interface ServiceWorkloadOptions {
  /** Total replicas over all services (exact). */
  readonly replicas: number
  /** Number of services; by default drawn sizes (1–50 replicas each) decide it. */
  readonly services?: number
  readonly mix?: Partial<WorkloadMix>
  /** Service names are `${prefix}-00001`, … (default `svc`). */
  readonly prefix?: string
}

/** Replicas of one service, when sizes are drawn: log-normal with median 4, at most 50. */
const SIZE_MEDIAN = 4
const SIZE_SIGMA = 1.1
const SIZE_MAX = 50

/**
 * Replicated services whose replica counts add up to exactly `replicas`. Requests: cpu 100–1000 m in
 * steps of 50, memory 64–1024 MiB in steps of 64, both skewed toward the small end.
 */
export function syntheticServices(random: SeededRandom, options: ServiceWorkloadOptions): ServiceSpec[] {
  const { replicas } = options
  if (!Number.isSafeInteger(replicas) || replicas < 0) throw new RangeError(`replicas must be a whole number >= 0, got ${replicas}`)
  const mix = { ...DEFAULT_MIX, ...options.mix }
  const prefix = options.prefix ?? 'svc'
  const sizes = options.services === undefined ? drawnSizes(random.fork('sizes'), replicas) : splitSizes(random.fork('sizes'), replicas, options.services)
  const digits = Math.max(5, String(sizes.length).length)
  const traits = random.fork('traits')
  const out: ServiceSpec[] = []
  sizes.forEach((size, i) => {
    const name = `${prefix}-${String(i + 1).padStart(digits, '0')}`
    out.push(validated(name, serviceBody(traits, size, mix)))
  })
  return out
}

function serviceBody(random: SeededRandom, replicas: number, mix: WorkloadMix): Record<string, unknown> {
  const cpuMilli = 100 + 50 * Math.min(18, Math.floor(18 * skewed(random)))
  const memoryMiB = 64 * (1 + Math.min(15, Math.floor(16 * skewed(random))))
  const resources: Record<string, unknown> = { cpu: `${cpuMilli}m`, memory: memoryMiB }
  if (random.chance(mix.gpu)) resources.gpu = 1
  const body: Record<string, unknown> = { command: ['sim-task'], replicas, resources }
  if (random.chance(mix.constrained)) body.constraints = [randomConstraint(random)]
  if (random.chance(mix.binpack)) body.strategy = 'binpack'
  if (random.chance(mix.spreadByZone)) body.spreadBy = 'zone'
  if (random.chance(mix.onePerPeer)) body.maxPerNode = 1
  return body
}

/** In [0, 1), most mass near 0: the square of a uniform draw. */
function skewed(random: Random): number {
  const u = random.next()
  return u * u
}

function randomConstraint(random: SeededRandom): string {
  const kind = random.int(3)
  if (kind === 0) return `zone == ${random.pick(ZONES)}`
  if (kind === 1) {
    const first = random.int(ZONES.length)
    const second = (first + 1 + random.int(ZONES.length - 1)) % ZONES.length
    return `zone in (${ZONES[first]}, ${ZONES[second]})`
  }
  return `arch == ${random.pick(ARCHES)}`
}

/** Sizes drawn one by one until they add up to `total`; the last is trimmed to fit. */
function drawnSizes(random: Random, total: number): number[] {
  const sizes: number[] = []
  let left = total
  while (left > 0) {
    const size = Math.min(left, SIZE_MAX, Math.max(1, Math.round(lognormal(random, SIZE_MEDIAN, SIZE_SIGMA))))
    sizes.push(size)
    left -= size
  }
  return sizes
}

/** `total` split over `count` services, each at least one, in skewed proportions (largest remainder). */
function splitSizes(random: Random, total: number, count: number): number[] {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`services must be a whole number >= 1, got ${count}`)
  if (total < count) throw new RangeError(`cannot split ${total} replicas over ${count} services with at least one each`)
  const weights = Array.from({ length: count }, () => lognormal(random, 1, SIZE_SIGMA))
  const weightSum = weights.reduce((a, b) => a + b, 0)
  const spare = total - count
  const exact = weights.map((w) => (w / weightSum) * spare)
  const sizes = exact.map((x) => 1 + Math.floor(x))
  let missing = total - sizes.reduce((a, b) => a + b, 0)
  const byRemainder = exact.map((x, i) => ({ i, remainder: x - Math.floor(x) })).sort((a, b) => b.remainder - a.remainder || a.i - b.i)
  for (const { i } of byRemainder) {
    if (missing === 0) break
    sizes[i]!++
    missing--
  }
  return sizes
}

function validated(name: string, body: Record<string, unknown>): ServiceSpec {
  const errors: SpecError[] = []
  const spec = validateService(name, body, name, errors)
  if (spec === undefined) throw new Error(`synthetic service ${name} is invalid: ${JSON.stringify(errors)}`)
  return spec
}

// --- peers ---

/** A peer as an inventory lists it (the input of validateInventory). */
export interface InventoryPeer {
  readonly name: string
  /** cpu as millicores text ("4000m"), memory in MiB, extended resources as counts. */
  readonly capacity: { readonly cpu: string; readonly memory: number; readonly [extended: string]: string | number }
  readonly labels: Readonly<Record<string, string>>
}

/**
 * - `uniform`: every peer 4 cores, 8 GiB (the test fixtures' default peer), 80 % amd64.
 * - `datacenter`: a mix of 8/16/32/64-core machines with 4 GiB per core, 80 % amd64, and 5 % with GPUs.
 * - `edge`: small boxes, 2–4 cores and 2–8 GiB, 70 % arm64.
 */
export type PeerProfile = 'uniform' | 'datacenter' | 'edge'
export const PEER_PROFILES: readonly PeerProfile[] = ['uniform', 'datacenter', 'edge']

/** `count` peers named `peer-000001`, …, with zones assigned round-robin so every zone has peers. */
export function syntheticPeers(random: SeededRandom, count: number, profile: PeerProfile = 'datacenter'): InventoryPeer[] {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`peer count must be a whole number >= 0, got ${count}`)
  if (!PEER_PROFILES.includes(profile)) throw new RangeError(`unknown peer profile ${JSON.stringify(profile)}; expected one of ${PEER_PROFILES.join(', ')}`)
  const digits = Math.max(6, String(count).length)
  const peers: InventoryPeer[] = []
  for (let i = 0; i < count; i++) {
    const name = `peer-${String(i + 1).padStart(digits, '0')}`
    const zone = ZONES[i % ZONES.length]!
    peers.push(peerOf(random, name, zone, archOf(i, profile), profile))
  }
  return peers
}

/**
 * Architectures follow a fixed pattern rather than a draw, so even a five-peer cluster has both and
 * every `arch ==` constraint can be met: one in five peers is arm64, or seven in ten at the edge.
 */
function archOf(index: number, profile: PeerProfile): string {
  if (profile === 'edge') return [2, 5, 8].includes(index % 10) ? 'amd64' : 'arm64'
  return index % 5 === 4 ? 'arm64' : 'amd64'
}

function peerOf(random: SeededRandom, name: string, zone: string, arch: string, profile: PeerProfile): InventoryPeer {
  switch (profile) {
    case 'uniform':
      return { name, capacity: { cpu: '4000m', memory: 8192 }, labels: { zone, arch } }
    case 'datacenter': {
      const cores = random.pick([8, 16, 16, 32, 32, 64])
      const capacity: InventoryPeer['capacity'] = random.chance(0.05)
        ? { cpu: `${cores * 1000}m`, memory: cores * 4096, gpu: random.pick([1, 2, 4, 8]) }
        : { cpu: `${cores * 1000}m`, memory: cores * 4096 }
      return { name, capacity, labels: { zone, arch } }
    }
    case 'edge': {
      const cores = random.pick([2, 2, 4])
      const memoryGiB = random.pick([2, 4, 4, 8])
      return { name, capacity: { cpu: `${cores * 1000}m`, memory: memoryGiB * 1024 }, labels: { zone, arch } }
    }
  }
}

/** Synthetic peers as the placement core sees them (validated, no tasks yet). */
export function syntheticPeerViews(random: SeededRandom, count: number, profile: PeerProfile = 'datacenter', services: readonly ServiceSpec[] = []): PeerView[] {
  const result = validateInventory({ peers: syntheticPeers(random, count, profile) }, services)
  if (!result.ok) throw new Error(`synthetic inventory is invalid: ${JSON.stringify(result.errors.slice(0, 5))}`)
  return result.peers
}

/** Total requests of services against total capacity of peers: how full the cluster would be. */
export function demandRatio(services: readonly ServiceSpec[], peers: readonly PeerView[]): { cpu: number; memory: number } {
  let cpuWanted = 0
  let memoryWanted = 0
  for (const service of services) {
    cpuWanted += service.resources.cpuMilli * service.replicas
    memoryWanted += service.resources.memoryMiB * service.replicas
  }
  let cpuHave = 0
  let memoryHave = 0
  for (const peer of peers) {
    cpuHave += peer.capacity.cpuMilli
    memoryHave += peer.capacity.memoryMiB
  }
  return { cpu: cpuHave === 0 ? Infinity : cpuWanted / cpuHave, memory: memoryHave === 0 ? Infinity : memoryWanted / memoryHave }
}
