// Two peers that learn of each other at the same moment and both send at once keep one connection,
// not two (p2p/transport.ts, firstContactWaitMs): the one with the larger id waits for the other's.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { generateSwarmKey } from '../../p2p/index.js'
import type { PeerId } from '../../core/index.js'
import { pingMessage, received, withPeers, type TestPeer } from './helpers.js'

const contact = suite('first contact')

/** Tells `peer` where `other` listens, as membership would: the transport then dials it by id. */
async function introduce(peer: TestPeer, other: TestPeer): Promise<void> {
  await peer.host.node.peerStore.merge(peerIdFromString(other.host.peerId), { multiaddrs: other.host.addresses().map((address) => multiaddr(address)) })
}

const connections = (peer: TestPeer, other: TestPeer): number => peer.host.node.getConnections(peerIdFromString(other.host.peerId)).filter((c) => c.status === 'open').length

for (const wait of [250, 0]) {
  contact(`both send at once${wait === 0 ? ' with no first-contact wait: two connections (what the wait is for)' : ': one connection, both messages delivered'}`, () => withPeers(async (start) => {
    const swarmKey = generateSwarmKey()
    const tuning = { firstContactWaitMs: wait }
    const a = await start({ swarmKey, seed: 'first-contact-a', transport: { tuning } })
    const b = await start({ swarmKey, seed: 'first-contact-b', transport: { tuning } })
    await introduce(a, b)
    await introduce(b, a)
    const [aSent, bSent] = await Promise.all([a.transport.send(b.host.peerId as PeerId, pingMessage(1)), b.transport.send(a.host.peerId as PeerId, pingMessage(2))])
    assert.equal([aSent.ok, bSent.ok], [true, true])
    await received(a, 1, 5_000)
    await received(b, 1, 5_000)
    const counts = [connections(a, b), connections(b, a)]
    if (wait === 0) assert.equal(counts, [2, 2], 'without the wait both dials made a connection (the world no longer shows the case)')
    else assert.equal(counts, [1, 1])
  }))
}

contact.run()
