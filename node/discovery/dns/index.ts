// The DNS server every agent runs: `.peer` names from the agent's own view of services and
// endpoints, every other name relayed upstream. See docs/networking.md, section DNS.

export { startDnsServer, TCP_IDLE_TIMEOUT_MS, type DnsServer, type DnsServerOptions, type DnsServerStats } from './server.js'
export { SERVICE_ADDRESS_TTL_S, SRV_TTL_S, ADDRESS_TTL_S, NEGATIVE_TTL_S, MAX_UDP_PAYLOAD_BYTES, type DnsDirectory, type Outcome } from './answer.js'
export { FORWARD_TIMEOUT_MS } from './forward.js'
export { addressName, classifyName, ZONE, type QueryName } from './names.js'
export { parseUpstream, systemUpstreams, type Upstream } from './upstreams.js'
