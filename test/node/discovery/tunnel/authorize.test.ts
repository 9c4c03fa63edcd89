// What the far end of a tunnel may connect to (authorizeTunnel), and the request's decoding: only a
// ready task of this agent on a host port it bound for a declared port; everything else refused with
// a reason. Table-driven, plus a property: whatever the request, an accepted target is one of this
// agent's own ready endpoints with exactly the requested slot and port.

import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PeerId, ServiceName, SlotId } from '../../../../core/index.js'
import { authorizeTunnel } from '../../../../node/discovery/tunnel/authorize.js'
import { decodeRequest, encodeRequest, TUNNEL_HEADER_LIMIT_BYTES } from '../../../../node/discovery/tunnel/header.js'
import type { Endpoint, ServicePort } from '../../../../node/discovery/types.js'

const SELF = 'self' as PeerId
const endpoint = (slot: string, port: number, extra: Partial<Endpoint> = {}): Endpoint => ({ slot: slot as SlotId, peer: SELF, address: '127.0.0.1', port, local: true, ready: true, state: 'running', ...extra })
const servicePort = (service: string, target: number, endpoints: Endpoint[], protocol: 'tcp' | 'udp' = 'tcp'): ServicePort => ({ service: service as ServiceName, target, protocol, endpoints })

const PORTS: ServicePort[] = [
  servicePort('web', 80, [endpoint('web/0', 20001), endpoint('web/1', 20002, { local: false, peer: 'other' as PeerId, address: '10.0.0.9' })]),
  servicePort('web', 443, [endpoint('web/0', 20003)]),
  servicePort('db', 5432, [endpoint('db/0', 20010, { ready: false, state: 'starting' })]),
  servicePort('dns', 53, [endpoint('dns/0', 20020)], 'udp'),
]

const rules = suite('authorizeTunnel')

for (const [name, slot, port, expected] of [
  ['a ready local task on a port it bound', 'web/0', 20001, 'ok'],
  ['its second declared port', 'web/0', 20003, 'ok'],
  ['another port on the host (the agent\'s own, anything listening)', 'web/0', 4001, 'task web/0 does not listen on 4001 for any port its service declares (it binds 20001 (for 80), 20003 (for 443))'],
  ['a task of the service that runs elsewhere', 'web/1', 20002, 'no task web/1 with a tcp port runs on this agent'],
  ['a task that does not exist', 'cache/0', 20001, 'no task cache/0 with a tcp port runs on this agent'],
  ['a task that is not ready', 'db/0', 20010, 'task db/0 is not ready (starting)'],
  ['a udp-only task (tunnels carry tcp)', 'dns/0', 20020, 'no task dns/0 with a tcp port runs on this agent'],
] as const) {
  rules(name, () => {
    const target = authorizeTunnel({ slot: slot as SlotId, port }, PORTS)
    if (expected === 'ok') {
      assert.ok(target.ok, JSON.stringify(target))
      if (target.ok) assert.equal([target.endpoint.slot, target.endpoint.port, target.endpoint.address], [slot, port, '127.0.0.1'])
    } else {
      assert.equal(target, { ok: false, reason: expected })
    }
  })
}

rules('an accepted target is always this agent\'s own ready endpoint with the slot and port asked for', () => {
  fc.assert(fc.property(fc.constantFrom('web/0', 'web/1', 'db/0', 'dns/0', 'x/0'), fc.integer({ min: 1, max: 65_535 }), (slot, port) => {
    const target = authorizeTunnel({ slot: slot as SlotId, port }, PORTS)
    if (!target.ok) return true
    return target.endpoint.local && target.endpoint.ready && target.endpoint.slot === slot && target.endpoint.port === port
  }))
})

rules.run()

const decode = suite('tunnel request decoding')

const body = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

for (const [name, input, expected] of [
  ['a slot and a port', body({ slot: 'web/0', port: 20001 }), { slot: 'web/0', port: 20001 }],
  ['an address is not a field', body({ slot: 'web/0', port: 20001, address: '10.0.0.1' }), 'request has unknown fields: address'],
  ['a port out of range', body({ slot: 'web/0', port: 70_000 }), 'request port 70000 is not a port'],
  ['a port that is text', body({ slot: 'web/0', port: '22' }), 'request port "22" is not a port'],
  ['a slot that is a path', body({ slot: '../etc', port: 1 }), 'request slot "../etc" is not <service>/<index>'],
  ['not an object', body([1, 2]), 'request is not an object'],
  ['not JSON', new TextEncoder().encode('GET / HTTP/1.1'), 'request is not JSON'],
] as const) {
  decode(name, () => {
    assert.equal(decodeRequest(input), expected)
  })
}

decode('what the client writes decodes to what it asked, within the header limit', () => {
  const frame = encodeRequest({ slot: 'a-very-long-service-name-of-sixty-three-characters-abcdefghijkl/123' as SlotId, port: 65_535 })
  assert.ok(frame.length < TUNNEL_HEADER_LIMIT_BYTES)
  assert.equal(decodeRequest(frame.subarray(1)), { slot: 'a-very-long-service-name-of-sixty-three-characters-abcdefghijkl/123', port: 65_535 })
})

decode.run()
