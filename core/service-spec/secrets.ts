// The secrets a service lists. A user writes names (`secrets: [db-password]`); the cluster resolves
// each name to the secret's current version when it materialises the desired state, so the spec the
// placement machine sees carries `{ name, version }` pairs, and specHash — which covers them — changes
// when a secret the service uses gets a new version: the service rolls, like any other update.
//
// Version 0 means "no version": what a user writes, and what a name resolves to when the cluster
// holds no secret of that name. A spec with such a secret is placed nowhere (feasibility's `secret`
// reason) until the secret exists.
//
// `secrets` is absent from a spec that lists none (never an empty list), so the specs, documents and
// hashes of services without secrets are what they were before secrets existed.

import type { SecretRef, ServiceSpec } from './types.js'

/** Letters, digits, ".", "_" and "-", starting with a letter or digit: also a safe file name. */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export const SECRET_LIMITS = {
  /** Secrets one service may list. */
  perService: 32,
} as const

interface PathError {
  readonly path: string
  readonly message: string
}

/**
 * `secrets:` as written: a list of names, or of `{ name, version }` (the resolved form, as the cluster
 * shows a spec). Sorted by name, so equal intent has equal shape; undefined for an empty list.
 */
export function validateSecretRefs(value: unknown, path: string, errors: PathError[]): SecretRef[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'expected a list of secret names such as [db-password, api-token]' })
    return undefined
  }
  if (value.length > SECRET_LIMITS.perService) errors.push({ path, message: `at most ${SECRET_LIMITS.perService} secrets` })
  const refs: SecretRef[] = []
  const seen = new Set<string>()
  value.forEach((item, i) => {
    const itemPath = `${path}[${i}]`
    const ref = typeof item === 'string' ? { name: item, version: 0 } : readRef(item)
    if (ref === undefined) {
      errors.push({ path: itemPath, message: 'expected a secret name, or { name, version } with a whole version from 0' })
      return
    }
    if (!SECRET_NAME_PATTERN.test(ref.name)) {
      errors.push({ path: itemPath, message: 'expected a secret name: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128' })
      return
    }
    if (seen.has(ref.name)) {
      errors.push({ path: itemPath, message: `secret ${JSON.stringify(ref.name)} is listed twice` })
      return
    }
    seen.add(ref.name)
    refs.push(ref)
  })
  if (refs.length === 0) return undefined
  return refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

function readRef(item: unknown): SecretRef | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined
  const { name, version, ...rest } = item as Record<string, unknown>
  if (Object.keys(rest).length > 0 || typeof name !== 'string') return undefined
  const resolved = version ?? 0
  if (typeof resolved !== 'number' || !Number.isSafeInteger(resolved) || resolved < 0) return undefined
  return { name, version: resolved }
}

/** The written form of refs: a bare name for version 0, `{ name, version }` otherwise. */
export function writtenSecretRefs(value: unknown): unknown {
  if (!Array.isArray(value)) return value
  return value.map((item) => {
    const ref = item as Partial<SecretRef> | null
    return typeof ref === 'object' && ref !== null && !Array.isArray(ref) && Object.keys(ref).length === 2 && ref.version === 0 && typeof ref.name === 'string' ? ref.name : item
  })
}

/**
 * The spec with each listed secret at the version `versionOf` gives (0 for none). The same object
 * when nothing changes, so callers that cache by spec object keep their cache.
 */
export function resolveSecretVersions(spec: ServiceSpec, versionOf: (name: string) => number | undefined): ServiceSpec {
  const refs = spec.secrets
  if (refs === undefined || refs.length === 0) return spec
  const resolved = refs.map((ref) => ({ name: ref.name, version: versionOf(ref.name) ?? 0 }))
  if (resolved.every((ref, i) => ref.version === refs[i]!.version)) return spec
  return { ...spec, secrets: resolved }
}

/** The spec as a user wrote it: every listed secret at version 0. */
export function unresolvedSecrets(spec: ServiceSpec): ServiceSpec {
  return resolveSecretVersions(spec, () => 0)
}

/**
 * The spec with every secret it lists at version 1: for planning and simulating where no cluster says
 * which secrets exist, so that they count as existing.
 */
export function assumeSecretsExist(spec: ServiceSpec): ServiceSpec {
  return resolveSecretVersions(spec, () => 1)
}

/** Names the spec lists that resolved to no secret (version 0). */
export function missingSecrets(spec: ServiceSpec): string[] {
  return (spec.secrets ?? []).filter((ref) => ref.version === 0).map((ref) => ref.name)
}
