import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { generateSwarmKey, RequestError } from '../../p2p/index.js'
import { sleep, startPeer, stopAll, waitFor, type TestPeer } from './helpers.js'

const SYNC = '/peer/1/test-sync'

const request = suite('request/response')

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise
    assert.unreachable(`expected ${code}`)
  } catch (error) {
    assert.instance(error, RequestError, String(error))
    assert.is((error as RequestError).code, code, (error as Error).message)
  }
}

request('a round trip carries bytes both ways; failures come back as coded RequestErrors', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  try {
    const a = await startPeer({ swarmKey, seed: 'rpc-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey, seed: 'rpc-b', join: a.host.addresses() })
    peers.push(b)
    await waitFor(() => a.transport.peers().length === 1, 5_000, 'A and B connected')

    const seen: string[] = []
    await b.transport.handle(SYNC, (from, body) => {
      seen.push(from)
      if (body[0] === 0xee) throw new Error('cannot apply that')
      return new Uint8Array([...body].reverse())
    })
    await b.transport.handle('/peer/1/test-slow', async (_from, _body, signal) => {
      await sleep(2_000)
      signal.throwIfAborted()
      return new Uint8Array(0)
    })
    await b.transport.handle('/peer/1/test-big', () => new Uint8Array(4096), { maxResponseBytes: 1 << 20 })

    assert.equal(await a.transport.request(b.host.peerId, SYNC, new Uint8Array([1, 2, 3])), new Uint8Array([3, 2, 1]))
    // A large body (1 MiB) crosses several Yamux windows.
    const big = new Uint8Array(1 << 20).map((_, i) => i % 251)
    const answer = await a.transport.request(b.host.peerId, SYNC, big)
    assert.is(answer.length, big.length)
    assert.is(answer[0], big[big.length - 1])
    assert.equal(seen, [a.host.peerId, a.host.peerId])

    await expectCode(a.transport.request(b.host.peerId, SYNC, new Uint8Array([0xee])), 'remote-error')
    await expectCode(a.transport.request(b.host.peerId, '/peer/1/nobody-serves-this', new Uint8Array([1])), 'unsupported')
    await expectCode(a.transport.request(b.host.peerId, '/peer/1/test-slow', new Uint8Array([1]), { timeoutMs: 300 }), 'timeout')
    await expectCode(a.transport.request(b.host.peerId, '/peer/1/test-big', new Uint8Array([1]), { maxResponseBytes: 1024 }), 'too-large')
    await expectCode(a.transport.request(b.host.peerId, SYNC, new Uint8Array(2048), { maxRequestBytes: 1024 }), 'too-large')
    await expectCode(a.transport.request(a.host.peerId, SYNC, new Uint8Array([1])), 'self')
    await expectCode(a.transport.request('nonsense', SYNC, new Uint8Array([1])), 'bad-peer-id')

    // The server bounds requests too: a body over its limit resets the stream and is counted.
    await b.transport.handle('/peer/1/test-small', () => new Uint8Array([1]), { maxRequestBytes: 16 })
    await expectCode(a.transport.request(b.host.peerId, '/peer/1/test-small', new Uint8Array(64)), 'closed')
    await waitFor(() => b.transport.stats().requestsFailed >= 2, 5_000, 'failures counted at the server')
    assert.is(b.transport.stats().requestsServed >= 3, true)

    // And still serves.
    assert.equal(await a.transport.request(b.host.peerId, SYNC, new Uint8Array([9, 8])), new Uint8Array([8, 9]))
  } finally {
    await stopAll(peers)
  }
})

request.run()
