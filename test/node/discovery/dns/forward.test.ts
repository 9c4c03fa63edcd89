// Names outside `.peer` relayed to the upstream resolvers: the reply comes back with the client's
// id over UDP and TCP, a silent upstream turns into SERVFAIL after the forward timeout, the next
// upstream is tried, and without any upstream the query is REFUSED.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as packet from 'dns-packet'
import { FORWARD_TIMEOUT_MS } from '../../../../node/discovery/dns/forward.js'
import { decodeReply, directoryOf, endpoint, failureOf, query, resolverFor, startUpstream, tcpExchange, udpExchange, withDnsServer } from './helpers.js'

const forwarding = suite('DNS server: forwarding')

const directory = directoryOf({ web: { address: '127.0.0.10', ports: { '80/tcp': [endpoint('web/0', '10.0.0.1', 31000)] } } })

forwarding('a name outside .peer is answered by the upstream, .peer names still by the server', async () => {
  const upstream = await startUpstream('192.0.2.7')
  try {
    await withDnsServer({ directory, upstream: [`127.0.0.1:${upstream.port}`] }, async (server) => {
      const resolver = resolverFor(server)
      assert.equal(await resolver.resolve4('example.com'), ['192.0.2.7'])
      assert.equal(await resolver.resolve4('web.peer'), ['127.0.0.10'])
      assert.is(upstream.seen(), 1, '.peer names never go upstream')
      assert.is(server.stats().queries.forwarded, 1)
    })
  } finally {
    await upstream.close()
  }
})

forwarding('the relayed reply carries the client\'s id, over UDP and over TCP', async () => {
  const upstream = await startUpstream('192.0.2.8')
  try {
    await withDnsServer({ directory, upstream: [`127.0.0.1:${upstream.port}`] }, async (server) => {
      const overUdp = decodeReply((await udpExchange(server.address.port, packet.encode(query('example.org', 'A', 777))))!)
      assert.is(overUdp.id, 777)
      assert.equal(overUdp.answers!.map((record) => (record as { data: string }).data), ['192.0.2.8'])
      const { replies } = await tcpExchange(server.address.port, packet.streamEncode(query('example.net', 'A', 4321)), 1)
      assert.is(replies[0]!.id, 4321)
      assert.equal(replies[0]!.answers!.map((record) => (record as { data: string }).data), ['192.0.2.8'])
      assert.is(upstream.seen(), 2)
    })
  } finally {
    await upstream.close()
  }
})

forwarding('an upstream that never answers turns into SERVFAIL after the forward timeout', async () => {
  const silent = await startUpstream(undefined)
  try {
    await withDnsServer({ directory, upstream: [`127.0.0.1:${silent.port}`] }, async (server) => {
      const started = Date.now()
      assert.is(await failureOf(resolverFor(server, 10_000).resolve4('example.com')), 'ESERVFAIL')
      // Not a timing assertion on speed: SERVFAIL must not come before the upstream had its time.
      assert.ok(Date.now() - started >= FORWARD_TIMEOUT_MS - 50, `SERVFAIL after ${Date.now() - started} ms`)
      assert.is(silent.seen(), 1)
      assert.is(server.stats().queries.servfail, 1)
    })
  } finally {
    await silent.close()
  }
})

forwarding('when the first upstream is silent the next one is asked, and its answer wins', async () => {
  const silent = await startUpstream(undefined)
  const working = await startUpstream('192.0.2.9')
  try {
    await withDnsServer({ directory, upstream: [`127.0.0.1:${silent.port}`, `127.0.0.1:${working.port}`] }, async (server) => {
      assert.equal(await resolverFor(server).resolve4('example.com'), ['192.0.2.9'])
      assert.equal([silent.seen(), working.seen()], [1, 1])
    })
  } finally {
    await silent.close()
    await working.close()
  }
})

forwarding('without an upstream a name outside .peer is REFUSED', async () => {
  await withDnsServer({ directory }, async (server) => {
    assert.is(await failureOf(resolverFor(server).resolve4('example.com')), 'EREFUSED')
    assert.is(server.stats().queries.refused, 1)
    const reply = decodeReply((await udpExchange(server.address.port, packet.encode(query('web.peer', 'A'))))!)
    assert.not.ok(reply.flag_ra, 'no recursion is offered')
  })
})

forwarding('the server never forwards to itself', async () => {
  // Port 0 makes the server's own address unknowable in advance; a self-entry is dropped at start.
  await withDnsServer({ directory, port: 0 }, async (first) => {
    const port = first.address.port
    await first.close()
    await withDnsServer({ directory, port, upstream: [`127.0.0.1:${port}`] }, async (server) => {
      assert.is(await failureOf(resolverFor(server).resolve4('example.com')), 'EREFUSED')
    })
  })
})

forwarding.run()
