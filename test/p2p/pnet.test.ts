import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { generateSwarmKey } from '../../p2p/index.js'
import { XSalsa20Stream } from '../../p2p/pnet.js'
import { memberMessage, pingMessage, sleep, startPeer, stopAll, waitFor, waitForMesh, type TestPeer } from './helpers.js'

const pnet = suite('private network')

pnet('a peer with a different swarm key cannot connect, and receives nothing', async () => {
  const clusterKey = generateSwarmKey()
  const peers: TestPeer[] = []
  try {
    const a = await startPeer({ swarmKey: clusterKey, seed: 'pnet-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey: clusterKey, seed: 'pnet-b', join: a.host.addresses() })
    peers.push(b)
    // The outsider is told where A is, like a real joiner, and also dials it by hand. With the wrong
    // key a dial either fails at once (EncryptionFailedError) or, when the garbled bytes leave the
    // listener waiting for more, times out: the timeouts are short here to keep the test quick.
    const outsider = await startPeer({
      swarmKey: generateSwarmKey(),
      seed: 'pnet-outsider',
      join: [...a.host.addresses(), ...b.host.addresses()],
      host: { tuning: { dialTimeoutMs: 1_000, rejoinIntervalMs: 500, announceIntervalMs: 1_000 } },
      transport: { tuning: { openTimeoutMs: 1_000 } },
    })
    peers.push(outsider)
    await waitForMesh([a, b], 8_000)

    let dialError: unknown
    try {
      await outsider.host.dial(a.host.addresses()[0]!, 1_000)
    } catch (error) {
      dialError = error
    }
    assert.ok(dialError instanceof Error, 'the dial must fail')

    await a.transport.broadcast(memberMessage(a.host.peerId, 1))
    const sent = await outsider.transport.send(a.host.peerId, pingMessage(1))
    assert.is(sent.ok, false)
    await waitFor(() => b.received.length === 1, 5_000, 'the broadcast inside the cluster')
    await sleep(300) // anything that could leak would have arrived with B's copy
    assert.equal(outsider.transport.peers(), [])
    assert.equal(outsider.received, [])
    assert.not.ok((a.transport.peers() as string[]).includes(outsider.host.peerId))
    assert.equal(a.received, [])
  } finally {
    await stopAll(peers)
  }
})

pnet('the stream cipher gives the same bytes however the stream is cut into chunks', () => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 24, maxLength: 24 }),
    fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
    (key, nonce, chunks) => {
      const whole = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0))
      let at = 0
      for (const chunk of chunks) {
        whole.set(chunk, at)
        at += chunk.length
      }
      const stream = new XSalsa20Stream(key, nonce)
      const pieces = chunks.map((chunk) => stream.update(chunk))
      const joined = Buffer.concat(pieces)
      assert.equal(new Uint8Array(joined), xsalsa20(key, nonce, whole))
    },
  ), { numRuns: 200 })
})

pnet('hundreds of large messages over several connections leave the cipher healthy', () => {
  // The WebAssembly cipher this replaces died here: one connection's growth left the others' memory
  // views stale, and each of their updates then grew the shared memory again until its 64 MiB cap.
  const key = new Uint8Array(32).fill(7)
  const streams = [1, 2, 3].map((n) => new XSalsa20Stream(key, new Uint8Array(24).fill(n)))
  const large = new Uint8Array(700 * 1024)
  for (let round = 0; round < 200; round++) {
    streams[0]!.update(large)
    streams[1]!.update(large.subarray(0, 100))
    streams[2]!.update(large.subarray(0, 100))
  }
})

pnet('peers speak the libp2p pnet protocol: a node using @libp2p/pnet connects to ours with the same key', async () => {
  const key = generateSwarmKey()
  const ours = await startPeer({ swarmKey: key, seed: 'pnet-ours' })
  const theirs = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionProtector: preSharedKey({ psk: key.file }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  try {
    const connection = await theirs.dial(multiaddr(ours.host.addresses()[0]!), { signal: AbortSignal.timeout(5_000) })
    assert.is(connection.remotePeer.toString(), ours.host.peerId)
    await waitFor(() => ours.host.peers().includes(theirs.peerId.toString()), 5_000, 'our side to see the connection')
    assert.is(ours.host.connectionFaults(), 0)
  } finally {
    await theirs.stop()
    await stopAll([ours])
  }
})

pnet.run()
