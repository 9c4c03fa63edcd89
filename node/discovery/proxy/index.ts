// The userspace forwarder of the routing mesh: `new UserspaceProxy({ endpoints })` is a Forwarder.
//
//   apply(listeners) ──▶ listener-plan (open / keep / close, by host:port/protocol)
//        │                  ├─ tcp-listener: accept ─▶ router.lease ─▶ tcp-dial (≤ connectAttempts) ─▶ splice
//        │                  └─ udp-listener: datagram ─▶ flow-table (per client) ─▶ router.lease ─▶ connected socket
//   router = EndpointSource.ready() + pick-endpoint (pure) + endpoint-ledger (counts, failures, bytes)
//
// Nothing about endpoints is cached between connections: each new connection or flow reads the
// source, so endpointsChanged() takes effect at once while open connections drain where they are.

export { UserspaceProxy } from './userspace-proxy.js'
export { PROXY_DEFAULTS, type UserspaceProxyInit } from './proxy-options.js'
export type { ListenerTraffic } from './listener-traffic.js'
export { endpointKey, pickEndpoint, NEVER_PICKED, type EndpointStanding, type PickRequest } from './pick-endpoint.js'
export { listenerKey } from './listener-plan.js'
