// mDNS discovery on a LAN (createHost's `mdns: true`), with real multicast on this machine: peers of
// one cluster find each other and connect with no join list; another cluster on the same LAN (its
// own swarm key, so its own service tag) never even learns of them; a host without mDNS is neither
// found nor finding; and a stranger answering on our tag (with another key) fails the dial quietly,
// with backoff instead of a dial per answer.
//
// Multicast needs a working IPv4 multicast route (here: the default one, looped back to this host).
// The probe below checks that first with the same library and options @libp2p/mdns uses; where it
// cannot work at all, each test says so in one line and passes without running.

import { randomBytes } from 'node:crypto'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { KEEP_ALIVE } from '@libp2p/interface'
import multicastDns from 'multicast-dns'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHost, generateSwarmKey, identityFromSeed, mdnsServiceTag, type Host, type HostInit, type SwarmKey } from '../../p2p/index.js'
import { sleep, stopAll, waitFor } from './helpers.js'

/** Two multicast-dns instances (port 5353, 224.0.0.251, as @libp2p/mdns creates them): does one's query get the other's answer? */
async function multicastWorks(): Promise<boolean> {
  const name = `probe-${randomBytes(6).toString('hex')}.local`
  const asker = multicastDns()
  const answerer = multicastDns()
  for (const m of [asker, answerer]) {
    m.on('error', () => undefined)
    m.on('warning', () => undefined)
  }
  answerer.on('query', (query) => {
    if (query.questions.some((q) => q.name === name)) answerer.respond([{ name, type: 'A', ttl: 1, data: '127.0.0.1' }])
  })
  try {
    return await new Promise<boolean>((resolve) => {
      asker.on('response', (response) => {
        if (response.answers.some((a) => a.name === name)) resolve(true)
      })
      for (const delay of [0, 300, 700]) setTimeout(() => asker.query({ questions: [{ name, type: 'A' }] }), delay).unref()
      setTimeout(() => resolve(false), 2_000).unref()
    })
  } finally {
    await Promise.all([asker, answerer].map((m) => new Promise<void>((resolve) => m.destroy(() => resolve()))))
  }
}

const MULTICAST = await multicastWorks()
const NOT_RUN = 'mdns: multicast unavailable on this host, test not run'

async function startHost(seed: string, swarmKey: SwarmKey, extra: Partial<HostInit> = {}): Promise<Host> {
  return createHost({
    privateKey: (await identityFromSeed(seed)).privateKey,
    swarmKey,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    join: [],
    ...extra,
  })
}

const mdns = suite('mDNS discovery')

mdns('peers of one swarm key find each other and connect; another key and a host without mDNS stay apart', async () => {
  if (!MULTICAST) return console.log(NOT_RUN)
  const clusterKey = generateSwarmKey()
  const otherKey = generateSwarmKey()
  // Short query interval: a query lost on a busy host is repeated within a second.
  const tuning = { mdnsQueryIntervalMs: 1_000, dialTimeoutMs: 2_000 }
  const hosts: Host[] = []
  try {
    const started = performance.now()
    const a = await startHost('mdns-a', clusterKey, { mdns: true, tuning })
    hosts.push(a)
    const other = await startHost('mdns-other', otherKey, { mdns: true, tuning })
    hosts.push(other)
    const silent = await startHost('mdns-silent', clusterKey, { tuning }) // mdns absent: as before
    hosts.push(silent)
    const b = await startHost('mdns-b', clusterKey, { mdns: true, tuning })
    hosts.push(b)
    assert.is.not(mdnsServiceTag(clusterKey.fingerprint), mdnsServiceTag(otherKey.fingerprint))

    await waitFor(() => a.peers().includes(b.peerId) && b.peers().includes(a.peerId), 8_000, 'A and B to connect by mDNS')
    const elapsed = Math.round(performance.now() - started)
    // Discovered peers are kept alive like joined ones: libp2p redials them after a drop.
    const aboutB = await a.node.peerStore.get(b.node.peerId)
    assert.ok(aboutB.tags.has(KEEP_ALIVE), 'B is tagged KEEP_ALIVE on A')

    await sleep(2_500) // over two query intervals of every host
    assert.equal(a.peers(), [b.peerId])
    assert.equal(b.peers(), [a.peerId])
    assert.equal(other.peers(), [])
    assert.equal(silent.peers(), [])
    // Another cluster's answers carry another service tag: not even its peer store learns of A or B.
    assert.not.ok(await other.node.peerStore.has(a.node.peerId), 'the other cluster never hears of A')
    assert.not.ok(await other.node.peerStore.has(b.node.peerId), 'the other cluster never hears of B')
    assert.not.ok(await a.node.peerStore.has(other.node.peerId), 'A never hears of the other cluster')
    assert.not.ok(await a.node.peerStore.has(silent.node.peerId), 'a host without mDNS does not answer')
    console.log(`mdns: A and B connected ${elapsed} ms after A started`)
  } finally {
    await stopAll(hosts)
  }
})

mdns('a stranger answering on our tag with another key fails the dial quietly, and is redialled only after a backoff', async () => {
  if (!MULTICAST) return console.log(NOT_RUN)
  const clusterKey = generateSwarmKey()
  const hosts: Host[] = []
  const rejections: unknown[] = []
  const onRejection = (reason: unknown): void => void rejections.push(reason)
  process.on('unhandledRejection', onRejection)
  let proxy: Server | undefined
  const proxied = new Set<Socket>()
  let announcer: ReturnType<typeof multicastDns> | undefined
  try {
    // A asks every 200 ms, and the stranger answers every query: without the backoff that is a dial
    // every 200 ms. With 1 s doubling, dials fall at about 0, 1 and 3 s of the 4 s watched.
    const a = await startHost('mdns-victim', clusterKey, {
      mdns: true,
      tuning: { mdnsQueryIntervalMs: 200, mdnsRedialMinMs: 1_000, mdnsRedialMaxMs: 60_000, dialTimeoutMs: 1_000 },
    })
    hosts.push(a)
    const stranger = await startHost('mdns-stranger', generateSwarmKey())
    hosts.push(stranger)
    const strangerPort = Number(stranger.addresses()[0]!.split('/')[4])

    // A counting TCP proxy in front of the stranger: each dial from A is one connection.
    let dials = 0
    proxy = createServer((socket) => {
      dials += 1
      const upstream = connect(strangerPort, '127.0.0.1')
      for (const s of [socket, upstream]) {
        proxied.add(s)
        s.on('close', () => proxied.delete(s))
      }
      socket.pipe(upstream).pipe(socket)
      socket.on('error', () => upstream.destroy())
      upstream.on('error', () => socket.destroy())
      socket.on('close', () => upstream.destroy())
      upstream.on('close', () => socket.destroy())
    })
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve))
    const proxyPort = (proxy.address() as { port: number }).port

    const tag = mdnsServiceTag(a.swarmKeyFingerprint)
    const instance = `stranger.${tag}`
    announcer = multicastDns()
    announcer.on('error', () => undefined)
    announcer.on('warning', () => undefined)
    announcer.on('query', (query) => {
      if (query.questions[0]?.name !== tag) return
      announcer!.respond([
        { name: tag, type: 'PTR', class: 'IN', ttl: 120, data: instance },
        { name: instance, type: 'TXT', class: 'IN', ttl: 120, data: `dnsaddr=/ip4/127.0.0.1/tcp/${proxyPort}/p2p/${stranger.peerId}` },
      ])
    })

    await waitFor(() => dials >= 1, 3_000, 'A to dial the stranger it was told of')
    await sleep(4_000)
    assert.equal(a.peers(), [], 'a different swarm key never connects')
    assert.ok(dials >= 2, `the stranger is tried again after the backoff (dials: ${dials})`)
    assert.ok(dials <= 4, `no dial per answer: ~20 answers in 4 s, ${dials} dials`)
    assert.equal(rejections, [], 'no unhandled rejection')
    console.log(`mdns: ${dials} dials to a wrong-key stranger in ~4 s of answers every 200 ms`)
  } finally {
    process.off('unhandledRejection', onRejection)
    if (announcer !== undefined) await new Promise<void>((resolve) => announcer!.destroy(() => resolve()))
    if (proxy !== undefined) {
      for (const s of proxied) s.destroy()
      await new Promise<void>((resolve) => proxy!.close(() => resolve()))
    }
    await stopAll(hosts)
  }
})

mdns.run()
