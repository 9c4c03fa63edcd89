// The page: this agent's view of the cluster, live. Read-only: it changes nothing.
import { render } from 'preact'
import { useState } from 'preact/hooks'
import { html } from './html.js'
import { useCluster } from './live.js'
import { shortPeer, clock } from './format.js'
import { Peers } from './peers.js'
import { Services } from './services.js'
import { Pending } from './pending.js'
import { Events } from './events.js'
import { Slot } from './slot.js'
import { Forwarding } from './endpoints.js'

function App() {
  const cluster = useCluster()
  const [selected, setSelected] = useState(null)
  const status = cluster.status
  const members = status?.members
  return html`
    <header class="top">
      <h1>peer</h1>
      <span class="small" title=${status?.peer ?? ''}>${status ? `agent ${shortPeer(status.peer)}` : ''}</span>
      <span class="small">${members ? `${members.alive} alive${members.suspect ? ` · ${members.suspect} suspect` : ''}${members.dead ? ` · ${members.dead} dead` : ''}` : ''}</span>
      <span class=${`small ${cluster.streaming ? 'ok' : 'warn'}`} id="stream-state">${cluster.streaming ? 'live' : 'reconnecting…'}</span>
      <${Forwarding} discovery=${cluster.endpoints?.discovery ?? null} />
      ${cluster.updatedAt ? html`<span class="small muted">${clock(cluster.updatedAt)}</span>` : null}
    </header>
    ${cluster.error ? html`<p class="error">${cluster.error}</p>` : null}
    ${(status?.warnings ?? []).map((warning) => html`<p class="warn" key=${warning.at}>${warning.message}</p>`)}
    <div class="columns">
      <div>
        <section id="peers"><h2>Peers<span class="small">used / allocated / capacity</span></h2><${Peers} nodes=${cluster.nodes} /></section>
        <section id="services"><h2>Services</h2><${Services} services=${status?.services ?? []} tasks=${cluster.tasks} ports=${cluster.endpoints?.ports ?? []} selected=${selected} onSelect=${setSelected} /></section>
        ${selected ? html`<${Slot} slot=${selected} events=${cluster.events} refreshKey=${cluster.updatedAt} onClose=${() => setSelected(null)} />` : null}
        <section id="pending"><h2>Pending</h2><${Pending} why=${cluster.why} /></section>
      </div>
      <section id="events"><h2>Events</h2><${Events} events=${cluster.events} /></section>
    </div>`
}

// Replaces the "loading…" placeholder: render() adds to what the container holds.
const root = document.getElementById('app')
root.textContent = ''
render(html`<${App} />`, root)
