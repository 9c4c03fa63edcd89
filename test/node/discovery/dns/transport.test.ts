// The server's two transports: several queries on one TCP connection, a UDP reply too large for the
// client cut short with TC while TCP carries it whole, and bytes that are no DNS message at all.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { connect } from 'node:net'
import * as packet from 'dns-packet'
import type { Packet } from 'dns-packet'
import { decodeReply, directoryOf, endpoint, query, resolverFor, tcpExchange, udpExchange, withDnsServer, type ServiceEntry } from './helpers.js'

const transport = suite('DNS server: UDP and TCP')

/** 100 ready endpoints: their SRV answer (about 9 KB) fits no UDP reply. */
const large: Record<string, ServiceEntry> = {
  web: {
    address: '127.0.0.10',
    ports: { '80/tcp': Array.from({ length: 100 }, (_, index) => endpoint(`web/${index}`, `10.0.${index >> 8}.${index & 0xff}`, 30000 + index)) },
  },
}

const withEdns = (base: Packet, size: number): Packet => ({
  ...base,
  additionals: [{ type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
})

transport('two queries on one TCP connection get two replies, each with its own id', async () => {
  await withDnsServer({ directory: directoryOf(large) }, async (server) => {
    const frames = Buffer.concat([packet.streamEncode(query('web.peer', 'A', 1)), packet.streamEncode(query('_80._tcp.web.peer', 'SRV', 2))])
    const { replies, closed } = await tcpExchange(server.address.port, frames, 2)
    assert.not.ok(closed)
    const byId = new Map(replies.map((reply) => [reply.id, reply]))
    assert.equal(byId.get(1)!.answers!.map((record) => (record as { data: string }).data), ['127.0.0.10'])
    assert.is(byId.get(2)!.answers!.length, 100)
  })
})

transport('a UDP reply larger than 512 bytes is cut short with TC; over TCP the same question gets every record', async () => {
  await withDnsServer({ directory: directoryOf(large) }, async (server) => {
    const bytes = (await udpExchange(server.address.port, packet.encode(query('_80._tcp.web.peer', 'SRV'))))!
    const cut = decodeReply(bytes)
    assert.ok(bytes.length <= 512, `${bytes.length} bytes over UDP`)
    assert.ok(cut.flag_tc, 'TC set')
    assert.ok(cut.answers!.length < 100)
    const { replies } = await tcpExchange(server.address.port, packet.streamEncode(query('_80._tcp.web.peer', 'SRV')), 1)
    assert.not.ok(replies[0]!.flag_tc)
    assert.equal(new Set(replies[0]!.answers!.map((record) => (record as { data: { port: number } }).data.port)).size, 100)
    assert.is(replies[0]!.additionals!.length, 100, 'every target\'s address')
    assert.is(server.stats().truncated, 1)
  })
})

transport('an answer beyond the 64 KiB a TCP message holds is cut short with TC there too, and stays well-formed', async () => {
  const huge = { web: { address: '127.0.0.10', ports: { '80/tcp': Array.from({ length: 2000 }, (_, index) => endpoint(`web/${index}`, `10.1.${index >> 8}.${index & 0xff}`, 20000 + index)) } } }
  await withDnsServer({ directory: directoryOf(huge) }, async (server) => {
    const { replies } = await tcpExchange(server.address.port, packet.streamEncode(query('_80._tcp.web.peer', 'SRV')), 1)
    assert.ok(replies[0]!.flag_tc)
    assert.ok(replies[0]!.answers!.length > 1000, `${replies[0]!.answers!.length} records`)
  })
})

transport('a client\'s EDNS buffer size raises the UDP limit, up to 1232 bytes', async () => {
  await withDnsServer({ directory: directoryOf(large) }, async (server) => {
    const bytes = (await udpExchange(server.address.port, packet.encode(withEdns(query('_80._tcp.web.peer', 'SRV'), 4096))))!
    const cut = decodeReply(bytes)
    assert.ok(cut.flag_tc)
    assert.ok(bytes.length > 512 && bytes.length <= 1232, `${bytes.length} bytes`)
    assert.ok(cut.additionals!.some((record) => record.type === 'OPT'), 'an EDNS query gets an OPT record back')
    const small = decodeReply((await udpExchange(server.address.port, packet.encode(withEdns(query('web.peer', 'A'), 4096))))!)
    assert.not.ok(small.flag_tc, 'what fits is not truncated')
  })
})

transport('Node\'s resolver, told to retry over TCP by TC, gets all 100 records', async () => {
  await withDnsServer({ directory: directoryOf(large) }, async (server) => {
    assert.is((await resolverFor(server).resolveSrv('_80._tcp.web.peer')).length, 100)
  })
})

transport('malformed UDP bytes are dropped and the server answers the next query', async () => {
  await withDnsServer({ directory: directoryOf(large) }, async (server) => {
    const garbage = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(12, 0xff), Buffer.concat([packet.encode(query('web.peer', 'A')).subarray(0, 20)])]
    for (const bytes of garbage) assert.is(await udpExchange(server.address.port, bytes, 200), undefined)
    assert.equal(await resolverFor(server).resolve4('web.peer'), ['127.0.0.10'])
    assert.is(server.stats().queries.malformed, garbage.length)
  })
})

transport('a malformed TCP message closes that connection only', async () => {
  await withDnsServer({ directory: directoryOf(large) }, async (server) => {
    const frames = Buffer.concat([Buffer.from([0, 5]), Buffer.from('hello'), packet.streamEncode(query('web.peer', 'A'))])
    const { replies, closed } = await tcpExchange(server.address.port, frames, 1)
    assert.ok(closed)
    assert.equal(replies, [], 'nothing after the bad message is answered')
    const { replies: next } = await tcpExchange(server.address.port, packet.streamEncode(query('web.peer', 'A')), 1)
    assert.is(next.length, 1)
  })
})

transport('a query split across TCP segments is answered once whole', async () => {
  await withDnsServer({ directory: directoryOf(large) }, async (server) => {
    const frame = packet.streamEncode(query('web.peer', 'A', 9))
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.address.port })
      let received = Buffer.alloc(0)
      socket.on('error', reject)
      socket.on('data', (chunk) => {
        received = Buffer.concat([received, chunk])
        if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          socket.end()
          resolve(received)
        }
      })
      socket.write(frame.subarray(0, 1))
      setTimeout(() => socket.write(frame.subarray(1, 10)), 50)
      setTimeout(() => socket.write(frame.subarray(10)), 100)
    })
    assert.is((packet.streamDecode(reply) as { id: number }).id, 9)
  })
})

transport('a TCP connection left silent is closed after the idle timeout', async () => {
  await withDnsServer({ directory: directoryOf(large), tcpIdleTimeoutMs: 200 }, async (server) => {
    // Asks for two replies but sends one query: the exchange ends only when the server closes.
    const { replies, closed } = await tcpExchange(server.address.port, packet.streamEncode(query('web.peer', 'A')), 2)
    assert.is(replies.length, 1)
    assert.ok(closed)
  })
})

transport('random corruptions of valid queries, over UDP and TCP, never stop the server', async () => {
  await withDnsServer({ directory: directoryOf(large), tcpIdleTimeoutMs: 200 }, async (server) => {
    const valid = [query('web.peer', 'A'), query('_80._tcp.web.peer', 'SRV'), withEdns(query('7f000001.addr.peer', 'A'), 1400), query('nope.peer', 'TXT')].map((item) => packet.encode(item))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), async (bytes, flips, cut) => {
        const corrupt = Buffer.from(bytes)
        for (const [at, value] of flips) corrupt[at % corrupt.length] = value
        const sent = corrupt.subarray(0, cut % 3 === 0 ? corrupt.length : cut % corrupt.length)
        await udpExchange(server.address.port, sent, 20)
        const frame = Buffer.concat([Buffer.from([sent.length >> 8, sent.length & 0xff]), sent])
        await tcpExchange(server.address.port, frame, 1)
      }),
      { numRuns: 150 },
    )
    assert.equal(await resolverFor(server).resolve4('web.peer'), ['127.0.0.10'])
    assert.equal((await tcpExchange(server.address.port, packet.streamEncode(query('web.peer', 'A')), 1)).replies.length, 1)
  })
})

transport.run()
