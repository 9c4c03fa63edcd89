import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { generateSwarmKey } from '../../p2p/index.js'
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

pnet.run()
