// The agent's control API as one typed route map: every route with its method, path, request and
// answer. The agent is typed against it (node/agent/api.ts: a handler must return its route's
// answer, and must exist for every route) and so is the CLI (cli/agent-client.ts: ask and stream
// return the route's answer), so the two cannot drift apart without the compiler saying so.
// docs/control-api.md describes the same routes for people and for other clients.
//
// A route's name is its method and path: `GET /v1/services/:name`, where a `:segment` is a path
// parameter. For each route the map says:
//   query   the query parameters it reads, all optional
//   body    the JSON body it takes (POST). The agent still checks it: any local process may connect.
//   answer  the one JSON value it answers with
//   stream  the value of each NDJSON line, for a route that streams. A route with both an answer and
//           a stream answers once by default and streams with follow=1 (`peer events -f`).
//
// The answers, and the rows and events they are made of, are defined here too: they are the CLI's
// `--json` output, and fields may be added, never renamed or removed. node/agent/views.ts builds the
// rows; the event log, the log reader and the desired replica produce the rest.

import type { HistoryEntry, SecretInfo, ServiceOutcome, VersionRecord, VersionRef } from '../../crdt/index.js'
import type { PeerView, Resources, ServiceSpec } from '../../core/index.js'
import type { JoinFailure, PeerLink, Reachability, TransportStats } from '../../p2p/index.js'
import type { ControlMethod, ControlRequest, ControlRoute } from './server.js'
import type { TopAmount, TopAnswer } from './top-answer.js'
import type { DiscoveryStatus, ServicePortRow, TunnelServerStats } from '../discovery/index.js'

/** The API's version, in `GET /v1/health`; it changes only when an answer changes incompatibly. */
export const API_VERSION = 1

export interface ControlApi {
  'GET /v1/health': { answer: HealthAnswer }
  'GET /v1/stats': { answer: StatsAnswer }
  'GET /v1/status': { answer: StatusAnswer }
  'GET /v1/services/:name': { answer: ServiceAnswer }
  'GET /v1/tasks': { query: { service?: string }; answer: { tasks: TaskRow[] } }
  /** The peers, and the asked agent's join addresses that it cannot dial now (with why). */
  'GET /v1/nodes': { answer: NodesAnswer }
  /** What each peer and service uses (measured) beside what it requested: `peer top`. */
  'GET /v1/top': { answer: TopAnswer }
  /** Every service port with its endpoints, health and the traffic this agent sent each: `peer endpoints`. */
  'GET /v1/endpoints': { query: { service?: string }; answer: EndpointsAnswer }
  /** The live cluster for `peer plan`: every peer's view, the desired services, and which secrets exist. */
  'GET /v1/cluster': { answer: { peers: PeerView[]; services: ServiceSpec[]; secrets: SecretInfo[] } }
  /** `:target` is a service or one slot of it. */
  'GET /v1/why/:target': { answer: WhyAnswer }
  /** Where one slot ran and why it moved, as this agent saw it since it started. */
  'GET /v1/slots/:slot/history': { answer: SlotHistoryAnswer }
  'POST /v1/apply': { body: { services: ServiceSpec[] }; answer: { services: ServiceOutcome[] } }
  'POST /v1/scale': { body: { service: string; replicas: number }; answer: { outcome: ServiceOutcome } }
  'POST /v1/remove': { body: { services: string[] }; answer: { services: ServiceOutcome[] } }
  'POST /v1/revert': { body: { service: string; version: VersionRef }; answer: { outcome: ServiceOutcome; revertedTo: VersionRecord; revertedToId: string } }
  'GET /v1/history': { query: { service?: string }; answer: { entries: HistoryEntry[] } }
  /** `:peer` is an id, a unique prefix of one, or `self`; `:action` is a NodeAction. */
  'POST /v1/nodes/:peer/:action': { answer: { peer: string; action: NodeAction } }
  /** The kept events in one answer, or with follow=1 the kept events and then each new one. */
  'GET /v1/events': { query: { follow?: '1' }; answer: { events: AgentEvent[] }; stream: AgentEvent }
  /** Secrets by name: metadata only, never a value. */
  'GET /v1/secrets': { answer: { secrets: SecretInfo[] } }
  /**
   * Creates a secret, or gives an existing one a new version (which replaces the tasks of services
   * that use it). The value travels base64-encoded, as secrets may be binary. With `ifChanged`, a
   * secret that already holds exactly this value is left as it is (outcome `unchanged`, same version).
   */
  'POST /v1/secrets': { body: { name: string; valueBase64: string; ifChanged?: boolean }; answer: { secret: SecretInfo; outcome: SecretOutcome } }
  /** Refused (409 `secret-in-use`) while a service lists it. */
  'DELETE /v1/secrets/:name': { answer: { name: string } }
  /** A task's output from whichever peer runs it; follow=1 keeps the stream open for new lines. */
  'GET /v1/logs/:slot': { query: { follow?: '1'; tail?: number }; stream: LogLine }
  /** Runs a command in the slot's container, on whichever peer runs it (no TTY, no stdin). */
  'POST /v1/exec/:slot': { body: { command: string[]; timeoutMs?: number }; answer: ExecAnswer }
}

/** What `peer exec` prints: the command's output (its last lines) and how it ended. */
export interface ExecAnswer {
  /** The peer whose container ran the command. */
  readonly peer: string
  /** Null when the command did not finish (timed out) or the engine did not say. */
  readonly exitCode: number | null
  /** stdout and stderr, interleaved as the engine recorded them. */
  readonly lines: readonly string[]
  /** Earlier lines were dropped to keep the answer within its size limit. */
  readonly truncated: boolean
  /** Why there is no exit code. */
  readonly error?: string
}

export interface HealthAnswer {
  readonly ok: true
  readonly api: number
  readonly peer: string
}

export interface StatsAnswer {
  readonly peer: string
  readonly uptimeMs: number
  readonly rssBytes: number
  readonly heapUsedBytes: number
  readonly heapTotalBytes: number
  /** Buffers and WebAssembly memory (Automerge) live outside the V8 heap. */
  readonly externalBytes: number
  readonly arrayBuffersBytes: number
  /** Peers connected now. */
  readonly connections: number
  /** Connections opened since start: more than the peers means churn. */
  readonly peerConnects: number
  readonly transport: TransportStats
  readonly desired: DesiredReplicaStats
  /**
   * Connections closed because their private-network cipher failed (each alone; the agent goes on).
   * Never expected: a count above 0 is a bug worth reporting.
   */
  readonly connectionFaults: number
  /**
   * Connections closed before their handshake because the pair had another: both ends dialled at
   * once (as after a partition heals), and the smaller peer id's outbound connection is the one kept
   * (p2p/dial-race.ts); or a dial reached a peer already connected meanwhile.
   */
  readonly crossingConnectionsClosed: number
  /** Connections opened since start, both directions: more than the peers means churn, or pairs that dialled each other. */
  readonly connectionsOpened: number
  /**
   * Tunnels this agent served for peers that reach it only through a relay (node/discovery/tunnel/):
   * accepted, refused (each refusal is also in the log with its reason) and open now.
   */
  readonly tunnels: TunnelServerStats | null
}

export interface StatusAnswer {
  readonly peer: string
  readonly addresses: readonly string[]
  readonly incarnation: number
  readonly desiredDigest: string
  readonly members: { readonly alive: number; readonly suspect: number; readonly dead: number; readonly left: number }
  readonly services: readonly ServiceRow[]
  /** Problems the agent found that need a person, oldest first; empty when there are none. */
  readonly warnings: readonly StatusWarning[]
}

/** Something wrong with the asked agent itself that it can work around but a person should know of. */
export interface StatusWarning {
  /** When it was found (ms since the epoch). */
  readonly at: number
  /**
   * `desired-state`: the desired-state files in its data directory were damaged or incomplete when it
   * started. `data-dir`: its data directory is full (node/agent/data-dir-space.ts); gone once it has room.
   */
  readonly source: 'desired-state' | 'data-dir'
  /** One line for a person. */
  readonly message: string
}

export interface NodesAnswer {
  readonly nodes: NodeRow[]
  /** The asked agent's join addresses (`--join`) whose dials fail now; empty when all answer. */
  readonly joinFailures: JoinFailure[]
}

export interface ServiceAnswer {
  readonly service: ServiceRow
  readonly spec: ServiceSpec
  readonly tasks: readonly TaskRow[]
  readonly why: WhyAnswer
}

export type NodeAction = 'drain' | 'cordon' | 'uncordon'

/** What `POST /v1/secrets` did: made the secret, gave it a new version, or (ifChanged) left it as it was. */
export type SecretOutcome = 'created' | 'updated' | 'unchanged'

export interface TaskRow {
  readonly slot: string
  readonly service: string
  readonly peer: string
  readonly state: string
  readonly specHash: string
  /** When the task entered its state (ms since the epoch, the running peer's clock). */
  readonly since: number
}

export interface ServiceRow {
  readonly name: string
  readonly mode: string
  readonly driver: string
  readonly version: number
  readonly specHash: string
  /** Replicas asked for; null for a global service (one per eligible peer). */
  readonly desired: number | null
  /** Tasks up (running or healthy) at the current version. */
  readonly running: number
  /** Tasks in any active state, any version. */
  readonly tasks: number
  /** Slots no peer has taken yet. */
  readonly pending: number
  readonly updatedBy: string
  readonly updatedAt: number
}

export interface NodeRow {
  readonly peer: string
  readonly self: boolean
  /** Membership: alive, suspect, dead or left. */
  readonly status: string
  /** For placement: alive, suspect, dead, draining or cordoned. */
  readonly state: string
  readonly incarnation: number
  /** When this peer last heard from it (ms since the epoch); null when never. */
  readonly lastSeen: number | null
  readonly capacity: Resources
  readonly allocated: Resources
  readonly labels: Readonly<Record<string, string>>
  readonly tasks: number
  /** Runtime drivers the peer offers (its adverts say): `process`, and `docker` when its engine answered. */
  readonly drivers: readonly string[]
  /** The asked agent's own container engine, as found at its start; null for other peers. */
  readonly engine: { readonly state: 'up'; readonly version: string } | { readonly state: 'absent' | 'off'; readonly detail: string } | null
  /** What its active tasks really use (CPU millicores, memory MiB) as its advert last said; null before any measurement (`peer top`). */
  readonly used?: TopAmount | null
  /**
   * Whether peers outside its network can dial it: `public`, `nat` (behind an address translator;
   * reached through a relay), or `unknown` (no peer observed it yet). For the asked agent its own
   * verdict; for others what they last announced (docs/edge.md).
   */
  readonly reachability?: Reachability
  /** The asked agent's connection to it now: direct, punched (direct to its NAT router, p2p/hole-punch.ts), or relayed and through which peer; null when not connected (and for itself). */
  readonly link?: PeerLink | null
}

/** `peer endpoints --json`: the asked agent's view. */
export interface EndpointsAnswer {
  readonly self: string
  /** How this agent forwards (kernel, userspace, off) and why, its service range, DNS and listeners. */
  readonly discovery: DiscoveryStatus
  readonly ports: readonly ServicePortRow[]
}

export interface Reason {
  readonly reason: string
  readonly detail: string
  readonly peers: number
  /** The reason in words. */
  readonly text: string
}

export interface WhyAnswer {
  readonly target: string
  readonly service: string
  readonly slot: string | null
  /** Where the target's tasks run now. */
  readonly tasks: readonly TaskRow[]
  /** Slots of the target still unplaced, and why no peer took them. */
  readonly pending: { readonly slots: readonly string[]; readonly round: number; readonly since: number; readonly reasons: readonly Reason[] } | null
  /** One line for a person. */
  readonly summary: string
}

/**
 * Why a slot came to a holder, as the asked agent saw it: `first-seen` (the first holder it saw),
 * `peer-dead` / `peer-left` (the last holder was declared dead / left), `drained` (the last holder was
 * draining), `conflict` (the slot was held twice and the conflict rule kept this copy), `updated`
 * (a rolling update replaced the last holder's version), `task-failed` (the last holder's task ended),
 * `unknown` (the last holder is alive and none of these was seen).
 */
export type MoveReason = 'first-seen' | 'peer-dead' | 'peer-left' | 'drained' | 'conflict' | 'updated' | 'task-failed' | 'unknown'

/** One holder of a slot: since when, who, the version, the task's last state seen, and why it came there. */
export interface SlotPlacement {
  readonly at: number
  readonly peer: string
  readonly specHash: string
  readonly state: string
  readonly reason: MoveReason
  /** The reason in words. */
  readonly text: string
  /** The holder before this one, when there was one. */
  readonly from: string | null
}

export interface SlotHistoryAnswer {
  readonly slot: string
  /** Oldest first; at most the last 20. Empty when this agent has seen no task of the slot. */
  readonly placements: readonly SlotPlacement[]
}

/**
 * What happened on a peer, for `peer events`: membership changes it saw, tasks it started and stopped
 * (and why), task states its driver reported, desired-state changes it learned, rollbacks it wrote.
 */
export type AgentEvent =
  | { readonly at: number; readonly kind: 'agent'; readonly message: string }
  | { readonly at: number; readonly kind: 'member'; readonly peer: string; readonly status: string; readonly incarnation: number }
  | { readonly at: number; readonly kind: 'start'; readonly slot: string; readonly specHash: string }
  | { readonly at: number; readonly kind: 'stop'; readonly slot: string; readonly reason: string }
  | { readonly at: number; readonly kind: 'task'; readonly slot: string; readonly state: string; readonly exitCode?: number; readonly detail?: string }
  | { readonly at: number; readonly kind: 'desired'; readonly digest: string; readonly services: number }
  | { readonly at: number; readonly kind: 'rollback'; readonly service: string; readonly detail: string }

/** One line of a task's output, and the peer it came from: what `GET /v1/logs/:slot` streams. */
export interface LogLine {
  readonly peer: string
  readonly line: string
}

/** The desired-state replica's counters, in `GET /v1/stats`. */
export interface DesiredReplicaStats {
  /** Gossip messages that passed the validator and were applied. */
  gossipReceived: number
  /** Gossip messages the validator rejected (not a valid broadcast payload). */
  gossipRejected: number
  /** Sync runs this peer started (concurrent calls sharing one run count once). */
  syncsRun: number
  /** Sync sessions other peers started with this one. */
  syncsServed: number
  /** Runs started here that failed, plus sync requests served here that were refused. */
  syncFailures: number
}

// --- What each side derives from the map -------------------------------------------------------

export type RouteName = keyof ControlApi
/** Routes that answer with one JSON value. */
export type AnswerRoute = { [R in RouteName]: ControlApi[R] extends { answer: unknown } ? R : never }[RouteName]
/** Routes that answer with NDJSON lines. */
export type StreamRoute = { [R in RouteName]: ControlApi[R] extends { stream: unknown } ? R : never }[RouteName]

export type AnswerOf<R extends AnswerRoute> = ControlApi[R] extends { answer: infer A } ? A : never
export type StreamItemOf<R extends StreamRoute> = ControlApi[R] extends { stream: infer T } ? T : never

/** The names of a route's `:segments`: `'peer' | 'action'` for `POST /v1/nodes/:peer/:action`. */
export type ParamNames<Path extends string> = Path extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : Path extends `${string}:${infer Name}`
    ? Name
    : never

/** What a client sends: the path's parameters, the query, the body, each only where the route has one. */
export type RequestOf<R extends RouteName> = ([ParamNames<R>] extends [never] ? unknown : { readonly params: Readonly<Record<ParamNames<R>, string>> }) &
  (ControlApi[R] extends { query: infer Q } ? { readonly query?: Readonly<Q> } : unknown) &
  (ControlApi[R] extends { body: infer B } ? { readonly body: B } : unknown)

/** The request for one answer: a route that can also stream must not be asked to follow. */
export type AskRequestOf<R extends AnswerRoute> = ControlApi[R] extends { stream: unknown } ? RequestOf<R> & { readonly query?: { readonly follow?: never } } : RequestOf<R>

/** The request for a stream: a route that can also answer once streams only when asked to follow. */
export type StreamRequestOf<R extends StreamRoute> = ControlApi[R] extends { answer: unknown } ? RequestOf<R> & { readonly query: { readonly follow: '1' } } : RequestOf<R>

/** What the agent's handler of route R gets: the server's request, with the route's parameters by name. */
export interface RouteRequest<R extends RouteName> extends ControlRequest {
  readonly params: Readonly<Record<ParamNames<R>, string>>
}

/** What the agent's handler of route R may reply: its answer, its stream, or either when the route has both. */
export type RouteReply<R extends RouteName> =
  | (ControlApi[R] extends { answer: infer A } ? { readonly status?: number; readonly body: A } : never)
  | (ControlApi[R] extends { stream: infer T } ? { readonly stream: AsyncIterable<T> } : never)

/** One handler for every route of the map, and for nothing else. */
export type ApiHandlers = { readonly [R in RouteName]: (request: RouteRequest<R>) => RouteReply<R> | Promise<RouteReply<R>> }

/** The method and the path pattern a route name stands for. */
export function routeParts(route: RouteName): { method: ControlMethod; path: string } {
  const space = route.indexOf(' ')
  return { method: route.slice(0, space) as ControlMethod, path: route.slice(space + 1) }
}

/** The routes the control server serves, from one handler per route, in the order they are listed. */
export function serveApi(handlers: ApiHandlers): ControlRoute[] {
  return (Object.keys(handlers) as RouteName[]).map((route) => ({
    ...routeParts(route),
    // The server matched the path against this route's pattern, so its parameters are the route's.
    handle: handlers[route] as ControlRoute['handle'],
  }))
}

/**
 * The method, path and body of a request for `route`: each `:segment` replaced by its parameter,
 * URL-encoded (a slot such as `web/0` must stay one segment), and the query's defined values appended.
 */
export function routeTarget<R extends RouteName>(route: R, request: RequestOf<R>): { method: ControlMethod; path: string; body: unknown } {
  const { method, path: pattern } = routeParts(route)
  const { params = {}, query = {}, body } = request as { params?: Record<string, string>; query?: Record<string, string | number | undefined>; body?: unknown }
  const path = pattern.replace(/:([^/]+)/g, (_, name: string) => {
    const value = params[name]
    if (value === undefined) throw new TypeError(`${route}: no value for :${name}`)
    return encodeURIComponent(value)
  })
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, String(value))
  const text = search.toString()
  return { method, path: text === '' ? path : `${path}?${text}`, body }
}
