// `peer apply -f app.yaml`: writes services into the desired state through any agent. Like `kubectl
// apply`, services not named in the files are left alone. Answers once the change is on that agent's
// disk; gossip carries it to every other peer within milliseconds.

import type { Command } from 'commander'
import type { ServiceOutcome } from '../../crdt/index.js'
import { formatFileError, loadServices } from '../files.js'
import { addPeerOption, ask, type PeerOptions } from '../agent-client.js'
import { UsageError } from '../exit-codes.js'
import { table } from '../table.js'

interface ApplyOptions extends PeerOptions {
  file: string[]
  json?: boolean
}

export function registerApply(program: Command): void {
  addPeerOption(
    program
      .command('apply')
      .description('create or update services from spec files (services not named are left alone)')
      .requiredOption('-f, --file <path...>', 'service spec file(s), YAML or JSON'),
  )
    .option('--json', 'print the outcome per service as JSON')
    .action(async (options: ApplyOptions) => {
      const services = await loadServices(options.file)
      if (!services.ok) throw new UsageError(services.errors.map(formatFileError).join('\n'))
      const answer = await ask(options, 'POST /v1/apply', { body: { services: services.value } })
      process.stdout.write(options.json ? `${JSON.stringify(answer, null, 2)}\n` : outcomeText(answer.services))
    })
}

export function outcomeText(outcomes: readonly ServiceOutcome[]): string {
  const rows = outcomes.map((o) => [o.service, o.outcome, String(o.version), o.changed.length === 0 ? '-' : o.changed.join(', ')])
  return `${table(['SERVICE', 'OUTCOME', 'VERSION', 'CHANGED'], rows)}\n`
}
