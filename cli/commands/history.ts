// `peer history [service]`: every version of a service (or of all services, removed ones included):
// who wrote it, when, and which fields changed. `peer revert` goes back to one of them.

import type { Command } from 'commander'
import type { HistoryEntry } from '../../crdt/index.js'
import { addPeerOption, ask, dateTime, printJson, shortPeer, type PeerOptions } from '../agent-client.js'
import { table } from '../table.js'

interface HistoryOptions extends PeerOptions {
  json?: boolean
}

export function registerHistory(program: Command): void {
  addPeerOption(
    program
      .command('history')
      .description('list the versions of a service, or of every service, oldest first (authors shortened to the last 12 characters of their peer id; --json has them in full)')
      .argument('[service]', 'only this service'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (service: string | undefined, options: HistoryOptions) => {
      const answer = await ask(options, 'GET /v1/history', { query: { service } })
      if (options.json) printJson(answer)
      else process.stdout.write(historyText(answer.entries))
    })
}

export function historyText(entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return 'No history.\n'
  return `${table(['SERVICE', 'VERSION', 'ACTION', 'AUTHOR', 'TIME', 'CHANGED'], entries.map((e) => [
    e.service,
    String(e.version),
    e.revertedFrom === undefined ? e.action : `${e.action} (from ${e.revertedFrom})`,
    shortPeer(e.author),
    dateTime(e.timeMs),
    e.changed.length === 0 ? '-' : e.changed.join(', '),
  ]))}\n`
}
