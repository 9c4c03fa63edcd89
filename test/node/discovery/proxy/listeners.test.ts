// apply(): listeners opened, kept and closed to match the wanted set, each reporting whether it bound.

import { createServer } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { UserspaceProxy } from '../../../../node/discovery/proxy/index.js'
import { ask, dialTcp, endpointAt, exchange, FixedEndpoints, freePort, listenerAt, tcpEcho, udpEcho, within } from './sockets.js'

const apply = suite('apply(listeners)')

apply('a port in use is reported for its listener alone; the others bind and forward', async () => {
  const echo = await tcpEcho()
  const uecho = await udpEcho()
  const blocker = createServer()
  const busy = await freePort()
  await new Promise<void>((resolve) => blocker.listen(busy, '127.0.0.1', resolve))
  const logs: string[] = []
  const proxy = new UserspaceProxy({ endpoints: new FixedEndpoints([endpointAt('web/0', echo.host, echo.port)]), log: (line) => logs.push(line) })
  const free = await freePort()
  const freeUdp = await freePort('127.0.0.1', 'udp')
  try {
    const status = await proxy.apply([listenerAt(busy), listenerAt(free), listenerAt(freeUdp, 'udp'), listenerAt(80, 'tcp', '192.0.2.1')])
    assert.equal(status.map((s) => s.bound), [false, true, true, false])
    assert.match(status[0]!.error!, new RegExp(`127\\.0\\.0\\.1:${busy}/tcp .*\\[EADDRINUSE\\]`))
    assert.match(status[3]!.error!, /192\.0\.2\.1:80\/tcp .*\[EADDRNOTAVAIL\]/)
    assert.is(logs.length, 2)
    assert.is((await exchange(free, 'hi')).toString(), 'hi')
    // Applied again: the busy port is tried again (it may be free now), and not logged again.
    const again = await proxy.apply([listenerAt(busy), listenerAt(free), listenerAt(freeUdp, 'udp'), listenerAt(80, 'tcp', '192.0.2.1')])
    assert.equal(again.map((s) => s.bound), [false, true, true, false])
    assert.is(logs.length, 2)
    await new Promise<void>((resolve) => blocker.close(() => resolve()))
    const freed = await proxy.apply([listenerAt(busy), listenerAt(free), listenerAt(freeUdp, 'udp')])
    assert.equal(freed.map((s) => s.bound), [true, true, true])
    assert.is((await exchange(busy, 'now bound')).toString(), 'now bound')
  } finally {
    await proxy.close()
    blocker.close()
    await echo.close()
    await uecho.close()
  }
})

apply('one address listed twice: the second is refused, naming both services', async () => {
  const proxy = new UserspaceProxy({ endpoints: new FixedEndpoints() })
  const port = await freePort()
  try {
    const other = { ...listenerAt(port), service: 'api' as never, target: 8080 }
    const status = await proxy.apply([listenerAt(port), other, listenerAt(port, 'udp')])
    assert.equal(status.map((s) => s.bound), [true, false, true])
    assert.match(status[1]!.error!, new RegExp(`127\\.0\\.0\\.1:${port}/tcp for api:8080: already listened for web:80`))
  } finally {
    await proxy.close()
  }
})

apply('the same set again rebinds nothing: open connections and counters carry on', async () => {
  const echo = await tcpEcho()
  const proxy = new UserspaceProxy({ endpoints: new FixedEndpoints([endpointAt('web/0', echo.host, echo.port)]) })
  const port = await freePort()
  try {
    await proxy.apply([listenerAt(port)])
    const open = await dialTcp(port)
    assert.is(await ask(open, 'one'), 'one')
    const again = await proxy.apply([listenerAt(port)])
    assert.equal(again.map((s) => s.bound), [true])
    assert.is(await ask(open, 'two'), 'two')
    await exchange(port, 'three')
    // A rebound listener would have started counting again from zero.
    assert.equal(proxy.listenerTraffic().map((l) => l.accepted), [2])
    open.destroy()
  } finally {
    await proxy.close()
    await echo.close()
  }
})

apply('a removed listener refuses new connections; the one already open keeps flowing', async () => {
  const echo = await tcpEcho()
  const proxy = new UserspaceProxy({ endpoints: new FixedEndpoints([endpointAt('web/0', echo.host, echo.port)]) })
  const port = await freePort()
  const other = await freePort()
  try {
    await proxy.apply([listenerAt(port), listenerAt(other)])
    const open = await dialTcp(port)
    assert.is(await ask(open, 'before'), 'before')
    assert.equal((await proxy.apply([listenerAt(other)])).map((s) => s.bound), [true])
    await dialTcp(port).then(() => assert.unreachable('the removed port still accepts'), (error: NodeJS.ErrnoException) => assert.is(error.code, 'ECONNREFUSED'))
    assert.is(await ask(open, 'after'), 'after')
    assert.is((await exchange(other, 'other')).toString(), 'other')
    // Listening there again is a new socket on the same port.
    assert.equal((await proxy.apply([listenerAt(port), listenerAt(other)])).map((s) => s.bound), [true, true])
    assert.is((await exchange(port, 'again')).toString(), 'again')
    // close() ends the connection still draining from the removed listener too.
    const ended = new Promise<void>((resolve) => open.once('end', () => resolve()))
    await proxy.close()
    await within(ended, 'the draining connection to end')
    open.destroy()
  } finally {
    await proxy.close()
    await echo.close()
  }
})

apply('a kept address that now serves another service forwards to that service', async () => {
  const web = await tcpEcho('127.0.0.2')
  const api = await tcpEcho('127.0.0.3')
  const endpoints = { ready: (service: string) => service === 'web' ? [endpointAt('web/0', web.host, web.port)] : service === 'api' ? [endpointAt('api/0', api.host, api.port)] : [] }
  const proxy = new UserspaceProxy({ endpoints: endpoints as never })
  const port = await freePort()
  try {
    await proxy.apply([listenerAt(port)])
    await exchange(port, 'to web')
    await proxy.apply([{ ...listenerAt(port), service: 'api' as never }])
    await exchange(port, 'to api')
    assert.equal([web.accepted, api.accepted], [1, 1])
  } finally {
    await proxy.close()
    await web.close()
    await api.close()
  }
})

apply('after close(), apply is refused and every port is free', async () => {
  const proxy = new UserspaceProxy({ endpoints: new FixedEndpoints() })
  const port = await freePort()
  const udpPort = await freePort('127.0.0.1', 'udp')
  await proxy.apply([listenerAt(port), listenerAt(udpPort, 'udp')])
  await proxy.close()
  await proxy.apply([]).then(() => assert.unreachable('apply after close'), (error: Error) => assert.match(error.message, /after close/))
  const again = new UserspaceProxy({ endpoints: new FixedEndpoints() })
  try {
    assert.equal((await again.apply([listenerAt(port), listenerAt(udpPort, 'udp')])).map((s) => s.bound), [true, true])
  } finally {
    await again.close()
  }
})

apply.run()
