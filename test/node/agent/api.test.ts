// The agent's control API (node/agent/api.ts) against its route map (node/control/api-types.ts): it
// serves every route of the map and nothing else, and it answers through the CLI's typed client with
// nothing but a fake AgentContext behind it, so no libp2p host, replica or driver is needed.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ask, stream } from '../../../cli/agent-client.js'
import { UsageError } from '../../../cli/exit-codes.js'
import { peerId } from '../../../core/index.js'
import { newDocument } from '../../../crdt/index.js'
import { controlRoutes, type AgentContext } from '../../../node/agent/api.js'
import { EventLog } from '../../../node/agent/event-log.js'
import { API_VERSION, type AgentEvent, type LogLine } from '../../../node/control/index.js'
import { withServer } from '../control/helpers.js'
import { ROUTE_NAMES } from '../control/requests.js'

const SELF = peerId('self-peer')

const unused = (): never => {
  throw new Error('not used by this test')
}

/** An agent that runs no tasks and knows no peers; its driver has two lines of output for any slot. */
function fakeAgent(events = new EventLog()): AgentContext {
  return {
    self: SELF,
    machine: { peerViews: () => [], localTasks: () => [], pendingServices: () => [], memberRecords: () => [], currentIncarnation: () => 1 },
    replica: { get doc(): never { return unused() }, digest: unused, stats: unused, edit: unused, warnings: () => [] },
    transport: { peers: () => [], stats: unused, request: unused, handle: unused },
    host: { addresses: () => [], connectionFaults: () => 0, joinFailures: () => [] },
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
    clusterKey: new Uint8Array(32),
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
    host: { addresses: () => [], connectionFaults: () => 3, joinFailures: () => [failure] },
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

api.run()
