import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { DIRECT_PROTOCOL, generateSwarmKey, identityFromSeed, PROTOCOL_TOPIC, type InvalidMessage } from '../../p2p/index.js'
import { lengthPrefix } from '../../p2p/frames.js'
import { encodeMessage, type Message } from '../../core/index.js'
import { advertMessage, memberMessage, pingMessage, sleep, startPeer, stopAll, waitFor, waitForMesh, type TestPeer } from './helpers.js'

const transport = suite('transport')

transport('three peers with one swarm key exchange broadcasts and direct messages, decoded equal to what was sent', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  try {
    const a = await startPeer({ swarmKey, seed: 'mesh-a' })
    peers.push(a)
    // B and C are told only about A; the address book must introduce them to each other.
    const b = await startPeer({ swarmKey, seed: 'mesh-b', join: a.host.addresses() })
    peers.push(b)
    const c = await startPeer({ swarmKey, seed: 'mesh-c', join: a.host.addresses() })
    peers.push(c)
    await waitForMesh(peers, 8_000)

    const member = memberMessage(a.host.peerId, 7)
    const advert = advertMessage(a.host.peerId, 3)
    assert.equal(await a.transport.broadcast(member), { ok: true, recipients: 2 })
    assert.ok((await a.transport.broadcast(advert)).ok)
    await waitFor(() => b.received.length >= 2 && c.received.length >= 2, 5_000, 'both broadcasts at B and C')
    for (const peer of [b, c]) {
      assert.equal(
        peer.received.map((r) => [r.from, r.message]),
        [
          [a.host.peerId, member],
          [a.host.peerId, advert],
        ],
      )
    }

    // Direct, B → C (never configured to know each other) and C → A, in order.
    const pings: Message[] = Array.from({ length: 20 }, (_, i) => pingMessage(i))
    for (const ping of pings) assert.equal(await b.transport.send(c.host.peerId, ping), { ok: true })
    const ack: Message = { kind: 'ack', seq: 4, desired: '0123456789abcdef', updates: [], target: b.host.peerId as never }
    assert.equal(await c.transport.send(a.host.peerId, ack), { ok: true })
    await waitFor(() => c.received.length >= 22 && a.received.length >= 1, 5_000, 'direct messages')
    assert.equal(c.received.slice(2).map((r) => [r.from, r.message]), pings.map((p) => [b.host.peerId, p]))
    assert.equal(a.received.map((r) => [r.from, r.message]), [[c.host.peerId, ack]])

    assert.is(a.transport.stats().published, 2)
    assert.is(c.transport.stats().delivered, 2)
    assert.is(c.transport.stats().directReceived, 20)
    assert.is(b.transport.stats().directSent, 20)
    assert.equal(a.transport.peers(), [b.host.peerId, c.host.peerId].sort())
  } finally {
    await stopAll(peers)
  }
})

transport('invalid gossip is rejected in the validator, counted, reported and not delivered; nothing crashes', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  try {
    const a = await startPeer({ swarmKey, seed: 'gossip-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey, seed: 'gossip-b', join: a.host.addresses() })
    peers.push(b)
    await waitForMesh(peers, 8_000)
    const reports: InvalidMessage[] = []
    b.transport.onInvalid((event) => reports.push(event))

    // A misbehaving peer publishes straight on the topic, past its own transport's checks.
    const encoder = new TextEncoder()
    const garbage = [
      new Uint8Array([0xff, 0x00, 0x13, 0x37]),
      encoder.encode('{"v":1,"kind":"ping","seq":-1,"desired":"x","updates":[]}'),
      encoder.encode('{"v":99,"kind":"ping"}'),
      encoder.encode('[1,2,3]'),
      // Well-formed, but A speaks for B: forged.
      encodeMessage(advertMessage(b.host.peerId, 9)),
    ]
    for (const bytes of garbage) await a.host.pubsub.publish(PROTOCOL_TOPIC, bytes)
    // An unknown kind is a newer peer's message: ignored and counted apart, not rejected.
    await a.host.pubsub.publish(PROTOCOL_TOPIC, encoder.encode('{"v":1,"kind":"gossip-v2","x":1}'))
    await waitFor(() => b.transport.stats().rejected === 5 && b.transport.stats().newer === 1, 5_000, 'rejections at B')
    assert.equal(reports.map((r) => [r.channel, r.from, r.error.code]), [
      ['gossip', a.host.peerId, 'not-json'],
      ['gossip', a.host.peerId, 'bad-shape'],
      ['gossip', a.host.peerId, 'bad-version'],
      ['gossip', a.host.peerId, 'bad-shape'],
      ['gossip', a.host.peerId, 'bad-shape'],
    ])
    assert.equal(reports[1]!.error.path, 'seq')
    assert.equal(reports[4]!.error.path, 'advert.peer')
    assert.is(b.received.length, 0)

    // The transport itself refuses to publish what others would reject.
    const invalid = { kind: 'member', record: { peer: 'has space', incarnation: 1, status: 'alive' } } as unknown as Message
    const refused = await a.transport.broadcast(invalid)
    assert.is(refused.ok, false)
    if (!refused.ok) assert.is(refused.error.code, 'invalid')
    const bigState: Message = { kind: 'state', members: [], adverts: Array.from({ length: 10_000 }, (_, i) => advertMessage(`peer-${i}`, i)).map((m) => (m as Extract<Message, { kind: 'advert' }>).advert) }
    const tooLarge = await a.transport.broadcast(bigState)
    assert.is(tooLarge.ok, false)
    if (!tooLarge.ok) assert.is(tooLarge.error.code, 'too-large')
    assert.is(a.transport.stats().broadcastRefused, 2)

    // The channel still works.
    await a.transport.broadcast(memberMessage(a.host.peerId, 1))
    await waitFor(() => b.received.length === 1, 5_000, 'a valid broadcast after garbage')
    assert.equal(b.received[0]!.message, memberMessage(a.host.peerId, 1))
  } finally {
    await stopAll(peers)
  }
})

transport('garbage on the direct stream is counted and resets that stream; valid messages still flow', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  try {
    const a = await startPeer({ swarmKey, seed: 'direct-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey, seed: 'direct-b', join: a.host.addresses() })
    peers.push(b)
    await waitFor(() => a.transport.peers().length === 1, 5_000, 'A and B connected')
    const reports: InvalidMessage[] = []
    b.transport.onInvalid((event) => reports.push(event))
    const target = peerIdFromString(b.host.peerId)
    const raw = async (bytes: Uint8Array, close: boolean): Promise<Stream> => {
      const stream = await a.host.node.dialProtocol(target, DIRECT_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
      stream.send(bytes)
      if (close) await stream.close().catch(() => undefined)
      return stream
    }
    const framed = (bytes: Uint8Array): Uint8Array => new Uint8Array([...lengthPrefix(bytes.length), ...bytes])

    // 1. a well-framed message that is not one: reset after counting.
    const notJson = await raw(framed(new TextEncoder().encode('hello, not json')), false)
    await waitFor(() => b.transport.stats().directInvalid === 1, 5_000, 'first invalid frame counted')
    await waitFor(() => notJson.status !== 'open', 5_000, 'the bad stream reset')
    // 2. a length prefix far over the limit (1 GiB).
    await raw(lengthPrefix(1024 * 1024 * 1024), false)
    await waitFor(() => b.transport.stats().directInvalid === 2, 5_000, 'oversized frame counted')
    // 3. random bytes, then a clean close in the middle of a "frame".
    await raw(new Uint8Array([0x05, 0x01, 0x02]), true)
    await waitFor(() => b.transport.stats().directInvalid === 3, 5_000, 'truncated frame counted')
    // 4. a valid frame of the right shape but a bad field.
    await raw(framed(new TextEncoder().encode('{"v":1,"kind":"ping-req","seq":1,"target":"no/slash"}')), false)
    await waitFor(() => b.transport.stats().directInvalid === 4, 5_000, 'bad-shape frame counted')
    assert.equal(reports.map((r) => [r.channel, r.from, r.error.code]), [
      ['direct', a.host.peerId, 'not-json'],
      ['direct', a.host.peerId, 'too-large'],
      ['direct', a.host.peerId, 'too-large'],
      ['direct', a.host.peerId, 'bad-shape'],
    ])
    assert.is(b.received.length, 0)

    // Valid traffic, both ways, on the same connection.
    assert.equal(await a.transport.send(b.host.peerId, pingMessage(1)), { ok: true })
    assert.equal(await b.transport.send(a.host.peerId, pingMessage(2)), { ok: true })
    await waitFor(() => b.received.length === 1 && a.received.length === 1, 5_000, 'valid direct messages')
    assert.equal(b.received[0]!.message, pingMessage(1))
    assert.is(b.transport.stats().directReceived, 1)
  } finally {
    await stopAll(peers)
  }
})

transport('a listener that throws is counted, not fatal: the other listeners still get gossip and direct messages', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  // A throw escaping gossipsub's event dispatch would surface here (and, in an agent, end the process).
  const uncaught: unknown[] = []
  const onUncaught = (error: unknown): void => void uncaught.push(error)
  process.on('uncaughtException', onUncaught)
  try {
    const a = await startPeer({ swarmKey, seed: 'listener-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey, seed: 'listener-b', join: a.host.addresses() })
    peers.push(b)
    await waitForMesh([a, b], 8_000)
    b.transport.onMessage(() => {
      throw new Error('a listener with a bug')
    })
    b.transport.onInvalid(() => {
      throw new Error('an invalid-listener with a bug')
    })
    const later: Message[] = []
    b.transport.onMessage((_from, message) => void later.push(message))
    assert.is((await a.transport.broadcast(memberMessage(a.host.peerId, 7))).ok, true)
    assert.equal(await a.transport.send(b.host.peerId, pingMessage(8)), { ok: true })
    await waitFor(() => later.length === 2, 5_000, 'both messages reached the listener after the throwing one')
    assert.equal(later, [memberMessage(a.host.peerId, 7), pingMessage(8)])
    // And an invalid direct frame, whose report reaches a listener that throws too.
    const stream = await a.host.node.dialProtocol(peerIdFromString(b.host.peerId), DIRECT_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
    stream.send(new Uint8Array([...lengthPrefix(3), 0x7b, 0x7d, 0x7d]))
    await waitFor(() => b.transport.stats().directInvalid === 1, 5_000, 'the invalid frame counted')
    await sleep(200)
    assert.equal(uncaught, [])
    assert.is(b.transport.stats().listenerErrors, 3)
  } finally {
    process.off('uncaughtException', onUncaught)
    await stopAll(peers)
  }
})

transport('send refuses what it cannot deliver, as values: invalid, self, bad id, unreachable peer', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  try {
    const a = await startPeer({ swarmKey, seed: 'refuse-a' })
    peers.push(a)
    const stranger = (await identityFromSeed('nobody-listens')).peerId
    const codes = [
      await a.transport.send(stranger, { kind: 'ping', seq: -5, desired: 'x', updates: [] }),
      await a.transport.send(a.host.peerId, pingMessage(1)),
      await a.transport.send('not a peer id', pingMessage(1)),
      await a.transport.send(stranger, pingMessage(1)),
    ].map((result) => (result.ok ? 'ok' : result.error.code))
    assert.equal(codes, ['invalid', 'self', 'bad-peer-id', 'dial-failed'])
    // Right after a failed dial, further sends fail at once rather than each dialling again.
    const again = await a.transport.send(stranger, pingMessage(2))
    assert.is(again.ok, false)
    if (!again.ok) assert.match(again.error.message, /not dialling again yet/)
    assert.is(a.transport.stats().directFailed, 5)
  } finally {
    await stopAll(peers)
  }
})

transport('a message waiting on a dial that hangs goes out on a connection the peer opens meanwhile', async () => {
  // After a partition heals, a dial begun while the link dropped everything waits for its timeout,
  // while the peer may already have dialled us: the message must take that connection.
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  const sockets = new Set<Socket>()
  // Accepts TCP and never answers: a dial to it hangs in the connection upgrade until it times out.
  const silent = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
  })
  try {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as AddressInfo).port
    const a = await startPeer({ swarmKey, seed: 'hang-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey, seed: 'hang-b' })
    peers.push(b)
    // A knows B only at the silent address.
    await a.host.node.peerStore.merge(peerIdFromString(b.host.peerId), { multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}`)] })
    const sending = a.transport.send(b.host.peerId, pingMessage(1))
    await waitFor(() => sockets.size > 0, 5_000, 'A dialling the silent address')
    await b.host.dial(a.host.addresses()[0]!)
    assert.equal(await sending, { ok: true }, 'sent on the connection B opened, not failed with the hanging dial')
    await waitFor(() => b.received.some((r) => r.from === a.host.peerId && r.message.kind === 'ping'), 5_000, 'the ping at B')
  } finally {
    for (const socket of sockets) socket.destroy()
    silent.close()
    await stopAll(peers)
  }
})

transport.run()
