// `peer why web` / `peer why web/2`: where a service or slot runs, or why no peer took it: the
// rejection counts of the last bid round, in words. Exits 1 while something is pending, like `peer plan`.

import type { Command } from 'commander'
import type { WhyAnswer } from '../../node/control/index.js'
import { addPeerOption, ask, printJson, relativeTime, type PeerOptions } from '../agent-client.js'
import { EXIT_OK, EXIT_UNPLACEABLE } from '../exit-codes.js'
import { tasksTable } from './status.js'

interface WhyOptions extends PeerOptions {
  json?: boolean
}

export function registerWhy(program: Command): void {
  addPeerOption(
    program
      .command('why')
      .description('explain where a service or slot runs, or why it is pending; exits 1 while something is pending (peer ids shortened to their last 12 characters; --json has them in full)')
      .argument('<target>', 'a service (web) or one slot of it (web/2, or web@<peer> for a global service)'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (target: string, options: WhyOptions) => {
      const answer = await ask(options, 'GET /v1/why/:target', { params: { target } })
      if (options.json) printJson(answer)
      else process.stdout.write(whyText(answer, Date.now()))
      process.exitCode = answer.pending === null ? EXIT_OK : EXIT_UNPLACEABLE
    })
}

export function whyText(answer: WhyAnswer, now: number): string {
  const out = [answer.summary]
  if (answer.tasks.length > 0) out.push('', tasksTable(answer.tasks, now))
  if (answer.pending !== null) {
    const { slots, round, since, reasons } = answer.pending
    out.push('', `Pending since ${relativeTime(since, now)} (bid round ${round}): ${slots.join(', ')}`)
    if (reasons.length === 0) out.push('  no peer has bid yet')
    for (const r of reasons) out.push(`  ${r.peers} ${r.peers === 1 ? 'peer' : 'peers'}: ${r.text}`)
  }
  return `${out.join('\n')}\n`
}
