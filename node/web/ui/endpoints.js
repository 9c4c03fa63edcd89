// Where a service is reached and by which tasks: what `peer endpoints` prints, per port. Each port
// says how it is reached (its name and service address on this agent, the routing mesh's port on
// every peer, or the host port on the hosts that run it), then each endpoint: slot, host,
// address:port, whether it takes traffic (and its state when not), and the connections this agent
// sent it.
import { html } from './html.js'
import { shortPeer } from './format.js'

/** `web.peer:80 (127.64.2.3)`, `mesh :8080 on every peer`, `host :8080`: as `peer endpoints` says it. */
export function reachedAt(port) {
  return [
    port.serviceAddress === null ? undefined : `${port.service}.peer:${port.target} (${port.serviceAddress})`,
    port.published === undefined ? undefined : `mesh :${port.published} on every peer`,
    port.hostPublished === undefined ? undefined : `host :${port.hostPublished}`,
  ].filter((part) => part !== undefined)
}

/** `4 conns (1 open), 2 failed`: what this agent's forwarder sent the endpoint since it started. */
export function connections(traffic) {
  if (traffic === null || traffic.total === 0) return '0 conns'
  return `${traffic.total} conn${traffic.total === 1 ? '' : 's'}${traffic.active > 0 ? ` (${traffic.active} open)` : ''}${traffic.failed > 0 ? `, ${traffic.failed} failed` : ''}`
}

function Endpoint({ endpoint }) {
  return html`<li class=${`endpoint ${endpoint.ready ? 'ready' : 'not-ready'}`} data-endpoint=${endpoint.slot}>
    <span>${endpoint.slot}</span>
    <span title=${endpoint.peer}>@ ${shortPeer(endpoint.peer)}${endpoint.local ? ' (here)' : ''}</span>
    <span>${endpoint.address}:${endpoint.port}</span>
    <i>${endpoint.ready ? 'ready' : `not ready: ${endpoint.state}`}</i>
    <span class="muted" title="connections this agent sent it">${connections(endpoint.traffic)}</span>
  </li>`
}

function Port({ port }) {
  const unbound = port.listeners.filter((status) => !status.bound)
  return html`<div class="port" data-port=${`${port.service}:${port.target}/${port.protocol}`}>
    <p class="reach"><b>${port.target}/${port.protocol}</b> ${reachedAt(port).map((part) => html`<span class="chip" key=${part}>${part}</span>`)}</p>
    ${unbound.map((status) => html`<p class="warn small" key=${`${status.listener.host}:${status.listener.port}`}>cannot listen on ${status.listener.host}:${status.listener.port}/${status.listener.protocol}: ${status.error ?? 'unknown error'}</p>`)}
    ${port.endpoints.length === 0 ? html`<p class="muted small">no task serves it</p>` : html`<ul class="endpoints">${port.endpoints.map((endpoint) => html`<${Endpoint} key=${endpoint.slot} endpoint=${endpoint} />`)}</ul>`}
  </div>`
}

/** The ports of one service; nothing when it has none. */
export function Ports({ ports }) {
  if (ports.length === 0) return null
  return html`<div class="ports">${ports.map((port) => html`<${Port} key=${`${port.target}/${port.protocol}`} port=${port} />`)}</div>`
}

/** This agent's forwarding mode and why: the mesh and service addresses depend on it. */
export function Forwarding({ discovery }) {
  if (discovery === null) return null
  const reason = discovery.modeReason === undefined ? '' : `: ${discovery.modeReason}`
  return html`<span class=${`small ${discovery.mode === 'off' ? 'warn' : ''}`} id="forwarding" title=${`service addresses ${discovery.serviceRange}; DNS ${discovery.dns ?? 'off'}`}>forwarding ${discovery.mode}${reason}</span>`
}
