// The DNS server answering `.peer` names over real sockets, asked by Node's own resolver (c-ares):
// service addresses, SRV records of ready endpoints in rotating order, hex address names, and
// NXDOMAIN for what does not exist.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createSocket } from 'node:dgram'
import * as packet from 'dns-packet'
import { startDnsServer } from '../../../../node/discovery/dns/index.js'
import { decodeReply, directoryOf, endpoint, failureOf, query, resolverFor, udpExchange, withDnsServer, type ServiceEntry } from './helpers.js'

const dns = suite('DNS server: .peer names')

const services: Record<string, ServiceEntry> = {
  web: {
    address: '127.0.0.10',
    ports: {
      '80/tcp': [endpoint('web/0', '10.0.0.1', 31000), endpoint('web/1', '10.0.0.2', 31001, false), endpoint('web/2', '10.0.0.3', 31002)],
      '53/udp': [endpoint('web/0', '10.0.0.1', 31053)],
      '9000/tcp': [endpoint('web/0', '10.0.0.1', 31900, false)],
    },
  },
  api: { address: 'fd00::10', ports: { '443/tcp': [endpoint('api/0', 'fd00::1', 32443)] } },
}

dns('a service name resolves to its service address, case-insensitive, a trailing dot tolerated', async () => {
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    const resolver = resolverFor(server)
    assert.equal(await resolver.resolve4('web.peer'), ['127.0.0.10'])
    assert.equal(await resolver.resolve4('WEB.Peer.'), ['127.0.0.10'])
    assert.equal(await resolver.resolve4('web.peer', { ttl: true }), [{ address: '127.0.0.10', ttl: 5 }])
    assert.equal(await resolver.resolve6('api.peer'), ['fd00::10'])
  })
})

dns('the other address family of a service is NOERROR without records, not NXDOMAIN', async () => {
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    const resolver = resolverFor(server)
    assert.is(await failureOf(resolver.resolve6('web.peer')), 'ENODATA')
    assert.is(await failureOf(resolver.resolve4('api.peer')), 'ENODATA')
    const reply = decodeReply((await udpExchange(server.address.port, packet.encode(query('web.peer', 'AAAA'))))!)
    assert.is(reply.rcode, 'NOERROR')
    assert.equal(reply.answers, [])
    assert.is(reply.authorities![0]!.type, 'SOA', 'a negative answer carries the SOA, whose minimum is the negative TTL')
  })
})

dns('SRV lists exactly the ready endpoints of the port, with their host ports and hex address targets', async () => {
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    const resolver = resolverFor(server)
    const records = await resolver.resolveSrv('_80._tcp.web.peer')
    assert.equal(
      records.map((record) => `${record.name}:${record.port}/${record.priority}/${record.weight}`).sort(),
      ['0a000001.addr.peer:31000/0/1', '0a000003.addr.peer:31002/0/1'],
    )
    assert.equal((await resolver.resolveSrv('_53._udp.web.peer')).map((record) => record.port), [31053])
    assert.equal((await resolver.resolveSrv('_443._tcp.api.peer')).map((record) => record.name), ['fd000000000000000000000000000001.addr.peer'])
  })
})

dns('SRV answers carry each target\'s address in the additional section', async () => {
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    const reply = decodeReply((await udpExchange(server.address.port, packet.encode(query('_80._tcp.web.peer', 'SRV'))))!)
    assert.equal(
      reply.additionals!.map((record) => `${record.name} ${record.type} ${(record as { data: string }).data}`).sort(),
      ['0a000001.addr.peer A 10.0.0.1', '0a000003.addr.peer A 10.0.0.3'],
    )
    assert.ok(reply.flag_aa, 'the server is authoritative for .peer')
  })
})

dns('successive SRV queries rotate the order, so every ready endpoint comes first in turn', async () => {
  const ports = { '80/tcp': [1, 2, 3, 4].map((index) => endpoint(`web/${index}`, `10.0.0.${index}`, 31000 + index)) }
  await withDnsServer({ directory: directoryOf({ web: { address: '127.0.0.10', ports } }) }, async (server) => {
    const resolver = resolverFor(server)
    const firsts: number[] = []
    for (let round = 0; round < 8; round++) {
      const records = await resolver.resolveSrv('_80._tcp.web.peer')
      assert.equal(records.map((record) => record.port).sort(), [31001, 31002, 31003, 31004])
      firsts.push(records[0]!.port)
    }
    assert.equal(new Set(firsts.slice(0, 4)).size, 4, `first records ${firsts.join(', ')}`)
    assert.equal(firsts.slice(4), firsts.slice(0, 4), 'the rotation is a cycle')
  })
})

dns('a port whose endpoints are all unready is NOERROR with no records; an unknown port or service is NXDOMAIN', async () => {
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    const resolver = resolverFor(server)
    assert.is(await failureOf(resolver.resolveSrv('_9000._tcp.web.peer')), 'ENODATA')
    assert.is(await failureOf(resolver.resolveSrv('_81._tcp.web.peer')), 'ENOTFOUND')
    assert.is(await failureOf(resolver.resolveSrv('_80._udp.web.peer')), 'ENOTFOUND')
    assert.is(await failureOf(resolver.resolveSrv('_80._tcp.nope.peer')), 'ENOTFOUND')
    assert.is(await failureOf(resolver.resolve4('nope.peer')), 'ENOTFOUND')
    const stats = server.stats()
    assert.is(stats.queries.nxdomain, 4)
    assert.is(stats.queries.answered, 1)
  })
})

dns('names under .peer of no known shape are NXDOMAIN, with the SOA in authority', async () => {
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    const resolver = resolverFor(server)
    for (const name of ['a.web.peer', '_x._tcp.web.peer', '_080._tcp.web.peer', '_70000._tcp.web.peer', '_80._sctp.web.peer', 'web_1.peer', 'zz.addr.peer', '0a000001.addr.web.peer']) {
      assert.is(await failureOf(resolver.resolve4(name)), 'ENOTFOUND', name)
    }
    const reply = decodeReply((await udpExchange(server.address.port, packet.encode(query('nope.peer', 'A'))))!)
    assert.is(reply.rcode, 'NXDOMAIN')
    const soa = reply.authorities![0] as { type: string; ttl: number; data: { minimum: number } }
    assert.equal([soa.type, soa.ttl, soa.data.minimum], ['SOA', 1, 1])
  })
})

dns('a hex address name resolves on its own to the address it spells', async () => {
  await withDnsServer({ directory: directoryOf({}) }, async (server) => {
    const resolver = resolverFor(server)
    assert.equal(await resolver.resolve4('7f000001.addr.peer'), ['127.0.0.1'])
    assert.equal(await resolver.resolve6('fd000000000000000000000000000001.ADDR.peer'), ['fd00::1'])
    assert.is(await failureOf(resolver.resolve6('7f000001.addr.peer')), 'ENODATA')
  })
})

dns('the directory is asked on every query: a service removed is NXDOMAIN at once, an endpoint gone ready appears', async () => {
  const live: Record<string, ServiceEntry> = { web: { address: '127.0.0.10', ports: { '80/tcp': [endpoint('web/0', '10.0.0.1', 31000, false)] } } }
  await withDnsServer({ directory: directoryOf(live) }, async (server) => {
    const resolver = resolverFor(server)
    assert.is(await failureOf(resolver.resolveSrv('_80._tcp.web.peer')), 'ENODATA')
    live.web = { address: '127.0.0.10', ports: { '80/tcp': [endpoint('web/0', '10.0.0.1', 31000, true)] } }
    assert.equal((await resolver.resolveSrv('_80._tcp.web.peer')).map((record) => record.port), [31000])
    delete live.web
    assert.is(await failureOf(resolver.resolve4('web.peer')), 'ENOTFOUND')
  })
})

dns('a query packet with the QR bit set (a reply) is ignored', async () => {
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    const reply = await udpExchange(server.address.port, packet.encode({ ...query('web.peer', 'A'), type: 'response' }), 300)
    assert.is(reply, undefined)
    assert.is(server.stats().queries.malformed, 1)
  })
})

dns('a query with two questions is FORMERR; an opcode other than QUERY is NOTIMP', async () => {
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    const two = packet.encode({ ...query('web.peer', 'A'), questions: [{ type: 'A', name: 'web.peer' }, { type: 'A', name: 'api.peer' }] })
    assert.is(decodeReply((await udpExchange(server.address.port, two))!).rcode, 'FORMERR')
    const status = packet.encode(query('web.peer', 'A'))
    status.writeUInt16BE(status.readUInt16BE(2) | (2 << 11), 2) // opcode 2, STATUS
    assert.is(decodeReply((await udpExchange(server.address.port, status))!).rcode, 'NOTIMP')
  })
})

dns('a port already taken fails the start with an error naming the address', async () => {
  const taken = createSocket('udp4')
  await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve))
  const port = taken.address().port
  try {
    let message = ''
    try {
      const server = await startDnsServer({ host: '127.0.0.1', port, directory: directoryOf({}), log: () => undefined })
      await server.close()
    } catch (error) {
      message = (error as Error).message
    }
    assert.match(message, `127.0.0.1:${port}`)
    assert.match(message, 'in use')
  } finally {
    taken.close()
  }
})

dns('a bad upstream fails the start with an error naming it', async () => {
  let message = ''
  try {
    const server = await startDnsServer({ host: '127.0.0.1', port: 0, directory: directoryOf({}), upstream: ['resolver.example'], log: () => undefined })
    await server.close()
  } catch (error) {
    message = (error as Error).message
  }
  assert.match(message, '"resolver.example"')
})

dns('a port out of range fails the start with an error naming it', async () => {
  let message = ''
  try {
    const server = await startDnsServer({ host: '127.0.0.1', port: 70000, directory: directoryOf({}), log: () => undefined })
    await server.close()
  } catch (error) {
    message = (error as Error).message
  }
  assert.match(message, 'DNS port 70000')
})

dns.run()
