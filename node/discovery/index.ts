// Service discovery and load balancing: every agent is its own registry, resolver and load balancer,
// fed by gossip. See docs/networking.md.

export { Discovery, DISCOVERY_DEFAULTS, type DiscoveryStatus, type EndpointRow, type ServicePortRow } from './discovery.js'
export { chainPrefixOf, MESH_MODES, openDiscovery, planForwarder, type DiscoverySettings, type MeshMode } from './open.js'
export { EndpointRegistry, isReady, servicePorts, type RegistryInputs } from './registry.js'
export { listenersFor } from './listeners.js'
export { endpointWhy } from './endpoint-why.js'
export type { DnsServerStats } from './dns/index.js'
export { CONTAINER_SERVICE_CIDR, DEFAULT_SERVICE_CIDR, defaultServiceCidr, dnsAddressOf, parseServiceRange, ServiceAddresses, type ServiceRange } from './service-addresses.js'
export { meshHostOf } from './mesh-host.js'
export type { Endpoint, EndpointSource, EndpointTraffic, Forwarder, Listener, ListenerStatus, ServicePort, Transport } from './types.js'
export { TunnelClient, TunnelServer, authorizeTunnel, type TunnelOpener, type TunnelServerStats } from './tunnel/index.js'
