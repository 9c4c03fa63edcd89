// Ports: short and long forms, ranges, and what peer cannot publish.

import { suite } from 'uvu'
import { checkErrors, checkMappings } from './translate-one.js'

const tcp = (host: number, container: number) => ({ host, container, protocol: 'tcp' })
/** Published on every peer by the routing mesh (0: published nowhere, reachable by name only). */
const ingress = (host: number, container: number, protocol = 'tcp') => ({ host, container, protocol, mode: 'ingress' })
const BY_NAME = 'no published port: peer picks no random host port'

const Ports = suite('ports')

Ports('short forms', () => {
  checkMappings([
    { what: 'host:container, in ingress mode', input: { ports: ['8080:80'] }, output: { ports: [ingress(8080, 80)] } },
    { what: 'udp', input: { ports: ['53:53/udp'] }, output: { ports: [ingress(53, 53, 'udp')] } },
    { what: 'upper-case protocol', input: { ports: ['53:53/UDP'] }, output: { ports: [ingress(53, 53, 'udp')] } },
    { what: 'ranges', input: { ports: ['8000-8002:80-82'] }, output: { ports: [ingress(8000, 80), ingress(8001, 81), ingress(8002, 82)] } },
    {
      what: 'a host IP',
      input: { ports: ['127.0.0.1:8080:80'] },
      output: { ports: [ingress(8080, 80)] },
      warnings: ['services.web.ports[0]: ignored host IP 127.0.0.1: peer binds host ports on every interface'],
    },
    { what: 'an IPv6 host IP', input: { ports: ['[::1]:8080:80'] }, output: { ports: [ingress(8080, 80)] }, warnings: ['ignored host IP [::1]'] },
    { what: 'no published port: by name only', input: { ports: ['80'] }, output: { ports: [ingress(0, 80)] }, warnings: [`services.web.ports[0]: ${BY_NAME}, so 80/tcp is reachable by name only (<service>:80)`] },
    { what: 'no published port, as a number', input: { ports: [80] }, output: { ports: [ingress(0, 80)] }, warnings: [`services.web.ports[0]: ${BY_NAME}`] },
    { what: 'a container range, by name only', input: { ports: ['80-81'] }, output: { ports: [ingress(0, 80), ingress(0, 81)] }, warnings: ['80-81/tcp is reachable by name only'] },
    { what: 'a host range for one port', input: { ports: ['8000-8010:80'] }, output: { ports: [ingress(8000, 80)] }, warnings: ['services.web.ports[0]: published range 8000-8010: peer publishes fixed host ports, so it uses 8000'] },
    { what: 'a bare port beside the same port published: the published one covers it', input: { ports: ['80', '8080:80'] }, output: { ports: [ingress(8080, 80)] }, warnings: [`services.web.ports[0]: ${BY_NAME}`] },
    { what: 'expose: by name only', input: { expose: ['6379', 53, '7000-7001/udp'] }, output: { ports: [ingress(0, 6379), ingress(0, 53), ingress(0, 7000, 'udp'), ingress(0, 7001, 'udp')] } },
    { what: 'expose of a port already published', input: { ports: ['8080:80'], expose: ['80'] }, output: { ports: [ingress(8080, 80)] } },
  ])
  checkErrors([
    { what: 'sctp', input: { ports: ['9000:9000/sctp'] }, errors: ['services.web.ports[0]: peer publishes tcp and udp ports, not sctp'] },
    { what: 'an unknown protocol', input: { ports: ['80:80/http'] }, errors: ['unknown protocol "http"'] },
    { what: 'ranges of different lengths', input: { ports: ['8000-8001:80-82'] }, errors: ['differ in length'] },
    { what: 'port 0', input: { ports: ['0:80'] }, errors: ['invalid host port "0"'] },
    { what: 'not a port', input: { ports: ['http'] }, errors: ['services.web.ports[0]: expected "[host_ip:]host:container'] },
    { what: 'not a list', input: { ports: '80:80' }, errors: ['services.web.ports: expected a list'] },
    { what: 'expose not a list', input: { expose: '80' }, errors: ['services.web.expose: expected a list'] },
    { what: 'expose not a port', input: { expose: ['http'] }, errors: ['services.web.expose[0]: expected a container port'] },
  ])
})

Ports('long form', () => {
  checkMappings([
    { what: 'host mode', input: { ports: [{ target: 80, published: 8080, mode: 'host' }] }, output: { ports: [tcp(8080, 80)] } },
    { what: 'ingress mode, the default', input: { ports: [{ target: 80, published: '8080' }] }, output: { ports: [ingress(8080, 80)] } },
    { what: 'udp', input: { ports: [{ target: 53, published: 53, protocol: 'udp', mode: 'host' }] }, output: { ports: [{ host: 53, container: 53, protocol: 'udp' }] } },
    { what: 'host_ip', input: { ports: [{ target: 80, published: 80, mode: 'host', host_ip: '10.0.0.1' }] }, output: { ports: [tcp(80, 80)] }, warnings: ['services.web.ports[0].host_ip: ignored'] },
    { what: 'name and app_protocol', input: { ports: [{ name: 'web', app_protocol: 'http', target: 80, published: 80, mode: 'host' }] }, output: { ports: [tcp(80, 80)] }, warnings: ['ports[0].name: ignored', 'ports[0].app_protocol: ignored'] },
    { what: 'no published port: by name only', input: { ports: [{ target: 80 }] }, output: { ports: [ingress(0, 80)] }, warnings: [`services.web.ports[0]: ${BY_NAME}`] },
    { what: 'no published port in host mode', input: { ports: [{ target: 80, mode: 'host' }] }, output: {}, warnings: ['services.web.ports[0]: ignored: mode host needs a published port'] },
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
