// `peer revert web [version]`: writes an earlier version's spec back as a new version (like `docker
// service rollback`, which goes to the previous one when no version is named). Nothing is rewritten:
// history keeps every version. A version is named by its id in `peer history` (`3`, or `2·1a2b` where
// concurrent writes share a number; `2.1a2b` types the same); a bare number that several versions
// share is refused by the agent with their ids.

import type { Command } from 'commander'
import { parseVersionRef, type VersionRef } from '../../crdt/index.js'
import { addPeerOption, ask, type PeerOptions } from '../agent-client.js'
import { EXIT_FAILURE, UsageError } from '../exit-codes.js'
import { outcomeText } from './apply.js'

interface RevertOptions extends PeerOptions {
  json?: boolean
}

export function registerRevert(program: Command): void {
  addPeerOption(
    program
      .command('revert')
      .description('write an earlier version of a service back as its newest version')
      .argument('<service>', 'service name')
      .argument('[version]', 'version to go back to, its id in peer history (3, or 2·1a2b); default: the newest earlier version whose tasks differ (a scale alone does not count)'),
  )
    .option('--json', 'print the outcome as JSON')
    .action(async (service: string, given: string | undefined, options: RevertOptions) => {
      let version: VersionRef
      if (given !== undefined) {
        if (parseVersionRef(given) === undefined) throw new UsageError(`version: expected a version id as peer history ${service} shows it (3, or 2·1a2b), got ${JSON.stringify(given)}`)
        // A bare number goes as a number, which agents without version ids also take.
        version = /^\d+$/.test(given) ? Number(given) : given
      } else {
        const { entries } = await ask(options, 'GET /v1/history', { query: { service } })
        const current = entries[entries.length - 1]
        const earlier = entries.slice(0, -1).filter((e) => current !== undefined && e.specHash !== '' && e.specHash !== current.specHash)
        const target = earlier[earlier.length - 1]
        if (target === undefined) throw new UsageError(`${service} has no earlier version with a different spec to go back to`, EXIT_FAILURE)
        // By id: its number may be shared by concurrent versions (an older agent sends no id).
        version = target.id ?? target.version
      }
      const answer = await ask(options, 'POST /v1/revert', { body: { service, version } })
      process.stdout.write(options.json ? `${JSON.stringify(answer, null, 2)}\n` : outcomeText([answer.outcome]))
    })
}
