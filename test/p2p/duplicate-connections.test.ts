// One connection per pair (p2p/duplicate-connections.ts): the rule, and real libp2p peers that
// dialled each other at once, or hold a second connection, keeping gossip and direct messages flowing.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '@libp2p/interface'
import { duplicatesToClose, type OpenConnection } from '../../p2p/duplicate-connections.js'
import { generateSwarmKey, type SwarmKey } from '../../p2p/index.js'
import type { PeerId } from '../../core/index.js'
import { memberMessage, pingMessage, TEST_TUNING, waitFor, waitForMesh, withPeers, type StartOptions, type TestPeer } from './helpers.js'

const rule = suite('duplicate connections: the rule')

rule('all but the oldest once every one has settled; none while one is young', () => {
  const a = { id: 'a', openedAt: 1_000, relayed: false }
  const b = { id: 'b', openedAt: 1_200, relayed: false }
  const c = { id: 'c', openedAt: 900, relayed: false }
  assert.equal(duplicatesToClose([a, b, c], 10_000, 5_000).sort(), ['a', 'b'])
  assert.equal(duplicatesToClose([a, b], 6_100, 5_000), [], 'b opened 4.9 s ago: not yet')
  assert.equal(duplicatesToClose([a], 60_000, 5_000), [])
  assert.equal(duplicatesToClose([], 60_000, 5_000), [])
  // Opened in the same millisecond: the smaller id stays.
  assert.equal(duplicatesToClose([{ id: 'y', openedAt: 5, relayed: false }, { id: 'x', openedAt: 5, relayed: false }], 60_000, 5_000), ['y'])
})

rule('a direct connection is kept over an older relayed one; between relayed ones, the oldest', () => {
  const circuit = { id: 'circuit', openedAt: 100, relayed: true }
  const direct = { id: 'direct', openedAt: 2_000, relayed: false }
  const otherCircuit = { id: 'other-circuit', openedAt: 300, relayed: true }
  assert.equal(duplicatesToClose([circuit, direct, otherCircuit], 60_000, 5_000).sort(), ['circuit', 'other-circuit'])
  assert.equal(duplicatesToClose([otherCircuit, circuit], 60_000, 5_000), ['other-circuit'])
})

rule('keeps exactly one, the same one in any order: direct if any is, and the oldest of its kind (property)', () => {
  const connection = fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), openedAt: fc.integer({ min: 0, max: 10_000 }), relayed: fc.boolean() })
  const distinct = fc.uniqueArray(connection, { selector: (c) => c.id, minLength: 2, maxLength: 8 })
  fc.assert(fc.property(distinct, fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 10_000 }), (connections: OpenConnection[], now, settleMs) => {
    const closed = duplicatesToClose(connections, now, settleMs)
    const settled = connections.every((c) => now - c.openedAt >= settleMs)
    if (!settled) return closed.length === 0
    const kept = connections.filter((c) => !closed.includes(c.id))
    const anyDirect = connections.some((c) => !c.relayed)
    const sameKind = connections.filter((c) => c.relayed === !anyDirect)
    const reversed = duplicatesToClose([...connections].reverse(), now, settleMs)
    return kept.length === 1 && kept[0]!.relayed === !anyDirect && kept[0]!.openedAt === Math.min(...sameKind.map((c) => c.openedAt)) &&
      [...reversed].sort().join() === [...closed].sort().join()
  }), { numRuns: 2_000 })
})

rule.run()

const peers = suite('duplicate connections: real peers')

const SETTLE_MS = 400

function options(swarmKey: SwarmKey, seed: string, settleMs = SETTLE_MS, join?: string[]): StartOptions {
  return { swarmKey, seed, ...(join === undefined ? {} : { join }), host: { tuning: { ...TEST_TUNING, duplicateSettleMs: settleMs } } }
}

const openTo = (peer: TestPeer, other: TestPeer): Connection[] =>
  peer.host.node.getConnections(peerIdFromString(other.host.peerId)).filter((connection) => connection.status === 'open')

/**
 * A broadcast from each reaches the other, and a direct message each way. Sent again every 300 ms
 * until they arrive: gossip is not queued, and what is published in the moment between a
 * connection closing and gossipsub's streams moving to the other one is lost (as over any drop).
 */
async function bothWays(a: TestPeer, b: TestPeer, round: number): Promise<void> {
  const arrived = (peer: TestPeer, from: TestPeer, kind: 'member' | 'ping'): boolean =>
    peer.received.some(({ from: sender, message }) => sender === from.host.peerId && (message.kind === 'member' ? kind === 'member' && message.record.incarnation === round : message.kind === 'ping' && kind === 'ping' && message.seq === round))
  const deadline = performance.now() + 8_000
  while (!(arrived(a, b, 'member') && arrived(b, a, 'member') && arrived(a, b, 'ping') && arrived(b, a, 'ping'))) {
    assert.ok(performance.now() < deadline, `gossip and direct messages both ways (round ${round}) within 8 s`)
    await a.transport.broadcast(memberMessage(a.host.peerId, round))
    await b.transport.broadcast(memberMessage(b.host.peerId, round))
    await a.transport.send(b.host.peerId as PeerId, pingMessage(round))
    await b.transport.send(a.host.peerId as PeerId, pingMessage(round))
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

peers('two peers that join through each other at once end with one connection, and gossip and direct messages still flow', () => withPeers(async (start) => {
  const swarmKey = generateSwarmKey()
  // Both listen first, then each is told the other: both dial at start, as join lists naming each other do.
  const a = await start(options(swarmKey, 'duplicate-a'))
  const b = await start(options(swarmKey, 'duplicate-b', SETTLE_MS, a.host.addresses()))
  await a.host.node.dial(multiaddr(b.host.addresses()[0]!), { force: true })
  await waitFor(() => openTo(a, b).length >= 2, 5_000, 'a second connection')
  await waitFor(() => openTo(a, b).length === 1 && openTo(b, a).length === 1, 5_000, 'one connection left on each side')
  await waitForMesh([a, b], 8_000)
  await bothWays(a, b, 1)
}))

peers('closing the connection gossip runs on, while another stays open, leaves gossip working both ways', () => withPeers(async (start) => {
  const swarmKey = generateSwarmKey()
  // No automatic closing here (settle of an hour): the test closes the connection itself.
  const a = await start(options(swarmKey, 'reattach-a', 3_600_000))
  const b = await start(options(swarmKey, 'reattach-b', 3_600_000, a.host.addresses()))
  await waitForMesh([a, b], 8_000)
  await bothWays(a, b, 1)
  await a.host.node.dial(multiaddr(b.host.addresses()[0]!), { force: true })
  await waitFor(() => openTo(a, b).length === 2, 5_000, 'a second connection')
  // Identify on the new connection announces it to gossipsub, which then has its streams already:
  // only after that does closing the other leave gossipsub with none (the case reattach is for).
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const gossipConnection = openTo(a, b).find((connection) => connection.streams.some((stream) => stream.protocol?.startsWith('/meshsub/') === true))
  assert.ok(gossipConnection !== undefined, 'one connection carries gossip')
  await gossipConnection.close()
  assert.is(openTo(a, b).length, 1)
  await bothWays(a, b, 2)
}))

peers.run()
