// The pure parts of apply(): which listeners to open, keep and close, and how a bind error reads.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { describeBindError } from '../../../../node/discovery/proxy/bind-error.js'
import { listenerKey, planListeners } from '../../../../node/discovery/proxy/listener-plan.js'
import { listenerAt } from './sockets.js'

const plan = suite('planListeners')

plan('opens the new, keeps the unchanged, closes the removed', () => {
  const open = new Set([listenerKey(listenerAt(1000)), listenerKey(listenerAt(1001)), listenerKey(listenerAt(1000, 'udp'))])
  const result = planListeners(open, [listenerAt(1000), listenerAt(1002), listenerAt(1000, 'udp')])
  assert.equal(result.open.map(listenerKey), ['127.0.0.1:1002/tcp'])
  assert.equal(result.keep.map(listenerKey), ['127.0.0.1:1000/tcp', '127.0.0.1:1000/udp'])
  assert.equal(result.close, ['127.0.0.1:1001/tcp'])
  assert.is(result.duplicates.size, 0)
})

plan('an address listed twice is refused at its second position; IPv6 hosts are bracketed', () => {
  const result = planListeners(new Set(), [listenerAt(53, 'udp', '::1'), listenerAt(53, 'udp', '::1'), listenerAt(53, 'tcp', '::1')])
  assert.equal([...result.duplicates.keys()], [1])
  assert.match(result.duplicates.get(1)!, /\[::1\]:53\/udp/)
  assert.is(result.open.length, 2)
})

plan('nothing wanted closes everything', () => {
  assert.equal(planListeners(new Set(['127.0.0.1:1/tcp']), []).close, ['127.0.0.1:1/tcp'])
})

plan.run()

const bind = suite('describeBindError')

for (const [code, meaning] of [
  ['EADDRINUSE', /address already in use/],
  ['EACCES', /permission denied \(ports below 1024/],
  ['EADDRNOTAVAIL', /not an address of this host/],
] as const) {
  bind(`${code} names the address, the service and what it means`, () => {
    const text = describeBindError(listenerAt(80), Object.assign(new Error('listen'), { code }))
    assert.match(text, /^cannot listen on 127\.0\.0\.1:80\/tcp for web:80: /)
    assert.match(text, meaning)
    assert.match(text, new RegExp(`\\[${code}\\]$`))
  })
}

bind('an unknown error keeps its own message', () => {
  assert.match(describeBindError(listenerAt(80, 'udp'), new Error('something odd')), /127\.0\.0\.1:80\/udp for web:80: something odd$/)
})

bind.run()
