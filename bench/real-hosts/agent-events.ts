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

/**
 * Where a heal's time went, from the agents' events after `healedEpochMs`: when each agent first saw
 * a peer of the other side alive again and when it saw all of them (p50 / max over agents), and when
 * the stops of the heal's duplicates were issued (first / last). Peers are told apart by `sideOf`
 * (host name → side); `nameOf` maps a peer id to its host name.
 */
/** How many of the latest "alive again" pairs the breakdown names. */
const SLOWEST_PAIRS = 8

export function healBreakdown(all: readonly HostEvents[], healedEpochMs: number, sideOf: (host: string) => number, nameOf: (peer: string) => string | undefined): string {
  const firstAlive: number[] = []
  const allAlive: number[] = []
  const stops: number[] = []
  const pairs: Array<{ pair: string; ms: number }> = []
  for (const { host, events } of all) {
    const others = new Set(all.map((entry) => entry.host.name).filter((name) => sideOf(name) !== sideOf(host.name)))
    const seen = new Map<string, number>()
    for (const event of events) {
      if (event.at < healedEpochMs) continue
      if (event.kind === 'member' && event.status === 'alive') {
        const name = nameOf(event.peer)
        if (name !== undefined && others.has(name) && !seen.has(name)) seen.set(name, event.at - healedEpochMs)
      }
      if (event.kind === 'stop') stops.push(event.at - healedEpochMs)
    }
    const times = [...seen.values()].sort((a, b) => a - b)
    for (const [name, ms] of seen) pairs.push({ pair: `${host.name}←${name}`, ms })
    if (times.length > 0) firstAlive.push(times[0]!)
    if (times.length === others.size && times.length > 0) allAlive.push(times.at(-1)!)
  }
  const p50 = (values: number[]): string => (values.length === 0 ? '-' : String([...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]))
  const max = (values: number[]): string => (values.length === 0 ? '-' : String(Math.max(...values)))
  return `other side first alive p50 ${p50(firstAlive)} / max ${max(firstAlive)} ms, all alive p50 ${p50(allAlive)} / max ${max(allAlive)} ms (${allAlive.length} of ${all.length} agents); ${stops.length} stops, first ${stops.length === 0 ? '-' : Math.min(...stops)} / last ${max(stops)} ms; latest alive ${pairs.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST_PAIRS).map(({ pair, ms }) => `${pair} ${ms}`).join(', ')}`
}

/** What the agents' transports counted, summed over agents: broadcasts published and delivered, direct messages sent, by kind. */
export interface TrafficTotals {
  readonly published: Record<string, number>
  readonly delivered: Record<string, number>
  readonly direct: Record<string, number>
  /** Connections the agents opened and crossing dials they refused before a handshake (p2p/dial-race.ts). */
  readonly connections: { opened: number; crossingRefused: number }
}

/** Every running agent's transport counters (GET /v1/stats), summed; an agent that does not answer adds nothing. */
export async function trafficTotals(hosts: readonly Host[]): Promise<TrafficTotals> {
  const totals: TrafficTotals = { published: {}, delivered: {}, direct: {}, connections: { opened: 0, crossingRefused: 0 } }
  const add = (into: Record<string, number>, from: Record<string, number> | undefined): void => {
    for (const [kind, count] of Object.entries(from ?? {})) into[kind] = (into[kind] ?? 0) + count
  }
  await Promise.all(hosts.filter((host) => host.agent !== undefined).map(async (host) => {
    const stats = await ask({ peer: host.socket, timeoutMs: CONTROL_TIMEOUT_MS }, 'GET /v1/stats').catch(() => undefined)
    if (stats === undefined) return
    add(totals.published, stats.transport.publishedByKind)
    add(totals.delivered, stats.transport.deliveredByKind)
    add(totals.direct, stats.transport.directSentByKind)
    totals.connections.opened += stats.connectionsOpened ?? 0
    // Absent from builds before the rule: counted as none.
    totals.connections.crossingRefused += stats.crossingConnectionsClosed ?? 0
  }))
  return totals
}

/** The counts between two totals, as "published member 12, advert 3; delivered …; direct …". */
export function describeTraffic(before: TrafficTotals, after: TrafficTotals): string {
  const part = (name: 'published' | 'delivered' | 'direct'): string => {
    const kinds = Object.keys(after[name]).sort()
    const counts = kinds.map((kind) => [kind, after[name][kind]! - (before[name][kind] ?? 0)] as const).filter(([, count]) => count > 0)
    return `${name} ${counts.length === 0 ? 'none' : counts.map(([kind, count]) => `${kind} ${count}`).join(', ')}`
  }
  const opened = after.connections.opened - before.connections.opened
  const refused = after.connections.crossingRefused - before.connections.crossingRefused
  return `${part('published')}; ${part('delivered')}; ${part('direct')}; connections opened ${opened}, crossing connections closed ${refused}`
}
