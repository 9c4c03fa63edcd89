import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { RPC } from '@libp2p/gossipsub/message'
import { peerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { fastGossipMessageId } from '../../p2p/gossip-message-id.js'
import { generateSwarmKey, identityFromSeed, PROTOCOL_TOPIC } from '../../p2p/index.js'
import { encodeMessage } from '../../core/index.js'
import { memberMessage, startPeer, stopAll, waitFor, waitForMesh, type TestPeer } from './helpers.js'

const ids = suite('fast gossip message id')

ids('names a message by author and sequence number, whatever its data or signature', () => {
  const from = new Uint8Array([0, 36, 8, 1, 18, 32, 7, 7])
  const seqno = new Uint8Array([0, 0, 1, 2, 3, 4, 5, 6])
  const id = fastGossipMessageId({ from, seqno })
  assert.is(fastGossipMessageId({ from: from.slice(), seqno: seqno.slice() }), id)
  assert.is.not(fastGossipMessageId({ from, seqno: new Uint8Array([0, 0, 1, 2, 3, 4, 5, 7]) }), id)
  assert.is.not(fastGossipMessageId({ from: new Uint8Array([0, 36, 8, 1, 18, 32, 7, 8]), seqno }), id)
  // An unsigned message has no id of its own (StrictSign rejects it before recording any id).
  assert.is(fastGossipMessageId({ data: new Uint8Array([1]) } as never), '')
})

ids('reads only the bytes of a field that is a view into a larger buffer', () => {
  const buffer = new Uint8Array([9, 9, 1, 2, 3, 9, 9, 4, 5, 9])
  const viewed = fastGossipMessageId({ from: buffer.subarray(2, 5), seqno: buffer.subarray(7, 9) })
  assert.is(viewed, fastGossipMessageId({ from: new Uint8Array([1, 2, 3]), seqno: new Uint8Array([4, 5]) }))
})

ids('two messages share an id exactly when author and sequence number are equal (property)', () => {
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 40 })
  fc.assert(fc.property(bytes, bytes, bytes, bytes, (fromA, seqA, fromB, seqB) => {
    const same = Buffer.from(fromA).equals(Buffer.from(fromB)) && Buffer.from(seqA).equals(Buffer.from(seqB))
    return (fastGossipMessageId({ from: fromA, seqno: seqA }) === fastGossipMessageId({ from: fromB, seqno: seqB })) === same
  }), { numRuns: 2_000 })
})

ids.run()

const duplicates = suite('gossip copies dropped by id')

/** A message on the protocol topic signed by `seed`'s key, as gossipsub builds one. */
async function signedRaw(seed: string, data: Uint8Array, seqno: Uint8Array): Promise<RPC.Message> {
  const { privateKey, peerId } = await identityFromSeed(seed)
  const from = peerIdFromString(peerId).toMultihash().bytes
  const unsigned: RPC.Message = { from, data, seqno, topic: PROTOCOL_TOPIC }
  const signed = new Uint8Array([...new TextEncoder().encode('libp2p-pubsub:'), ...RPC.Message.encode(unsigned)])
  return { ...unsigned, signature: await privateKey.sign(signed), key: publicKeyToProtobuf(privateKey.publicKey) }
}

duplicates('a forged copy sent first (the author\'s id and seqno, other data) does not hide the real message', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  try {
    const a = await startPeer({ swarmKey, seed: 'fast-id-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey, seed: 'fast-id-b', join: a.host.addresses() })
    peers.push(b)
    await waitForMesh(peers, 8_000)
    const seqno = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 42])
    const real = await signedRaw('fast-id-a', encodeMessage(memberMessage(a.host.peerId, 7)), seqno)
    // A peer holding the swarm key forwards a copy with the real author, seqno and signature but its own data.
    const forged: RPC.Message = { ...real, data: encodeMessage(memberMessage(a.host.peerId, 99)) }
    // gossipsub's own send path, past A's publish (which would sign and number the message itself).
    const send = (message: RPC.Message): boolean => (a.host.pubsub as unknown as { sendRpc(to: string, rpc: RPC): boolean }).sendRpc(b.host.peerId, { subscriptions: [], messages: [message] })
    assert.ok(send(forged), 'A has a gossip stream to B')
    assert.ok(send(real))
    await waitFor(() => b.received.length >= 1, 5_000, 'the real message at B')
    // A copy of the real message sent again is a duplicate: not delivered twice.
    assert.ok(send(real))
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(b.received.map(({ message }) => message), [memberMessage(a.host.peerId, 7)])
  } finally {
    await stopAll(peers)
  }
})

duplicates.run()
