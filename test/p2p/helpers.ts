// Shared pieces of the p2p tests: real libp2p peers on 127.0.0.1 (port 0), bounded waits, and
// messages of several kinds. Every test stops what it started in `finally` (stopAll), or the test
// process never exits.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHost, identityFromSeed, P2pTransport, type Host, type HostInit, type P2pTransportInit, type SwarmKey } from '../../p2p/index.js'
import type { Message, PeerId } from '../../core/index.js'

/** Test tuning: faster anti-entropy and rejoin than production, same liveness settings. */
export const TEST_TUNING = { announceIntervalMs: 1_000, rejoinIntervalMs: 500 } as const

export interface TestPeer {
  host: Host
  transport: P2pTransport
  /** Every message delivered to onMessage, in order. */
  received: Array<{ from: PeerId; message: Message; atMs: number }>
}

export interface StartOptions {
  swarmKey: SwarmKey
  seed?: string
  dataDir?: string
  join?: string[]
  listen?: string[]
  transport?: P2pTransportInit
  host?: Partial<HostInit>
}

export async function startPeer(options: StartOptions): Promise<TestPeer> {
  const privateKey = options.seed === undefined ? undefined : (await identityFromSeed(options.seed)).privateKey
  const host = await createHost({
    ...(privateKey === undefined ? { dataDir: options.dataDir } : { privateKey }),
    swarmKey: options.swarmKey,
    listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'],
    join: options.join ?? [],
    tuning: TEST_TUNING,
    ...options.host,
  })
  const transport = new P2pTransport(host, options.transport)
  const peer: TestPeer = { host, transport, received: [] }
  try {
    await transport.start()
  } catch (error) {
    await host.stop()
    throw error
  }
  transport.onMessage((from, message) => peer.received.push({ from, message, atMs: performance.now() }))
  return peer
}

/** Stops transports and hosts; never throws (a test's own failure must not be hidden by cleanup). */
export async function stopAll(peers: ReadonlyArray<TestPeer | Host | undefined>): Promise<void> {
  await Promise.all(
    peers.map(async (peer) => {
      if (peer === undefined) return
      try {
        if ('transport' in peer) {
          await peer.transport.stop()
          await peer.host.stop()
        } else {
          await peer.stop()
        }
      } catch (error) {
        console.error('cleanup failed:', error)
      }
    }),
  )
}

/**
 * Runs `body` with `start`, which starts a peer as startPeer does and keeps it; every peer started so
 * is stopped afterwards, whatever happens.
 */
export async function withPeers<T>(body: (start: (options: StartOptions) => Promise<TestPeer>) => Promise<T>): Promise<T> {
  const peers: TestPeer[] = []
  try {
    return await body(async (options) => {
      const peer = await startPeer(options)
      peers.push(peer)
      return peer
    })
  } finally {
    await stopAll(peers)
  }
}

/** Starts a peer per seed, in order, each after the first told to join the first (with withPeers' `start`). */
export async function startJoined<const Seeds extends readonly [string, ...string[]]>(
  start: (options: StartOptions) => Promise<TestPeer>,
  options: { swarmKey: SwarmKey; seeds: Seeds; transport?: P2pTransportInit },
): Promise<{ [K in keyof Seeds]: TestPeer }> {
  const [first, ...rest] = options.seeds
  const a = await start({ swarmKey: options.swarmKey, seed: first, transport: options.transport })
  const peers = [a]
  for (const seed of rest) peers.push(await start({ swarmKey: options.swarmKey, seed, join: a.host.addresses(), transport: options.transport }))
  return peers as { [K in keyof Seeds]: TestPeer }
}

/** Polls `predicate` until it holds; throws after timeoutMs, naming what was awaited. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

/**
 * Resolves as soon as `peer` has received `count` messages in all (event-driven, for measurements
 * where a polling interval would dominate); rejects after timeoutMs.
 */
export function received(peer: TestPeer, count: number, timeoutMs: number): Promise<void> {
  if (peer.received.length >= count) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe()
      reject(new Error(`timed out after ${timeoutMs} ms waiting for message ${count}`))
    }, timeoutMs)
    // Registered after the helper's own listener, so `received` is already updated when this runs.
    const unsubscribe = peer.transport.onMessage(() => {
      if (peer.received.length < count) return
      clearTimeout(timer)
      unsubscribe()
      resolve()
    })
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until every peer is connected to every other and sees each as a gossip subscriber. */
export async function waitForMesh(peers: readonly TestPeer[], timeoutMs: number): Promise<void> {
  const ids = peers.map((p) => p.host.peerId)
  await waitFor(
    () =>
      peers.every((peer) => {
        const others = ids.filter((id) => id !== peer.host.peerId)
        const connected = new Set<string>(peer.transport.peers())
        const gossip = new Set<string>(peer.transport.gossipPeers())
        return others.every((id) => connected.has(id) && gossip.has(id))
      }),
    timeoutMs,
    'a full mesh',
  )
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'peer-p2p-'))
  try {
    return await body(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export function memberMessage(peer: string, incarnation: number): Message {
  return { kind: 'member', record: { peer: peer as PeerId, incarnation, status: 'alive' } }
}

export function pingMessage(seq: number): Message {
  return { kind: 'ping', seq, desired: 'empty', updates: [{ peer: 'web-1' as PeerId, incarnation: 3, status: 'suspect' }] }
}

export function advertMessage(peer: string, version: number): Message {
  return {
    kind: 'advert',
    advert: {
      peer: peer as PeerId,
      incarnation: 1,
      version,
      capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: { gpu: 1 } },
      allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} },
      labels: { zone: 'a' },
      drivers: ['docker'],
      tasks: [],
    },
  }
}
