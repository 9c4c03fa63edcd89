// `peer exec web/0 -- ls /www`: runs a command in a task's container on whichever peer runs it, like
// `docker exec` (no TTY, no stdin), and exits with the command's exit status. The asked agent
// forwards to the peer that runs the slot, so it works from any host.

import type { Command } from 'commander'
import { parseDurationMs } from '../../core/index.js'
import type { ExecAnswer } from '../../node/control/index.js'
import { addPeerOption, ask, printJson, type PeerOptions } from '../agent-client.js'
import { EXIT_FAILURE, UsageError } from '../exit-codes.js'

interface ExecOptions extends PeerOptions {
  json?: boolean
  timeout: string
}

/** Extra time for the answer to come back beyond the command's own limit (forwarding, exec setup). */
const ANSWER_SLACK_MS = 10_000

export function registerExec(program: Command): void {
  addPeerOption(
    program
      .command('exec')
      .description('run a command in a task\'s container, on whichever peer runs it; exits with the command\'s status')
      .argument('<slot>', 'the task\'s slot (web/0, or web@<peer> for a global service)')
      .argument('<command...>', 'the command and its arguments (put -- before them when they start with -)'),
  )
    .option('--timeout <duration>', 'stop waiting after this long (the output so far is printed)', '60s')
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (slot: string, command: string[], options: ExecOptions) => {
      const timeoutMs = parseDurationMs(options.timeout)
      if (typeof timeoutMs === 'string') throw new UsageError(`--timeout: ${timeoutMs}`)
      if (timeoutMs < 1) throw new UsageError(`--timeout: expected a duration such as 30s or 2m, got ${JSON.stringify(options.timeout)}`)
      const answer = await ask({ ...options, timeoutMs: timeoutMs + ANSWER_SLACK_MS }, 'POST /v1/exec/:slot', { params: { slot }, body: { command, timeoutMs } })
      if (options.json) printJson(answer)
      else process.stdout.write(execText(answer))
      if (answer.exitCode === null) process.stderr.write(`peer: ${slot}: ${answer.error ?? 'the command did not finish'}\n`)
      process.exitCode = answer.exitCode ?? EXIT_FAILURE
    })
}

export function execText(answer: ExecAnswer): string {
  const note = answer.truncated ? '(earlier output dropped: only the last 1 MiB comes back)\n' : ''
  return note + answer.lines.map((line) => `${line}\n`).join('')
}
