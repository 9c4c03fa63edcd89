// Resources by name, as reports list them: cpu (millicores), memory (MiB), then each extended
// resource (a count) in name order.

import { compareStrings, type Resources } from '../core/index.js'

/** cpu, memory, then extended resources by name: the order every report lists them in. */
export function resourceOrder(names: Iterable<string>): string[] {
  const unique = new Set(names)
  const extended = [...unique].filter((n) => n !== 'cpu' && n !== 'memory').sort(compareStrings)
  return ['cpu', 'memory', ...extended]
}

/** The amount of one named resource in a Resources value (cpu in millicores, memory in MiB). */
export function amountOf(resources: Resources, name: string): number {
  if (name === 'cpu') return resources.cpuMilli
  if (name === 'memory') return resources.memoryMiB
  return resources.extended[name] ?? 0
}

/** The unit each resource is counted in. */
export const unitOf = (name: string): string => (name === 'cpu' ? 'millicores' : name === 'memory' ? 'MiB' : 'count')
