// The control API the CLI talks to: HTTP+JSON over the agent's unix socket (mode 0600, so only the
// agent's user can drive it), streams as NDJSON. node/control/api-types.ts is the route map (each
// route's request and answer, which the handlers below must match); docs/control-api.md describes it;
// views.ts builds the rows. Edits go through the desired-state replica, so an answer to a write means
// the change is on this peer's disk; it reaches the others by gossip within milliseconds and by sync
// on any reconnect.

import {
  apply,
  cordon,
  describeError,
  desiredState,
  drain,
  history,
  parseVersionRef,
  readSecretInfo,
  remove,
  removeSecret,
  revert,
  scale,
  secretHolds,
  secretNames,
  setSecret,
  uncordon,
  type DesiredDoc,
  type DesiredStateError,
  type EditResult,
  type VersionRef,
} from '../../crdt/index.js'
import type { DataDirSpace } from './data-dir-space.js'
import { API_VERSION, ControlError, serveApi, type ControlRoute, type NodeAction, type NodeRow, type SecretOutcome } from '../control/index.js'
import { parseSlot, type PeerId, type PeerMachine, type ServiceSpec, type SlotId } from '../../core/index.js'
import type { Host, P2pTransport } from '../../p2p/index.js'
import type { DesiredReplica } from './desired-replica.js'
import type { SlotHistory } from './slot-history.js'
import type { EventLog } from './event-log.js'
import { readLogs, type LogsContext } from './logs.js'
import { parseExecRequest, runExec, type ExecContext } from './exec.js'
import { nodeRows, serviceRow, serviceRows, taskRows, whyAnswer } from './views.js'
import { topAnswer } from './top.js'
import type { Discovery, TunnelServer } from '../discovery/index.js'

/** What the control API reads and edits of the agent: the Agent is one; a test can hand it a fake. */
export interface AgentContext extends LogsContext, ExecContext {
  readonly driver: LogsContext['driver'] & ExecContext['driver']
  readonly machine: Pick<PeerMachine, 'peerViews' | 'localTasks' | 'pendingServices' | 'memberRecords' | 'currentIncarnation' | 'advertisedUsage'>
  readonly replica: Pick<DesiredReplica, 'doc' | 'digest' | 'stats' | 'edit' | 'warnings'>
  readonly space: Pick<DataDirSpace, 'warnings'>
  readonly transport: Pick<P2pTransport, 'request' | 'handle' | 'peers' | 'stats'>
  readonly host: Pick<Host, 'addresses' | 'connectionFaults' | 'crossingConnectionsClosed' | 'connectionsOpened' | 'joinFailures' | 'reachability' | 'reachabilityOf' | 'linkTo'>
  readonly events: Pick<EventLog, 'recent' | 'follow'>
  /** When each peer was last heard from (any message), for `peer nodes`. */
  readonly lastHeard: ReadonlyMap<PeerId, number>
  /** Connections to peers opened since start. */
  readonly peerConnects: number
  /** This host's container engine, as found at start. */
  readonly engine: NodeRow['engine']
  /** Seals secrets written through `POST /v1/secrets`. */
  readonly clusterKey: Uint8Array
  /** Where each slot ran and why it moved, as this agent saw it. */
  readonly slotHistory: Pick<SlotHistory, 'of'>
  /** Service discovery, when it runs (node/discovery). */
  readonly discovery: Pick<Discovery, 'rows' | 'status'> | undefined
  /** The tunnel server (node/discovery/tunnel), once the agent started it. */
  readonly tunnels?: Pick<TunnelServer, 'stats'> | undefined
  /** Ports the agent itself listens on: a service may not publish them (they would clash on this host). */
  ownPorts(): readonly OwnPort[]
}

/** A port the agent listens on itself, and for what (`peer-to-peer`, `metrics`, `web view`, `DNS`). */
export interface OwnPort {
  readonly port: number
  readonly protocol: 'tcp' | 'udp'
  readonly what: string
}

/** The desired-state operations behind `POST /v1/nodes/:peer/:action`. */
const NODE_ACTIONS = { drain, cordon, uncordon } satisfies Record<NodeAction, unknown>

export function controlRoutes(agent: AgentContext): ControlRoute[] {
  const services = () => desiredState(agent.replica.doc).services
  const views = () => agent.machine.peerViews()
  const pending = () => agent.machine.pendingServices()
  const secrets = () => secretNames(agent.replica.doc).flatMap((name) => readSecretInfo(agent.replica.doc, name) ?? [])

  return serveApi({
    'GET /v1/health': () => ({ body: { ok: true, api: API_VERSION, peer: agent.self } }),
    'GET /v1/top': () => ({ body: topAnswer(agent.self, views(), agent.machine.advertisedUsage()) }),
    'GET /v1/endpoints': ({ query }) => {
      const service = query.get('service') ?? undefined
      if (service !== undefined && !services().some((s) => s.spec.name === service)) throw unknownService(service)
      const discovery = agent.discovery
      if (discovery === undefined) throw new ControlError(503, 'no-discovery', 'service discovery is not running on this agent')
      return { body: { self: agent.self, discovery: discovery.status(), ports: discovery.rows(service) } }
    },
    'GET /v1/stats': () => {
      const memory = process.memoryUsage()
      return {
        body: {
          peer: agent.self,
          uptimeMs: Math.round(process.uptime() * 1000),
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
          heapTotalBytes: memory.heapTotal,
          externalBytes: memory.external,
          arrayBuffersBytes: memory.arrayBuffers,
          connections: agent.transport.peers().length,
          peerConnects: agent.peerConnects,
          transport: agent.transport.stats(),
          desired: agent.replica.stats(),
          connectionFaults: agent.host.connectionFaults(),
          crossingConnectionsClosed: agent.host.crossingConnectionsClosed(),
          connectionsOpened: agent.host.connectionsOpened(),
          tunnels: agent.tunnels?.stats() ?? null,
        },
      }
    },
    'GET /v1/status': () => {
      const tasks = taskRows(views())
      const members = agent.machine.memberRecords()
      const count = (status: string) => members.filter((m) => m.status === status).length
      return {
        body: {
          peer: agent.self,
          addresses: agent.host.addresses(),
          incarnation: agent.machine.currentIncarnation(),
          desiredDigest: agent.replica.digest(),
          members: { alive: count('alive'), suspect: count('suspect'), dead: count('dead'), left: count('left') },
          services: serviceRows(services(), tasks, pending()),
          warnings: [...agent.replica.warnings(), ...agent.space.warnings()],
        },
      }
    },
    'GET /v1/services/:name': ({ params }) => {
      const all = services()
      const state = all.find((s) => s.spec.name === params.name)
      const why = state === undefined ? undefined : whyAnswer(state.spec.name, all, views(), pending())
      if (state === undefined || why === undefined) throw unknownService(params.name)
      const tasks = taskRows(views(), state.spec.name)
      return { body: { service: serviceRow(state, tasks, pending()), spec: state.spec, tasks, why } }
    },
    'GET /v1/tasks': ({ query }) => ({ body: { tasks: taskRows(views(), query.get('service') ?? undefined) } }),
    'GET /v1/nodes': () => {
      const used = new Map(topAnswer(agent.self, views(), agent.machine.advertisedUsage()).peers.map((row) => [row.peer, row.used]))
      const nodes = nodeRows(agent.self, agent.machine.memberRecords(), views(), agent.lastHeard, Date.now(), agent.engine).map((row) => ({
        ...row,
        used: used.get(row.peer) ?? null,
        reachability: row.self ? agent.host.reachability() : agent.host.reachabilityOf(row.peer),
        link: row.self ? null : (agent.host.linkTo(row.peer) ?? null),
      }))
      return { body: { nodes, joinFailures: agent.host.joinFailures() } }
    },
    'GET /v1/cluster': () => ({ body: { peers: views(), services: services().map((s) => s.spec), secrets: secrets() } }),
    'GET /v1/why/:target': ({ params }) => {
      const answer = whyAnswer(params.target, services(), views(), pending())
      if (answer === undefined) throw unknownService(parseSlot(params.target)?.service ?? params.target)
      return { body: answer }
    },
    'GET /v1/slots/:slot/history': ({ params }) => {
      const slot = slotParam(params.slot)
      return { body: { slot, placements: agent.slotHistory.of(slot) } }
    },
    'POST /v1/apply': async ({ body }) => {
      const specs = field<ServiceSpec[]>(body, 'services', Array.isArray, 'a list of service specs')
      refuseOwnPorts(specs, agent.ownPorts())
      return { body: await edit(agent, (doc) => apply(doc, specs, agent.self, Date.now())) }
    },
    'POST /v1/scale': async ({ body }) => {
      const service = field<string>(body, 'service', isString, 'a service name')
      const replicas = field<number>(body, 'replicas', Number.isSafeInteger, 'a whole number of replicas')
      return { body: await edit(agent, (doc) => scale(doc, service, replicas, agent.self, Date.now())) }
    },
    'POST /v1/remove': async ({ body }) => {
      const names = field<string[]>(body, 'services', (v) => Array.isArray(v) && v.length > 0 && v.every(isString), 'a non-empty list of service names')
      return { body: await edit(agent, (doc) => remove(doc, names, agent.self, Date.now())) }
    },
    'POST /v1/revert': async ({ body }) => {
      const service = field<string>(body, 'service', isString, 'a service name')
      const version = field<VersionRef>(body, 'version', isVersionRef, 'a version number or id, as peer history shows it (3, 2·1a2b)')
      return { body: await edit(agent, (doc) => revert(doc, service, version, agent.self, Date.now())) }
    },
    'GET /v1/history': ({ query }) => {
      const result = history(agent.replica.doc, query.get('service') ?? undefined)
      if (!result.ok) throw editError(result.error)
      return { body: { entries: result.entries } }
    },
    'POST /v1/nodes/:peer/:action': async ({ params }) => {
      const peer = resolvePeer(agent, params.peer)
      const action = params.action
      if (!isNodeAction(action)) throw new ControlError(404, 'not-found', `no node action ${JSON.stringify(action)} (drain, cordon or uncordon)`)
      const operation = NODE_ACTIONS[action]
      const result = await edit(agent, (doc) => operation(doc, peer, agent.self, Date.now()))
      return { body: { peer, action, ...result } }
    },
    'GET /v1/secrets': () => ({ body: { secrets: secrets() } }),
    'POST /v1/secrets': async ({ body }) => {
      const name = field<string>(body, 'name', isString, 'a secret name')
      const encoded = field<string>(body, 'valueBase64', isBase64, 'the value, base64-encoded')
      const ifChanged = optionalField<boolean>(body, 'ifChanged', isBoolean, 'true or false') === true
      const value = Buffer.from(encoded, 'base64')
      try {
        if (value.length === 0) throw new ControlError(400, 'empty-secret', `secret ${JSON.stringify(name)} has an empty value`)
        const result = await edit(agent, (doc): EditResult<{ version: number; unchanged: boolean }> => {
          // Compared in the step that would write: no other write of the secret can come between.
          const kept = ifChanged && secretHolds(doc, name, value, agent.clusterKey) ? readSecretInfo(doc, name) : undefined
          if (kept !== undefined) return { ok: true, doc, change: null, version: kept.version, unchanged: true }
          const written = setSecret(doc, name, value, agent.clusterKey, agent.self, Date.now())
          return written.ok ? { ...written, unchanged: false } : written
        })
        const outcome: SecretOutcome = result.unchanged ? 'unchanged' : result.version === 1 ? 'created' : 'updated'
        const secret = readSecretInfo(agent.replica.doc, name)
        if (secret === undefined) throw new Error(`secret ${name} is missing right after it was written`)
        return { body: { secret, outcome } }
      } finally {
        value.fill(0)
      }
    },
    'DELETE /v1/secrets/:name': async ({ params }) => {
      const name = params.name
      await edit(agent, (doc) => {
        // Checked in the same step as the removal: no apply can slip in between.
        const users = desiredState(doc).services.filter((s) => s.spec.secrets?.some((ref) => ref.name === name)).map((s) => s.spec.name)
        if (users.length > 0) {
          throw new ControlError(409, 'secret-in-use', `secret ${JSON.stringify(name)} is used by ${users.join(', ')}; take it out of their specs (or remove them) first`)
        }
        return removeSecret(doc, name, agent.self, Date.now())
      })
      return { body: { name } }
    },
    'GET /v1/events': ({ query, signal }) => (query.get('follow') === '1' ? { stream: agent.events.follow(signal) } : { body: { events: agent.events.recent() } }),
    'GET /v1/logs/:slot': ({ params, query, signal }) => {
      const slot = slotParam(params.slot)
      const tail = query.get('tail')
      const tailLines = tail === null ? undefined : Number(tail)
      if (tailLines !== undefined && (!Number.isSafeInteger(tailLines) || tailLines < 0)) throw new ControlError(400, 'bad-request', `tail must be a whole number, got ${JSON.stringify(tail)}`)
      return { stream: readLogs(agent, slot, { follow: query.get('follow') === '1', ...(tailLines === undefined ? {} : { tailLines }), signal }) }
    },
    'POST /v1/exec/:slot': async ({ params, body, signal }) => {
      const slot = slotParam(params.slot)
      const request = parseExecRequest({ ...(typeof body === 'object' && body !== null ? body : {}), slot })
      if (typeof request === 'string') throw new ControlError(400, 'bad-request', request)
      return { body: await runExec(agent, request, signal) }
    },
  })
}

function isNodeAction(action: string): action is NodeAction {
  return Object.hasOwn(NODE_ACTIONS, action)
}

/** Runs an edit and answers with its outcome (minus the document and change bytes). */
async function edit<T extends object>(agent: AgentContext, operation: (doc: DesiredDoc) => EditResult<T>): Promise<Omit<T, 'doc' | 'change'>> {
  const result = await agent.replica.edit(operation)
  if (!result.ok) throw editError(result.error)
  const { doc: _doc, change: _change, ok: _ok, ...rest } = result as { ok: true; doc: DesiredDoc; change: Uint8Array | null } & T
  return rest as Omit<T, 'doc' | 'change'>
}

/**
 * A published port that the agent itself listens on would clash on this host (in ingress mode on
 * every host): refused, naming the field and what holds the port. Other agents' own ports are theirs
 * to refuse; this one knows its own.
 */
function refuseOwnPorts(specs: readonly ServiceSpec[], own: readonly OwnPort[]): void {
  for (const spec of specs) {
    if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.ports)) continue
    for (const [i, port] of spec.ports.entries()) {
      const held = own.find((o) => o.port === port?.host && o.protocol === port?.protocol)
      if (held === undefined) continue
      throw new ControlError(400, 'invalid-spec', `service ${JSON.stringify(spec.name)} is not a valid spec: services.${spec.name}.ports[${i}].host: port ${held.port}/${held.protocol} is this agent's ${held.what} port`)
    }
  }
}

function editError(error: DesiredStateError): ControlError {
  const status = error.kind === 'unknown-service' || error.kind === 'unknown-version' || error.kind === 'unknown-secret' ? 404 : 400
  return new ControlError(status, error.kind, describeError(error))
}

function unknownService(name: string): ControlError {
  return new ControlError(404, 'unknown-service', `no service named ${JSON.stringify(name)}`)
}

/** `self`, a full peer id, or a unique prefix of a known member's id (ids are long). */
/** A route's `:slot`, or 400 `bad-slot`. */
function slotParam(given: string): SlotId {
  if (parseSlot(given) === undefined) throw new ControlError(400, 'bad-slot', `${JSON.stringify(given)} is not a slot (service/index or service@peer)`)
  return given as SlotId
}

function resolvePeer(agent: AgentContext, given: string): PeerId {
  if (given === 'self') return agent.self
  const members = agent.machine.memberRecords().map((m) => m.peer)
  if (members.includes(given as PeerId)) return given as PeerId
  const matches = members.filter((peer) => peer.startsWith(given))
  if (matches.length === 1) return matches[0]!
  if (matches.length > 1) throw new ControlError(400, 'ambiguous-peer', `${JSON.stringify(given)} matches ${matches.length} peers; give more of the id`)
  throw new ControlError(404, 'unknown-peer', `no peer ${JSON.stringify(given)} is known to ${agent.self} (see peer nodes)`)
}

function field<T>(body: unknown, name: string, check: (value: unknown) => boolean, expected: string): T {
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined
  if (!check(value)) throw new ControlError(400, 'bad-request', `the request body needs "${name}": ${expected}`)
  return value as T
}

/** A field the body may leave out; when given it must pass `check`. */
function optionalField<T>(body: unknown, name: string, check: (value: unknown) => boolean, expected: string): T | undefined {
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined
  if (value === undefined) return undefined
  if (!check(value)) throw new ControlError(400, 'bad-request', `the request body's "${name}" must be ${expected}`)
  return value as T
}

function isBoolean(value: unknown): value is boolean {
  return typeof value === 'boolean'
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value)
}

function isVersionRef(value: unknown): value is VersionRef {
  return (typeof value === 'number' || typeof value === 'string') && parseVersionRef(value) !== undefined
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}
