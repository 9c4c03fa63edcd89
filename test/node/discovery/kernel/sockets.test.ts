// Which local sockets a listener's NAT rules would take traffic from.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseSocketTable, socketInTheWay } from '../../../../node/discovery/kernel/sockets.js'
import type { Listener } from '../../../../node/discovery/types.js'

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0FA1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
`
const UDP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
13347: 01014D7F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4 2 0 0
13348: 0100007F:A000 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 5 2 0 0
`
const TCP6 = `  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:740C 00000000000000000000000000000000:0000 0A 00000000:00000000
`

const sockets = suite('kernel forwarder: sockets in the way')

sockets('TCP listeners and bound UDP sockets are read, connected ones are not; addresses are little-endian words', () => {
  assert.equal(parseSocketTable(TCP, 'tcp'), [
    { protocol: 'tcp', address: '127.0.0.1', port: 4001 },
    { protocol: 'tcp', address: '0.0.0.0', port: 8080 },
  ])
  assert.equal(parseSocketTable(UDP, 'udp'), [{ protocol: 'udp', address: '127.77.1.1', port: 53 }])
  assert.equal(parseSocketTable(TCP6, 'tcp'), [{ protocol: 'tcp', address: undefined, port: 29708 }])
})

sockets('a published port conflicts with a socket on its port at any address; a service address only with its own', () => {
  const table = [...parseSocketTable(TCP, 'tcp'), ...parseSocketTable(UDP, 'udp'), ...parseSocketTable(TCP6, 'tcp')]
  const listener = (host: string, port: number, protocol = 'tcp', role = 'mesh') => ({ service: 'web', target: 80, protocol, host, port, role }) as Listener
  assert.ok(socketInTheWay(listener('0.0.0.0', 4001), table))
  assert.ok(socketInTheWay(listener('0.0.0.0', 29708), table), 'an IPv6 wildcard socket takes IPv4 too')
  assert.not.ok(socketInTheWay(listener('0.0.0.0', 4001, 'udp'), table))
  assert.ok(socketInTheWay(listener('127.77.1.1', 53, 'udp', 'service'), table))
  assert.not.ok(socketInTheWay(listener('127.77.0.9', 53, 'udp', 'service'), table))
  assert.not.ok(socketInTheWay(listener('127.77.0.9', 8080, 'tcp', 'service'), table), 'a wildcard socket does not own a service address')
})

sockets.run()
