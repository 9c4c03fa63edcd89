// The names under `.peer`: which shape a query name has, and the hex spelling of endpoint addresses
// used as SRV targets.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { addressName, classifyName } from '../../../../node/discovery/dns/names.js'

const names = suite('DNS names')

names('query names classify by shape, case-insensitive, a trailing dot tolerated', () => {
  const table: [string, unknown][] = [
    ['example.com', { kind: 'outside' }],
    ['peer.example.com', { kind: 'outside' }],
    ['peer', { kind: 'apex' }],
    ['PEER.', { kind: 'apex' }],
    ['web.peer', { kind: 'service', service: 'web' }],
    ['Web.Peer.', { kind: 'service', service: 'web' }],
    ['addr.peer', { kind: 'service', service: 'addr' }],
    ['_tcp.web.peer', { kind: 'transport', service: 'web' }],
    ['_80._tcp.web.peer', { kind: 'srv', service: 'web', port: 80, protocol: 'tcp' }],
    ['_65535._UDP.db-1.peer.', { kind: 'srv', service: 'db-1', port: 65535, protocol: 'udp' }],
    ['7f000001.addr.peer', { kind: 'address', address: '127.0.0.1', family: 4 }],
    ['FD000000000000000000000000000001.addr.peer', { kind: 'address', address: 'fd00:0000:0000:0000:0000:0000:0000:0001', family: 6 }],
    ['7f00001.addr.peer', { kind: 'unknown' }],
    ['_0._tcp.web.peer', { kind: 'unknown' }],
    ['_65536._tcp.web.peer', { kind: 'unknown' }],
    ['_080._tcp.web.peer', { kind: 'unknown' }],
    ['_80._sctp.web.peer', { kind: 'unknown' }],
    ['x._80._tcp.web.peer', { kind: 'unknown' }],
    ['a.web.peer', { kind: 'unknown' }],
    ['-web.peer', { kind: 'unknown' }],
    ['web_1.peer', { kind: 'unknown' }],
    [`${'a'.repeat(64)}.peer`, { kind: 'unknown' }],
  ]
  for (const [name, expected] of table) assert.equal(classifyName(name), expected, name)
})

names('an address is named by its hex digits under addr.peer, like Consul', () => {
  assert.is(addressName('127.0.0.1'), '7f000001.addr.peer')
  assert.is(addressName('10.1.255.0'), '0a01ff00.addr.peer')
  assert.is(addressName('fd00::1'), 'fd000000000000000000000000000001.addr.peer')
  assert.is(addressName('::ffff:10.0.0.1'), '00000000000000000000ffff0a000001.addr.peer')
  assert.is(addressName('fe80::1%eth0'), 'fe800000000000000000000000000001.addr.peer')
  assert.is(addressName('host.example'), undefined)
})

names('every v4 and v6 address round-trips through its hex name', () => {
  const canonical = (address: string): string => (address.includes(':') ? new URL(`http://[${address}]/`).hostname : new URL(`http://${address}/`).hostname)
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => {
      const name = classifyName(addressName(address)!)
      assert.is(name.kind, 'address')
      const back = (name as { address: string }).address
      assert.is(canonical(back), canonical(address))
    }),
    { numRuns: 500 },
  )
})

names.run()
