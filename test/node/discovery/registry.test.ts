// The endpoint registry, the listeners it asks for, service addresses and why an endpoint gets no
// traffic: pure functions over peers' adverts and the desired specs.

import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, validateServices, type PeerView, type ServiceSpec, type TaskState, type TaskView } from '../../../core/index.js'
import {
  CONTAINER_SERVICE_CIDR, DEFAULT_SERVICE_CIDR, defaultServiceCidr, Discovery, dnsAddressOf, endpointWhy, EndpointRegistry, listenersFor, meshHostOf, parseServiceRange, ServiceAddresses, servicePorts,
  type DiscoveryStatus, type RegistryInputs, type ServicePortRow,
} from '../../../node/discovery/index.js'

const A = peerId('peer-a')
const B = peerId('peer-b')

function spec(name: string, body: Record<string, unknown>): ServiceSpec {
  const result = validateServices({ services: { [name]: { driver: 'process', command: ['srv'], ...body } } })
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '))
  return result.services[0]!
}

function task(service: ServiceSpec, index: number, peer: typeof A, state: TaskState, hostPort: number): TaskView {
  return {
    slot: `${service.name}/${index}` as TaskView['slot'], service: service.name, peer, specHash: 'h', state, since: 0,
    resources: service.resources, ports: service.ports.map((p) => ({ host: p.mode === 'ingress' ? hostPort : p.host, container: p.container, protocol: p.protocol })),
  }
}

function peer(id: typeof A, tasks: TaskView[], state: PeerView['state'] = 'alive'): PeerView {
  const none = { cpuMilli: 0, memoryMiB: 0, extended: {} }
  return { id, state, capacity: none, allocated: none, labels: {}, drivers: ['process'], tasks }
}

const ADDRESSES: Record<string, string> = { [A]: '10.0.0.1', [B]: '10.0.0.2' }
const inputs = (services: ServiceSpec[], peers: PeerView[]): RegistryInputs => ({ self: A, services, peers, addressOf: (p) => ADDRESSES[p] })

const kv = spec('kv', { replicas: 2, ports: [{ container: 6379, mode: 'ingress' }] })
const web = spec('web', { replicas: 2, ports: [{ host: 8080, container: 80, mode: 'ingress' }], healthcheck: { command: ['true'] } })

const Registry = suite('endpoint registry')

Registry('endpoints carry the task\'s host address and bound port; ready follows the healthcheck', () => {
  const ports = servicePorts(inputs([kv, web], [
    peer(A, [task(kv, 0, A, 'running', 21000), task(web, 0, A, 'running', 22000)]),
    peer(B, [task(kv, 1, B, 'starting', 21001), task(web, 1, B, 'healthy', 22001)]),
  ]))
  assert.equal(ports.map((p) => `${p.service} ${p.target}/${p.protocol} ${p.published ?? '-'}`), ['kv 6379/tcp -', 'web 80/tcp 8080'])
  const [kvPort, webPort] = ports
  assert.equal(kvPort!.endpoints.map((e) => [e.slot, e.address, e.port, e.local, e.ready]), [['kv/0', '10.0.0.1', 21000, true, true], ['kv/1', '10.0.0.2', 21001, false, false]])
  // web has a healthcheck: running is not enough.
  assert.equal(webPort!.endpoints.map((e) => [e.slot, e.ready]), [['web/0', false], ['web/1', true]])
})

Registry('a dead peer\'s tasks are gone, a suspect peer\'s are not ready, a peer without address has none', () => {
  const ports = servicePorts({
    self: A, services: [kv],
    peers: [peer(A, [task(kv, 0, A, 'running', 21000)], 'suspect'), peer(B, [task(kv, 1, B, 'running', 21001)], 'dead')],
    addressOf: (p) => ADDRESSES[p],
  })
  assert.equal(ports[0]!.endpoints.map((e) => [e.slot, e.ready, e.state]), [['kv/0', false, 'running (peer suspect)']])
  const noAddress = servicePorts({ self: A, services: [kv], peers: [peer(B, [task(kv, 1, B, 'running', 21001)])], addressOf: () => undefined })
  assert.equal(noAddress[0]!.endpoints, [])
})

Registry('ready() lists local endpoints first and update() says whether anything changed', () => {
  const registry = new EndpointRegistry()
  const peers = [peer(B, [task(kv, 1, B, 'running', 21001)]), peer(A, [task(kv, 0, A, 'running', 21000)])]
  assert.ok(registry.update(inputs([kv], peers)))
  assert.not.ok(registry.update(inputs([kv], peers)), 'the same inputs change nothing')
  assert.equal(registry.ready(kv.name, 6379, 'tcp').map((e) => e.slot), ['kv/0', 'kv/1'])
  assert.equal(registry.ready(kv.name, 6379, 'udp'), [])
  assert.ok(registry.update(inputs([kv], [peer(A, [task(kv, 0, A, 'exited', 21000)])])))
  assert.equal(registry.ready(kv.name, 6379, 'tcp'), [])
})

Registry('property: ready endpoints are exactly the running tasks of live peers with an address, each once', () => {
  const stateArb = fc.constantFrom<TaskState>('starting', 'running', 'healthy', 'unhealthy', 'exited')
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), stateArb, fc.constantFrom<PeerView['state']>('alive', 'suspect', 'dead', 'draining')), { maxLength: 12 }), (rows) => {
    const peers = rows.map(([onA, state, peerState], i) => peer(peerId(`p${i}`), [task(kv, i, onA ? A : B, state, 20000 + i)], peerState))
    const registry = new EndpointRegistry()
    registry.update({ self: A, services: [kv], peers, addressOf: (p) => `10.1.0.${p.length}` })
    const expected = rows.flatMap(([, state, peerState], i) => ((state === 'running' || state === 'healthy') && peerState !== 'dead' && peerState !== 'suspect' ? [`kv/${i}`] : []))
    assert.equal(registry.ready(kv.name, 6379, 'tcp').map((e) => e.slot).sort(), expected.sort())
  }))
})

const Addresses = suite('service addresses and listeners')

Addresses('a range is parsed or refused with what is wrong', () => {
  const range = parseServiceRange('127.77.0.0/16')
  assert.ok(typeof range !== 'string' && range.loopback && range.size === 65_536)
  assert.is(dnsAddressOf(range as Exclude<typeof range, string>), '127.77.0.1')
  assert.match(parseServiceRange('10.253.0.1/16') as string, /did you mean 10\.253\.0\.0\/16/)
  assert.match(parseServiceRange('10.0.0.0/30') as string, /\/8 to \/28/)
  assert.match(parseServiceRange('fd00::/64') as string, /IPv4 range/)
  assert.match(parseServiceRange('300.1.1.1/8') as string, /not an IPv4/)
})

Addresses('the default range: one containers reach where the agent runs them as root, else loopback', () => {
  assert.is(defaultServiceCidr(true, true), CONTAINER_SERVICE_CIDR)
  assert.is(defaultServiceCidr(true, false), DEFAULT_SERVICE_CIDR)
  assert.is(defaultServiceCidr(false, true), DEFAULT_SERVICE_CIDR)
  const containers = parseServiceRange(CONTAINER_SERVICE_CIDR)
  assert.ok(typeof containers !== 'string' && !containers.loopback)
})

Addresses('each service keeps its address while it is desired; two agents with the same services agree', () => {
  const range = parseServiceRange('10.253.0.0/24') as Exclude<ReturnType<typeof parseServiceRange>, string>
  const one = new ServiceAddresses(range)
  const two = new ServiceAddresses(range)
  const names = Array.from({ length: 100 }, (_, i) => `svc-${i}`)
  one.assign(names)
  two.assign([...names].reverse())
  for (const name of names) assert.is(one.addressOf(name), two.addressOf(name))
  assert.is(new Set(names.map((name) => one.addressOf(name))).size, 100, 'no two services share an address')
  const before = one.addressOf('svc-7')
  const { removed } = one.assign(names.filter((name) => name !== 'svc-3'))
  assert.equal(removed.length, 1)
  assert.is(one.addressOf('svc-7'), before)
  for (const name of names) {
    const address = one.addressOf(name)
    if (address !== undefined) assert.not.ok(['10.253.0.0', '10.253.0.1', '10.253.0.255'].includes(address), `${address} is reserved`)
  }
})

Addresses('a full range: the services past it wait without an address and take the ones freed, alike on two agents', () => {
  const range = parseServiceRange('127.77.9.0/28') as Exclude<ReturnType<typeof parseServiceRange>, string>
  const one = new ServiceAddresses(range)
  const two = new ServiceAddresses(range)
  const names = Array.from({ length: 20 }, (_, i) => `svc-${String(i).padStart(2, '0')}`)
  assert.is(one.assign(names).added.length, 13, '16 addresses less the network, the DNS server and broadcast')
  two.assign([...names].reverse())
  assert.is(one.unaddressed, 7)
  for (const name of names) assert.is(one.addressOf(name), two.addressOf(name))
  const waiting = names.filter((name) => one.addressOf(name) === undefined)
  // Nothing free: an assign again changes nothing.
  assert.equal(one.assign(names), { added: [], removed: [] })
  const leaving = names.filter((name) => one.addressOf(name) !== undefined).slice(0, 2)
  const freed = leaving.map((name) => one.addressOf(name))
  const { added, removed } = one.assign(names.filter((name) => !leaving.includes(name)))
  assert.equal(removed.sort(), [...freed].sort())
  assert.equal(added.sort(), [...freed].sort(), 'the freed addresses go to services that waited')
  assert.ok(waiting.slice(0, 2).every((name) => one.addressOf(name) !== undefined), 'in name order')
  assert.is(one.unaddressed, 5)
})

Addresses('property: distinct unreserved addresses, kept while desired, and none waits while the range has room', () => {
  const range = parseServiceRange('127.77.9.0/28') as Exclude<ReturnType<typeof parseServiceRange>, string>
  const reserved = ['127.77.9.0', '127.77.9.1', '127.77.9.15']
  // Names from a small pool: the first set often overfills the 13 addresses, and each later one
  // toggles a name or two of the one before (a service goes, another comes).
  const name = fc.integer({ min: 0, max: 17 }).map((n) => `s${n}`)
  const runs = fc.tuple(fc.uniqueArray(name, { maxLength: 18 }), fc.array(fc.uniqueArray(name, { minLength: 1, maxLength: 2 }), { maxLength: 10 }))
  fc.assert(fc.property(runs, ([first, toggles]) => {
    const sets = [first]
    for (const toggle of toggles) {
      const last = sets.at(-1)!
      sets.push([...last.filter((n) => !toggle.includes(n)), ...toggle.filter((n) => !last.includes(n))])
    }
    const addresses = new ServiceAddresses(range)
    let before = new Map<string, string>()
    for (const names of sets) {
      addresses.assign(names)
      const now = new Map(names.flatMap((name) => { const address = addresses.addressOf(name); return address === undefined ? [] : [[name, address] as const] }))
      assert.is(addresses.all().size, now.size, 'only desired services hold addresses')
      assert.is(new Set(now.values()).size, now.size, 'no two services share an address')
      for (const address of now.values()) assert.not.ok(reserved.includes(address), `${address} is reserved`)
      for (const [name, address] of before) if (names.includes(name)) assert.is(now.get(name), address, `${name} kept its address`)
      assert.is(addresses.unaddressed, names.length - now.size)
      if (addresses.unaddressed > 0) assert.is(now.size, 13, 'services wait only when the range is full')
      before = now
    }
  }))
})

Addresses('discovery says once that the range is full, and again only after it had room', async () => {
  const range = parseServiceRange('127.77.9.0/28') as Exclude<ReturnType<typeof parseServiceRange>, string>
  let services = Array.from({ length: 20 }, (_, i) => spec(`svc-${i}`, {}))
  const lines: string[] = []
  const discovery = await Discovery.open({
    self: A, range, dns: 'off', startDns: () => Promise.reject(new Error('no DNS here')), createForwarder: async () => undefined, meshHost: '127.0.0.1',
    inputs: () => ({ self: A, services, peers: [], addressOf: () => undefined }), log: (line) => lines.push(line),
  })
  try {
    await discovery.refresh()
    const full = lines.filter((line) => line.includes('is full'))
    assert.equal(full, ['service addresses: the range 127.77.9.0/28 is full, 7 services have none (no <service>.peer name, no service address); give a larger --service-cidr'])
    services = services.slice(0, 10)
    await discovery.refresh()
    services = Array.from({ length: 14 }, (_, i) => spec(`svc-${i}`, {}))
    await discovery.refresh()
    assert.is(lines.filter((line) => line.includes('is full')).length, 2)
  } finally {
    await discovery.close()
  }
})

Addresses('listeners: every port on the service address, ingress ports published on the mesh host, host-mode ports on neither', () => {
  const both = spec('both', { ports: ['9000:90', { host: 8080, container: 80, mode: 'ingress' }, { container: 53, protocol: 'udp', mode: 'ingress' }] })
  const listeners = listenersFor([both], () => '127.77.0.9', '10.0.0.1')
  assert.equal(listeners.map((l) => `${l.role} ${l.host}:${l.port}/${l.protocol}→${l.target}`), [
    'service 127.77.0.9:90/tcp→90',
    'service 127.77.0.9:80/tcp→80',
    'mesh 10.0.0.1:8080/tcp→80',
    'service 127.77.0.9:53/udp→53',
  ])
  assert.is(meshHostOf(['/ip4/10.1.2.3/tcp/4001']), '10.1.2.3')
  assert.is(meshHostOf(['/ip4/0.0.0.0/tcp/4001']), '0.0.0.0')
  assert.is(meshHostOf([]), '0.0.0.0')
})

const Why = suite('why an endpoint takes no traffic')

function row(endpoints: ServicePortRow['endpoints'], bound = true): ServicePortRow {
  const listener = { service: kv.name, target: 6379, protocol: 'tcp' as const, host: '127.77.0.9', port: 6379, role: 'service' as const }
  return { service: kv.name, target: 6379, protocol: 'tcp', serviceAddress: '127.77.0.9', endpoints, listeners: [bound ? { listener, bound } : { listener, bound, error: 'address in use' }] }
}
const endpoint = (slot: string, local: boolean, ready: boolean, total = 0): ServicePortRow['endpoints'][number] => ({
  slot: slot as never, peer: A, address: '10.0.0.1', port: 21000, local, ready, state: ready ? 'running' : 'unhealthy',
  traffic: total === 0 ? null : { active: 1, total, failed: 0, bytesIn: 0, bytesOut: 0 },
})
const USERSPACE: DiscoveryStatus = { mode: 'userspace', serviceRange: '127.77.0.0/16', dns: null, listeners: [] }

Why('each reason in words', () => {
  assert.match(endpointWhy([row([endpoint('kv/0', true, false)])], 'kv/0', USERSPACE)[0]!, /its task is unhealthy, not passing its readiness check/)
  assert.match(endpointWhy([row([endpoint('kv/0', true, true, 3)])], 'kv/0', USERSPACE)[0]!, /takes traffic from this agent: 3 connections \(1 open\)/)
  assert.match(endpointWhy([row([endpoint('kv/0', true, true), endpoint('kv/1', false, true)])], 'kv/1', USERSPACE)[0]!, /its own ready task first \(kv\/0\)/)
  assert.match(endpointWhy([row([endpoint('kv/1', false, true)], false)], 'kv/1', USERSPACE)[0]!, /cannot listen for it \(127\.77\.0\.9:6379 address in use\)/)
  assert.match(endpointWhy([row([endpoint('kv/1', false, true)])], 'kv/1', { ...USERSPACE, mode: 'off', modeReason: 'turned off (--mesh off)' })[0]!, /forwards nothing \(turned off/)
  assert.match(endpointWhy([row([])], 'kv/4', USERSPACE)[0]!, /no endpoint/)
})

Registry.run()
Addresses.run()
Why.run()
