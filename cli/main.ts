#!/usr/bin/env -S node --
// `peer`: one binary, one file per command under commands/.

import { Command, CommanderError } from 'commander'
import { registerAgent } from './commands/agent.js'
import { registerApply } from './commands/apply.js'
import { registerInit } from './commands/init.js'
import { registerNode } from './commands/node.js'
import { registerPlan } from './commands/plan.js'
import { registerRevert } from './commands/revert.js'
import { registerRm } from './commands/rm.js'
import { registerScale } from './commands/scale.js'
import { registerUp } from './commands/up.js'
import { registerSim } from './commands/sim.js'
import { registerStatus } from './commands/status.js'
import { registerPs } from './commands/ps.js'
import { registerNodes } from './commands/nodes.js'
import { registerWhy } from './commands/why.js'
import { registerEvents } from './commands/events.js'
import { registerLogs } from './commands/logs.js'
import { registerHistory } from './commands/history.js'
import { registerExec } from './commands/exec.js'
import { registerImage } from './commands/image.js'
import { registerSecret } from './commands/secret.js'
import { registerTop } from './commands/top.js'
import { registerEndpoints } from './commands/endpoints.js'
import { EXIT_INVALID_INPUT, UsageError } from './exit-codes.js'

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('peer')
    .description('A masterless container orchestrator: every host runs the same agent; placement by deterministic bidding.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
  registerInit(program)
  registerAgent(program)
  registerUp(program)
  registerApply(program)
  registerPlan(program)
  registerScale(program)
  registerRm(program)
  registerRevert(program)
  registerNode(program)
  registerStatus(program)
  registerPs(program)
  registerNodes(program)
  registerTop(program)
  registerEndpoints(program)
  registerWhy(program)
  registerEvents(program)
  registerLogs(program)
  registerExec(program)
  registerImage(program)
  registerHistory(program)
  registerSecret(program)
  registerSim(program)
  return program
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" are successes; anything else commander already printed.
      return error.exitCode === 0 ? 0 : EXIT_INVALID_INPUT
    }
    if (error instanceof UsageError) {
      process.stderr.write(`peer: ${error.message}\n`)
      return error.exitCode
    }
    throw error
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`peer: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 70
  },
)
