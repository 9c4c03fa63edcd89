// What the agents' own event logs say (`GET /v1/events`, what `peer events` prints). Every agent runs
// on this machine, so their `at` stamps share one clock with the benchmark's: times across agents can
// be compared to the millisecond, without the control API's latency on a busy host that polling adds.

import { ask } from '../../cli/agent-client.js'
import type { AgentEvent } from '../../node/control/index.js'
import type { Host } from '../../test/hosts/hosts.js'

/**
 * How long a control call may take: an agent on a machine loaded 15–30 deep has taken over 5 s to
 * answer, and a figure lost to a timeout says nothing about the cluster.
 */
export const CONTROL_TIMEOUT_MS = 30_000

export interface HostEvents {
  readonly host: Host
  readonly events: readonly AgentEvent[]
}

/** Every running agent's events since `fromEpochMs`; an agent that does not answer contributes none. */
export async function eventsSince(hosts: readonly Host[], fromEpochMs: number): Promise<HostEvents[]> {
  return Promise.all(hosts.filter((host) => host.agent !== undefined).map(async (host) => {
    const events = await ask({ peer: host.socket, timeoutMs: CONTROL_TIMEOUT_MS }, 'GET /v1/events').then((answer) => answer.events, () => [] as AgentEvent[])
    return { host, events: events.filter((event) => event.at >= fromEpochMs) }
  }))
}

/** When each agent first adopted desired state `digest`, by host name. */
export function learnedAt(all: readonly HostEvents[], digest: string): Map<string, number> {
  const learned = new Map<string, number>()
  for (const { host, events } of all) {
    const first = events.find((event) => event.kind === 'desired' && event.digest === digest)
    if (first !== undefined) learned.set(host.name, first.at)
  }
  return learned
}

/** Per slot of `service`: the first start any agent issued for it at `specHash` (any version if absent). */
export function firstStarts(all: readonly HostEvents[], service: string, specHash?: string): Map<string, { host: string; at: number }> {
  const starts = new Map<string, { host: string; at: number }>()
  for (const { host, events } of all) {
    for (const event of events) {
      if (event.kind !== 'start' || !event.slot.startsWith(`${service}/`) || (specHash !== undefined && event.specHash !== specHash)) continue
      const seen = starts.get(event.slot)
      if (seen === undefined || event.at < seen.at) starts.set(event.slot, { host: host.name, at: event.at })
    }
  }
  return starts
}

/** Per slot of `service`: the first `task running` any agent reported for it (a conflict's loser may never run). */
export function firstRunning(all: readonly HostEvents[], service: string): Map<string, number> {
  const running = new Map<string, number>()
  for (const { events } of all) {
    for (const event of events) {
      if (event.kind !== 'task' || event.state !== 'running' || !event.slot.startsWith(`${service}/`)) continue
      running.set(event.slot, Math.min(running.get(event.slot) ?? Infinity, event.at))
    }
  }
  return running
}

/** The first `task running` event for `slot` on `host` at or after `fromEpochMs`. */
export function runningAt(all: readonly HostEvents[], host: string, slot: string, fromEpochMs: number): number | undefined {
  const events = all.find((entry) => entry.host.name === host)?.events ?? []
  return events.find((event) => event.kind === 'task' && event.slot === slot && event.state === 'running' && event.at >= fromEpochMs)?.at
}

/** The first `stop` event for `slot` on `host` at or after `fromEpochMs`. */
export function stoppedAt(all: readonly HostEvents[], host: string, slot: string, fromEpochMs: number): number | undefined {
  const events = all.find((entry) => entry.host.name === host)?.events ?? []
  return events.find((event) => event.kind === 'stop' && event.slot === slot && event.at >= fromEpochMs)?.at
}

/** The membership statuses each agent recorded for `peerId`, in order, by host name. */
export function statusesOf(all: readonly HostEvents[], peerId: string): Map<string, string[]> {
  const statuses = new Map<string, string[]>()
  for (const { host, events } of all) {
    statuses.set(host.name, events.flatMap((event) => (event.kind === 'member' && event.peer === peerId ? [event.status] : [])))
  }
  return statuses
}
