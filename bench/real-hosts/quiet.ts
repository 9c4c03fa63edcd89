// Waiting out the agents' startup work. Just after meshing, ten agents are still busy connecting
// (Noise handshakes, identify, a desired-state sync with every peer) and placing the first service;
// a measure taken then measures startup. The benchmark starts once the agents together use less
// than QUIET_CPU_PER_AGENT of a core each over one second (idle is about 3–5 %), or after the limit.

import { cpuSeconds } from '../../node/runtime/proc.js'
import type { Host } from '../../test/hosts/hosts.js'

const QUIET_CPU_PER_AGENT = 0.15

/** CPU seconds each host's agent has used so far; 0 for one not running. */
export function agentsCpuSeconds(hosts: readonly Host[]): number[] {
  return hosts.map((host) => (host.agent?.pid === undefined ? 0 : cpuSeconds(host.agent.pid)))
}

/** Resolves once the agents are quiet, with how long that took. */
export async function untilAgentsQuiet(hosts: readonly Host[], limitMs = 30_000): Promise<number> {
  const from = Date.now()
  while (Date.now() - from < limitMs) {
    const before = agentsCpuSeconds(hosts)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const used = agentsCpuSeconds(hosts).reduce((sum, seconds, i) => sum + seconds - before[i]!, 0)
    if (used < QUIET_CPU_PER_AGENT * hosts.length) break
  }
  return Date.now() - from
}
