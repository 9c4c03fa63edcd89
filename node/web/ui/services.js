// Services: replicas desired, running and healthy, the version, and how far a rolling update has come
// (tasks up at the current version against those still on an older one), and where its ports are
// reached and by which tasks.
import { html } from './html.js'
import { isUp, percent, shortPeer } from './format.js'
import { Ports } from './endpoints.js'

function rollout(service, tasks) {
  const current = tasks.filter((task) => task.specHash === service.specHash && isUp(task.state)).length
  const older = tasks.filter((task) => task.specHash !== service.specHash && isUp(task.state)).length
  const want = service.desired ?? Math.max(current + older, 1)
  return { current, older, want }
}

export function Services({ services, tasks, ports, selected, onSelect }) {
  if (services.length === 0) return html`<p class="muted">no services (peer apply -f spec.yaml)</p>`
  return html`<div class="cards">
    ${services.map((service) => {
      const own = tasks.filter((task) => task.service === service.name)
      const healthy = own.filter((task) => task.state === 'healthy').length
      const { current, older, want } = rollout(service, own)
      const done = older === 0 && current >= want
      return html`<article class="card service" data-service=${service.name} key=${service.name}>
        <header>
          <strong>${service.name}</strong>
          <span class="small">v${service.version} · ${service.mode} · ${service.driver}</span>
        </header>
        <p class="replicas"><span><b>${service.desired ?? 'global'}</b> desired</span><span><b>${service.running}</b> running</span><span><b>${healthy}</b> healthy</span>${service.pending > 0 ? html`<span class="warn"><b>${service.pending}</b> pending</span>` : null}</p>
        <div class="gauge" title="tasks up at the current version"><span class="gauge-label">${older > 0 ? 'rolling' : done ? 'updated' : 'placing'}</span><span class="bar"><span class="used" style=${`width:${percent(current, want)}%`}></span></span><span class="gauge-figures">${current}/${want}${older > 0 ? ` (${older} older)` : ''}</span></div>
        <p class="slots">${own.map((task) => html`<button key=${task.slot} class=${`slot ${task.state}${selected === task.slot ? ' selected' : ''}`} data-slot=${task.slot} onClick=${() => onSelect(task.slot)} title=${`${task.slot} on ${task.peer}: ${task.state}`}>${task.slot.slice(service.name.length)} @ ${shortPeer(task.peer)} <i>${task.state}</i></button>`)}</p>
        <${Ports} ports=${ports.filter((port) => port.service === service.name)} />
      </article>`
    })}
  </div>`
}
