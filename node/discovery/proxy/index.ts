// The userspace forwarder of the routing mesh: `new UserspaceProxy({ endpoints })` is a Forwarder.

export { UserspaceProxy } from './userspace-proxy.js'
export { PROXY_DEFAULTS, type UserspaceProxyInit } from './proxy-options.js'
export type { ListenerTraffic } from './listener-traffic.js'
export { endpointKey, pickEndpoint, type EndpointStanding, type PickRequest } from './pick-endpoint.js'
export { listenerKey } from './listener-plan.js'
