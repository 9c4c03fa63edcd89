// `peer apply -f app.yaml`: writes services into the desired state through any agent. Like `kubectl
// apply`, services not named in the files are left alone. Answers once the change is on that agent's
// disk; gossip carries it to every other peer within milliseconds.

import type { Command } from 'commander'
import type { ServiceSpec } from '../../core/index.js'
import type { ServiceOutcome } from '../../crdt/client.js'
import { ControlClientError, DEFAULT_MAX_BODY_BYTES, formatBytes, type AnswerOf } from '../../node/control/index.js'
import { addSpecFileOptions, loadSpecFiles, problemLines, type SpecFileOptions } from '../spec-files.js'
import { makeDeclaredSecrets, type DeclaredSecretOutcome } from '../declared-secrets.js'
import { addPeerOption, ask, type PeerOptions } from '../agent-client.js'
import { UsageError } from '../exit-codes.js'
import { table } from '../table.js'

interface ApplyOptions extends PeerOptions, SpecFileOptions {
  file: string[]
  json?: boolean
}

export function registerApply(program: Command): void {
  addSpecFileOptions(addPeerOption(
    program
      .command('apply')
      .description('create or update services from spec files or Compose files (services not named are left alone)')
      .requiredOption('-f, --file <path...>', 'service spec file(s) or Compose file(s), YAML or JSON'),
  ))
    .option('--json', 'print the outcome per service as JSON')
    .action(async (options: ApplyOptions) => {
      const loaded = await loadSpecFiles(options.file, options)
      if (!loaded.ok) throw new UsageError(problemLines(loaded.errors))
      if (loaded.value.warnings.length > 0) process.stderr.write(`${problemLines(loaded.value.warnings)}\n`)
      const tooLarge = requestTooLarge(options.file, { services: loaded.value.services })
      if (tooLarge !== undefined) throw new UsageError(tooLarge)
      const secrets = await makeDeclaredSecrets(options, loaded.value.secrets)
      const answer = await applyServices(options, options.file, loaded.value.services)
      if (options.json) process.stdout.write(`${JSON.stringify(secrets.length > 0 ? { ...answer, secrets } : answer, null, 2)}\n`)
      else process.stdout.write(secretsText(secrets) + outcomeText(answer.services))
    })
}

function secretsText(outcomes: readonly DeclaredSecretOutcome[]): string {
  if (outcomes.length === 0) return ''
  return `${table(['SECRET', 'KIND', 'OUTCOME', 'VERSION'], outcomes.map((o) => [o.name, o.kind, o.outcome, String(o.version)]))}\n\n`
}

/**
 * Sends the services read from `files` to the agent in one request. The request must fit the agent's
 * body limit; a file can hold more than that once validated (defaults filled in, YAML aliases
 * expanded), so that is checked before anything is sent, and said — as the agent's own refusal is —
 * as one line naming the files, like any other problem with them.
 */
export async function applyServices(options: PeerOptions, files: readonly string[], services: readonly ServiceSpec[]): Promise<AnswerOf<'POST /v1/apply'>> {
  const body = { services: [...services] }
  const tooLarge = requestTooLarge(files, body)
  if (tooLarge !== undefined) throw new UsageError(tooLarge)
  try {
    return await ask(options, 'POST /v1/apply', { body })
  } catch (error) {
    if (error instanceof UsageError && error.cause instanceof ControlClientError && error.cause.code === 'too-large') {
      throw new UsageError(`${files.join(', ')}: the agent refused the services as too large (${error.cause.message}); apply them in parts`)
    }
    // What only the cluster can check — a port another service publishes, one the agent itself
    // listens on — is still a fault of the input: exit 2, as for any other bad field.
    if (error instanceof UsageError && error.cause instanceof ControlClientError && INPUT_REFUSALS.has(error.cause.code)) {
      throw new UsageError(`${files.join(', ')}: ${error.cause.message}`)
    }
    throw error
  }
}

const INPUT_REFUSALS = new Set(['invalid-spec', 'port-clash', 'duplicate-service'])

/** Why `body` is too large for one request to an agent, naming `files`; undefined when it fits. */
export function requestTooLarge(files: readonly string[], body: unknown, limitBytes = DEFAULT_MAX_BODY_BYTES): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(body))
  if (bytes <= limitBytes) return undefined
  return `${files.join(', ')}: the services come to ${bytes} bytes of JSON, more than the ${formatBytes(limitBytes)} an agent takes in one request; apply them in parts`
}

export function outcomeText(outcomes: readonly ServiceOutcome[]): string {
  const rows = outcomes.map((o) => [o.service, o.outcome, String(o.version), o.changed.length === 0 ? '-' : o.changed.join(', ')])
  return `${table(['SERVICE', 'OUTCOME', 'VERSION', 'CHANGED'], rows)}\n`
}
