import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHost, generateSwarmKey, identityFromSeed, SetupError } from '../../p2p/index.js'
import { memberMessage, pingMessage, startPeer, stopAll, waitFor, waitForMesh, type TestPeer } from './helpers.js'

const restart = suite('restart')

restart('a peer that restarts is redialled by the others and messages flow again', async () => {
  const swarmKey = generateSwarmKey()
  const peers: Array<TestPeer | undefined> = []
  try {
    const a = await startPeer({ swarmKey, seed: 'restart-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey, seed: 'restart-b', join: a.host.addresses() })
    peers.push(b)
    let c = await startPeer({ swarmKey, seed: 'restart-c', join: a.host.addresses() })
    peers.push(c)
    await waitForMesh([a, b, c], 8_000)
    const cId = c.host.peerId
    const cAddress = c.host.addresses()[0]!.replace(/\/p2p\/.*$/, '')

    await stopAll([c])
    peers[2] = undefined
    await waitFor(() => !(a.transport.peers() as string[]).includes(cId) && !(b.transport.peers() as string[]).includes(cId), 5_000, 'A and B to see C gone')

    // Same key, same address, and no join list: only A's and B's redials (KEEP_ALIVE) can bring it back.
    const restarted = Date.now()
    c = await startPeer({ swarmKey, seed: 'restart-c', listen: [cAddress] })
    peers[2] = c
    assert.is(c.host.peerId, cId)
    await waitForMesh([a, b, c], 8_000)
    console.log(`    (restarted peer redialled and in the gossip mesh after ${Date.now() - restarted} ms)`)

    assert.ok((await c.transport.broadcast(memberMessage(cId, 2))).ok)
    assert.equal(await a.transport.send(cId, pingMessage(9)), { ok: true })
    await waitFor(() => a.received.length === 1 && b.received.length === 1 && c.received.length === 1, 5_000, 'messages after the restart')
    assert.equal(a.received[0]!.message, memberMessage(cId, 2))
    assert.equal(b.received[0]!.message, memberMessage(cId, 2))
    assert.equal(c.received[0]!.message, pingMessage(9))
  } finally {
    await stopAll(peers)
  }
})

restart('a join address taken over by another peer (a host reinstalled with a new key) is joined again', async () => {
  const swarmKey = generateSwarmKey()
  const peers: Array<TestPeer | undefined> = []
  try {
    const old = await startPeer({ swarmKey, seed: 'address-old' })
    peers.push(old)
    const address = old.host.addresses()[0]!.replace(/\/p2p\/.*$/, '')
    // Joined by its bare address, as operators write join lists: the rejoiner learns who answered.
    const a = await startPeer({ swarmKey, seed: 'address-joiner', join: [address] })
    peers.push(a)
    await waitForMesh([old, a], 8_000)
    await stopAll([old])
    peers[0] = undefined
    // A new identity on the same address: a redial that names the old peer fails as an unexpected peer.
    const replaced = await startPeer({ swarmKey, seed: 'address-new', listen: [address] })
    peers[0] = replaced
    await waitForMesh([replaced, a], 12_000)
    assert.equal(await a.transport.send(replaced.host.peerId, pingMessage(3)), { ok: true })
    await waitFor(() => replaced.received.length === 1, 5_000, 'a message to the new peer')
  } finally {
    await stopAll(peers)
  }
})

restart('stop is safe to call twice, concurrently, and with the transport already stopped', async () => {
  const peer = await startPeer({ swarmKey: generateSwarmKey(), seed: 'stop-twice' })
  await Promise.all([peer.transport.stop(), peer.host.stop(), peer.host.stop()])
  await peer.host.stop()
  await peer.transport.stop()
  const result = await peer.transport.send(peer.host.peerId, pingMessage(1))
  assert.is(result.ok, false)
})

restart('a port in use and a malformed address fail with SetupErrors naming them, leaving nothing running', async () => {
  const swarmKey = generateSwarmKey()
  const first = await startPeer({ swarmKey, seed: 'port-owner' })
  try {
    const taken = first.host.addresses()[0]!.replace(/\/p2p\/.*$/, '')
    for (const [listen, join, code, pattern] of [
      [[taken], [], 'listen-failed', taken],
      [['/ip4/127.0.0.1/tcp/0'], ['10.0.0.1:4001'], 'bad-address', '10.0.0.1:4001'],
      [['not-an-address'], [], 'bad-address', 'not-an-address'],
    ] as const) {
      try {
        const host = await createHost({ swarmKey, privateKey: (await identityFromSeed('port-taker')).privateKey, listen: [...listen], join: [...join] })
        await host.stop()
        assert.unreachable(`created a host listening on ${listen.join()}`)
      } catch (error) {
        assert.instance(error, SetupError, String(error))
        assert.is((error as SetupError).code, code)
        assert.ok((error as Error).message.includes(pattern), (error as Error).message)
      }
    }
  } finally {
    await stopAll([first])
  }
})

restart.run()
