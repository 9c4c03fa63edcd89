import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { UnsupportedProtocolError, type Connection } from '@libp2p/interface'
import { ConnectionMonitor, type MonitoredConnection } from '../../p2p/connection-monitor.js'
import { generateSwarmKey } from '../../p2p/index.js'
import { startJoined, waitFor, withPeers } from './helpers.js'

const monitor = suite('connection monitor')

/** A connection whose ping streams fail as `fail` says; records aborts. */
function fakeConnection(fail: () => Error, status: Connection['status'] = 'open') {
  const aborted: Error[] = []
  const connection = {
    status,
    newStream: async () => {
      throw fail()
    },
    abort: (error: Error) => void aborted.push(error),
  } as unknown as MonitoredConnection
  return { connection, aborted }
}

const timeoutError = (): Error => Object.assign(new Error('ping timed out'), { name: 'TimeoutError' })

function monitorOf(connections: MonitoredConnection[], onAbort?: (error: Error) => void) {
  return new ConnectionMonitor({ connections: () => connections, quietMs: 2_000, tickMs: 1_000, timeoutMinMs: 100, timeoutMaxMs: 200, onAbort })
}

monitor('a connection heard from within quietMs is not pinged; a quiet one, a never-heard one is; a closed one never', () => {
  const heard = fakeConnection(timeoutError)
  const quiet = fakeConnection(timeoutError)
  const never = fakeConnection(timeoutError)
  const closed = fakeConnection(timeoutError, 'closed')
  const m = monitorOf([heard.connection, quiet.connection, never.connection, closed.connection])
  m.heard(heard.connection, 10_000)
  m.heard(quiet.connection, 7_999)
  assert.equal(m.due(10_000), [quiet.connection, never.connection])
  assert.equal(m.due(11_999), [quiet.connection, never.connection])
  // Two seconds after it was last heard, the busy one is due too.
  assert.equal(m.due(12_000), [heard.connection, quiet.connection, never.connection])
})

monitor('a relayed connection (limits set) is pinged only after relayedQuietMs of quiet: its hops are watched on their own', () => {
  const direct = fakeConnection(timeoutError)
  const relayed = fakeConnection(timeoutError)
  Object.assign(relayed.connection, { limits: { bytes: 32n * 1024n * 1024n, seconds: 1_800 } })
  const neverHeardRelayed = fakeConnection(timeoutError)
  Object.assign(neverHeardRelayed.connection, { limits: { seconds: 1_800 } })
  const m = new ConnectionMonitor({ connections: () => [direct.connection, relayed.connection, neverHeardRelayed.connection], quietMs: 2_000, relayedQuietMs: 30_000, tickMs: 1_000, timeoutMinMs: 100, timeoutMaxMs: 200 })
  m.heard(direct.connection, 10_000)
  m.heard(relayed.connection, 10_000)
  assert.equal(m.due(12_000), [direct.connection, neverHeardRelayed.connection])
  assert.equal(m.due(39_999), [direct.connection, neverHeardRelayed.connection])
  assert.equal(m.due(40_000), [direct.connection, relayed.connection, neverHeardRelayed.connection])
  // A punched connection (direct, to a NAT router) has a window of its own too.
  const punched = fakeConnection(timeoutError)
  const withPunched = new ConnectionMonitor({ connections: () => [punched.connection], quietMs: 2_000, punched: (connection) => connection === punched.connection, punchedQuietMs: 15_000, tickMs: 1_000, timeoutMinMs: 100, timeoutMaxMs: 200 })
  withPunched.heard(punched.connection, 10_000)
  assert.equal(withPunched.due(24_999), [])
  assert.equal(withPunched.due(25_000), [punched.connection])
  // Without its own window, a relayed connection is pinged like any other.
  const plain = monitorOf([relayed.connection])
  plain.heard(relayed.connection, 10_000)
  assert.equal(plain.due(12_000), [relayed.connection])
})

monitor('a ping that fails aborts its connection; one answered "protocol not served" counts as hearing from it', async () => {
  const dead = fakeConnection(timeoutError)
  const alive = fakeConnection(() => new UnsupportedProtocolError('na'))
  const aborts: Error[] = []
  const m = monitorOf([dead.connection, alive.connection], (error) => aborts.push(error))
  m.tick()
  // While a ping is in flight its connection is not pinged again.
  assert.equal(m.due(), [])
  await waitFor(() => dead.aborted.length === 1, 1_000, 'the dead connection aborted')
  assert.is(dead.aborted[0]!.name, 'TimeoutError')
  assert.is(aborts.length, 1)
  assert.equal(alive.aborted, [])
  assert.is(m.pings, 2)
  assert.equal(m.due(), [dead.connection])
  assert.equal(m.due(performance.now() + 2_000).length, 2)
})

monitor("a muxer's own ping is used where it has one: answered, the connection counts as heard; timed out, it is aborted", async () => {
  const streamsOpened: string[] = []
  const withMuxer = (ping: () => Promise<number>) => {
    const aborted: Error[] = []
    const connection = {
      status: 'open',
      muxer: { ping },
      newStream: async (protocol: string) => {
        streamsOpened.push(protocol)
        throw new Error('no stream expected')
      },
      abort: (error: Error) => void aborted.push(error),
    } as unknown as MonitoredConnection
    return { connection, aborted }
  }
  const answering = withMuxer(async () => 3)
  const silent = withMuxer(() => new Promise<number>(() => undefined))
  const m = monitorOf([answering.connection, silent.connection])
  m.tick()
  await waitFor(() => silent.aborted.length === 1, 1_000, 'the silent connection aborted at the ping timeout')
  assert.is(answering.connection.rtt, 3)
  assert.equal(answering.aborted, [])
  assert.equal(streamsOpened, [], 'no ping stream opened')
  assert.equal(m.due(), [silent.connection])
})

monitor('pings a real connection over libp2p: the remote answers, the connection stays open', () => withPeers(async (start) => {
  const [a] = await startJoined(start, { swarmKey: generateSwarmKey(), seeds: ['monitor-a', 'monitor-b'] })
  await waitFor(() => a.transport.peers().length === 1, 5_000, 'A connected to B')
  const aborts: Error[] = []
  const m = new ConnectionMonitor({ connections: () => a.host.node.getConnections(), quietMs: 2_000, tickMs: 1_000, timeoutMinMs: 5_000, timeoutMaxMs: 10_000, onAbort: (error) => aborts.push(error) })
  const connections = a.host.node.getConnections()
  m.tick()
  assert.is(m.pings, connections.length)
  await waitFor(() => m.due().length === 0 && m.due(performance.now() + 2_000).length === connections.length, 5_000, 'the pings answered')
  m.stop()
  assert.equal(aborts, [])
  assert.ok(connections.every((connection) => connection.status === 'open'))
  // Yamux answered its own ping frame: the round trip is measured without a stream.
  assert.ok(connections.every((connection) => typeof connection.rtt === 'number' && connection.rtt >= 0))
}))

monitor.run()
