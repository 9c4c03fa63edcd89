// The DNS server every agent runs: `.peer` names from the agent's own view of services and
// endpoints, every other name relayed upstream. See docs/networking.md, section DNS.

export { startDnsServer, type DnsServer, type DnsServerOptions, type DnsServerStats } from './server.js'
export type { DnsDirectory, Outcome } from './answer.js'
export { addressName } from './names.js'
export { systemUpstreams } from './upstreams.js'
