// The proxy forwarding real UDP datagrams on loopback: one flow (one socket to one endpoint) per
// client address:port, answers relayed back, idle flows closed, the flow cap, and dead endpoints.

import { createSocket } from 'node:dgram'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { UserspaceProxy, type UserspaceProxyInit } from '../../../../node/discovery/proxy/index.js'
import { endpointAt, FixedEndpoints, freePort, listenerAt, sleep, udpClient, udpEcho, until, type UdpEcho } from './sockets.js'

async function proxyFor(echoes: UdpEcho[], init: Partial<UserspaceProxyInit> = {}) {
  const source = new FixedEndpoints(echoes.map((echo, index) => endpointAt(`web/${index}`, echo.host, echo.port)))
  const proxy = new UserspaceProxy({ endpoints: source, ...init })
  const port = await freePort('127.0.0.1', 'udp')
  const [status] = await proxy.apply([listenerAt(port, 'udp')])
  assert.ok(status!.bound, status!.error)
  return { proxy, source, port }
}

const active = (proxy: UserspaceProxy): number => proxy.traffic().reduce((sum, entry) => sum + entry.active, 0)

const udp = suite('UDP forwarding')

udp('a datagram reaches the endpoint and its answer comes back from the listening address', async () => {
  const echo = await udpEcho()
  const { proxy, port } = await proxyFor([echo])
  const client = await udpClient()
  try {
    assert.is(await client.request(port, 'hello'), 'hello')
    assert.is(await client.request(port, 'again'), 'again')
    const [traffic] = proxy.traffic()
    assert.equal({ protocol: traffic!.protocol, active: traffic!.active, total: traffic!.total, bytesIn: traffic!.bytesIn, bytesOut: traffic!.bytesOut }, { protocol: 'udp', active: 1, total: 1, bytesIn: 10, bytesOut: 10 })
  } finally {
    client.close()
    await proxy.close()
    await echo.close()
  }
})

udp('each client address:port is its own flow, with its own socket to the endpoint', async () => {
  const echo = await udpEcho()
  const { proxy, port } = await proxyFor([echo])
  const a = await udpClient()
  const b = await udpClient()
  try {
    await a.request(port, 'a1')
    await b.request(port, 'b1')
    await a.request(port, 'a2')
    await b.request(port, 'b2')
    const [a1, b1, a2, b2] = echo.senders
    assert.is(a1, a2)
    assert.is(b1, b2)
    assert.is.not(a1, b1)
    assert.is(active(proxy), 2)
    assert.equal(proxy.listenerTraffic().map((l) => l.accepted), [2])
  } finally {
    a.close()
    b.close()
    await proxy.close()
    await echo.close()
  }
})

udp('new flows are shared evenly among equal endpoints', async () => {
  const echoes = [await udpEcho('127.0.0.2'), await udpEcho('127.0.0.3')]
  const { proxy, port } = await proxyFor(echoes)
  const clients = await Promise.all([1, 2, 3, 4].map(() => udpClient()))
  try {
    for (const client of clients) assert.is(await client.request(port, 'x'), 'x')
    assert.equal(echoes.map((e) => e.senders.length), [2, 2])
  } finally {
    for (const client of clients) client.close()
    await proxy.close()
    for (const echo of echoes) await echo.close()
  }
})

udp('a flow idle for udpFlowIdleMs is closed; the client\'s next datagram opens a new one', async () => {
  let now = 1_000_000
  const echo = await udpEcho()
  const { proxy, port } = await proxyFor([echo], { now: () => now, udpFlowIdleMs: 30_000, udpSweepIntervalMs: 10 })
  const client = await udpClient()
  try {
    await client.request(port, 'one')
    now += 29_000
    await sleep(50)
    assert.is(active(proxy), 1)
    await client.request(port, 'two')
    now += 29_000
    await sleep(50)
    assert.is(active(proxy), 1, 'the answer at 29 s kept the flow alive')
    now += 1_000
    await until(() => active(proxy) === 0, 'the idle flow to close')
    await client.request(port, 'three')
    assert.is(echo.senders[0], echo.senders[1])
    assert.is.not(echo.senders[2], echo.senders[0])
    assert.is(proxy.traffic()[0]!.total, 2)
  } finally {
    client.close()
    await proxy.close()
    await echo.close()
  }
})

udp('past udpMaxFlows the least recently active flow is closed', async () => {
  const echo = await udpEcho()
  const { proxy, port } = await proxyFor([echo], { udpMaxFlows: 2 })
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => udpClient()))
  try {
    await a!.request(port, 'a')
    await b!.request(port, 'b')
    await a!.request(port, 'a again')
    await c!.request(port, 'c')
    assert.is(active(proxy), 2)
    // b was the least recently active: its flow went, a's stayed.
    await a!.request(port, 'a third')
    await b!.request(port, 'b again')
    const [a1, b1, , , a3, b2] = echo.senders
    assert.is(a3, a1)
    assert.is.not(b2, b1)
    assert.is(proxy.traffic()[0]!.total, 4)
  } finally {
    for (const client of [a, b, c]) client!.close()
    await proxy.close()
    await echo.close()
  }
})

udp('a refused endpoint: the datagram is sent again to another, and the refused one is avoided', async () => {
  const echo = await udpEcho('127.0.0.3')
  const deadPort = await freePort('127.0.0.2', 'udp')
  const source = new FixedEndpoints([endpointAt('web/0', '127.0.0.2', deadPort, { local: true }), endpointAt('web/1', echo.host, echo.port)])
  const proxy = new UserspaceProxy({ endpoints: source })
  const port = await freePort('127.0.0.1', 'udp')
  const clients = await Promise.all([1, 2, 3].map(() => udpClient()))
  try {
    await proxy.apply([listenerAt(port, 'udp')])
    for (const client of clients) assert.is(await client.request(port, 'are you there'), 'are you there')
    const dead = proxy.traffic().find((entry) => entry.slot === 'web/0')!
    assert.is(dead.failed, 1)
    assert.is(dead.active, 0)
    assert.is(echo.senders.length, 3)
  } finally {
    for (const client of clients) client.close()
    await proxy.close()
    await echo.close()
  }
})

udp('a flow whose endpoint answered and then went silent moves to another at its next datagram', async () => {
  let now = 1_000_000
  const first = await udpEcho('127.0.0.2')
  const second = await udpEcho('127.0.0.3')
  const source = new FixedEndpoints([endpointAt('web/0', first.host, first.port, { local: true }), endpointAt('web/1', second.host, second.port)])
  const proxy = new UserspaceProxy({ endpoints: source, now: () => now, udpReplyTimeoutMs: 3000 })
  const port = await freePort('127.0.0.1', 'udp')
  const client = await udpClient()
  try {
    await proxy.apply([listenerAt(port, 'udp')])
    assert.is(await client.request(port, 'one'), 'one')
    // The first endpoint's host goes silent (no ICMP either): its socket is gone but nothing answers.
    await first.close()
    const silent = createSocket('udp4')
    await new Promise<void>((resolve) => silent.bind(first.port, first.host, resolve))
    assert.is(await client.request(port, 'lost', 200), undefined)
    now += 3500
    assert.is(await client.request(port, 'two'), 'two')
    silent.close()
    assert.is(second.senders.length, 1)
    assert.is(proxy.traffic().find((entry) => entry.slot === 'web/0')!.failed, 1)
  } finally {
    client.close()
    await proxy.close()
    await second.close()
  }
})

udp('a one-way flow stays on a silent endpoint while it is ready, and moves once it is not', async () => {
  let now = 1_000_000
  const sinks = [await udpEcho('127.0.0.2', { answer: false }), await udpEcho('127.0.0.3', { answer: false })]
  const source = new FixedEndpoints(sinks.map((sink, index) => endpointAt(`web/${index}`, sink.host, sink.port)))
  const proxy = new UserspaceProxy({ endpoints: source, now: () => now, udpReplyTimeoutMs: 3000 })
  const port = await freePort('127.0.0.1', 'udp')
  const client = await udpClient()
  try {
    await proxy.apply([listenerAt(port, 'udp')])
    const sendAndWait = async (text: string, sink: UdpEcho) => {
      const before = sink.senders.length
      await client.request(port, text, 1)
      await until(() => sink.senders.length === before + 1, `${text} to arrive`)
    }
    await sendAndWait('log 1', sinks[0]!)
    now += 10_000
    await sendAndWait('log 2', sinks[0]!)
    // Its endpoint is being stopped: no longer ready. The flow moves once its silence has lasted.
    source.endpoints = [{ ...source.endpoints[0]!, ready: false }, source.endpoints[1]!]
    proxy.endpointsChanged()
    now += 10_000
    await sendAndWait('log 3', sinks[1]!)
    assert.equal(sinks.map((sink) => sink.senders.length), [2, 1])
    assert.equal(proxy.traffic().map((entry) => [entry.slot, entry.failed, entry.active]), [['web/0', 0, 0], ['web/1', 0, 1]])
  } finally {
    client.close()
    await proxy.close()
    for (const sink of sinks) await sink.close()
  }
})

udp('no ready endpoint: the datagram is dropped and counted', async () => {
  const echo = await udpEcho()
  const { proxy, port, source } = await proxyFor([echo])
  source.endpoints = [{ ...source.endpoints[0]!, ready: false }]
  const client = await udpClient()
  try {
    assert.is(await client.request(port, 'anyone?', 200), undefined)
    assert.equal(proxy.listenerTraffic().map((l) => [l.accepted, l.unrouted]), [[1, 1]])
    assert.is(echo.senders.length, 0)
  } finally {
    client.close()
    await proxy.close()
    await echo.close()
  }
})

udp.run()
