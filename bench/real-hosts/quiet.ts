// Waiting out the agents' startup work. Just after meshing, ten agents are still busy connecting
// (Noise handshakes, identify, a desired-state sync with every peer) and placing the first service;
// a measure taken then measures startup. The benchmark starts once the agents together use less
// than QUIET_CPU_PER_AGENT of a core each over one second (idle is about 3–5 %), or after the limit.

import { readFileSync } from 'node:fs'
import type { Host } from '../../test/hosts/hosts.js'

const QUIET_CPU_PER_AGENT = 0.15
const TICKS_PER_SECOND = 100

/** CPU seconds (user + system, /proc/<pid>/stat fields 14 and 15) the agent has used; 0 when gone. */
function agentCpuSeconds(host: Host): number {
  const pid = host.agent?.pid
  if (pid === undefined) return 0
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/** Resolves once the agents are quiet, with how long that took. */
export async function untilAgentsQuiet(hosts: readonly Host[], limitMs = 30_000): Promise<number> {
  const from = Date.now()
  while (Date.now() - from < limitMs) {
    const before = hosts.map(agentCpuSeconds)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const used = hosts.map(agentCpuSeconds).reduce((sum, seconds, i) => sum + seconds - before[i]!, 0)
    if (used < QUIET_CPU_PER_AGENT * hosts.length) break
  }
  return Date.now() - from
}
