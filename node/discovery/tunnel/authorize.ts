// What the far end of a tunnel may connect to: a pure function of the request and this agent's own
// endpoints. Only a ready task this agent runs itself, on a host port that task bound for a port its
// service declares: so the tunnel is a way into this cluster's services, never an open proxy to any
// address:port this host can reach (the agent's own ports, other hosts, anything listening on it).

import type { Endpoint, ServicePort } from '../types.js'
import type { TunnelRequest } from './header.js'

export type TunnelTarget = { readonly ok: true; readonly endpoint: Endpoint; readonly service: string } | { readonly ok: false; readonly reason: string }

export function authorizeTunnel(request: TunnelRequest, ports: readonly ServicePort[]): TunnelTarget {
  const own = ports.flatMap((port) => port.protocol === 'tcp' ? port.endpoints.filter((endpoint) => endpoint.local && endpoint.slot === request.slot).map((endpoint) => ({ port, endpoint })) : [])
  if (own.length === 0) return { ok: false, reason: `no task ${request.slot} with a tcp port runs on this agent` }
  const match = own.find(({ endpoint }) => endpoint.port === request.port)
  if (match === undefined) {
    const bound = own.map(({ port, endpoint }) => `${endpoint.port} (for ${port.target})`).join(', ')
    return { ok: false, reason: `task ${request.slot} does not listen on ${request.port} for any port its service declares (it binds ${bound})` }
  }
  if (!match.endpoint.ready) return { ok: false, reason: `task ${request.slot} is not ready (${match.endpoint.state})` }
  return { ok: true, endpoint: match.endpoint, service: match.port.service }
}
