// `peer rm web api`: removes services from the desired state; every peer stops their tasks.

import type { Command } from 'commander'
import { addPeerOption, ask, type PeerOptions } from '../agent-client.js'
import { outcomeText } from './apply.js'

interface RmOptions extends PeerOptions {
  json?: boolean
}

export function registerRm(program: Command): void {
  addPeerOption(
    program
      .command('rm')
      .description('remove services (their tasks stop on every peer); history is kept')
      .argument('<service...>', 'service names'),
  )
    .option('--json', 'print the outcome per service as JSON')
    .action(async (services: string[], options: RmOptions) => {
      const answer = await ask(options, 'POST /v1/remove', { body: { services } })
      process.stdout.write(options.json ? `${JSON.stringify(answer, null, 2)}\n` : outcomeText(answer.services))
    })
}
