// Which routes a relayed link moves to when its relay goes away (relay-failover.ts): the peer's
// announced circuits on relays this host is directly connected to, never the lost relay's, never a
// circuit through a relayed connection, never another peer's address.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { multiaddr } from '@multiformats/multiaddr'
import { circuitRoutes } from '../../p2p/relay-failover.js'

const PEER = '12D3KooWPeerBehindNatXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const LOST = '12D3KooWLostRelayXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const OTHER = '12D3KooWOtherRelayXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const THIRD = '12D3KooWThirdRelayXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'

const circuit = (relay: string, ip: string, peer = PEER): string => `/ip4/${ip}/tcp/4001/p2p/${relay}/p2p-circuit/p2p/${peer}`
const ANNOUNCED = [`/ip4/10.2.0.2/tcp/4001/p2p/${PEER}`, circuit(LOST, '198.51.100.1'), circuit(OTHER, '198.51.100.7'), circuit(THIRD, '198.51.100.9')]

function connection(peer: string, remoteAddr: string, status = 'open') {
  return { status, remotePeer: { toString: () => peer }, remoteAddr: multiaddr(remoteAddr) } as never
}

test('the circuits on relays with an open direct connection, in the order announced', () => {
  const connections = [connection(OTHER, '/ip4/198.51.100.7/tcp/4001'), connection(THIRD, '/ip4/198.51.100.9/tcp/4001')]
  assert.equal(circuitRoutes(PEER, ANNOUNCED, connections), [circuit(OTHER, '198.51.100.7'), circuit(THIRD, '198.51.100.9')])
})

test('not through the lost relay (its connection closed), nor one reached only through a relay, nor the private address', () => {
  const connections = [
    connection(LOST, '/ip4/198.51.100.1/tcp/4001', 'closed'),
    connection(THIRD, `/ip4/198.51.100.7/tcp/4001/p2p/${OTHER}/p2p-circuit`),
  ]
  assert.equal(circuitRoutes(PEER, ANNOUNCED, connections), [])
})

test('only the peer\'s own circuits, and none through itself', () => {
  const connections = [connection(OTHER, '/ip4/198.51.100.7/tcp/4001'), connection(PEER, '/ip4/10.2.0.2/tcp/4001')]
  const announced = [circuit(OTHER, '198.51.100.7', THIRD), circuit(PEER, '10.2.0.2'), circuit(OTHER, '198.51.100.7')]
  assert.equal(circuitRoutes(PEER, announced, connections), [circuit(OTHER, '198.51.100.7')])
})

test.run()
