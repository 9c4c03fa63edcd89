// Ports: short and long forms, ranges, and what peer cannot publish.

import { suite } from 'uvu'
import { checkErrors, checkMappings } from './translate-one.js'

const INGRESS = 'services.web.ports: published in ingress mode (the default): peer has no routing mesh yet'
const tcp = (host: number, container: number) => ({ host, container, protocol: 'tcp' })

const Ports = suite('ports')

Ports('short forms', () => {
  checkMappings([
    { what: 'host:container', input: { ports: ['8080:80'] }, output: { ports: [tcp(8080, 80)] }, warnings: [INGRESS] },
    { what: 'udp', input: { ports: ['53:53/udp'] }, output: { ports: [{ host: 53, container: 53, protocol: 'udp' }] }, warnings: [INGRESS] },
    { what: 'upper-case protocol', input: { ports: ['53:53/UDP'] }, output: { ports: [{ host: 53, container: 53, protocol: 'udp' }] }, warnings: [INGRESS] },
    { what: 'ranges', input: { ports: ['8000-8002:80-82'] }, output: { ports: [tcp(8000, 80), tcp(8001, 81), tcp(8002, 82)] }, warnings: [INGRESS] },
    {
      what: 'a host IP',
      input: { ports: ['127.0.0.1:8080:80'] },
      output: { ports: [tcp(8080, 80)] },
      warnings: [INGRESS, 'services.web.ports[0]: ignored host IP 127.0.0.1: peer binds host ports on every interface'],
    },
    { what: 'an IPv6 host IP', input: { ports: ['[::1]:8080:80'] }, output: { ports: [tcp(8080, 80)] }, warnings: [INGRESS, 'ignored host IP [::1]'] },
    { what: 'no published port', input: { ports: ['80'] }, output: {}, warnings: ['services.web.ports[0]: ignored: no published port; peer publishes fixed host ports only, so write "80:80"'] },
    { what: 'no published port, as a number', input: { ports: [80] }, output: {}, warnings: ['services.web.ports[0]: ignored: no published port'] },
    { what: 'a host range for one port', input: { ports: ['8000-8010:80'] }, output: { ports: [tcp(8000, 80)] }, warnings: [INGRESS, 'services.web.ports[0]: published range 8000-8010: peer publishes fixed host ports, so it uses 8000'] },
  ])
  checkErrors([
    { what: 'sctp', input: { ports: ['9000:9000/sctp'] }, errors: ['services.web.ports[0]: peer publishes tcp and udp ports, not sctp'] },
    { what: 'an unknown protocol', input: { ports: ['80:80/http'] }, errors: ['unknown protocol "http"'] },
    { what: 'ranges of different lengths', input: { ports: ['8000-8001:80-82'] }, errors: ['differ in length'] },
    { what: 'port 0', input: { ports: ['0:80'] }, errors: ['invalid host port "0"'] },
    { what: 'not a port', input: { ports: ['http'] }, errors: ['services.web.ports[0]: expected "[host_ip:]host:container'] },
    { what: 'not a list', input: { ports: '80:80' }, errors: ['services.web.ports: expected a list'] },
  ])
})

Ports('long form', () => {
  checkMappings([
    { what: 'host mode', input: { ports: [{ target: 80, published: 8080, mode: 'host' }] }, output: { ports: [tcp(8080, 80)] } },
    { what: 'ingress mode, the default', input: { ports: [{ target: 80, published: '8080' }] }, output: { ports: [tcp(8080, 80)] }, warnings: [INGRESS] },
    { what: 'udp', input: { ports: [{ target: 53, published: 53, protocol: 'udp', mode: 'host' }] }, output: { ports: [{ host: 53, container: 53, protocol: 'udp' }] } },
    { what: 'host_ip', input: { ports: [{ target: 80, published: 80, mode: 'host', host_ip: '10.0.0.1' }] }, output: { ports: [tcp(80, 80)] }, warnings: ['services.web.ports[0].host_ip: ignored'] },
    { what: 'name and app_protocol', input: { ports: [{ name: 'web', app_protocol: 'http', target: 80, published: 80, mode: 'host' }] }, output: { ports: [tcp(80, 80)] }, warnings: ['ports[0].name: ignored', 'ports[0].app_protocol: ignored'] },
    { what: 'no published port', input: { ports: [{ target: 80 }] }, output: {}, warnings: ['services.web.ports[0]: ignored: no published port; peer publishes fixed host ports only, so add published: 80'] },
    { what: 'a published range', input: { ports: [{ target: 80, published: '8000-8010', mode: 'host' }] }, output: { ports: [tcp(8000, 80)] }, warnings: ['ports[0].published: published range 8000-8010'] },
  ])
  checkErrors([
    { what: 'no target', input: { ports: [{ published: 80 }] }, errors: ['services.web.ports[0].target: expected the container port'] },
    { what: 'an unknown mode', input: { ports: [{ target: 80, published: 80, mode: 'vip' }] }, errors: ['services.web.ports[0].mode: expected host or ingress'] },
    { what: 'sctp', input: { ports: [{ target: 80, published: 80, protocol: 'sctp' }] }, errors: ['services.web.ports[0].protocol: peer publishes tcp and udp ports, not sctp'] },
    { what: 'a typo', input: { ports: [{ target: 80, publish: 80 }] }, errors: ['services.web.ports[0].publish: unknown field'] },
  ])
})

Ports.run()
