// The host ports a task binds, and which ports belong to one service cluster-wide.

import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { boundPortsFit, placementRequest, portKey, publishedPortClash, TASK_PORT_RANGE, taskPorts, validateServices, type ServiceSpec } from '../../../core/index.js'

function spec(name: string, ports: unknown[], extra: Record<string, unknown> = {}): ServiceSpec {
  const result = validateServices({ services: { [name]: { image: 'nginx', ports, ...extra } } })
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '))
  return result.services[0]!
}

const Ports = suite('task ports')

Ports('host-mode ports are bound as written; ingress ports get a port from the task range', () => {
  const web = spec('web', ['8443:443', { host: 8080, container: 80, mode: 'ingress' }, { container: 9000, mode: 'ingress', protocol: 'udp' }])
  const bound = taskPorts(web, new Set(), 'web/0@h')!
  assert.equal(bound[0], { host: 8443, container: 443, protocol: 'tcp' })
  for (const port of bound.slice(1)) {
    assert.ok(port.host >= TASK_PORT_RANGE.first && port.host <= TASK_PORT_RANGE.last, `${port.host} in range`)
    assert.is(port.mode, undefined, 'a bound port says what is bound: host mode')
  }
  assert.equal(bound.map((port) => port.container), [443, 80, 9000])
  assert.ok(boundPortsFit(web, bound))
})

Ports('only host-mode ports limit placement', () => {
  assert.is(placementRequest(spec('a', [{ host: 8080, container: 80, mode: 'ingress' }])).maxPerNode, 0)
  assert.equal(placementRequest(spec('a', [{ host: 8080, container: 80, mode: 'ingress' }])).ports, [])
  assert.is(placementRequest(spec('b', ['8080:80'])).maxPerNode, 1)
})

Ports('a bound port list that does not fit the spec is refused', () => {
  const web = spec('web', [{ host: 8080, container: 80, mode: 'ingress' }])
  assert.not.ok(boundPortsFit(web, [{ host: 8080, container: 80, protocol: 'tcp' }]), 'an ingress task binds a port from the range, not the published one')
  assert.not.ok(boundPortsFit(web, []))
  assert.not.ok(boundPortsFit(web, [{ host: 20_500, container: 81, protocol: 'tcp' }]))
  assert.ok(boundPortsFit(web, [{ host: 20_500, container: 80, protocol: 'tcp' }]))
})

Ports('property: bound ports never take a taken port, nor one twice, and always fit the spec', () => {
  const portArb = fc.record({ container: fc.integer({ min: 1, max: 65_535 }), protocol: fc.constantFrom('tcp', 'udp') })
  fc.assert(fc.property(
    fc.uniqueArray(portArb, { minLength: 1, maxLength: 6, selector: (p) => `${p.container}/${p.protocol}` }),
    fc.array(fc.integer({ min: TASK_PORT_RANGE.first, max: TASK_PORT_RANGE.last }), { maxLength: 200 }),
    fc.string(),
    (ports, takenPorts, seed) => {
      const web = spec('web', ports.map((p) => ({ ...p, mode: 'ingress' })))
      const taken = new Set(takenPorts.flatMap((port) => [portKey(port, 'tcp'), portKey(port, 'udp')]))
      const bound = taskPorts(web, taken, seed)!
      const keys = bound.map((port) => portKey(port.host, port.protocol))
      assert.is(new Set(keys).size, keys.length)
      for (const key of keys) assert.not.ok(taken.has(key), `${key} was taken`)
      assert.ok(boundPortsFit(web, bound))
    },
  ))
})

Ports('a full range gives no ports', () => {
  const taken = new Set<string>()
  for (let port = TASK_PORT_RANGE.first; port <= TASK_PORT_RANGE.last; port++) taken.add(portKey(port, 'tcp'))
  assert.is(taskPorts(spec('web', [{ container: 80, mode: 'ingress' }]), taken, 's'), undefined)
})

const Clash = suite('published ports')

Clash('two services cannot publish one ingress port; the error names both', () => {
  const api = spec('api', [{ host: 8080, container: 80, mode: 'ingress' }])
  const web = spec('web', [{ host: 8080, container: 3000, mode: 'ingress' }])
  assert.equal(publishedPortClash([web], [api]), { service: 'web', path: 'ports[0]', port: 8080, protocol: 'tcp', other: 'api' })
  assert.equal(publishedPortClash([api, web], [])?.other, 'api')
})

Clash('an ingress port clashes with another service\'s host-mode port, either way round', () => {
  const host = spec('host', ['8080:80'])
  const mesh = spec('mesh', [{ host: 8080, container: 80, mode: 'ingress' }])
  assert.is(publishedPortClash([mesh], [host])?.other, 'host')
  assert.is(publishedPortClash([host], [mesh])?.other, 'mesh')
})

Clash('no clash: other protocols, host-mode ports of two services, a service replacing itself, ports published nowhere', () => {
  const tcp = spec('a', [{ host: 53, container: 53, mode: 'ingress' }])
  const udp = spec('b', [{ host: 53, container: 53, mode: 'ingress', protocol: 'udp' }])
  assert.is(publishedPortClash([udp], [tcp]), undefined)
  assert.is(publishedPortClash([spec('c', ['8080:80'])], [spec('d', ['8080:80'])]), undefined)
  assert.is(publishedPortClash([spec('a', [{ host: 53, container: 5353, mode: 'ingress' }])], [tcp]), undefined)
  assert.is(publishedPortClash([spec('e', [{ container: 80, mode: 'ingress' }])], [spec('f', [{ container: 80, mode: 'ingress' }])]), undefined)
})

Ports.run()
Clash.run()
