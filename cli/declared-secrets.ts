// The secrets and configs a Compose file declares at its top level, made real before its services are
// applied, as `docker stack deploy` does: a `file:` source becomes a cluster secret of that name (a
// new version only when the file's bytes changed, so re-applying an unchanged file rolls nothing),
// and an `external: true` one must already exist. Services then resolve to them at once.

import type { ComposeSecret } from '../core/index.js'
import { ask, type PeerOptions } from './agent-client.js'
import { EXIT_FAILURE, UsageError } from './exit-codes.js'
import { readValue } from './commands/secret.js'

export interface DeclaredSecretOutcome {
  readonly name: string
  readonly kind: ComposeSecret['kind']
  readonly outcome: 'created' | 'updated' | 'unchanged' | 'external'
  readonly version: number
}

/**
 * Checks the external ones first, so that nothing is written when one is missing; then writes the
 * file-sourced ones. Values are read one at a time and wiped once sent.
 */
export async function makeDeclaredSecrets(options: PeerOptions, declared: readonly ComposeSecret[]): Promise<DeclaredSecretOutcome[]> {
  if (declared.length === 0) return []
  const existing = new Map((await ask(options, 'GET /v1/secrets')).secrets.map((s) => [s.name, s.version]))
  const missing = declared.filter((s) => s.external && !existing.has(s.name))
  if (missing.length > 0) {
    throw new UsageError(missing.map((s) => `${s.sourceFile}: ${s.declaredAt}: external ${s.kind} ${JSON.stringify(s.name)} does not exist in the cluster; create it with \`peer secret create ${s.name} -f <file>\``).join('\n'), EXIT_FAILURE)
  }
  const outcomes: DeclaredSecretOutcome[] = []
  for (const secret of declared) {
    if (secret.external || secret.file === undefined) {
      outcomes.push({ name: secret.name, kind: secret.kind, outcome: 'external', version: existing.get(secret.name) ?? 0 })
      continue
    }
    const value = await readValue(secret.file).catch((error: unknown) => {
      throw new UsageError(`${secret.sourceFile}: ${secret.declaredAt}: ${(error as Error).message}`)
    })
    try {
      const answer = await ask(options, 'POST /v1/secrets', { body: { name: secret.name, valueBase64: value.toString('base64'), ifChanged: true } })
      outcomes.push({ name: secret.name, kind: secret.kind, outcome: answer.outcome, version: answer.secret.version })
    } finally {
      value.fill(0)
    }
  }
  return outcomes
}
