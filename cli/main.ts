#!/usr/bin/env -S node --
// `peer`: one binary, one file per command under commands/.

import { Command, CommanderError } from 'commander'
import { EXIT_INVALID_INPUT, UsageError } from './exit-codes.js'

type Register = (program: Command) => void

/**
 * Every command with the module that defines it, in the order help lists them. Only the command
 * being run is loaded: a long-running `peer agent` would otherwise keep the code of every other
 * command in its heap (the simulator, `up`'s local cluster, the spec and Compose loaders: ≈ 2 MB).
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['init', async () => (await import('./commands/init.js')).registerInit],
  ['agent', async () => (await import('./commands/agent.js')).registerAgent],
  ['up', async () => (await import('./commands/up.js')).registerUp],
  ['apply', async () => (await import('./commands/apply.js')).registerApply],
  ['plan', async () => (await import('./commands/plan.js')).registerPlan],
  ['scale', async () => (await import('./commands/scale.js')).registerScale],
  ['rm', async () => (await import('./commands/rm.js')).registerRm],
  ['revert', async () => (await import('./commands/revert.js')).registerRevert],
  ['node', async () => (await import('./commands/node.js')).registerNode],
  ['status', async () => (await import('./commands/status.js')).registerStatus],
  ['ps', async () => (await import('./commands/ps.js')).registerPs],
  ['nodes', async () => (await import('./commands/nodes.js')).registerNodes],
  ['top', async () => (await import('./commands/top.js')).registerTop],
  ['endpoints', async () => (await import('./commands/endpoints.js')).registerEndpoints],
  ['why', async () => (await import('./commands/why.js')).registerWhy],
  ['events', async () => (await import('./commands/events.js')).registerEvents],
  ['logs', async () => (await import('./commands/logs.js')).registerLogs],
  ['exec', async () => (await import('./commands/exec.js')).registerExec],
  ['image', async () => (await import('./commands/image.js')).registerImage],
  ['history', async () => (await import('./commands/history.js')).registerHistory],
  ['secret', async () => (await import('./commands/secret.js')).registerSecret],
  ['sim', async () => (await import('./commands/sim.js')).registerSim],
]

/** The program with the command `argv` names; with every command when it names none of them (help, a typo). */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command()
  program
    .name('peer')
    .description('A masterless container orchestrator: every host runs the same agent; placement by deterministic bidding.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
  // peer has no global option that takes a value, so the first word that is not an option is the command.
  const named = argv.find((word) => !word.startsWith('-'))
  const one = COMMANDS.filter(([name]) => name === named)
  for (const [, load] of one.length > 0 ? one : COMMANDS) (await load())(program)
  return program
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv)
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
