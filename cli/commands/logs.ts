// `peer logs [-f] [--tail N] web/0`: a task's output, from whichever peer runs it (the asked agent
// fetches it over the cluster), like `docker service logs`. -f keeps following until Ctrl-C.

import type { Command } from 'commander'
import { addPeerOption, followUntilInterrupted, type PeerOptions } from '../agent-client.js'
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
      await followUntilInterrupted(options, 'GET /v1/logs/:slot', { params: { slot }, query: logsQuery(options) }, (value) =>
        options.json ? `${JSON.stringify(value)}\n` : `${value.line}\n`)
    })
}

/** The query of GET /v1/logs/:slot for -f and --tail; --tail is checked before any agent is asked. */
export function logsQuery(options: { follow?: boolean; tail?: string }): { follow?: '1'; tail?: number } {
  return {
    ...(options.follow ? { follow: '1' as const } : {}),
    ...(options.tail === undefined ? {} : { tail: parseTail(options.tail) }),
  }
}

export function parseTail(given: string): number {
  if (!/^\d+$/.test(given) || !Number.isSafeInteger(Number(given))) {
    throw new UsageError(`--tail: expected a whole number of lines (0 or more), got ${JSON.stringify(given)}`)
  }
  return Number(given)
}
