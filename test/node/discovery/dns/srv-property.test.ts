// Safety of SRV answers: whatever the endpoints of a port, the answer over TCP names exactly the
// ready ones (address and port, as a multiset), never an unready one, and each target's address is
// in the additional section.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import * as packet from 'dns-packet'
import type { Endpoint } from '../../../../node/discovery/types.js'
import { directoryOf, endpoint, query, tcpExchange, withDnsServer, type ServiceEntry } from './helpers.js'

const property = suite('DNS server: SRV property')

/** An IP in one canonical spelling, so that v6 written two ways compares equal. */
const canonical = (address: string): string => (address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address)

const endpointsArbitrary = fc.array(
  fc.record({ address: fc.oneof(fc.ipV4(), fc.ipV6()), port: fc.integer({ min: 1, max: 65535 }), ready: fc.boolean() }),
  { maxLength: 60 },
)

property('for random endpoint sets, the SRV answer over TCP is exactly the ready endpoints', async () => {
  const services: Record<string, ServiceEntry> = {}
  await withDnsServer({ directory: directoryOf(services) }, async (server) => {
    await fc.assert(
      fc.asyncProperty(endpointsArbitrary, async (drawn) => {
        const endpoints: Endpoint[] = drawn.map((entry, index) => endpoint(`web/${index}`, entry.address, entry.port, entry.ready))
        services.web = { address: '127.0.0.10', ports: { '80/tcp': endpoints } }
        const { replies } = await tcpExchange(server.address.port, packet.streamEncode(query('_80._tcp.web.peer', 'SRV')), 1)
        const reply = replies[0]!
        assert.is(reply.rcode, 'NOERROR')
        assert.not.ok(reply.flag_tc)
        const addressOf = new Map(reply.additionals!.map((record) => [record.name, canonical((record as { data: string }).data)]))
        const answered = reply.answers!.map((record) => {
          const data = (record as { data: { target: string; port: number } }).data
          return `${addressOf.get(data.target)} ${data.port}`
        })
        const expected = drawn.filter((entry) => entry.ready).map((entry) => `${canonical(entry.address)} ${entry.port}`)
        assert.equal(answered.sort(), expected.sort())
      }),
      { numRuns: 150 },
    )
  })
})

property.run()
