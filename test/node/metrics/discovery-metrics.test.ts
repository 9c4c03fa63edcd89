// The service-discovery metrics as read from a Discovery's answers (a fake of its four read methods:
// the agent's real one is scraped in discovery-cluster.test.ts): gauges show what the registry and
// status say, zeros included, and counters follow the forwarder's per-endpoint counts without ever
// going back, whatever endpoints come and go between scrapes.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import type { PeerId, ServiceName, SlotId } from '../../../core/index.js'
import type { Endpoint, EndpointTraffic, Listener, ServicePort } from '../../../node/discovery/index.js'
import type { DnsServerStats } from '../../../node/discovery/dns/index.js'
import { CumulativeCounts, definePeerMetrics, showDiscovery, type DiscoveryMetricsSource } from '../../../node/metrics/index.js'
import { parseFamilies, valueOf } from './prometheus-text.js'

function endpoint(slot: string, ready: boolean): Endpoint {
  return { slot: slot as SlotId, peer: 'peer-1' as PeerId, address: '10.0.0.1', port: 20_000, local: false, ready, state: ready ? 'running' : 'starting' }
}

function port(service: string, endpoints: Endpoint[], protocol: 'tcp' | 'udp' = 'tcp'): ServicePort {
  return { service: service as ServiceName, target: 80, protocol, endpoints }
}

function traffic(slot: string, total: number, extra: Partial<EndpointTraffic> = {}): EndpointTraffic {
  return { slot: slot as SlotId, address: '10.0.0.1', port: 20_000, protocol: 'tcp', active: 0, total, failed: 0, bytesIn: 0, bytesOut: 0, ...extra }
}

const listener = (service: string, port: number): Listener => ({ service: service as ServiceName, target: 80, protocol: 'tcp', host: '0.0.0.0', port, role: 'mesh' })

interface FakeState {
  ports: ServicePort[]
  mode: 'kernel' | 'userspace' | 'off'
  bound: boolean[]
  traffic: EndpointTraffic[]
  dns: DnsServerStats | undefined
}

/** A scraper of one agent's discovery metrics: `state` is what its Discovery answers at each scrape. */
function scraper(state: FakeState) {
  const registry = new Registry()
  const metrics = definePeerMetrics(registry)
  const counts = new CumulativeCounts()
  const source: DiscoveryMetricsSource = {
    registry: { all: () => state.ports },
    status: () => ({ mode: state.mode, listeners: state.bound.map((bound, i) => ({ listener: listener('web', 8080 + i), bound })) }),
    traffic: () => state.traffic,
    dnsStats: () => state.dns,
  }
  return async () => {
    showDiscovery(metrics, source, counts.addUp)
    return parseFamilies(await registry.metrics())
  }
}

const DNS_ZERO = { answered: 0, nxdomain: 0, forwarded: 0, refused: 0, servfail: 0, malformed: 0 }

const gauges = suite('discovery metrics: what one scrape shows')

gauges('endpoints by readiness per service, zeros included; listeners; mode; open connections; DNS by outcome', async () => {
  const state: FakeState = {
    ports: [port('kv', []), port('web', [endpoint('web/0', true), endpoint('web/1', false), endpoint('web/2', true)])],
    mode: 'userspace',
    bound: [true, true, false],
    traffic: [traffic('web/0', 7, { active: 2, failed: 1 }), traffic('web/2', 3, { active: 1 }), traffic('gone/0', 4, { active: 1 })],
    dns: { queries: { ...DNS_ZERO, answered: 5, nxdomain: 2 }, truncated: 0 },
  }
  const families = await scraper(state)()
  assert.is(valueOf(families, 'peer_service_endpoints', { service: 'web', ready: 'true' }), 2)
  assert.is(valueOf(families, 'peer_service_endpoints', { service: 'web', ready: 'false' }), 1)
  assert.is(valueOf(families, 'peer_service_endpoints', { service: 'kv', ready: 'true' }), 0, 'a service with no endpoint shows 0')
  assert.is(valueOf(families, 'peer_service_endpoints', { service: 'kv', ready: 'false' }), 0)
  assert.is(valueOf(families, 'peer_mesh_listeners', { state: 'bound' }), 2)
  assert.is(valueOf(families, 'peer_mesh_listeners', { state: 'unbound' }), 1)
  assert.is(valueOf(families, 'peer_mesh_mode', { mode: 'userspace' }), 1)
  assert.is(valueOf(families, 'peer_mesh_mode', { mode: 'kernel' }), 0)
  assert.is(valueOf(families, 'peer_mesh_mode', { mode: 'off' }), 0)
  assert.is(valueOf(families, 'peer_mesh_connections_total', { service: 'web', protocol: 'tcp' }), 10)
  assert.is(valueOf(families, 'peer_mesh_connections_total', { service: 'kv', protocol: 'tcp' }), 0, 'a desired service\'s counter exists from the start')
  assert.is(valueOf(families, 'peer_mesh_connect_failures_total', { service: 'web' }), 1)
  assert.is(valueOf(families, 'peer_mesh_open_connections', { service: 'web' }), 3)
  assert.is(valueOf(families, 'peer_mesh_open_connections', { service: 'kv' }), 0)
  assert.is(valueOf(families, 'peer_mesh_open_connections', { service: 'gone' }), 1, 'connections to a removed service show while they drain')
  assert.is(valueOf(families, 'peer_dns_queries_total', { outcome: 'answered' }), 5)
  assert.is(valueOf(families, 'peer_dns_queries_total', { outcome: 'nxdomain' }), 2)
  assert.is(valueOf(families, 'peer_dns_queries_total', { outcome: 'servfail' }), 0)
})

gauges('a service that is no longer desired leaves the gauges; mode off and no DNS show no traffic series', async () => {
  const state: FakeState = { ports: [port('web', [endpoint('web/0', true)])], mode: 'off', bound: [], traffic: [], dns: undefined }
  const scrape = scraper(state)
  assert.is(valueOf(await scrape(), 'peer_service_endpoints', { service: 'web', ready: 'true' }), 1)
  state.ports = []
  const families = await scrape()
  assert.is(valueOf(families, 'peer_service_endpoints', { service: 'web' }), undefined)
  assert.is(valueOf(families, 'peer_mesh_open_connections', { service: 'web' }), undefined)
  assert.is(valueOf(families, 'peer_mesh_mode', { mode: 'off' }), 1)
  assert.is(valueOf(families, 'peer_mesh_listeners', { state: 'bound' }), 0)
  assert.equal(families.get('peer_dns_queries_total')?.metrics ?? [], [])
})

gauges('a slot that does not parse is passed over, not thrown on', async () => {
  const state: FakeState = { ports: [], mode: 'userspace', bound: [], traffic: [traffic('not a slot', 3)], dns: undefined }
  const families = await scraper(state)()
  assert.equal(families.get('peer_mesh_connections_total')?.metrics ?? [], [])
})

gauges.run()

const counters = suite('discovery metrics: counters across scrapes')

counters('a service\'s counter is the sum of its endpoints\' counts, and never goes back when an endpoint leaves the list', () => {
  const SLOTS = ['web/0', 'web/1', 'kv/0'] as const
  // Per scrape and endpoint: whether the forwarder lists it, and how much its counts grew.
  const step = fc.array(fc.record({ listed: fc.boolean(), opened: fc.nat(5), failed: fc.nat(2) }), { minLength: SLOTS.length, maxLength: SLOTS.length })
  return fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
    const state: FakeState = { ports: [], mode: 'userspace', bound: [], traffic: [], dns: undefined }
    const scrape = scraper(state)
    const totals = SLOTS.map(() => ({ total: 0, failed: 0, lastListed: { total: 0, failed: 0 } }))
    let before = { web: 0, kv: 0 }
    for (const changes of steps) {
      state.traffic = []
      changes.forEach((change, i) => {
        const count = totals[i]!
        count.total += change.opened
        count.failed += change.failed
        if (!change.listed) return
        count.lastListed = { total: count.total, failed: count.failed }
        state.traffic.push(traffic(SLOTS[i]!, count.total, { failed: count.failed }))
      })
      const families = await scrape()
      const seen = { web: totals[0]!.lastListed.total + totals[1]!.lastListed.total, kv: totals[2]!.lastListed.total }
      for (const service of ['web', 'kv'] as const) {
        const value = valueOf(families, 'peer_mesh_connections_total', { service, protocol: 'tcp' }) ?? 0
        assert.is(value, seen[service], `${service}: the sum of what each endpoint was last read at`)
        assert.ok(value >= before[service], `${service} went back from ${before[service]} to ${value}`)
      }
      assert.is(valueOf(families, 'peer_mesh_connect_failures_total', { service: 'web' }) ?? 0, totals[0]!.lastListed.failed + totals[1]!.lastListed.failed)
      before = seen
    }
  }), { numRuns: 100 })
})

counters('DNS counts add only what grew since the last scrape', async () => {
  const state: FakeState = { ports: [], mode: 'userspace', bound: [], traffic: [], dns: { queries: { ...DNS_ZERO, answered: 3 }, truncated: 0 } }
  const scrape = scraper(state)
  assert.is(valueOf(await scrape(), 'peer_dns_queries_total', { outcome: 'answered' }), 3)
  assert.is(valueOf(await scrape(), 'peer_dns_queries_total', { outcome: 'answered' }), 3, 'a second scrape adds nothing')
  state.dns = { queries: { ...DNS_ZERO, answered: 5, refused: 1 }, truncated: 0 }
  const families = await scrape()
  assert.is(valueOf(families, 'peer_dns_queries_total', { outcome: 'answered' }), 5)
  assert.is(valueOf(families, 'peer_dns_queries_total', { outcome: 'refused' }), 1)
})

counters.run()
