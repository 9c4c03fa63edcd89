// Resource arithmetic. Plain functions over plain values; extended resources are open-ended names.

import type { Resources } from './types.js'

export const NO_RESOURCES: Resources = Object.freeze({ cpuMilli: 0, memoryMiB: 0, extended: Object.freeze({}) })

export function addResources(a: Resources, b: Resources, times = 1): Resources {
  if (isEmpty(b.extended)) return { cpuMilli: a.cpuMilli + b.cpuMilli * times, memoryMiB: a.memoryMiB + b.memoryMiB * times, extended: a.extended }
  const extended: Record<string, number> = { ...a.extended }
  for (const [name, amount] of Object.entries(b.extended)) extended[name] = (extended[name] ?? 0) + amount * times
  return { cpuMilli: a.cpuMilli + b.cpuMilli * times, memoryMiB: a.memoryMiB + b.memoryMiB * times, extended }
}

export function subtractResources(a: Resources, b: Resources): Resources {
  return addResources(a, b, -1)
}

/**
 * How many more units of `want` fit into `capacity - allocated`, by the scarcest dimension.
 * Infinity when `want` asks for nothing.
 */
export function unitsThatFit(capacity: Resources, allocated: Resources, want: Resources): number {
  let units = Infinity
  if (want.cpuMilli > 0) units = Math.min(units, Math.floor((capacity.cpuMilli - allocated.cpuMilli) / want.cpuMilli))
  if (want.memoryMiB > 0) units = Math.min(units, Math.floor((capacity.memoryMiB - allocated.memoryMiB) / want.memoryMiB))
  for (const name in want.extended) {
    const amount = want.extended[name]!
    if (amount <= 0) continue
    const free = (capacity.extended[name] ?? 0) - (allocated.extended[name] ?? 0)
    units = Math.min(units, Math.floor(free / amount))
  }
  return Math.max(0, units)
}

/** The first dimension in which `want` does not fit, or undefined when it fits. */
export function shortfall(capacity: Resources, allocated: Resources, want: Resources): 'cpu' | 'memory' | string | undefined {
  if (allocated.cpuMilli + want.cpuMilli > capacity.cpuMilli && want.cpuMilli > 0) return 'cpu'
  if (allocated.memoryMiB + want.memoryMiB > capacity.memoryMiB && want.memoryMiB > 0) return 'memory'
  // The alphabetically first short resource, so every peer names the same one.
  let first: string | undefined
  for (const name in want.extended) {
    const amount = want.extended[name]!
    if (amount > 0 && (allocated.extended[name] ?? 0) + amount > (capacity.extended[name] ?? 0)) {
      if (first === undefined || name < first) first = name
    }
  }
  return first
}

/**
 * Mean free fraction over cpu and memory after adding `extra` (0 = full, 1 = empty). Dimensions a
 * peer has none of are skipped so a zero-capacity dimension cannot divide by zero.
 */
export function freeFraction(capacity: Resources, allocated: Resources, extraCpuMilli: number, extraMemoryMiB: number): number {
  let sum = 0
  let dims = 0
  if (capacity.cpuMilli > 0) {
    sum += clamp01((capacity.cpuMilli - allocated.cpuMilli - extraCpuMilli) / capacity.cpuMilli)
    dims++
  }
  if (capacity.memoryMiB > 0) {
    sum += clamp01((capacity.memoryMiB - allocated.memoryMiB - extraMemoryMiB) / capacity.memoryMiB)
    dims++
  }
  return dims === 0 ? 0 : sum / dims
}

export const clamp01 = (value: number): number => (value < 0 ? 0 : value > 1 ? 1 : value)

function isEmpty(record: Readonly<Record<string, number>>): boolean {
  for (const _ in record) return false
  return true
}
