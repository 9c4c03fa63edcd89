// Scores. A score is a short tuple compared lexicographically, highest first; every component lies in
// [0, 1]. A tuple instead of a weighted sum because the strategies are priorities, not trade-offs:
// spread must never put a third replica on a peer while another feasible peer has one (skew <= 1), and
// a weighted sum cannot promise that once the free-capacity term varies enough.
//
//   spread:  [1/(1 + replicas of this service on the peer), mean free fraction after placing]
//            fewest replicas first, then the emptiest peer.
//   binpack: [mean used fraction after placing, 1/(1 + replicas of this service on the peer)]
//            the fullest peer that still fits first (fewer hosts busy), then spread as a tie-break.
//   spreadBy (soft label spread): the auction puts [1/(1 + replicas in the peer's label domain)] in
//            front of either, so domains (zones, racks) fill evenly before peers within them.
//
// Mean fractions are over cpu and memory, the dimensions every peer has, and over each extended
// resource (gpu, …) the service asks for: a gpu task under binpack goes to the peer whose gpus are
// fullest, and under spread to the one with the most gpus free, which cpu and memory alone cannot see
// on a fleet of large cpu hosts with few gpus. A service that asks for no extended resource scores as
// if there were none, so peers' extended counts never move cpu-only work. Scores are computed by the
// bidder's exact local numbers, which its bid carries; every peer evaluates the same function on the
// same numbers (IEEE-754 arithmetic is deterministic), so all agree on every score.

import { clamp01 } from '../service-spec/resources.js'
import type { Resources, Strategy } from '../service-spec/types.js'

export type Score = readonly number[]

/**
 * What a score depends on: the bidder's cpu and memory, and [capacity, allocated] of each extended
 * resource the service asks for (absent when it asks for none), nothing else of its state.
 */
export interface ScoringState {
  readonly cpuCapacityMilli: number
  readonly cpuAllocatedMilli: number
  readonly memoryCapacityMiB: number
  readonly memoryAllocatedMiB: number
  readonly extended?: Readonly<Record<string, readonly [capacity: number, allocated: number]>>
}

export interface ScoringRequest {
  readonly strategy: Strategy
  readonly resources: Resources
}

/**
 * Score of adding the (existing + extra + 1)-th replica of a service to a peer in `state`, after
 * `extra` replicas already added in this bid. Spread scores fall with `extra`; binpack scores rise
 * (a fuller peer wants the next replica more), so binpack fills one peer before opening the next.
 */
export function marginalScore(state: ScoringState, want: ScoringRequest, existing: number, extra: number): Score {
  const free = marginalFree(state, want, extra)
  const fewer = 1 / (1 + existing + extra)
  return want.strategy === 'binpack' ? [1 - free, fewer] : [fewer, free]
}

/**
 * The free-capacity term of marginalScore: the mean free fraction after `extra + 1` more replicas.
 * The auction builds the two components from it without allocating a tuple per heap entry.
 */
export function marginalFree(state: ScoringState, want: ScoringRequest, extra: number): number {
  return marginalFreeOf(state.cpuCapacityMilli, state.cpuAllocatedMilli, state.memoryCapacityMiB, state.memoryAllocatedMiB, state.extended, want, extra)
}

/** marginalFree over a scoring state's fields as numbers: for bids held as columns (bid-sheet.ts). */
export function marginalFreeOf(
  cpuCapacity: number, cpuAllocated: number, memoryCapacity: number, memoryAllocated: number,
  extended: ScoringState['extended'], want: ScoringRequest, extra: number,
): number {
  const cpuAndMemory = freeFractionOf(
    cpuCapacity, cpuAllocated, memoryCapacity, memoryAllocated,
    want.resources.cpuMilli * (extra + 1),
    want.resources.memoryMiB * (extra + 1),
  )
  return withExtended(cpuAndMemory, cpuCapacity, memoryCapacity, extended, want, extra + 1)
}

/**
 * freeFraction (service-spec/resources.ts) over plain numbers, in the same operations in the same
 * order, so the result is the very same double; the auction scores every bid entry with it and must
 * not allocate two Resources per score.
 */
function freeFractionOf(cpuCapacity: number, cpuAllocated: number, memoryCapacity: number, memoryAllocated: number, extraCpu: number, extraMemory: number): number {
  let sum = 0
  let dims = 0
  if (cpuCapacity > 0) {
    sum += clamp01((cpuCapacity - cpuAllocated - extraCpu) / cpuCapacity)
    dims++
  }
  if (memoryCapacity > 0) {
    sum += clamp01((memoryCapacity - memoryAllocated - extraMemory) / memoryCapacity)
    dims++
  }
  return dims === 0 ? 0 : sum / dims
}

/**
 * The mean free fraction over cpu, memory and the extended resources `want` asks for, after `times`
 * more of it. Unchanged (the very same number) when it asks for none.
 */
function withExtended(cpuAndMemory: number, cpuCapacity: number, memoryCapacity: number, extended: ScoringState['extended'], want: ScoringRequest, times: number): number {
  let sum = 0
  let dims = 0
  for (const name in want.resources.extended) {
    const amount = want.resources.extended[name]!
    const held = extended?.[name]
    if (amount <= 0 || held === undefined || held[0] <= 0) continue
    sum += clamp01((held[0] - held[1] - amount * times) / held[0])
    dims++
  }
  if (dims === 0) return cpuAndMemory
  const baseDims = (cpuCapacity > 0 ? 1 : 0) + (memoryCapacity > 0 ? 1 : 0)
  return (cpuAndMemory * baseDims + sum) / (baseDims + dims)
}

/** [capacity, allocated] of each extended resource `want` asks for, as a bid carries them; undefined when none. */
export function extendedScoringState(capacity: Resources, allocated: Resources, want: Resources): ScoringState['extended'] {
  let out: Record<string, readonly [number, number]> | undefined
  for (const name in want.extended) {
    if (want.extended[name]! <= 0) continue
    out ??= {}
    out[name] = [capacity.extended[name] ?? 0, allocated.extended[name] ?? 0]
  }
  return out
}

/** Score of one more replica in a label domain that already holds `inDomain` of them. */
export const domainScore = (inDomain: number): number => 1 / (1 + inDomain)

/** Lexicographic comparison, highest first: negative when `a` ranks before `b`. */
export function compareScores(a: Score, b: Score): number {
  const length = Math.max(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a[i] ?? -Infinity
    const y = b[i] ?? -Infinity
    if (x !== y) return x > y ? -1 : 1
  }
  return 0
}
