// The service-discovery metrics, read from the agent's Discovery when scraped: endpoints by readiness
// from the registry, the forwarder's mode and listeners, and connections and DNS queries from the
// cumulative counts the forwarder and the DNS server keep since they started.
//
// Counters are labelled by service, not by endpoint: an endpoint (slot, address, port) changes with
// every move of a task, a service does not. Each endpoint's count is still followed on its own, so a
// count that leaves the forwarder's list can never make a service's counter go back.

import { parseSlot } from '../../core/index.js'
import type { DiscoveryStatus, DnsServerStats, EndpointRegistry, EndpointTraffic } from '../discovery/index.js'
import type { AddUp } from './cumulative-counts.js'
import type { PeerMetrics } from './definitions.js'

/** What the metrics read of the agent's service discovery (node/discovery/discovery.ts). */
export interface DiscoveryMetricsSource {
  readonly registry: Pick<EndpointRegistry, 'all'>
  status(): Pick<DiscoveryStatus, 'mode' | 'listeners'>
  traffic(): readonly EndpointTraffic[]
  dnsStats(): DnsServerStats | undefined
}

const MESH_MODES = ['kernel', 'userspace', 'off'] as const

export function showDiscovery(m: PeerMetrics, discovery: DiscoveryMetricsSource, addUp: AddUp): void {
  const status = discovery.status()
  for (const mode of MESH_MODES) m.meshMode.set({ mode }, mode === status.mode ? 1 : 0)
  const bound = status.listeners.filter((listener) => listener.bound).length
  m.meshListeners.set({ state: 'bound' }, bound)
  m.meshListeners.set({ state: 'unbound' }, status.listeners.length - bound)

  // Every desired service with ports shows, zeros included: "no ready endpoint" is what an alert looks
  // for, and a counter that exists from the start gives rate() its first sample.
  m.serviceEndpoints.reset()
  m.meshOpenConnections.reset()
  for (const port of discovery.registry.all()) {
    const ready = port.endpoints.filter((endpoint) => endpoint.ready).length
    m.serviceEndpoints.inc({ service: port.service, ready: 'true' }, ready)
    m.serviceEndpoints.inc({ service: port.service, ready: 'false' }, port.endpoints.length - ready)
    m.meshOpenConnections.set({ service: port.service }, 0)
    m.meshConnections.inc({ service: port.service, protocol: port.protocol }, 0)
    m.meshConnectFailures.inc({ service: port.service }, 0)
  }

  for (const traffic of discovery.traffic()) {
    const service = parseSlot(traffic.slot)?.service
    if (service === undefined) continue
    const endpoint = `${traffic.protocol} ${traffic.slot} ${traffic.address}:${traffic.port}`
    addUp(m.meshConnections, { service, protocol: traffic.protocol }, traffic.total, `connections ${endpoint}`)
    addUp(m.meshConnectFailures, { service }, traffic.failed, `failures ${endpoint}`)
    // Connections to a service no longer desired still show while they drain.
    if (traffic.active > 0) m.meshOpenConnections.inc({ service }, traffic.active)
  }

  const dns = discovery.dnsStats()
  for (const [outcome, total] of Object.entries(dns?.queries ?? {})) {
    m.dnsQueries.inc({ outcome }, 0)
    addUp(m.dnsQueries, { outcome }, total)
  }
}
