// Measurements, printed and not asserted (a loaded CI machine must not fail on timing): how long a
// host takes to start and connect, and publish→receive and send→receive latency between peers in
// one process over loopback TCP. The numbers feed BENCHMARKS.md.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { generateSwarmKey, type P2pTransportInit } from '../../p2p/index.js'
import { memberMessage, percentile, pingMessage, received, startPeer, stopAll, waitFor, waitForMesh, type TestPeer } from './helpers.js'

const ROUNDS = 200

const latency = suite('latency (printed, not asserted)')

function report(label: string, samples: readonly number[]): void {
  const fmt = (ms: number): string => ms.toFixed(2)
  console.log(`    ${label}: p50 ${fmt(percentile(samples, 50))} ms, p99 ${fmt(percentile(samples, 99))} ms, max ${fmt(Math.max(...samples))} ms (n=${samples.length})`)
}

latency('createHost to connected, and to gossip-ready', async () => {
  const swarmKey = generateSwarmKey()
  const started: number[] = []
  const connected: number[] = []
  const ready: number[] = []
  for (let trial = 0; trial < 5; trial++) {
    const peers: TestPeer[] = []
    try {
      const a = await startPeer({ swarmKey, seed: `join-a-${trial}` })
      peers.push(a)
      const t0 = performance.now()
      const b = await startPeer({ swarmKey, seed: `join-b-${trial}`, join: a.host.addresses() })
      peers.push(b)
      started.push(performance.now() - t0)
      await waitFor(() => b.transport.peers().length === 1, 5_000, 'connected')
      connected.push(performance.now() - t0)
      await waitForMesh([a, b], 5_000)
      ready.push(performance.now() - t0)
    } finally {
      await stopAll(peers)
    }
  }
  report('createHost + transport.start', started)
  report('createHost → connected to the join peer', connected)
  report('createHost → both see each other subscribed (broadcasts flow)', ready)
})

latency('broadcast publish → receive, 3 peers', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  try {
    const a = await startPeer({ swarmKey, seed: 'lat-a' })
    peers.push(a)
    const b = await startPeer({ swarmKey, seed: 'lat-b', join: a.host.addresses() })
    peers.push(b)
    const c = await startPeer({ swarmKey, seed: 'lat-c', join: a.host.addresses() })
    peers.push(c)
    await waitForMesh(peers, 8_000)
    const samples: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const sentAt = performance.now()
      await Promise.all([received(b, i + 1, 5_000), received(c, i + 1, 5_000), a.transport.broadcast(memberMessage(a.host.peerId, i + 1))])
      samples.push(b.received[i]!.atMs - sentAt, c.received[i]!.atMs - sentAt)
    }
    assert.is(b.received.length, ROUNDS)
    report('broadcast publish → receive', samples)
  } finally {
    await stopAll(peers)
  }
})

for (const directStreams of ['reuse', 'per-message'] as const) {
  latency(`direct send → receive (${directStreams} streams), and a request round trip`, async () => {
    const swarmKey = generateSwarmKey()
    const peers: TestPeer[] = []
    const init: P2pTransportInit = { directStreams }
    try {
      const a = await startPeer({ swarmKey, seed: `direct-${directStreams}-a`, transport: init })
      peers.push(a)
      const b = await startPeer({ swarmKey, seed: `direct-${directStreams}-b`, join: a.host.addresses(), transport: init })
      peers.push(b)
      await waitFor(() => a.transport.peers().length === 1, 5_000, 'connected')
      const samples: number[] = []
      for (let i = 0; i < ROUNDS; i++) {
        const sentAt = performance.now()
        const [, result] = await Promise.all([received(b, i + 1, 5_000), a.transport.send(b.host.peerId, pingMessage(i))])
        assert.ok(result.ok)
        samples.push(b.received[i]!.atMs - sentAt)
      }
      report(`direct send → receive (${directStreams})`, samples)

      if (directStreams === 'reuse') {
        await b.transport.handle('/peer/1/latency', (_from, body) => body)
        const trips: number[] = []
        for (let i = 0; i < ROUNDS / 2; i++) {
          const t0 = performance.now()
          await a.transport.request(b.host.peerId, '/peer/1/latency', new Uint8Array(64))
          trips.push(performance.now() - t0)
        }
        report('request → response round trip (64 B, new stream each)', trips)
      }
    } finally {
      await stopAll(peers)
    }
  })
}

latency.run()
