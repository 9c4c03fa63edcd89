// `peer revert web [version]`: writes an earlier version's spec back as a new version (like `docker
// service rollback`, which goes to the previous one when no version is named). Nothing is rewritten:
// history keeps every version.

import type { Command } from 'commander'
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
      .argument('[version]', 'version to go back to (see peer history); default: the one before the current'),
  )
    .option('--json', 'print the outcome as JSON')
    .action(async (service: string, given: string | undefined, options: RevertOptions) => {
      let version: number
      if (given !== undefined) {
        if (!/^\d+$/.test(given)) throw new UsageError(`version: expected a whole number (see peer history ${service}), got ${JSON.stringify(given)}`)
        version = Number(given)
      } else {
        const { entries } = await ask(options, 'GET /v1/history', { query: { service } })
        const current = entries[entries.length - 1]
        const earlier = entries.filter((e) => current !== undefined && e.version < current.version && e.specHash !== '' && e.specHash !== current.specHash)
        const target = earlier[earlier.length - 1]
        if (target === undefined) throw new UsageError(`${service} has no earlier version with a different spec to go back to`, EXIT_FAILURE)
        version = target.version
      }
      const answer = await ask(options, 'POST /v1/revert', { body: { service, version } })
      process.stdout.write(options.json ? `${JSON.stringify(answer, null, 2)}\n` : outcomeText([answer.outcome]))
    })
}
