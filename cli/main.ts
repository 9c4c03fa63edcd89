#!/usr/bin/env node
// `peer`: one binary, one file per command under commands/.

import { Command, CommanderError } from 'commander'
import { registerPlan } from './commands/plan.js'
import { registerSim } from './commands/sim.js'
import { EXIT_INVALID_INPUT, UsageError } from './exit-codes.js'

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('peer')
    .description('A masterless container orchestrator: every host runs the same agent; placement by deterministic bidding.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
  registerPlan(program)
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
