// Peers: state, capacity against what tasks reserved (allocated) and what they use (measured),
// labels, and whether their runtime drivers answer.
import { html } from './html.js'
import { cpu, memory, percent, shortPeer, ago } from './format.js'

/** Two bars in one: allocated (lighter) under used (darker), both against capacity. */
function Gauge({ label, capacity, allocated, used, show }) {
  return html`<div class="gauge" title=${`${label}: used ${show(used)}, allocated ${show(allocated)} of ${show(capacity)}`}>
    <span class="gauge-label">${label}</span>
    <span class="bar"><span class="allocated" style=${`width:${percent(allocated, capacity)}%`}></span><span class="used" style=${`width:${percent(used, capacity)}%`}></span></span>
    <span class="gauge-figures">${show(used)} / ${show(allocated)} / ${show(capacity)}</span>
  </div>`
}

function driverHealth(node) {
  if (node.engine !== null && node.engine !== undefined) {
    const docker = node.engine.state === 'up' ? `docker ${node.engine.version}` : `docker ${node.engine.state}: ${node.engine.detail}`
    return html`<span class=${node.engine.state === 'up' ? 'ok' : 'warn'}>${docker}</span>`
  }
  return html`<span>${node.drivers.join(', ') || 'no drivers'}</span>`
}

export function Peers({ nodes }) {
  if (nodes === null) return html`<p class="muted">reading peers…</p>`
  return html`<div class="cards">
    ${nodes.map((node) => html`<article class=${`card peer state-${node.status === 'alive' ? node.state : node.status}`} data-peer=${node.peer} key=${node.peer}>
      <header>
        <strong title=${node.peer}>${shortPeer(node.peer)}${node.self ? ' (this agent)' : ''}</strong>
        <span class=${`badge ${node.status}`}>${node.status === node.state ? node.status : `${node.status} · ${node.state}`}</span>
      </header>
      <${Gauge} label="cpu" capacity=${node.capacity.cpuMilli} allocated=${node.allocated.cpuMilli} used=${node.used?.cpuMilli ?? null} show=${cpu} />
      <${Gauge} label="mem" capacity=${node.capacity.memoryMiB} allocated=${node.allocated.memoryMiB} used=${node.used?.memoryMiB ?? null} show=${memory} />
      <p class="small">${node.tasks} task${node.tasks === 1 ? '' : 's'} · drivers: ${driverHealth(node)} · heard ${node.self ? 'now' : ago(node.lastSeen)}</p>
      <p class="labels">${Object.entries(node.labels).filter(([key]) => key !== 'peer.id').map(([key, value]) => html`<span class="chip" key=${key}>${key}=${value}</span>`)}</p>
    </article>`)}
  </div>`
}
