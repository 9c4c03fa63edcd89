// Latency of the libp2p layer between peers in one process over loopback TCP: how long a host takes to
// start and connect, and publish → receive, send → receive (on one reused stream, and on a stream
// opened per message: P2pTransportInit.directStreams) and request → response. Prints one JSON line:
// p50, p99 and max in ms of each (the startup figures over 5 trials, so their p99 is the maximum).
// That the messages arrive, in order, is tested in test/p2p/delivery.test.ts.
//
//   npm run bench -- p2p-latency           (200 messages per measurement)
//   npm run bench -- p2p-latency 1000      (1,000)

import { generateSwarmKey, type P2pTransportInit, type SwarmKey } from '../p2p/index.js'
import { percentile } from '../sim/metrics.js'
import { memberMessage, pingMessage, received, startJoined, waitFor, waitForMesh, withPeers } from '../test/p2p/helpers.js'

const ROUNDS = Number(process.argv[2] ?? 200)
if (!(Number.isSafeInteger(ROUNDS) && ROUNDS >= 2)) throw new Error(`messages per measurement must be a whole number of at least 2, got ${process.argv[2]}`)
const STARTUP_TRIALS = 5
const REQUEST_PROTOCOL = '/peer-bench/1/latency' // a benchmark's own protocol, not the product's

/** p50, p99 and max of some samples in ms, to 0.01 ms, under keys named after what was measured. */
function summary(name: string, samples: readonly number[]): Record<string, number> {
  const ms = (value: number): number => Math.round(value * 100) / 100
  return { [`${name}MsP50`]: ms(percentile(samples, 50)), [`${name}MsP99`]: ms(percentile(samples, 99)), [`${name}MsMax`]: ms(Math.max(...samples)) }
}

/** createHost + transport.start of a second peer, until it is connected to the first, until broadcasts flow both ways. */
async function startup(swarmKey: SwarmKey): Promise<Record<string, number>> {
  const started: number[] = []
  const connected: number[] = []
  const ready: number[] = []
  for (let trial = 0; trial < STARTUP_TRIALS; trial++) {
    await withPeers(async (start) => {
      const a = await start({ swarmKey, seed: `join-a-${trial}` })
      const t0 = performance.now()
      const b = await start({ swarmKey, seed: `join-b-${trial}`, join: a.host.addresses() })
      started.push(performance.now() - t0)
      await waitFor(() => b.transport.peers().length === 1, 5_000, 'connected')
      connected.push(performance.now() - t0)
      await waitForMesh([a, b], 5_000)
      ready.push(performance.now() - t0)
    })
  }
  return { ...summary('hostStart', started), ...summary('connect', connected), ...summary('gossipReady', ready) }
}

/** One peer publishes, two receive: each sample is one receiver's delay. */
async function broadcast(swarmKey: SwarmKey): Promise<Record<string, number>> {
  return withPeers(async (start) => {
    const [a, b, c] = await startJoined(start, { swarmKey, seeds: ['lat-a', 'lat-b', 'lat-c'] })
    await waitForMesh([a, b, c], 8_000)
    const samples: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const sentAt = performance.now()
      await Promise.all([received(b, i + 1, 5_000), received(c, i + 1, 5_000), a.transport.broadcast(memberMessage(a.host.peerId, i + 1))])
      samples.push(b.received[i]!.atMs - sentAt, c.received[i]!.atMs - sentAt)
    }
    return summary('broadcast', samples)
  })
}

/** Direct sends from one peer to another; with reused streams also a request round trip (64 bytes echoed). */
async function direct(swarmKey: SwarmKey, directStreams: NonNullable<P2pTransportInit['directStreams']>): Promise<Record<string, number>> {
  return withPeers(async (start) => {
    const seeds = [`direct-${directStreams}-a`, `direct-${directStreams}-b`] as const
    const [a, b] = await startJoined(start, { swarmKey, seeds, transport: { directStreams } })
    await waitFor(() => a.transport.peers().length === 1, 5_000, 'connected')
    const samples: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const sentAt = performance.now()
      const [, result] = await Promise.all([received(b, i + 1, 5_000), a.transport.send(b.host.peerId, pingMessage(i))])
      if (!result.ok) throw new Error(`direct send ${i} failed: ${JSON.stringify(result)}`)
      samples.push(b.received[i]!.atMs - sentAt)
    }
    const name = directStreams === 'reuse' ? 'directReuse' : 'directPerMessage'
    if (directStreams !== 'reuse') return summary(name, samples)
    await b.transport.handle(REQUEST_PROTOCOL, (_from, body) => body)
    const trips: number[] = []
    for (let i = 0; i < ROUNDS / 2; i++) {
      const t0 = performance.now()
      await a.transport.request(b.host.peerId, REQUEST_PROTOCOL, new Uint8Array(64))
      trips.push(performance.now() - t0)
    }
    return { ...summary(name, samples), ...summary('request', trips) }
  })
}

const swarmKey = generateSwarmKey()
console.log(JSON.stringify({
  bench: 'p2p-latency',
  messages: ROUNDS,
  startupTrials: STARTUP_TRIALS,
  ...(await startup(swarmKey)),
  ...(await broadcast(swarmKey)),
  ...(await direct(swarmKey, 'reuse')),
  ...(await direct(swarmKey, 'per-message')),
}))
