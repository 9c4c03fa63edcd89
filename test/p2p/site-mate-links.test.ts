// When a relayed link to a host of this site is dialled directly (site-mate-links.ts): only for a
// site-mate reached only through a relay, at its own addresses, the end whose id sorts first at
// once and the other two checks later, and after a failed dial not again until its back-off.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { ownAddresses, relayedOnly, SiteMateLinks } from '../../p2p/site-mate-links.js'

const LOW = '12D3KooWAaaaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const HIGH = '12D3KooWZzzzXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const MATE = '12D3KooWMmmmXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const RELAY = '12D3KooWRelayXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'
const CHECK_MS = 5_000

const relayedAddress = (peer: string): string => `/ip4/198.51.100.1/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${peer}`
const announced = (peer: string): string[] => [`/ip4/10.150.3.3/tcp/4001/p2p/${peer}`, `/ip4/127.0.0.1/tcp/4001/p2p/${peer}`, relayedAddress(peer)]
const ANNOUNCED = announced(MATE)

function connection(peer: string, remoteAddr: string, status = 'open') {
  return { status, remotePeer: { toString: () => peer }, remoteAddr: multiaddr(remoteAddr) } as never
}

/** A node whose connections the test sets, recording every dial; dials resolve or fail as told. */
function fakeNode() {
  const dials: string[][] = []
  const node = {
    connections: [] as never[],
    outcome: 'direct' as 'direct' | 'fail',
    dials,
    getConnections: () => node.connections,
    dial: async (targets: Multiaddr[]) => {
      dials.push(targets.map(String))
      if (node.outcome === 'fail') throw new Error('connect ETIMEDOUT')
      return connection(MATE, '/ip4/10.150.3.3/tcp/4001')
    },
  }
  return node
}

function links(self: string, node: ReturnType<typeof fakeNode>, lines: string[] = []): SiteMateLinks {
  return new SiteMateLinks({ node: node as never, self, addressesOf: announced, dialTimeoutMs: 1_000, log: (line) => lines.push(line), tuning: { checkMs: CHECK_MS, failedRetryMs: 30_000, failedRetryMaxMs: 120_000 } })
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const mates = suite('p2p: relayed links to hosts of this site')

mates('own addresses: not circuits, not loopback, not another peer\'s, each ending in the peer\'s id', () => {
  assert.equal(ownAddresses(MATE, [...ANNOUNCED, `/ip4/10.150.3.9/tcp/4001/p2p/${RELAY}`, '/ip4/10.150.3.4/tcp/4001']), [`/ip4/10.150.3.3/tcp/4001/p2p/${MATE}`, `/ip4/10.150.3.4/tcp/4001/p2p/${MATE}`])
})

mates('relayed only: a peer with any open direct connection is not; closed connections do not count', () => {
  const connections = [
    connection(MATE, relayedAddress(MATE)),
    connection(HIGH, relayedAddress(HIGH)), connection(HIGH, '/ip4/10.150.3.5/tcp/4001'),
    connection(LOW, relayedAddress(LOW)), connection(LOW, '/ip4/10.150.3.6/tcp/4001', 'closed'),
  ]
  assert.equal([...relayedOnly(connections)].sort(), [LOW, MATE].sort())
})

mates('the end that sorts first dials a relayed site-mate at once, at its own addresses', async () => {
  const node = fakeNode()
  node.connections = [connection(MATE, relayedAddress(MATE))]
  const lines: string[] = []
  const upgrades = links(LOW, node, lines)
  upgrades.siteMates((peer) => peer === MATE)
  await settle()
  upgrades.stop()
  assert.equal(node.dials, [[`/ip4/10.150.3.3/tcp/4001/p2p/${MATE}`]])
  assert.is(upgrades.upgraded, 1)
  assert.match(lines.join('\n'), /is direct now/)
})

mates('the end that sorts last waits two checks, in case the other end\'s dial comes first', async () => {
  const node = fakeNode()
  node.connections = [connection(LOW, relayedAddress(LOW))]
  const upgrades = links(HIGH, node)
  upgrades.siteMates(() => true)
  const seenAt = performance.now()
  upgrades.check(seenAt + CHECK_MS)
  await settle()
  assert.equal(node.dials.length, 0)
  upgrades.check(seenAt + 2 * CHECK_MS)
  await settle()
  upgrades.stop()
  assert.equal(node.dials.length, 1)
})

mates('nothing once stopped, nor before the agent says who shares the site', async () => {
  const node = fakeNode()
  node.connections = [connection(MATE, relayedAddress(MATE))]
  const upgrades = links(LOW, node)
  upgrades.check()
  upgrades.stop()
  upgrades.siteMates(() => true)
  await settle()
  assert.equal(node.dials, [])
})

mates('nothing for a peer of another site, nor for one reached directly', async () => {
  const node = fakeNode()
  node.connections = [connection(MATE, relayedAddress(MATE)), connection(HIGH, relayedAddress(HIGH)), connection(HIGH, '/ip4/10.150.3.5/tcp/4001')]
  const upgrades = links(LOW, node)
  upgrades.siteMates((peer) => peer === HIGH)
  await settle()
  upgrades.stop()
  assert.equal(node.dials, [])
})

mates('a failed dial is said once and tried again only after its back-off, which doubles', async () => {
  const node = fakeNode()
  node.outcome = 'fail'
  node.connections = [connection(MATE, relayedAddress(MATE))]
  const lines: string[] = []
  const upgrades = links(LOW, node, lines)
  const failedAt = performance.now()
  upgrades.siteMates(() => true)
  await settle()
  assert.equal(node.dials.length, 1)
  upgrades.check(failedAt + 29_000)
  await settle()
  assert.equal(node.dials.length, 1, 'not before 30 s')
  upgrades.check(failedAt + 31_000)
  await settle()
  assert.equal(node.dials.length, 2, 'again after 30 s')
  upgrades.check(failedAt + 31_000 + 59_000)
  await settle()
  assert.equal(node.dials.length, 2, 'then not before 60 s more')
  upgrades.stop()
  assert.equal(lines.filter((line) => line.includes('cannot reach')).length, 1)
})

mates.run()
