// `peer logs [-f] [--tail N] web/0`: a task's output, from whichever peer runs it (the asked agent
// fetches it over the cluster), like `docker service logs`. -f keeps following until Ctrl-C.

import type { Command } from 'commander'
import type { LogLine } from '../../node/agent/logs.js'
import { addPeerOption, followUntilInterrupted, segment, type PeerOptions } from '../agent-client.js'
import { UsageError } from '../exit-codes.js'

interface LogsOptions extends PeerOptions {
  follow?: boolean
  tail?: string
  json?: boolean
}

export function registerLogs(program: Command): void {
  addPeerOption(
    program
      .command('logs')
      .description('print the output of a task, from whichever peer runs it')
      .argument('<slot>', 'the task\'s slot: web/0, or web@<peer> for a global service')
      .option('-f, --follow', 'keep printing new lines until Ctrl-C or the task ends')
      .option('--tail <n>', 'start with only the last n lines'),
  )
    .option('--json', 'print each line as a JSON object {peer, line}, one per line')
    .action(async (slot: string, options: LogsOptions) => {
      const query = logsQuery(options)
      await followUntilInterrupted(options, `/v1/logs/${segment(slot)}${query}`, (value) =>
        options.json ? `${JSON.stringify(value)}\n` : `${(value as LogLine).line}\n`)
    })
}

export function logsQuery(options: { follow?: boolean; tail?: string }): string {
  const params = new URLSearchParams()
  if (options.follow) params.set('follow', '1')
  if (options.tail !== undefined) params.set('tail', String(parseTail(options.tail)))
  const query = params.toString()
  return query === '' ? '' : `?${query}`
}

export function parseTail(given: string): number {
  if (!/^\d+$/.test(given) || !Number.isSafeInteger(Number(given))) {
    throw new UsageError(`--tail: expected a whole number of lines (0 or more), got ${JSON.stringify(given)}`)
  }
  return Number(given)
}
