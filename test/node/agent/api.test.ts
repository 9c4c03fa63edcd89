// The agent's control API (node/agent/api.ts) against its route map (node/control/api-types.ts): it
// serves every route of the map and nothing else, and it answers through the CLI's typed client with
// nothing but a fake AgentContext behind it, so no libp2p host, replica or driver is needed.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ask, stream } from '../../../cli/agent-client.js'
import { UsageError } from '../../../cli/exit-codes.js'
import { peerId } from '../../../core/index.js'
import * as Automerge from '@automerge/automerge'
import { validateServices } from '../../../core/index.js'
import { apply, newDocument, scale, type DesiredDoc, type EditResult } from '../../../crdt/index.js'
import { controlRoutes, type AgentContext } from '../../../node/agent/api.js'
import { EventLog } from '../../../node/agent/event-log.js'
import { API_VERSION, type AgentEvent, type LogLine } from '../../../node/control/index.js'
import { withServer } from '../control/helpers.js'
import { ROUTE_NAMES } from '../control/requests.js'
import { SlotHistory } from '../../../node/agent/slot-history.js'

const SELF = peerId('self-peer')

const unused = (): never => {
  throw new Error('not used by this test')
}

/** An agent that runs no tasks and knows no peers; its driver has two lines of output for any slot. */
function fakeAgent(events = new EventLog()): AgentContext {
  return {
    self: SELF,
    machine: { peerViews: () => [], localTasks: () => [], pendingServices: () => [], memberRecords: () => [], currentIncarnation: () => 1, advertisedUsage: () => new Map() },
    replica: { get doc(): never { return unused() }, digest: unused, stats: unused, edit: unused, warnings: () => [] },
    space: { warnings: () => [] },
    transport: { peers: () => [], stats: unused, request: unused, handle: unused },
    host: { addresses: () => [], connectionFaults: () => 0, crossingConnectionsClosed: () => 0, connectionsOpened: () => 0, joinFailures: () => [], reachability: () => 'unknown', reachabilityOf: () => 'unknown', linkTo: () => undefined },
    driver: {
      logs: async function* () {
        yield 'hello'
        yield 'world'
      },
      exec: async () => undefined,
    },
    events,
    lastHeard: new Map(),
    peerConnects: 0,
    engine: { state: 'off', detail: 'containers are turned off' },
    slotHistory: new SlotHistory(),
    clusterKey: new Uint8Array(32),
    discovery: undefined,
    ownPorts: () => [],
  }
}

const api = suite('agent control API')

api('the agent serves every route of the map, and no other', () => {
  const served = controlRoutes(fakeAgent()).map((route) => `${route.method} ${route.path}`)
  assert.equal([...served].sort(), [...ROUTE_NAMES].sort())
})

api('a fake agent answers the typed client: health, tasks and events', async () => {
  const events = new EventLog()
  const started: AgentEvent = { at: 1, kind: 'agent', message: 'started' }
  events.push(started)
  await withServer(controlRoutes(fakeAgent(events)), async (socketPath) => {
    const peer = { peer: socketPath }
    assert.equal(await ask(peer, 'GET /v1/health'), { ok: true, api: API_VERSION, peer: SELF })
    assert.equal(await ask(peer, 'GET /v1/tasks', { query: { service: 'web' } }), { tasks: [] })
    assert.equal(await ask(peer, 'GET /v1/events'), { events: [started] })
  })
})

api('streams through the typed client: the kept events with follow=1, a local task\'s log lines', async () => {
  const events = new EventLog()
  events.push({ at: 1, kind: 'agent', message: 'started' })
  await withServer(controlRoutes(fakeAgent(events)), async (socketPath) => {
    const peer = { peer: socketPath }
    const controller = new AbortController()
    const followed: AgentEvent[] = []
    for await (const event of stream(peer, 'GET /v1/events', { query: { follow: '1' } }, controller.signal)) {
      followed.push(event)
      controller.abort()
    }
    assert.equal(followed, [{ at: 1, kind: 'agent', message: 'started' }])
    const lines: LogLine[] = []
    for await (const line of stream(peer, 'GET /v1/logs/:slot', { params: { slot: 'web/0' } }, new AbortController().signal)) lines.push(line)
    assert.equal(lines, [{ peer: SELF, line: 'hello' }, { peer: SELF, line: 'world' }])
  })
})

api('stats carry the connection faults, status the store warnings, nodes the failing join addresses', async () => {
  const agent = fakeAgent()
  const warning = { at: 5, source: 'desired-state' as const, message: 'desired state on disk: desired-state.log was damaged; moved to desired-state.log.damaged-1, started a new log' }
  const failure = { address: '/ip4/127.0.0.2/tcp/4001', since: 1, lastAttempt: 9, attempts: 5, kind: 'handshake' as const, reason: 'pre-shared key mismatch or not a peer' }
  const counters = { gossipReceived: 0, gossipRejected: 0, syncsRun: 0, syncsServed: 0, syncFailures: 0 }
  const faulty: AgentContext = {
    ...agent,
    host: { addresses: () => [], connectionFaults: () => 3, crossingConnectionsClosed: () => 0, connectionsOpened: () => 0, joinFailures: () => [failure], reachability: () => 'unknown', reachabilityOf: () => 'unknown', linkTo: () => undefined },
    replica: { get doc() { return newDocument('0000') }, digest: () => 'abc', stats: () => counters, edit: () => unused(), warnings: () => [warning] },
    transport: { ...agent.transport, stats: () => ({}) as ReturnType<AgentContext['transport']['stats']> },
  }
  await withServer(controlRoutes(faulty), async (socketPath) => {
    const peer = { peer: socketPath }
    assert.is((await ask(peer, 'GET /v1/stats')).connectionFaults, 3)
    assert.equal((await ask(peer, 'GET /v1/status')).warnings, [warning])
    assert.equal((await ask(peer, 'GET /v1/nodes')).joinFailures, [failure])
  })
})

api('an unknown node action is refused as before: 404 not-found, naming the actions there are', async () => {
  await withServer(controlRoutes(fakeAgent()), async (socketPath) => {
    try {
      await ask({ peer: socketPath }, 'POST /v1/nodes/:peer/:action', { params: { peer: 'self', action: 'reboot' } })
      assert.unreachable('reboot was accepted')
    } catch (error) {
      assert.instance(error, UsageError)
      assert.is((error as Error).message, 'no node action "reboot" (drain, cordon or uncordon)')
    }
  })
})

/** `web` scaled on one peer and its env changed on another at the same time, merged. */
function mergedDocument(): DesiredDoc {
  const parsed = validateServices({ services: { web: { image: 'nginx:1', replicas: 2, env: { LOG: 'info' } } } })
  if (!parsed.ok) throw new Error('invalid test spec')
  const web = parsed.services[0]!
  const created = apply(newDocument('01'.repeat(16)), [web], peerId('peer-a'), 1_000)
  if (!created.ok) throw new Error('apply failed')
  const scaled = scale(Automerge.clone(created.doc, { actor: '0a'.repeat(16) }), 'web', 5, peerId('peer-a'), 2_000)
  const changed = apply(Automerge.clone(created.doc, { actor: '0b'.repeat(16) }), [{ ...web, env: { LOG: 'debug' } }], peerId('peer-b'), 2_000)
  if (!scaled.ok || !changed.ok) throw new Error('edit failed')
  return Automerge.merge(scaled.doc, changed.doc)
}

/** A replica that holds `doc` and applies edits to it, as the real one does minus disk and gossip. */
function replicaOf(doc: DesiredDoc): AgentContext['replica'] {
  return {
    get doc() { return doc },
    digest: unused, stats: unused, warnings: () => [],
    edit: async <T extends object>(operation: (current: DesiredDoc) => EditResult<T>) => {
      const result = operation(doc)
      if (result.ok) doc = result.doc
      return result
    },
  }
}

api('history lists concurrent versions by unique ids and their merge; revert takes an id and refuses a shared number, naming the ids', async () => {
  const agent: AgentContext = { ...fakeAgent(), replica: replicaOf(mergedDocument()) }
  await withServer(controlRoutes(agent), async (socketPath) => {
    const peer = { peer: socketPath }
    const { entries } = await ask(peer, 'GET /v1/history', { query: { service: 'web' } })
    assert.equal(entries.map((e) => [e.version, e.action]), [[1, 'create'], [2, 'scale'], [2, 'update'], [3, 'merge']])
    const [, scaled, changed, merge] = entries
    assert.equal(merge!.parents, [scaled!.id, changed!.id])
    try {
      await ask(peer, 'POST /v1/revert', { body: { service: 'web', version: 2 } })
      assert.unreachable('an ambiguous number was accepted')
    } catch (error) {
      assert.instance(error, UsageError)
      assert.match((error as Error).message, `has 2 versions 2, written concurrently on different peers: ${scaled!.id}, ${changed!.id}; name one of these ids`)
    }
    const reverted = await ask(peer, 'POST /v1/revert', { body: { service: 'web', version: scaled!.id } })
    assert.equal([reverted.revertedToId, reverted.outcome.version, reverted.outcome.changed], [scaled!.id, 4, ['env.LOG']])
    const after = await ask(peer, 'GET /v1/history', { query: { service: 'web' } })
    assert.equal(after.entries.map((e) => [e.id, e.action, e.recorded]).slice(3), [['3', 'merge', true], ['4', 'revert', true]])
  })
})

api.run()
