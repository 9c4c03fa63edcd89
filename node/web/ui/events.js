// The agent's live event stream, newest first: what `peer events -f` prints.
import { html } from './html.js'
import { clock, shortPeer } from './format.js'

/** One line for a person, by kind (node/control/api-types.ts AgentEvent). */
export function describeEvent(event) {
  switch (event.kind) {
    case 'member': return `peer ${shortPeer(event.peer)} is ${event.status}`
    case 'start': return `started ${event.slot}`
    case 'stop': return `stopped ${event.slot}: ${event.reason}`
    case 'task': return `${event.slot} ${event.state}${event.exitCode === undefined ? '' : ` (exit ${event.exitCode})`}${event.detail ? `: ${event.detail}` : ''}`
    case 'desired': return `desired state changed: ${event.services} service${event.services === 1 ? '' : 's'}`
    case 'rollback': return `rolled back ${event.service}: ${event.detail}`
    case 'agent': return event.message
    default: return JSON.stringify(event)
  }
}

export function Events({ events, limit = 60 }) {
  if (events.length === 0) return html`<p class="muted">no events yet</p>`
  return html`<ol class="events">
    ${events.slice(0, limit).map((event, i) => html`<li key=${`${event.at}-${i}`} class=${`event ${event.kind}${event.kind === 'member' ? ` ${event.status}` : ''}`}><time>${clock(event.at)}</time> ${describeEvent(event)}</li>`)}
  </ol>`
}
