// When a new measurement of this peer's tasks is worth an advert. Tasks are measured every
// --usage-interval (10 s) and every measurement used to go out in an advert: a broadcast to every
// peer, forwarded through the gossip mesh (in an idle cluster of five, a quarter of each agent's
// frames), although most measurements of an idle task repeat the last to the millicore and MiB.
// Measured use is for people (`peer top`, the web view); placement reads what tasks requested. So
// a measurement is advertised only when some task's figure moved past a band around what was last
// advertised, or the set of measured tasks changed. Compared with the advertised figure, not the
// previous measurement, a slow drift still goes out once it has moved a band's width: what peers
// show is never further than one band from the last measurement.

import type { TaskUsage } from './messages.js'

/** A CPU figure moves past the band when it changes by this much, or by CPU_RELATIVE of the larger figure. */
export const CPU_BAND_MILLI = 10
/** A memory figure moves past the band when it changes by this much, or by MEMORY_RELATIVE of the larger figure. */
export const MEMORY_BAND_MIB = 4
export const CPU_RELATIVE = 0.1
export const MEMORY_RELATIVE = 0.1

const beyond = (before: number, after: number, floor: number, relative: number): boolean =>
  Math.abs(after - before) >= Math.max(floor, relative * Math.max(before, after))

/** Whether `measured` differs from `advertised` enough to advertise: another set of tasks, or a figure past its band. */
export function usageChanged(advertised: readonly TaskUsage[], measured: readonly TaskUsage[]): boolean {
  if (advertised.length !== measured.length) return true
  const before = new Map(advertised.map((entry) => [entry.slot, entry]))
  for (const entry of measured) {
    const previous = before.get(entry.slot)
    if (previous === undefined) return true
    if (beyond(previous.cpuMilli, entry.cpuMilli, CPU_BAND_MILLI, CPU_RELATIVE)) return true
    if (beyond(previous.memoryMiB, entry.memoryMiB, MEMORY_BAND_MIB, MEMORY_RELATIVE)) return true
  }
  return false
}
