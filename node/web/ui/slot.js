// One slot's story: where it runs now (`peer why <slot>`), where it ran and why it moved as the agent
// saw it (GET /v1/slots/:slot/history: kept by the agent, so a page opened after a failover shows it
// too), what this agent saw happen to it, and the versions of its service (`peer history`).
import { html } from './html.js'
import { useDetail } from './live.js'
import { ago, clock, shortPeer } from './format.js'
import { describeEvent } from './events.js'

const serviceOfSlot = (slot) => slot.split(/[/@]/)[0]

function Placement({ entry }) {
  const moved = entry.from === null ? html` <span class="muted">${entry.text}</span>` : html` <span class="warn">moved from ${shortPeer(entry.from)}: ${entry.text}</span>`
  return html`<li>${clock(entry.at)} on <b title=${entry.peer}>${shortPeer(entry.peer)}</b> (${entry.state})${moved}</li>`
}

export function Slot({ slot, events, refreshKey, onClose }) {
  const why = useDetail(`/why/${encodeURIComponent(slot)}`, refreshKey)
  const history = useDetail(`/history?service=${encodeURIComponent(serviceOfSlot(slot))}`, refreshKey)
  const placed = useDetail(`/slots/${encodeURIComponent(slot)}/history`, refreshKey)
  const seen = placed?.placements ?? []
  const own = events.filter((event) => event.slot === slot)
  return html`<section class="slot-detail" data-detail=${slot}>
    <header><h2>${slot}</h2><button onClick=${onClose} aria-label="close">×</button></header>
    ${why?.error ? html`<p class="warn">${why.error}</p>` : html`<p>${why?.summary ?? '…'}</p>`}
    <h3>Where it ran</h3>
    ${placed?.error ? html`<p class="warn">${placed.error}</p>` : html`<ol class="list" data-placements>${seen.map((entry, i) => html`<${Placement} key=${i} entry=${entry} />`)}</ol>`}
    <h3>Events here</h3>
    ${own.length === 0 ? html`<p class="muted">none on this agent</p>` : html`<ol class="events">${own.map((event, i) => html`<li key=${i}><time>${clock(event.at)}</time> ${describeEvent(event)}</li>`)}</ol>`}
    <h3>Versions</h3>
    <ol class="list">${(history?.entries ?? []).slice(-5).reverse().map((entry) => html`<li key=${entry.id}>v${entry.id} ${entry.action} by ${shortPeer(entry.author)} ${ago(entry.timeMs)}${entry.changed.length > 0 ? ` (${entry.changed.join(', ')})` : ''}</li>`)}</ol>
  </section>`
}
