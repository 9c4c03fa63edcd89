// `peer ps [--service web]`: every task the cluster runs, by slot, like `docker service ps`. Built from
// what each live peer advertises; a slot listed on two peers is a conflict the bidding is resolving.

import type { Command } from 'commander'
import type { TaskRow } from '../../node/control/index.js'
import { addPeerOption, ask, printJson, relativeTime, shortPeer, type PeerOptions } from '../agent-client.js'
import { table } from '../table.js'

interface PsOptions extends PeerOptions {
  service?: string
  json?: boolean
}

export function registerPs(program: Command): void {
  addPeerOption(
    program
      .command('ps')
      .description('list the tasks running in the cluster (peer ids shortened to their last 12 characters; --json has them in full)')
      .option('--service <name>', 'only the tasks of this service'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (options: PsOptions) => {
      const answer = await ask(options, 'GET /v1/tasks', { query: { service: options.service } })
      if (options.json) printJson(answer)
      else process.stdout.write(psText(answer.tasks, Date.now()))
    })
}

export function psText(tasks: readonly TaskRow[], now: number): string {
  if (tasks.length === 0) return 'No tasks.\n'
  return `${table(['SLOT', 'SERVICE', 'PEER', 'STATE', 'SINCE'], tasks.map((t) => [
    t.slot,
    t.service,
    shortPeer(t.peer),
    t.state,
    relativeTime(t.since, now),
  ]))}\n`
}
