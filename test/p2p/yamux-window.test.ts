import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DIRECT_PROTOCOL, generateSwarmKey } from '../../p2p/index.js'
import { ungrantedBytes } from '../../p2p/yamux-window.js'
import { pingMessage, startJoined, waitFor, withPeers } from './helpers.js'

const window = suite('yamux window updates')

/** Yamux's initial stream window (@chainsafe/libp2p-yamux INITIAL_STREAM_WINDOW). */
const INITIAL_WINDOW = 256 * 1024

window('small messages on a long-lived stream are not each answered by a window update; transfers far larger than the window still complete', () => withPeers(async (start) => {
  const [a, b] = await startJoined(start, { swarmKey: generateSwarmKey(), seeds: ['window-a', 'window-b'] })
  await waitFor(() => a.transport.peers().length === 1, 5_000, 'A connected to B')

  for (let seq = 0; seq < 50; seq++) assert.equal(await a.transport.send(b.host.peerId, pingMessage(seq)), { ok: true })
  await waitFor(() => b.received.length === 50, 5_000, '50 messages at B')
  const inbound = b.host.node
    .getConnections()
    .flatMap((connection) => connection.streams)
    .filter((stream) => stream.protocol === DIRECT_PROTOCOL && stream.direction === 'inbound')
  assert.is(inbound.length, 1)
  // Every byte of the 50 frames is still unreturned: no update went back for any of them.
  const held = ungrantedBytes(inbound[0])
  assert.ok(held !== undefined && held > 50 * 20 && held < INITIAL_WINDOW / 2, `bytes held back: ${held}`)

  // 3 MiB each way: twelve windows, so the updates sent at half a window must keep both senders going.
  const PROTOCOL = '/peer/1/test-window-echo'
  await b.transport.handle(PROTOCOL, (_from, body) => body.slice().reverse(), { maxRequestBytes: 4 << 20, maxResponseBytes: 4 << 20 })
  const body = new Uint8Array(3 << 20).map((_, i) => i % 251)
  const answer = await a.transport.request(b.host.peerId, PROTOCOL, body, { maxRequestBytes: 4 << 20, maxResponseBytes: 4 << 20, timeoutMs: 10_000 })
  assert.is(answer.length, body.length)
  assert.ok(answer.every((byte, i) => byte === body[body.length - 1 - i]!))
}))

window.run()
