// `peer why web` / `peer why web/2`: where a service or slot runs, or why no peer took it: the
// rejection counts of the last bid round, in words. For a slot, also where it ran and why it moved, as
// the asked agent saw it (GET /v1/slots/:slot/history), and whether its task takes traffic on each of
// its service's ports, and why not (GET /v1/endpoints). Exits 1 while something is pending, like `peer plan`.

import type { Command } from 'commander'
import type { SlotPlacement, WhyAnswer } from '../../node/control/index.js'
import { addPeerOption, ask, printJson, relativeTime, shortPeer, type PeerOptions } from '../agent-client.js'
import { EXIT_OK, EXIT_UNPLACEABLE } from '../exit-codes.js'
import { tasksTable } from './status.js'
import { endpointWhy } from '../../node/discovery/client.js'

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
      else {
        const placements = answer.slot === null ? [] : (await ask(options, 'GET /v1/slots/:slot/history', { params: { slot: answer.slot } })).placements
        const traffic = answer.slot === null ? [] : await trafficLines(options, answer.slot)
        process.stdout.write(whyText(answer, Date.now()) + placementsText(placements, Date.now()) + (traffic.length === 0 ? '' : `\nTraffic (as this agent routes it):\n${traffic.map((line) => `  ${line}`).join('\n')}\n`))
      }
      process.exitCode = answer.pending === null ? EXIT_OK : EXIT_UNPLACEABLE
    })
}

/** Whether the slot's task takes traffic on each of its service's ports, and why not; none for a service without ports. */
async function trafficLines(options: WhyOptions, slot: string): Promise<string[]> {
  const service = slot.split(/[/@]/)[0]!
  const answer = await ask(options, 'GET /v1/endpoints', { query: { service } }).catch(() => undefined)
  return answer === undefined ? [] : endpointWhy(answer.ports, slot, answer.discovery)
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

/** Where a slot ran, oldest first, each move with its reason; nothing when the agent saw none. */
export function placementsText(placements: readonly SlotPlacement[], now: number): string {
  if (placements.length === 0) return ''
  const lines = placements.map((p) => `  ${relativeTime(p.at, now)}  ${shortPeer(p.peer)}  ${p.state}  ${p.from === null ? p.text : `moved from ${shortPeer(p.from)}: ${p.text}`}`)
  return `\nWhere it ran (as this agent saw it):\n${lines.join('\n')}\n`
}
