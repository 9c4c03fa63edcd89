// Runs of messages arrive, every one and in order: broadcasts from one peer at two others, and direct
// sends one after another both on one reused stream and on a stream opened per message
// (P2pTransportInit.directStreams). No timing is asserted: how fast they arrive is a benchmark
// (bench/p2p-latency.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { generateSwarmKey } from '../../p2p/index.js'
import type { Message } from '../../core/index.js'
import { memberMessage, pingMessage, received, startJoined, waitFor, waitForMesh, withPeers } from './helpers.js'

const ROUNDS = 200

const delivery = suite('delivery')

delivery('a run of broadcasts from one peer reaches both others, every one, in order', () => withPeers(async (start) => {
  const [a, b, c] = await startJoined(start, { swarmKey: generateSwarmKey(), seeds: ['run-a', 'run-b', 'run-c'] })
  await waitForMesh([a, b, c], 8_000)
  const sent: Message[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const message = memberMessage(a.host.peerId, i + 1)
    sent.push(message)
    const [, , result] = await Promise.all([received(b, i + 1, 5_000), received(c, i + 1, 5_000), a.transport.broadcast(message)])
    assert.ok(result.ok)
  }
  for (const peer of [b, c]) assert.equal(peer.received.map((r) => [r.from, r.message]), sent.map((m) => [a.host.peerId, m]))
}))

for (const directStreams of ['reuse', 'per-message'] as const) {
  delivery(`a run of direct sends (${directStreams} streams) arrives, every one, in order`, () => withPeers(async (start) => {
    const seeds = [`run-${directStreams}-a`, `run-${directStreams}-b`] as const
    const [a, b] = await startJoined(start, { swarmKey: generateSwarmKey(), seeds, transport: { directStreams } })
    await waitFor(() => a.transport.peers().length === 1, 5_000, 'connected')
    const sent: Message[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const message = pingMessage(i)
      sent.push(message)
      const [, result] = await Promise.all([received(b, i + 1, 5_000), a.transport.send(b.host.peerId, message)])
      assert.equal(result, { ok: true })
    }
    assert.equal(b.received.map((r) => [r.from, r.message]), sent.map((m) => [a.host.peerId, m]))
  }))
}

delivery.run()
