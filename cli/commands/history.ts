// `peer history [service]`: every version of a service (or of all services, removed ones included):
// who wrote it, when, and which fields changed. `peer revert` goes back to one of them by the id in
// the VERSION column. A merge of concurrent writes is a version too: it shows which versions it
// joined, and has no author (no one wrote it; every peer computes it the same way).

import type { Command } from 'commander'
import type { HistoryEntry } from '../../crdt/client.js'
import { addPeerOption, ask, dateTime, printJson, shortPeer, type PeerOptions } from '../agent-client.js'
import { table } from '../table.js'

interface HistoryOptions extends PeerOptions {
  json?: boolean
}

export function registerHistory(program: Command): void {
  addPeerOption(
    program
      .command('history')
      .description('list the versions of a service, or of every service, oldest first (authors shortened to the last 12 characters of their peer id; --json has them in full). Versions written concurrently on different peers share a number and are told apart by a key prefix (2·1a2b); their merge is a version of its own')
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
    // An agent of an older build answers without ids; its numbers are what it has.
    e.id ?? String(e.version),
    actionText(e),
    e.author === '' ? '-' : shortPeer(e.author),
    dateTime(e.timeMs),
    e.changed.length === 0 ? '-' : e.changed.join(', '),
  ]))}\n`
}

function actionText(e: HistoryEntry): string {
  if (e.action === 'merge') return `merge (of ${e.parents.join(', ')})`
  const from = e.revertedFromId ?? e.revertedFrom
  return from === undefined ? e.action : `${e.action} (from ${from})`
}
