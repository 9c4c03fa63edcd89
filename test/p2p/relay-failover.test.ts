// Which routes a relayed link moves to when its relay goes away (relay-failover.ts): the peer's
// announced circuits on relays this host is directly connected to, never the lost relay's, never a
// circuit through a relayed connection, never another peer's address.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { multiaddr } from '@multiformats/multiaddr'
import { circuitRoutes, RelayFailover } from '../../p2p/relay-failover.js'

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

/**
 * A libp2p node as RelayFailover uses it: its connections, its dials (answered by `answer`; 'hang'
 * waits for the dial's signal, as a circuit through a relay that lost power does), its close events.
 */
class FakeNode {
  readonly dials: Array<{ addresses: string[]; force: boolean }> = []
  private readonly listeners = new Set<(event: CustomEvent) => void>()
  constructor(public connections: FakeConnection[], private readonly answer: (addresses: string[]) => FakeConnection | Error | 'hang') {}
  getConnections() { return this.connections as never }
  addEventListener(_: string, listener: (event: CustomEvent) => void) { this.listeners.add(listener) }
  removeEventListener(_: string, listener: (event: CustomEvent) => void) { this.listeners.delete(listener) }
  async dial(addresses: unknown, options: { force?: boolean; signal: AbortSignal }) {
    const list = (addresses as { toString(): string }[]).map(String)
    this.dials.push({ addresses: list, force: options.force === true })
    const answered = this.answer(list)
    if (answered === 'hang') return new Promise<never>((_, reject) => options.signal.addEventListener('abort', () => reject(options.signal.reason as Error)))
    if (answered instanceof Error) throw answered
    this.connections.push(answered)
    return answered as never
  }
  close(connection: FakeConnection) {
    connection.status = 'closed'
    for (const listener of this.listeners) listener(new CustomEvent('connection:close', { detail: connection }))
  }
}

interface FakeConnection { status: string; remotePeer: { toString(): string }; remoteAddr: ReturnType<typeof multiaddr>; aborted?: string; abort(error: Error): void }

function fake(peer: string, remoteAddr: string): FakeConnection {
  return {
    status: 'open', remotePeer: { toString: () => peer }, remoteAddr: multiaddr(remoteAddr),
    abort(error: Error) {
      this.status = 'closed'
      this.aborted = error.message
    },
  }
}

const viaLost = () => fake(PEER, `/ip4/198.51.100.1/tcp/4001/p2p/${LOST}/p2p-circuit`)
const toRelays = () => [fake(LOST, '/ip4/198.51.100.1/tcp/4001'), fake(OTHER, '/ip4/198.51.100.7/tcp/4001')]
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

/** This host: its id sorts before PEER's, so it is the end that moves their link. */
const SELF = '12D3KooWAaThisHostXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'

function failover(node: FakeNode, lines: string[] = [], self = SELF, doubted: readonly string[] = []): RelayFailover {
  const failover = new RelayFailover({ node: node as never, self, addressesOf: (peer) => (peer === PEER ? ANNOUNCED : []), dialTimeoutMs: 1_000, log: (line) => lines.push(line), doubted: (peer) => doubted.includes(peer) })
  failover.start()
  return failover
}

test('a suspected relay: its links are dialled through another relay, forced, and the old relayed connection closed once the new one is open', async () => {
  const old = viaLost()
  const node = new FakeNode([...toRelays(), old], () => fake(PEER, `/ip4/198.51.100.7/tcp/4001/p2p/${OTHER}/p2p-circuit`))
  const lines: string[] = []
  const relays = failover(node, lines)
  relays.moveOffRelay(LOST)
  await settle()
  assert.equal(node.dials, [{ addresses: [circuit(OTHER, '198.51.100.7')], force: true }])
  assert.match(old.aborted ?? '', `relay ${LOST} is suspected`)
  assert.is(relays.moved, 1)
  assert.match(lines[0] ?? '', `moved from relay ${LOST} to ${OTHER}`)
  relays.stop()
})

test('a suspected relay whose link cannot move: nothing dialled, the reason said; a link with another path is left alone', async () => {
  const lines: string[] = []
  const lonely = new FakeNode([fake(LOST, '/ip4/198.51.100.1/tcp/4001'), viaLost()], () => new Error('not called'))
  failover(lonely, lines).moveOffRelay(LOST)
  assert.equal(lonely.dials, [])
  assert.match(lines[0] ?? '', 'stays: no other route (2 other circuits announced by the peer)')
  const covered = new FakeNode([...toRelays(), viaLost(), fake(PEER, '/ip4/10.2.0.2/tcp/4001')], () => new Error('not called'))
  failover(covered).moveOffRelay(LOST)
  assert.equal(covered.dials, [])
})

test('the last connection to a peer closes and it was relayed: redialled at once through the relays left; a direct one closing is not this module\'s', async () => {
  const relayed = viaLost()
  const node = new FakeNode([fake(OTHER, '/ip4/198.51.100.7/tcp/4001'), relayed], () => fake(PEER, `/ip4/198.51.100.7/tcp/4001/p2p/${OTHER}/p2p-circuit`))
  failover(node)
  node.close(relayed)
  await settle()
  assert.equal(node.dials.map((dial) => dial.addresses), [[circuit(OTHER, '198.51.100.7')]])
  const direct = fake(PEER, '/ip4/10.2.0.2/tcp/4001')
  const other = new FakeNode([fake(OTHER, '/ip4/198.51.100.7/tcp/4001'), direct], () => new Error('not called'))
  failover(other)
  other.close(direct)
  assert.equal(other.dials, [])
})

test('no link is moved onto a relay the membership protocol doubts, though it still looks connected', async () => {
  const relayed = viaLost()
  const answer = () => fake(PEER, `/ip4/198.51.100.7/tcp/4001/p2p/${OTHER}/p2p-circuit`)
  const doubting = new FakeNode([...toRelays(), relayed], answer)
  failover(doubting, [], SELF, [LOST]).moveOffRelay(THIRD) // no link through THIRD: nothing to move
  doubting.close(relayed)
  await settle()
  assert.equal(doubting.dials.map((dial) => dial.addresses), [[circuit(OTHER, '198.51.100.7')]])
  const trusting = new FakeNode([...toRelays(), viaLost()], answer)
  failover(trusting).moveOffRelay(THIRD)
  trusting.close(trusting.connections[2]!)
  await settle()
  assert.equal(trusting.dials.map((dial) => dial.addresses), [[circuit(LOST, '198.51.100.1'), circuit(OTHER, '198.51.100.7')]])
  const lines: string[] = []
  const onlyDoubted = new FakeNode([fake(LOST, '/ip4/198.51.100.1/tcp/4001'), fake(OTHER, '/ip4/198.51.100.7/tcp/4001'), fake(PEER, `/ip4/198.51.100.9/tcp/4001/p2p/${THIRD}/p2p-circuit`)], answer)
  failover(onlyDoubted, lines, SELF, [LOST, OTHER]).moveOffRelay(THIRD)
  assert.equal(onlyDoubted.dials, [])
  assert.match(lines[0] ?? '', 'stays: no other route')
})

test('a redial under way through a relay that becomes suspected is given up, and the peer dialled again through the others', async () => {
  const relayed = fake(PEER, `/ip4/198.51.100.9/tcp/4001/p2p/${THIRD}/p2p-circuit`)
  const node = new FakeNode([...toRelays(), relayed], (addresses) => (addresses.includes(circuit(LOST, '198.51.100.1')) ? 'hang' : fake(PEER, `/ip4/198.51.100.7/tcp/4001/p2p/${OTHER}/p2p-circuit`)))
  const lines: string[] = []
  const relays = failover(node, lines)
  node.close(relayed)
  await settle()
  assert.equal(node.dials.map((dial) => dial.addresses), [[circuit(LOST, '198.51.100.1'), circuit(OTHER, '198.51.100.7')]])
  relays.moveOffRelay(LOST)
  await settle()
  await settle()
  assert.equal(node.dials.map((dial) => dial.addresses)[1], [circuit(OTHER, '198.51.100.7')])
  assert.ok(lines.some((line) => line.includes(`could not move from relay ${THIRD}: relay ${LOST} is suspected`)), lines.join('\n'))
  assert.ok(lines.some((line) => line.includes(`moved from relay ${LOST} to ${OTHER}`)), lines.join('\n'))
  assert.is(relays.moved, 1)
  relays.stop()
})

test('of the two ends of a link, only the one whose id sorts first moves it', async () => {
  const node = new FakeNode([...toRelays(), viaLost()], () => new Error('not called'))
  failover(node, [], '12D3KooWZzAfterThePeerXXXXXXXXXXXXXXXXXXXXXXXXXXXX').moveOffRelay(LOST)
  assert.equal(node.dials, [])
})

test('a failed redial is said and can be tried again', async () => {
  const node = new FakeNode([...toRelays(), viaLost()], () => new Error('relay refused'))
  const lines: string[] = []
  const relays = failover(node, lines)
  relays.moveOffRelay(LOST)
  await settle()
  relays.moveOffRelay(LOST)
  await settle()
  assert.is(node.dials.length, 2)
  assert.equal(lines, [`relayed link to ${PEER} could not move from relay ${LOST}: relay refused (tried 1 route(s))`, `relayed link to ${PEER} could not move from relay ${LOST}: relay refused (tried 1 route(s))`])
  assert.is(relays.moved, 0)
})

test.run()
