// The order a peer's addresses are dialled in (dial-order.ts): a peer behind NAT in another site
// through a circuit on a relay one hop away first, its unreachable private addresses last; a host
// of this site, and every peer not behind NAT, as libp2p orders them.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { multiaddr } from '@multiformats/multiaddr'
import type { NetworkInterfaceInfo } from 'node:os'
import { dialOrder, dialRank, DIAL_RANK, localSubnets, NodeDialView, peerOfAddress, type DialOrderView } from '../../p2p/dial-order.js'
import type { Reachability } from '../../p2p/nat.js'

const PEER = '12D3KooWPeerBehindNatXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const UP = '12D3KooWRelayConnectedXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const AWAY = '12D3KooWRelayNotConnectedXXXXXXXXXXXXXXXXXXXXXXXXXX'

const circuit = (relay: string, ip: string, peer = PEER): string => `/ip4/${ip}/tcp/4001/p2p/${relay}/p2p-circuit/p2p/${peer}`
const direct = (ip: string, peer = PEER): string => `/ip4/${ip}/tcp/4001/p2p/${peer}`

/** This host: on 10.1.0.0/24 (site A); the peer announced site B's 10.2.0.4 and two circuits. */
function view(overrides: Partial<{ reachability: Reachability; dialled: boolean; doubted: readonly string[] }> = {}): DialOrderView {
  return {
    reachabilityOf: () => overrides.reachability ?? 'nat',
    connectedDirectly: (peer) => peer === UP,
    dialledDirectly: () => overrides.dialled ?? false,
    onLocalSubnet: (ip) => ip.startsWith('10.1.0.'),
    doubted: (peer) => overrides.doubted?.includes(peer) ?? false,
  }
}

function sorted(addresses: readonly string[], current: DialOrderView | undefined): string[] {
  const sorter = dialOrder(() => current)
  return addresses
    .map((address) => ({ multiaddr: multiaddr(address), isCertified: false }))
    .sort(sorter)
    .map((address) => address.multiaddr.toString())
}

const SITE_B = [direct('10.2.0.4'), circuit(AWAY, '198.51.100.9'), circuit(UP, '198.51.100.7')]

test('a peer behind NAT in another site: the circuit on a connected relay, then the other circuit, its private address last', () => {
  assert.equal(sorted(SITE_B, view()), [circuit(UP, '198.51.100.7'), circuit(AWAY, '198.51.100.9'), direct('10.2.0.4')])
})

test('a relay the membership protocol suspects comes after the other circuits, connected or not, and before the private address', () => {
  assert.equal(sorted(SITE_B, view({ doubted: [UP] })), [circuit(AWAY, '198.51.100.9'), circuit(UP, '198.51.100.7'), direct('10.2.0.4')])
})

test('a peer behind NAT on this host\'s subnet (a host of the same site): its LAN address first', () => {
  const announced = [circuit(UP, '198.51.100.7'), direct('10.1.0.3'), direct('10.2.0.4')]
  assert.equal(sorted(announced, view()), [direct('10.1.0.3'), circuit(UP, '198.51.100.7'), direct('10.2.0.4')])
})

test('a peer not known to be behind NAT, or one this host once dialled directly: libp2p\'s order (private before circuits)', () => {
  const libp2pOrder = [direct('10.2.0.4'), circuit(AWAY, '198.51.100.9'), circuit(UP, '198.51.100.7')]
  for (const reachability of ['public', 'unknown'] as const) assert.equal(sorted(SITE_B, view({ reachability })), libp2pOrder, reachability)
  assert.equal(sorted(SITE_B, view({ dialled: true })), libp2pOrder)
  assert.equal(sorted(SITE_B, undefined), libp2pOrder, 'before the view exists')
})

test('libp2p\'s order still holds within a rank: a public address before a private one', () => {
  const announced = [direct('10.2.0.4'), direct('1.1.1.4')] // (documentation ranges count as private to libp2p)
  assert.equal(sorted(announced, view()), [direct('1.1.1.4'), direct('10.2.0.4')])
})

test('an address names its peer by its last /p2p/ component; one with none ranks as libp2p orders it', () => {
  assert.is(peerOfAddress(circuit(UP, '198.51.100.7')), PEER)
  assert.is(peerOfAddress('/ip4/10.2.0.4/tcp/4001'), undefined)
  assert.is(dialRank('/ip4/10.2.0.4/tcp/4001', view()), DIAL_RANK.localSubnet)
})

// Property: whatever the peer announced, whichever relays are connected or doubted, a peer behind NAT
// that was never dialled directly is tried through every circuit before any address off this host's
// subnets, through every relay not doubted before any doubted one, and the sort only reorders.
test('property: circuits before off-subnet direct addresses, doubted relays after the others, nothing lost', () => {
  const relays = [UP, AWAY, '12D3KooWThirdRelayXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX']
  const ip = fc.tuple(fc.constantFrom('10.1.0', '10.2.0', '192.168.1', '203.0.113'), fc.integer({ min: 1, max: 254 })).map(([net, host]) => `${net}.${host}`)
  const address = fc.oneof(ip.map((at) => direct(at)), fc.tuple(fc.constantFrom(...relays), ip).map(([relay, at]) => circuit(relay, at)))
  fc.assert(
    fc.property(fc.uniqueArray(address, { maxLength: 12 }), fc.subarray(relays), fc.subarray(relays), (addresses, connected, doubted) => {
      const current: DialOrderView = { ...view({ doubted }), connectedDirectly: (peer) => connected.includes(peer) }
      const order = sorted(addresses, current)
      assert.equal([...order].sort(), [...addresses].sort())
      const ranks = order.map((a) => dialRank(a, current))
      const isCircuit = order.map((a) => a.includes('/p2p-circuit'))
      const lastCircuit = isCircuit.lastIndexOf(true)
      const firstOffSubnet = ranks.indexOf(DIAL_RANK.direct)
      if (lastCircuit >= 0 && firstOffSubnet >= 0) assert.ok(lastCircuit < firstOffSubnet, order.join('\n'))
      const firstDoubted = ranks.indexOf(DIAL_RANK.circuitThroughDoubtedRelay)
      const lastTrusted = Math.max(ranks.lastIndexOf(DIAL_RANK.circuit), ranks.lastIndexOf(DIAL_RANK.circuitThroughConnectedRelay))
      if (firstDoubted >= 0 && lastTrusted >= 0) assert.ok(lastTrusted < firstDoubted, order.join('\n'))
      for (const [index, at] of order.entries()) if (isCircuit[index]) assert.is(ranks[index] === DIAL_RANK.circuitThroughDoubtedRelay, doubted.some((relay) => at.includes(`/p2p/${relay}/p2p-circuit`)))
    }),
  )
})

function nic(address: string, cidr: string, family: 'IPv4' | 'IPv6' = 'IPv4', internal = false): NetworkInterfaceInfo {
  return { address, cidr, family, internal, netmask: '', mac: '00:00:00:00:00:00', ...(family === 'IPv6' ? { scopeid: 0 } : {}) } as NetworkInterfaceInfo
}

test('local subnets: an interface\'s whole subnet; not loopback, not IPv6 link-local, not other networks', () => {
  const onSubnet = localSubnets({
    lo: [nic('127.0.0.1', '127.0.0.1/8', 'IPv4', true), nic('::1', '::1/128', 'IPv6', true)],
    eth0: [nic('10.1.0.2', '10.1.0.2/24'), nic('fe80::1', 'fe80::1/64', 'IPv6'), nic('2001:db8:1::2', '2001:db8:1::2/64', 'IPv6')],
  })
  assert.ok(onSubnet('10.1.0.200'))
  assert.ok(onSubnet('2001:db8:1::99'))
  for (const ip of ['10.1.1.2', '10.2.0.4', '127.0.0.1', 'fe80::2', '2001:db8:2::2', 'not-an-ip']) assert.not.ok(onSubnet(ip), ip)
})

/** A node as NodeDialView uses it: connections and their open events. */
function fakeNode(connections: Array<{ status: string; direction: string; remotePeer: string; remoteAddr: string }>) {
  const listeners = new Set<(event: CustomEvent) => void>()
  const shaped = () => connections.map((c) => ({ ...c, remotePeer: { toString: () => c.remotePeer }, remoteAddr: multiaddr(c.remoteAddr) }))
  return {
    getConnections: () => shaped() as never,
    addEventListener: (_: string, listener: (event: CustomEvent) => void) => listeners.add(listener),
    removeEventListener: (_: string, listener: (event: CustomEvent) => void) => listeners.delete(listener),
    open(index: number) {
      for (const listener of listeners) listener(new CustomEvent('connection:open', { detail: shaped()[index] }))
    },
  }
}

test('the node\'s view: peers it dialled directly (not those that dialled it, nor relayed links), relays one hop away', () => {
  const node = fakeNode([
    { status: 'open', direction: 'outbound', remotePeer: 'dialled', remoteAddr: '/ip4/10.3.0.2/tcp/4001' },
    { status: 'open', direction: 'inbound', remotePeer: 'dialler', remoteAddr: '/ip4/10.3.0.3/tcp/4001' },
    { status: 'open', direction: 'outbound', remotePeer: 'relayed', remoteAddr: `/ip4/198.51.100.7/tcp/4001/p2p/${UP}/p2p-circuit` },
    { status: 'closed', direction: 'outbound', remotePeer: 'gone', remoteAddr: '/ip4/10.3.0.4/tcp/4001' },
  ])
  const current = new NodeDialView({ node: node as never, reachabilityOf: () => 'nat', interfaces: () => ({}) })
  current.start()
  for (const index of [0, 1, 2]) node.open(index)
  assert.equal(['dialled', 'dialler', 'relayed'].map((peer) => current.dialledDirectly(peer)), [true, false, false])
  assert.equal(['dialled', 'dialler', 'relayed', 'gone'].map((peer) => current.connectedDirectly(peer)), [true, true, false, false])
  current.stop()
  node.open(1)
  assert.not.ok(current.dialledDirectly('dialler'))
})

test('the node\'s view doubts a peer from its suspicion or death until it is alive again', () => {
  const current = new NodeDialView({ node: fakeNode([]) as never, reachabilityOf: () => 'nat', interfaces: () => ({}) })
  current.doubt(UP)
  current.doubt(UP)
  assert.ok(current.doubted(UP))
  assert.not.ok(current.doubted(AWAY))
  current.trust(UP)
  assert.not.ok(current.doubted(UP))
})

test('the node\'s view reads the interfaces again once they may have changed, not at every dial', () => {
  let reads = 0
  let now = 0
  let subnet = '10.1.0.2/24'
  const current = new NodeDialView({
    node: fakeNode([]) as never,
    reachabilityOf: () => 'nat',
    interfaces: () => {
      reads++
      return { eth0: [nic(subnet.split('/')[0]!, subnet)] }
    },
    now: () => now,
  })
  assert.ok(current.onLocalSubnet('10.1.0.9'))
  subnet = '10.9.0.2/24'
  now = 5_000
  assert.ok(current.onLocalSubnet('10.1.0.9'))
  assert.is(reads, 1)
  now = 20_000
  assert.not.ok(current.onLocalSubnet('10.1.0.9'))
  assert.ok(current.onLocalSubnet('10.9.0.9'))
  assert.is(reads, 2)
})

test.run()
