// Slots no peer took, with the reasons the peers gave: what `peer why <service>` prints.
import { html } from './html.js'
import { ago } from './format.js'

export function Pending({ why }) {
  const answers = Object.values(why)
  if (answers.length === 0) return html`<p class="muted">every slot is placed</p>`
  return html`<ul class="list">
    ${answers.map((answer) => html`<li key=${answer.service} class="pending" data-pending=${answer.service}>
      <strong>${answer.service}</strong>: ${answer.pending?.slots.join(', ') ?? ''}
      ${answer.pending ? html` <span class="muted">(since ${ago(answer.pending.since)})</span>` : null}
      <div>${answer.summary}</div>
      <ul>${(answer.pending?.reasons ?? []).map((reason) => html`<li key=${reason.reason}>${reason.peers} peer${reason.peers === 1 ? '' : 's'}: ${reason.text}</li>`)}</ul>
    </li>`)}
  </ul>`
}
