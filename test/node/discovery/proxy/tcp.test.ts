// The proxy forwarding real TCP connections on loopback: where connections go (local first, least
// connections, round-robin, never to an unready or recently refused endpoint), what a client sees when
// nothing can take it, and that bytes arrive intact both ways.

import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { UserspaceProxy } from '../../../../node/discovery/proxy/index.js'
import { ask, blackhole, dialTcp, endpointAt, exchange, FixedEndpoints, freePort, listenerAt, tcpEcho, turnedAway, until, type EchoServer } from './sockets.js'

interface World {
  proxy: UserspaceProxy
  source: FixedEndpoints
  port: number
  servers: EchoServer[]
  logs: string[]
}

async function world(servers: EchoServer[], flags: { local?: boolean; ready?: boolean }[] = []): Promise<World> {
  const source = new FixedEndpoints(servers.map((server, index) => endpointAt(`web/${index}`, server.host, server.port, flags[index])))
  const logs: string[] = []
  const proxy = new UserspaceProxy({ endpoints: source, log: (line) => logs.push(line) })
  const port = await freePort()
  const [status] = await proxy.apply([listenerAt(port)])
  assert.ok(status!.bound, status!.error)
  return { proxy, source, port, servers, logs }
}

async function end(w: World): Promise<void> {
  await w.proxy.close()
  for (const server of w.servers) await server.close()
}

const trafficOf = (w: World, index: number) => w.proxy.traffic().find((entry) => entry.slot === `web/${index}`)

const tcp = suite('TCP forwarding')

tcp('a connection reaches the endpoint, both ways, and its bytes are counted', async () => {
  const w = await world([await tcpEcho()])
  try {
    const answer = await exchange(w.port, 'hello through the mesh')
    assert.is(answer.toString(), 'hello through the mesh')
    await until(() => trafficOf(w, 0)?.active === 0, 'the connection to be closed')
    const traffic = trafficOf(w, 0)!
    assert.equal({ active: traffic.active, total: traffic.total, failed: traffic.failed, bytesIn: traffic.bytesIn, bytesOut: traffic.bytesOut, protocol: traffic.protocol },
      { active: 0, total: 1, failed: 0, bytesIn: 22, bytesOut: 22, protocol: 'tcp' })
    assert.equal(w.proxy.listenerTraffic().map((l) => [l.accepted, l.unrouted]), [[1, 0]])
  } finally {
    await end(w)
  }
})

tcp('several megabytes arrive intact both ways (half-close: the client ends first, the answer follows)', async () => {
  const w = await world([await tcpEcho()])
  try {
    const data = randomBytes(8 * 1024 * 1024)
    const answer = await exchange(w.port, data)
    assert.is(answer.length, data.length)
    assert.is(createHash('sha256').update(answer).digest('hex'), createHash('sha256').update(data).digest('hex'))
    await until(() => trafficOf(w, 0)?.active === 0, 'the connection to be closed')
    assert.is(trafficOf(w, 0)!.bytesOut, data.length)
    assert.is(trafficOf(w, 0)!.bytesIn, data.length)
  } finally {
    await end(w)
  }
})

tcp('half-close the other way: the endpoint ends first and still receives what the client sends after', async () => {
  let received = ''
  let endpointDone!: () => void
  const done = new Promise<void>((resolve) => (endpointDone = resolve))
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.end('bye first\n')
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()))
    socket.on('end', () => {
      socket.destroy()
      endpointDone()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxy = new UserspaceProxy({ endpoints: new FixedEndpoints([endpointAt('web/0', '127.0.0.1', (server.address() as { port: number }).port)]) })
  const port = await freePort()
  try {
    await proxy.apply([listenerAt(port)])
    const client = await dialTcp(port)
    let greeting = ''
    client.on('data', (chunk: Buffer) => (greeting += chunk.toString()))
    await new Promise<void>((resolve) => client.once('end', () => resolve()))
    assert.is(greeting, 'bye first\n')
    client.end('written after the endpoint ended')
    await done
    assert.is(received, 'written after the endpoint ended')
  } finally {
    await proxy.close()
    server.close()
  }
})

// Where sequential short connections go among three endpoints (distinct loopback addresses stand for
// distinct hosts; the one flagged local is this host's).
for (const [name, flags, count, expected] of [
  ['a local endpoint takes every connection while it is ready, over remote ones', [{}, { local: true }, {}], 12, [0, 12, 0]],
  ['many short connections are shared evenly (round-robin among equals)', [{}, {}, {}], 30, [10, 10, 10]],
  ['an endpoint that is not ready never receives a connection, even when the source lists it', [{ ready: false, local: true }, {}, { ready: false }], 10, [0, 10, 0]],
] as const) {
  tcp(name, async () => {
    const w = await world([await tcpEcho('127.0.0.2'), await tcpEcho('127.0.0.3'), await tcpEcho('127.0.0.4')], [...flags])
    try {
      for (let i = 0; i < count; i++) assert.is((await exchange(w.port, `n${i}`)).toString(), `n${i}`)
      assert.equal(w.servers.map((s) => s.accepted), [...expected])
    } finally {
      await end(w)
    }
  })
}

tcp('long-lived connections: a new one goes to the endpoint with the fewest open', async () => {
  const w = await world([await tcpEcho('127.0.0.2'), await tcpEcho('127.0.0.3'), await tcpEcho('127.0.0.4')])
  const held = []
  try {
    // Only endpoint 0 is ready at first: it gets three long-lived connections.
    const all = [...w.source.endpoints]
    w.source.endpoints = [all[0]!]
    w.proxy.endpointsChanged()
    for (let i = 0; i < 3; i++) {
      const socket = await dialTcp(w.port)
      assert.is(await ask(socket, 'ping'), 'ping')
      held.push(socket)
    }
    // Then all three: the next four connections fill the two empty ones (2 each) before endpoint 0.
    w.source.endpoints = all
    w.proxy.endpointsChanged()
    for (let i = 0; i < 4; i++) {
      const socket = await dialTcp(w.port)
      assert.is(await ask(socket, 'ping'), 'ping')
      held.push(socket)
    }
    assert.equal(w.servers.map((s) => s.open.size), [3, 2, 2])
    assert.equal([0, 1, 2].map((i) => trafficOf(w, i)!.active), [3, 2, 2])
    // Two closed on endpoint 0: it has the fewest now and takes the next one.
    held[0]!.destroy()
    held[1]!.destroy()
    await until(() => trafficOf(w, 0)!.active === 1, 'two connections to endpoint 0 to close')
    const socket = await dialTcp(w.port)
    assert.is(await ask(socket, 'ping'), 'ping')
    held.push(socket)
    assert.equal([0, 1, 2].map((i) => trafficOf(w, i)!.active), [2, 2, 2])
  } finally {
    for (const socket of held) socket.destroy()
    await end(w)
  }
})

tcp('a refused endpoint: the connection lands on another, and the refused one is avoided afterwards', async () => {
  const alive = await tcpEcho('127.0.0.3')
  const deadPort = await freePort('127.0.0.2')
  const source = new FixedEndpoints([endpointAt('web/0', '127.0.0.2', deadPort, { local: true }), endpointAt('web/1', alive.host, alive.port)])
  const logs: string[] = []
  const proxy = new UserspaceProxy({ endpoints: source, log: (line) => logs.push(line) })
  const port = await freePort()
  try {
    await proxy.apply([listenerAt(port)])
    // The dead endpoint is local, so it is the first pick: the client must not notice.
    for (let i = 0; i < 6; i++) assert.is((await exchange(port, `n${i}`)).toString(), `n${i}`)
    const dead = proxy.traffic().find((entry) => entry.slot === 'web/0')!
    assert.equal({ failed: dead.failed, total: dead.total, active: dead.active }, { failed: 1, total: 0, active: 0 })
    assert.is(alive.accepted, 6)
    assert.is(logs.length, 1)
    assert.match(logs[0]!, /web\/0@127\.0\.0\.2:\d+ failed \(ECONNREFUSED\)/)
  } finally {
    await proxy.close()
    await alive.close()
  }
})

tcp('an endpoint that never answers the connect: after connectTimeoutMs the next one takes the client', async () => {
  const alive = await tcpEcho('127.0.0.3')
  const silent = await blackhole('127.0.0.2')
  const source = new FixedEndpoints([endpointAt('web/0', '127.0.0.2', silent.port, { local: true }), endpointAt('web/1', alive.host, alive.port)])
  const logs: string[] = []
  const proxy = new UserspaceProxy({ endpoints: source, connectTimeoutMs: 300, log: (line) => logs.push(line) })
  const port = await freePort()
  try {
    await proxy.apply([listenerAt(port)])
    assert.is((await exchange(port, 'first')).toString(), 'first')
    assert.is((await exchange(port, 'second')).toString(), 'second')
    assert.is(proxy.traffic().find((entry) => entry.slot === 'web/0')!.failed, 1)
    assert.is(alive.accepted, 2)
    assert.match(logs.join('\n'), /web\/0@127\.0\.0\.2:\d+ failed \(ETIMEDOUT\)/)
  } finally {
    await proxy.close()
    silent.close()
    await alive.close()
  }
})

tcp('a refused endpoint is tried again once its avoidance has passed', async () => {
  let now = 1_000_000
  const alive = await tcpEcho('127.0.0.3')
  const deadPort = await freePort('127.0.0.2')
  const source = new FixedEndpoints([endpointAt('web/0', '127.0.0.2', deadPort, { local: true }), endpointAt('web/1', alive.host, alive.port)])
  const proxy = new UserspaceProxy({ endpoints: source, now: () => now, avoidFailedMs: 5000 })
  const port = await freePort()
  try {
    await proxy.apply([listenerAt(port)])
    await exchange(port, 'a')
    now += 4000
    await exchange(port, 'b')
    assert.is(proxy.traffic().find((entry) => entry.slot === 'web/0')!.failed, 1)
    now += 1500
    await exchange(port, 'c')
    assert.is(proxy.traffic().find((entry) => entry.slot === 'web/0')!.failed, 2)
    assert.is(alive.accepted, 3)
  } finally {
    await proxy.close()
    await alive.close()
  }
})

tcp('no ready endpoint: the client is reset at once and counted', async () => {
  const w = await world([await tcpEcho()], [{ ready: false }])
  try {
    assert.is(await turnedAway(w.port), 'ECONNRESET')
    assert.equal(w.proxy.listenerTraffic().map((l) => [l.accepted, l.unrouted]), [[1, 1]])
    assert.is(w.servers[0]!.accepted, 0)
  } finally {
    await end(w)
  }
})

tcp('every endpoint refuses: at most connectAttempts are tried, then the client is reset', async () => {
  const ports = [await freePort('127.0.0.2'), await freePort('127.0.0.3'), await freePort('127.0.0.4'), await freePort('127.0.0.5')]
  const source = new FixedEndpoints(ports.map((p, i) => endpointAt(`web/${i}`, `127.0.0.${i + 2}`, p)))
  const proxy = new UserspaceProxy({ endpoints: source, connectAttempts: 3 })
  const port = await freePort()
  try {
    await proxy.apply([listenerAt(port)])
    assert.is(await turnedAway(port), 'ECONNRESET')
    assert.is(proxy.traffic().reduce((sum, entry) => sum + entry.failed, 0), 3)
    assert.equal(proxy.listenerTraffic().map((l) => l.unrouted), [1])
  } finally {
    await proxy.close()
  }
})

tcp('an endpoint that stops being ready gets no new connection, and its open one keeps flowing (drain)', async () => {
  const w = await world([await tcpEcho('127.0.0.2'), await tcpEcho('127.0.0.3')], [{ local: true }, {}])
  try {
    const old = await dialTcp(w.port)
    assert.is(await ask(old, 'before'), 'before')
    assert.is(w.servers[0]!.accepted, 1)
    w.source.endpoints = [{ ...w.source.endpoints[0]!, ready: false }, w.source.endpoints[1]!]
    w.proxy.endpointsChanged()
    for (let i = 0; i < 5; i++) await exchange(w.port, `n${i}`)
    assert.equal(w.servers.map((s) => s.accepted), [1, 5])
    assert.is(await ask(old, 'still here'), 'still here')
    old.destroy()
  } finally {
    await end(w)
  }
})

tcp('close() closes the listener and every open connection', async () => {
  const w = await world([await tcpEcho()])
  const socket = await dialTcp(w.port)
  assert.is(await ask(socket, 'ping'), 'ping')
  // The client half-closes by itself only when asked (allowHalfOpen): the proxy's FIN shows as 'end'.
  const closed = new Promise<void>((resolve) => {
    socket.once('end', () => resolve())
    socket.once('close', () => resolve())
  })
  socket.on('error', () => undefined)
  await end(w)
  await closed
  socket.destroy()
  await dialTcp(w.port).then(() => assert.unreachable('the port still accepts'), (error: NodeJS.ErrnoException) => assert.is(error.code, 'ECONNREFUSED'))
})

tcp.run()
