// `peer status [service]`: the cluster as the asked agent sees it, like `docker service ls` (and
// `docker service ps` for one service). Any peer answers for the whole cluster.

import type { Command } from 'commander'
import type { ServiceAnswer, ServiceRow, StatusAnswer, TaskRow } from '../../node/control/index.js'
import { addPeerOption, ask, printJson, relativeTime, shortPeer, type PeerOptions } from '../agent-client.js'
import { table } from '../table.js'

interface StatusOptions extends PeerOptions {
  json?: boolean
}

export function registerStatus(program: Command): void {
  addPeerOption(
    program
      .command('status')
      .description('show the services of the cluster, or one service with its tasks (peer ids shortened to their last 12 characters; --json has them in full)')
      .argument('[service]', 'one service to show with its tasks'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (service: string | undefined, options: StatusOptions) => {
      if (service === undefined) {
        const answer = await ask(options, 'GET /v1/status')
        if (options.json) printJson(answer)
        else process.stdout.write(statusText(answer, Date.now()))
        return
      }
      const answer = await ask(options, 'GET /v1/services/:name', { params: { name: service } })
      if (options.json) printJson(answer)
      else process.stdout.write(serviceText(answer, Date.now()))
    })
}

export function statusText(answer: StatusAnswer, now: number): string {
  const { alive, suspect, dead, left } = answer.members
  const members = `${alive} alive, ${suspect} suspect, ${dead} dead${left > 0 ? `, ${left} left` : ''}`
  const out = [`Peer ${answer.peer}  members: ${members}  desired: ${answer.desiredDigest}`, '']
  // Older agents answer without warnings.
  const warnings = answer.warnings ?? []
  for (const warning of warnings) out.push(`Warning (${relativeTime(warning.at, now)}): ${warning.message}`)
  if (warnings.length > 0) out.push('')
  if (answer.services.length === 0) out.push('No services yet (add some with: peer apply -f <file>)')
  else out.push(servicesTable(answer.services, now))
  return `${out.join('\n')}\n`
}

export function serviceText(answer: Pick<ServiceAnswer, 'service' | 'tasks' | 'why'>, now: number): string {
  const out = [servicesTable([answer.service], now), '']
  if (answer.tasks.length === 0) out.push('No tasks.')
  else out.push(tasksTable(answer.tasks, now))
  out.push('', answer.why.summary)
  return `${out.join('\n')}\n`
}

export function servicesTable(services: readonly ServiceRow[], now: number): string {
  return table(['SERVICE', 'MODE', 'VERSION', 'RUNNING/DESIRED', 'PENDING', 'UPDATED'], services.map((s) => [
    s.name,
    s.mode,
    String(s.version),
    `${s.running}/${s.desired === null ? '-' : s.desired}`,
    String(s.pending),
    `${relativeTime(s.updatedAt, now)} by ${shortPeer(s.updatedBy)}`,
  ]))
}

/** SLOT PEER STATE SINCE, peers shortened. */
export function tasksTable(tasks: readonly TaskRow[], now: number): string {
  return table(['SLOT', 'PEER', 'STATE', 'SINCE'], tasks.map((t) => [t.slot, shortPeer(t.peer), t.state, relativeTime(t.since, now)]))
}
