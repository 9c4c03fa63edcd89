// Two peers dialling each other at once are settled before either handshake (p2p/dial-race.ts): the
// end whose id sorts first refuses the other's connection while its own dial to that peer is being
// upgraded, and the refused end's sends go on the connection that wins.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { KEEP_ALIVE } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { DialRace, type RawConnection } from '../../p2p/dial-race.js'
import { generateSwarmKey } from '../../p2p/index.js'
import type { PeerId } from '../../core/index.js'
import { pingMessage, received, sleep, waitFor, withPeers, type TestPeer } from './helpers.js'

const SMALL = '12D3KooWAAAA'
const LARGE = '12D3KooWZZZZ'
const OTHER = '12D3KooWMMMM'
/** A real peer id, for multiaddrs that must parse. */
const RELAY = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'

/** A raw connection from (or to) `ip`, open until closed or aborted. */
function raw(ip: string): RawConnection & { close(): void; aborted: boolean } {
  const connection = {
    remoteAddr: multiaddr(`/ip4/${ip}/tcp/40000`),
    status: 'open' as RawConnection['status'],
    aborted: false,
    close: () => void (connection.status = 'closed'),
    abort: () => {
      connection.aborted = true
      connection.status = 'closed'
    },
  }
  return connection
}

/** A connection that opened to `peer` at `ip`, as libp2p announces it. */
const openedTo = (peer: string, ip: string, limits?: object) => ({ remotePeer: { toString: () => peer }, remoteAddr: multiaddr(`/ip4/${ip}/tcp/4001`), limits }) as unknown as Parameters<DialRace['opened']>[0]

const peerId = (id: string) => ({ toString: () => id }) as unknown as Parameters<DialRace['outboundStarted']>[0]

/** A race whose host has no open direct connection unless `open` says so. */
const raceOf = (self: string, options: { open?: (peer: string) => boolean; crossingWaitMs?: number; now?: () => number } = {}) =>
  new DialRace(self, options.open ?? (() => false), 3_000, options.crossingWaitMs ?? 250, options.now)

const rule = suite('dial race: the rule')

rule('the smaller id refuses a peer\'s inbound connection while its own dial to that peer is upgrading', () => {
  const race = raceOf(SMALL)
  race.opened(openedTo(LARGE, '10.0.0.2'))
  const ours = raw('10.0.0.2')
  assert.is(race.outboundStarted(peerId(LARGE), ours), false, 'our own dial goes on')
  assert.is(race.inboundArrived(raw('10.0.0.2')), true)
  assert.is(ours.aborted, false)
  assert.is(race.crossingsClosed, 1)
})

rule('the larger id keeps the same one: it accepts the inbound connection and abandons its own dial', () => {
  const race = raceOf(LARGE)
  race.opened(openedTo(SMALL, '10.0.0.1'))
  const ours = raw('10.0.0.1')
  race.outboundStarted(peerId(SMALL), ours)
  assert.is(race.inboundArrived(raw('10.0.0.1')), false)
  assert.is(ours.aborted, true)
  assert.is(race.crossingsClosed, 1)
})

rule('the other order — the peer\'s connection upgrading when ours reaches it — keeps the smaller id\'s outbound one too', () => {
  const small = raceOf(SMALL)
  small.opened(openedTo(LARGE, '10.0.0.2'))
  const theirs = raw('10.0.0.2')
  assert.is(small.inboundArrived(theirs), false, 'nothing of ours yet: accepted')
  assert.is(small.outboundStarted(peerId(LARGE), raw('10.0.0.2')), false, 'ours goes on')
  assert.is(theirs.aborted, true, 'theirs is closed')
  const large = raceOf(LARGE)
  large.opened(openedTo(SMALL, '10.0.0.1'))
  const inbound = raw('10.0.0.1')
  large.inboundArrived(inbound)
  assert.is(large.outboundStarted(peerId(SMALL), raw('10.0.0.1')), true, 'ours is dropped')
  assert.is(inbound.aborted, false)
})

rule('a dial that reaches a peer to which a direct connection opened meanwhile is dropped; one begun after it opened is not', () => {
  let now = 0
  const race = raceOf(SMALL, { open: (peer) => peer === LARGE || peer === OTHER, now: () => now })
  race.dialStarted(peerId(LARGE))
  now = 10
  race.opened(openedTo(LARGE, '10.0.0.2'))
  now = 20
  assert.is(race.outboundStarted(peerId(LARGE), raw('10.0.0.2')), true, 'it was racing the connection that opened')
  race.opened(openedTo(OTHER, '10.0.0.3'))
  now = 30
  race.dialStarted(peerId(OTHER))
  assert.is(race.outboundStarted(peerId(OTHER), raw('10.0.0.3')), false, 'a second connection asked for while one was open')
})

rule('nothing is closed without a dial of ours in progress, once it closed, or once it is older than the upgrade timeout', () => {
  let now = 0
  const race = raceOf(SMALL, { now: () => now })
  race.opened(openedTo(LARGE, '10.0.0.2'))
  assert.is(race.inboundArrived(raw('10.0.0.2')), false, 'no dial of ours')
  const closed = raw('10.0.0.2')
  race.opened(openedTo(LARGE, '10.0.0.2'))
  race.outboundStarted(peerId(LARGE), closed)
  closed.close()
  assert.is(race.inboundArrived(raw('10.0.0.2')), false, 'our dial failed')
  race.opened(openedTo(LARGE, '10.0.0.2'))
  race.outboundStarted(peerId(LARGE), raw('10.0.0.2'))
  now = 3_001
  assert.is(race.inboundArrived(raw('10.0.0.2')), false, 'our dial is stuck past the upgrade timeout')
  race.opened(openedTo(LARGE, '10.0.0.2'))
  race.outboundStarted(peerId(LARGE), raw('10.0.0.2'))
  race.opened(openedTo(LARGE, '10.0.0.2'))
  assert.is(race.inboundArrived(raw('10.0.0.2')), false, 'a connection opened meanwhile ends the dial\'s claim')
  assert.is(race.crossingsClosed, 0)
})

rule('an inbound connection arriving moments after our own dial began is held until that dial reaches the peer, then refused', async () => {
  const race = raceOf(SMALL)
  race.opened(openedTo(LARGE, '10.0.0.2'))
  race.dialStarted(peerId(LARGE))
  const held = race.inboundArrived(raw('10.0.0.2'))
  assert.instance(held, Promise, 'held, not answered at once')
  setTimeout(() => race.outboundStarted(peerId(LARGE), raw('10.0.0.2')), 20)
  assert.is(await held, true)
  assert.is(race.crossingsClosed, 1)
})

rule('a held inbound connection is accepted when our dial does not reach the peer in time, and not held at all for a dial begun earlier', async () => {
  let now = 0
  const race = raceOf(SMALL, { crossingWaitMs: 100, now: () => now })
  race.opened(openedTo(LARGE, '10.0.0.2'))
  race.dialStarted(peerId(LARGE))
  now = 60
  const startedAt = performance.now()
  assert.is(await race.inboundArrived(raw('10.0.0.2')), false)
  assert.ok(performance.now() - startedAt < 1_000, 'held for what remained of the moment, not longer')
  now = 100
  assert.is(race.inboundArrived(raw('10.0.0.2')), false, 'a dial begun 100 ms ago (a stale one: SYNs lost to a cut) is not waited for')
  assert.is(race.crossingsClosed, 0)
})

rule('an IP is the peer\'s only when no other peer was ever seen there (several agents behind one address keep both connections)', () => {
  const race = raceOf(SMALL)
  race.outboundStarted(peerId(LARGE), raw('10.0.0.2'))
  assert.is(race.inboundArrived(raw('10.0.0.2')), false, 'an IP never seen: first contact has its own rule')
  race.opened(openedTo(LARGE, '10.0.0.2'))
  race.opened(openedTo(OTHER, '10.0.0.2'))
  race.outboundStarted(peerId(LARGE), raw('10.0.0.2'))
  assert.is(race.inboundArrived(raw('10.0.0.2')), false, 'two peers seen at that IP')
  assert.is(race.crossingsClosed, 0)
})

rule('a dial through a relay is not the other half of a crossing: an inbound connection from the peer\'s IP then is another host\'s (one behind the same router)', () => {
  const race = raceOf(SMALL)
  race.opened(openedTo(LARGE, '10.0.0.2'))
  const circuit = { ...raw('10.0.0.9'), remoteAddr: multiaddr(`/ip4/10.0.0.9/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${RELAY}`) }
  race.outboundStarted(peerId(LARGE), circuit)
  assert.is(race.inboundArrived(raw('10.0.0.2')), false)
  assert.is(race.crossingsClosed, 0)
})

rule('relayed connections teach nothing about IPs', () => {
  const race = raceOf(SMALL)
  race.opened(openedTo(LARGE, '10.0.0.2', { bytes: 1n }))
  race.outboundStarted(peerId(LARGE), raw('10.0.0.2'))
  assert.is(race.inboundArrived(raw('10.0.0.2')), false)
})

rule('a dropped dial waits for the peer\'s connection being upgraded, and gives up when there is none', async () => {
  const race = raceOf(LARGE)
  race.opened(openedTo(SMALL, '10.0.0.1'))
  assert.is(await race.connectionFrom(SMALL, 1_000, undefined, 20), false, 'nothing of the peer\'s upgrading')
  assert.is(race.inboundArrived(raw('10.0.0.1')), false)
  const waiting = race.connectionFrom(SMALL, 2_000)
  setTimeout(() => race.opened(openedTo(SMALL, '10.0.0.1')), 50)
  assert.is(await waiting, true, 'the peer\'s connection opened')
  const other = raw('10.0.0.1')
  race.inboundArrived(other)
  const failing = race.connectionFrom(SMALL, 2_000)
  setTimeout(() => other.close(), 50)
  assert.is(await failing, false, 'the peer\'s upgrade failed: no connection to wait for')
})

rule.run()

const live = suite('dial race: two real peers redialling each other')

/** Drops the KEEP_ALIVE tag the host gives every peer it connects to (libp2p redials tagged peers). */
const untag = (peer: TestPeer, other: TestPeer): Promise<unknown> => peer.host.node.peerStore.merge(peerIdFromString(other.host.peerId), { tags: { [KEEP_ALIVE]: undefined } })

const connections = (peer: TestPeer, other: TestPeer): number => peer.host.node.getConnections(peerIdFromString(other.host.peerId)).filter((c) => c.status === 'open').length

live('after a drop both ends send at once: one connection per round, every send delivered, and the crossing connection closed before its handshake', () => withPeers(async (start) => {
  const swarmKey = generateSwarmKey()
  // Two addresses of their own, as hosts have: an inbound connection's IP then names its peer.
  const a = await start({ swarmKey, seed: 'dial-race-a', listen: ['/ip4/127.0.0.2/tcp/0'], })
  const b = await start({ swarmKey, seed: 'dial-race-b', listen: ['/ip4/127.0.0.3/tcp/0'], })
  const [small, large] = a.host.peerId < b.host.peerId ? [a, b] : [b, a]
  await small.host.node.peerStore.merge(peerIdFromString(large.host.peerId), { multiaddrs: large.host.addresses().map((address) => multiaddr(address)) })
  await large.host.node.peerStore.merge(peerIdFromString(small.host.peerId), { multiaddrs: small.host.addresses().map((address) => multiaddr(address)) })
  // A first connection from each side, so each has seen the other's IP both ways.
  assert.ok((await small.transport.send(large.host.peerId as PeerId, pingMessage(0))).ok)
  await received(large, 1, 5_000)
  const rounds = 8
  let sent = 1
  const pairs: string[] = []
  for (let round = 1; round <= rounds; round++) {
    // Untagged, libp2p does not redial on its own: only the two sends below dial.
    await untag(small, large)
    await untag(large, small)
    await small.host.node.hangUp(peerIdFromString(large.host.peerId))
    await waitFor(() => connections(small, large) === 0 && connections(large, small) === 0, 5_000, 'both sides to see the drop')
    await sleep(50)
    const [fromSmall, fromLarge] = await Promise.all([small.transport.send(large.host.peerId as PeerId, pingMessage(sent)), large.transport.send(small.host.peerId as PeerId, pingMessage(sent))])
    sent++
    assert.equal([fromSmall.ok, fromLarge.ok], [true, true], `round ${round}: ${JSON.stringify([fromSmall, fromLarge])}`)
    await received(large, sent, 5_000)
    await received(small, sent - 1, 5_000)
    // Before the duplicate rule would close anything (duplicate-connections.ts, seconds later).
    pairs.push(`${connections(small, large)}/${connections(large, small)}`)
  }
  const closed = small.host.crossingConnectionsClosed() + large.host.crossingConnectionsClosed()
  console.log(`    ${rounds} rounds: connections after each ${pairs.join(' ')}; crossing connections closed before their handshake: ${small.host.crossingConnectionsClosed()} by the smaller id, ${large.host.crossingConnectionsClosed()} by the larger`)
  assert.ok(closed >= rounds / 2, `crossing connections closed in at least half the rounds: ${closed} of ${rounds}`)
  assert.equal(pairs.filter((pair) => pair !== '1/1'), [], 'one connection per pair after every round')
}))

live.run()
