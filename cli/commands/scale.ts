// `peer scale web=5 api=2`: sets replica counts, like `docker service scale`.

import type { Command } from 'commander'
import type { ServiceOutcome } from '../../crdt/client.js'
import { addPeerOption, ask, type PeerOptions } from '../agent-client.js'
import { UsageError } from '../exit-codes.js'
import { outcomeText } from './apply.js'

interface ScaleOptions extends PeerOptions {
  json?: boolean
}

/** Replica counts one `scale` may ask for; larger is a typo (the core's bid limit is per peer, not this). */
const MAX_REPLICAS = 100_000

export function registerScale(program: Command): void {
  addPeerOption(
    program
      .command('scale')
      .description('set the replica count of services')
      .argument('<service=replicas...>', 'e.g. web=5'),
  )
    .option('--json', 'print the outcome per service as JSON')
    .action(async (pairs: string[], options: ScaleOptions) => {
      const wanted = pairs.map(parsePair)
      const outcomes: ServiceOutcome[] = []
      for (const { service, replicas } of wanted) {
        const answer = await ask(options, 'POST /v1/scale', { body: { service, replicas } })
        outcomes.push(answer.outcome)
      }
      process.stdout.write(options.json ? `${JSON.stringify({ services: outcomes }, null, 2)}\n` : outcomeText(outcomes))
    })
}

export function parsePair(pair: string): { service: string; replicas: number } {
  const match = /^([a-z0-9][a-z0-9-]*)=(\d+)$/.exec(pair)
  if (match === null || Number(match[2]) > MAX_REPLICAS) {
    throw new UsageError(`${JSON.stringify(pair)} is not service=replicas with a whole number from 0 to ${MAX_REPLICAS} (e.g. web=5)`)
  }
  return { service: match[1]!, replicas: Number(match[2]) }
}
