import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSocket } from 'node:dgram'
import { generateSwarmKey } from '../../p2p/index.js'
import { Datagrams, type DatagramHost } from '../../p2p/datagrams.js'
import type { Message, PeerId } from '../../core/index.js'
import { decodeMessage, encodeMessage } from '../../core/index.js'
import { sleep, waitFor, withPeers, type TestPeer } from './helpers.js'

const datagrams = suite('datagrams')

function ping(seq: number): Extract<Message, { kind: 'ping' }> {
  return { kind: 'ping', seq, desired: 'd1', updates: [{ peer: 'web-1' as PeerId, incarnation: 2, status: 'alive' }] }
}

/** Answers every ping `peer` receives with its ack, as the machine does. */
function answerPings(peer: TestPeer): void {
  peer.transport.onMessage((from, message) => {
    if (message.kind === 'ping') void peer.transport.send(from, { kind: 'ack', seq: message.seq, desired: 'd2', updates: [] })
  })
}

function pingsFrom(peer: TestPeer): number[] {
  return peer.received.filter(({ message }) => message.kind === 'ping').map(({ message }) => (message as { seq: number }).seq)
}

datagrams('two connected peers move their pings and acks to datagrams after one exchange; every message arrives as sent', async () => {
  const swarmKey = generateSwarmKey()
  await withPeers(async (start) => {
    // Keys at the first probe (the agent waits a few seconds after connecting: exchangeDelayMs).
    const now = { datagrams: { exchangeDelayMs: 0 } }
    const a = await start({ swarmKey, seed: 'dg-a', transport: now })
    const b = await start({ swarmKey, seed: 'dg-b', join: a.host.addresses(), transport: now })
    answerPings(b)
    await waitFor(() => a.transport.peers().includes(b.host.peerId as PeerId), 8_000, 'a connection')
    // The first ping goes by stream and begins the key exchange.
    assert.ok((await a.transport.send(b.host.peerId, ping(1))).ok)
    await waitFor(() => a.transport.stats().datagramPeers === 1, 5_000, 'a datagram path from a to b')
    for (let seq = 2; seq <= 21; seq++) {
      assert.ok((await a.transport.send(b.host.peerId, ping(seq))).ok)
      await sleep(10)
    }
    await waitFor(() => pingsFrom(b).length >= 21, 5_000, 'all pings at b')
    await waitFor(() => a.received.filter(({ message }) => message.kind === 'ack').length >= 21, 5_000, 'all acks at a')
    assert.equal(pingsFrom(b), Array.from({ length: 21 }, (_, i) => i + 1))
    assert.equal(b.received.find(({ message }) => message.kind === 'ping' && message.seq === 9)!.message, ping(9))
    assert.is(b.received[0]!.from, a.host.peerId)
    const sa = a.transport.stats()
    const sb = b.transport.stats()
    assert.ok(sa.datagramsSent >= 20, `pings by datagram from a: ${sa.datagramsSent}`)
    assert.ok(sb.datagramsReceived >= 20, `pings by datagram at b: ${sb.datagramsReceived}`)
    assert.ok(sb.datagramsSent >= 20, `acks by datagram from b: ${sb.datagramsSent}`)
    assert.is(sa.datagramFallbacks, 0)
    assert.is(sa.directSentByKind['ping'], 21, 'a datagram counts as a direct message sent')
    assert.is(sa.datagramsRefused + sb.datagramsRefused, 0)
  })
})

datagrams('a peer without datagrams (an older one) is probed over the stream, nothing lost', async () => {
  const swarmKey = generateSwarmKey()
  await withPeers(async (start) => {
    const a = await start({ swarmKey, seed: 'dg-new', transport: { datagrams: { exchangeDelayMs: 0 } } })
    const b = await start({ swarmKey, seed: 'dg-old', join: a.host.addresses(), transport: { datagrams: false } })
    answerPings(b)
    await waitFor(() => a.transport.peers().includes(b.host.peerId as PeerId), 8_000, 'a connection')
    for (let seq = 1; seq <= 10; seq++) {
      assert.ok((await a.transport.send(b.host.peerId, ping(seq))).ok)
      await sleep(20)
    }
    await waitFor(() => pingsFrom(b).length >= 10 && a.received.length >= 10, 5_000, 'pings and acks')
    assert.is(a.transport.stats().datagramPeers, 0)
    assert.is(a.transport.stats().datagramsSent, 0)
    assert.is(b.transport.stats().datagramsReceived, 0)
  })
})

/** A Datagrams endpoint on a real socket whose surroundings (the transport) are recorded. */
async function endpoint(self: string, peers: Map<string, Datagrams>, answering: { on: boolean }, exchangeDelayMs = 0) {
  const streamed: Message[] = []
  const got: Message[] = []
  let dg!: Datagrams
  const host: DatagramHost = {
    self,
    directAddressOf: () => '127.0.0.1',
    exchange: async (peer, offer) => peers.get(peer)!.answerExchange(self, offer),
    sendByStream: (_peer, message) => void streamed.push(message),
    received: (peer, bytes) => {
      const decoded = decodeMessage(bytes)
      if (!decoded.ok) throw new Error('undecodable')
      dg.noteReceived(peer, decoded.message, true)
      got.push(decoded.message)
      if (decoded.message.kind === 'ping' && answering.on) {
        const ack: Message = { kind: 'ack', seq: decoded.message.seq, desired: 'd', updates: [] }
        dg.trySend(peer, ack, encodeMessage(ack))
      }
    },
    heard: () => undefined,
  }
  dg = new Datagrams(host, { fallbackMs: 30, missLimit: 3, exchangeDelayMs })
  await dg.start('127.0.0.1', 0)
  peers.set(self, dg)
  return { dg, streamed, got }
}

/** Two endpoints, `a` and `b`, each given its endpoint() arguments after the shared peer map; both stopped afterwards. */
async function withPair(
  aArgs: [answering: { on: boolean }, exchangeDelayMs?: number],
  bArgs: [answering: { on: boolean }, exchangeDelayMs?: number],
  body: (a: Endpoint, b: Endpoint) => Promise<void>,
): Promise<void> {
  const peers = new Map<string, Datagrams>()
  const a = await endpoint('a', peers, ...aArgs)
  const b = await endpoint('b', peers, ...bArgs)
  try {
    await body(a, b)
  } finally {
    a.dg.stop()
    b.dg.stop()
  }
}

type Endpoint = Awaited<ReturnType<typeof endpoint>>

datagrams('a ping whose datagram goes unanswered is sent again by stream; three misses in a row move the pair to the stream, a datagram from the peer brings it back', async () => {
  const peers = new Map<string, Datagrams>()
  const bAnswers = { on: true }
  const a = await endpoint('a', peers, { on: true })
  const b = await endpoint('b', peers, bAnswers)
  try {
    const send = (seq: number) => a.dg.trySend('b', ping(seq), encodeMessage(ping(seq)))
    assert.not.ok(send(1), 'no keys yet: the stream, and an exchange begins')
    await waitFor(() => a.dg.stats().datagramPeers === 1, 2_000, 'keys')
    assert.ok(send(2))
    await waitFor(() => a.got.length === 1, 2_000, 'the ack')
    await sleep(60)
    assert.is(a.streamed.length, 0, 'an answered ping is not sent again')

    bAnswers.on = false
    for (let seq = 3; seq <= 5; seq++) {
      assert.ok(send(seq), `ping ${seq} by datagram`)
      await waitFor(() => a.streamed.length === seq - 2, 2_000, `ping ${seq} sent again by stream`)
    }
    assert.equal(a.streamed.map((m) => (m as { seq: number }).seq), [3, 4, 5])
    assert.is(a.dg.stats().datagramFallbacks, 3)
    assert.not.ok(send(6), 'three misses: the stream only')
    assert.is(a.dg.stats().datagramPeers, 0)

    // b speaks again (its own ping to a): the path is back.
    const bPing = ping(100)
    assert.ok(b.dg.trySend('a', bPing, encodeMessage(bPing)), 'b holds keys from the exchange a began')
    await waitFor(() => a.dg.stats().datagramPeers === 1, 2_000, 'the path back in use')
    assert.ok(send(7))
  } finally {
    a.dg.stop()
    b.dg.stop()
  }
})

datagrams('packets that do not open under a key given out are refused and reach nothing: strangers, forgeries, replays', async () => {
  await withPair([{ on: true }], [{ on: false }], async (a, b) => {
    const raw = createSocket('udp4')
    try {
      const send = (seq: number) => b.dg.trySend('a', ping(seq), encodeMessage(ping(seq)))
      send(1)
      await waitFor(() => b.dg.stats().datagramPeers === 1, 2_000, 'keys')
      assert.ok(send(2))
      await waitFor(() => a.got.length === 1, 2_000, 'the ping at a')
      const port = (a.dg as unknown as { port: number }).port
      await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve))
      // A packet b sealed for a, sent from elsewhere: once (authentic), then again (a replay).
      const links = (b.dg as unknown as { links: { seal(peer: string, type: number, body: Uint8Array): { packet: Buffer } } }).links
      const packet = links.seal('a', 1, encodeMessage(ping(3))).packet
      const refusedBefore = a.dg.stats().datagramsRefused
      raw.send(packet, port, '127.0.0.1')
      await waitFor(() => a.got.length === 2, 2_000, 'the packet, once')
      raw.send(packet, port, '127.0.0.1')
      const forged = Buffer.from(packet)
      forged[forged.length - 20] = forged[forged.length - 20]! ^ 1
      raw.send(forged, port, '127.0.0.1')
      raw.send(Buffer.from('not a datagram of ours at all'), port, '127.0.0.1')
      await waitFor(() => a.dg.stats().datagramsRefused === refusedBefore + 3, 2_000, 'three refusals')
      assert.is(a.got.length, 2, 'the replay, the forgery and the stranger reached nothing')
    } finally {
      raw.close()
    }
  })
})

datagrams('keys are exchanged only exchangeDelayMs after a peer first has a probe for the other, and anew after its connections closed', async () => {
  await withPair([{ on: true }, 300], [{ on: true }, 300], async (a, b) => {
    const send = (seq: number) => a.dg.trySend('b', ping(seq), encodeMessage(ping(seq)))
    assert.not.ok(send(1))
    await sleep(150)
    assert.not.ok(send(2))
    await sleep(50)
    assert.is(a.dg.stats().datagramPeers, 0, 'no exchange inside the delay')
    await sleep(150)
    assert.not.ok(send(3), 'the delay is over: this probe begins the exchange')
    await waitFor(() => a.dg.stats().datagramPeers === 1, 2_000, 'keys')
    assert.ok(send(4))
    a.dg.forget('b')
    b.dg.forget('a')
    assert.not.ok(send(5), 'keys went with the connection')
    await sleep(100)
    assert.not.ok(send(6), 'and the delay begins again')
  })
})

datagrams('an ack goes back the way its ping came: by datagram, unless the same ping came again by stream (the sender\'s fallback)', async () => {
  await withPair([{ on: true }], [{ on: true }], async (a, b) => {
    const ack = (seq: number): Message => ({ kind: 'ack', seq, desired: 'd', updates: [] })
    const acks = (seq: number) => a.dg.trySend('b', ack(seq), encodeMessage(ack(seq)))
    assert.not.ok(a.dg.trySend('b', ping(1), encodeMessage(ping(1))))
    await waitFor(() => a.dg.stats().datagramPeers === 1, 2_000, 'keys')
    a.dg.noteReceived('b', ping(7), true)
    a.dg.noteReceived('b', ping(8), true)
    a.dg.noteReceived('b', ping(8), false)
    a.dg.noteReceived('b', ping(9), false)
    assert.ok(acks(7), 'its ping came by datagram')
    assert.not.ok(acks(8), 'its ping came again by stream: the datagram ack did not get there')
    assert.not.ok(acks(9), 'its ping came by stream only')
  })
})

datagrams.run()
