// `peer events [-f]`: what happened on the asked peer (members coming and going, tasks started,
// stopped and failed, desired-state changes), like `docker events`. -f keeps following until Ctrl-C.

import type { Command } from 'commander'
import type { AgentEvent } from '../../node/control/index.js'
import { addPeerOption, ask, clockTime, followUntilInterrupted, printJson, type PeerOptions } from '../agent-client.js'

interface EventsOptions extends PeerOptions {
  follow?: boolean
  json?: boolean
}

export function registerEvents(program: Command): void {
  addPeerOption(
    program
      .command('events')
      .description('show what happened on the agent asked: membership, task starts, stops and failures, desired-state changes')
      .option('-f, --follow', 'keep printing new events until Ctrl-C'),
  )
    .option('--json', 'print the agent\'s answer as JSON (with -f: one JSON event per line)')
    .action(async (options: EventsOptions) => {
      if (options.follow) {
        await followUntilInterrupted(options, 'GET /v1/events', { query: { follow: '1' } }, (event) =>
          options.json ? `${JSON.stringify(event)}\n` : `${eventLine(event)}\n`)
        return
      }
      const answer = await ask(options, 'GET /v1/events')
      if (options.json) printJson(answer)
      else process.stdout.write(answer.events.map((event) => `${eventLine(event)}\n`).join(''))
    })
}

/** `14:03:07.042 start web/0 spec 3f2a…`: one line per event, local time. */
export function eventLine(event: AgentEvent): string {
  return `${clockTime(event.at)} ${event.kind} ${eventDetails(event)}`.trimEnd()
}

function eventDetails(event: AgentEvent): string {
  switch (event.kind) {
    case 'agent':
      return event.message
    case 'member':
      return `${event.peer} ${event.status} (incarnation ${event.incarnation})`
    case 'start':
      return `${event.slot} spec ${event.specHash}`
    case 'stop':
      return `${event.slot} ${event.reason}`
    case 'task':
      return `${event.slot} ${event.state}${event.exitCode === undefined ? '' : ` exit ${event.exitCode}`}${event.detail === undefined ? '' : `: ${event.detail}`}`
    case 'desired':
      return `digest ${event.digest}, ${event.services} ${event.services === 1 ? 'service' : 'services'}`
    case 'rollback':
      return `${event.service}: ${event.detail}`
    default:
      // A kind newer than this CLI: its fields as they are.
      return otherDetails(event as unknown as Record<string, unknown>)
  }
}

function otherDetails(event: Record<string, unknown>): string {
  return Object.entries(event)
    .filter(([key]) => key !== 'at' && key !== 'kind')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ')
}

