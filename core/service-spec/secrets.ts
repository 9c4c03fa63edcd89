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
//
// Targets. A ref may say where the task sees the secret (`{ name: tls-key, target: key.pem }`): a file
// name puts it in the secrets directory under that name, an absolute path (containers only) has the
// file bind-mounted read-only there — how a config file the image reads from a fixed place is carried
// (`{ name: prom-config, target: /etc/prometheus/prometheus.yml }`). Every file of the secrets
// directory is named once: by the target when it is a file name, else by the secret's name (an
// absolute target's file is kept under the name, and mounted from there). Each secret is listed once.

import { quoted } from '../error-message.js'
import { join, type SpecError } from './field-errors.js'
import { absolutePath, isAtOrUnder } from './paths.js'
import type { SecretRef, ServiceSpec } from './types.js'

/** Letters, digits, ".", "_" and "-", starting with a letter or digit: also a safe file name. */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

export const SECRET_LIMITS = {
  /** Secrets one service may list. */
  perService: 32,
} as const

/** Where a container finds its secret files. */
export const CONTAINER_SECRETS_DIR = '/run/secrets'

/** What a service's other fields allow of its secrets' targets. */
export interface SecretTargetRules {
  /** Whether a target may be an absolute path: only a container can have a file mounted at one. */
  readonly absolute: boolean
  /** Paths something else is mounted at (the service's mounts): no secret may be mounted there too. */
  readonly taken: ReadonlySet<string>
}

const NO_TARGET_RULES: SecretTargetRules = { absolute: true, taken: new Set() }

/** The name of a ref's file in the task's secrets directory. */
export function secretFileName(ref: SecretRef): string {
  return ref.target === undefined || ref.target.startsWith('/') ? ref.name : ref.target
}

/**
 * `secrets:` as written: a list of names, or of `{ name, version, target }` (version as the cluster
 * shows a resolved spec). Sorted by name, so equal intent has equal shape; undefined for an empty list.
 */
export function validateSecretRefs(value: unknown, path: string, errors: SpecError[], rules: SecretTargetRules = NO_TARGET_RULES): SecretRef[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'expected a list of secret names such as [db-password, api-token]' })
    return undefined
  }
  if (value.length > SECRET_LIMITS.perService) errors.push({ path, message: `at most ${SECRET_LIMITS.perService} secrets` })
  const refs: SecretRef[] = []
  const seen = new Set<string>()
  /** File names in the secrets directory and absolute targets, each with the secret that has it. */
  const places = new Map<string, string>()
  value.forEach((item, i) => {
    const itemPath = `${path}[${i}]`
    const ref = typeof item === 'string' ? { name: item, version: 0 } : readRef(item)
    if (ref === undefined) {
      errors.push({ path: itemPath, message: 'expected a secret name, or { name, version } with a whole version from 0 (and a target, if wanted)' })
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
    const target = ref.target === undefined ? undefined : checkTarget(ref.target, join(itemPath, 'target'), errors, rules)
    if (target === null) return
    // A target equal to the name is where the file would be anyway: left out, as the default is.
    const normal: SecretRef = target === undefined || target === ref.name ? { name: ref.name, version: ref.version } : { ...ref, target }
    const claims = target?.startsWith('/') ? [secretFileName(normal), target] : [secretFileName(normal)]
    for (const place of claims) {
      const holder = places.get(place)
      if (holder !== undefined) {
        errors.push({ path: ref.target === undefined ? itemPath : join(itemPath, 'target'), message: `${place.startsWith('/') ? 'the path' : 'the file name'} ${quoted(place)} is taken by secret ${JSON.stringify(holder)}` })
        return
      }
    }
    for (const place of claims) places.set(place, ref.name)
    refs.push(normal)
  })
  if (refs.length === 0) return undefined
  return refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** The target when it is one; null (and the problem pushed) when it is not. */
function checkTarget(target: string, path: string, errors: SpecError[], rules: SecretTargetRules): string | null {
  if (!target.startsWith('/')) {
    if (SECRET_NAME_PATTERN.test(target)) return target
    errors.push({ path, message: 'expected a file name (letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128) or an absolute path' })
    return null
  }
  const absolute = absolutePath(target, path, errors)
  if (absolute === undefined) return null
  let problem: string | undefined
  if (!rules.absolute) problem = `an absolute target is for containers (driver: docker); a process finds its secrets in $PEER_SECRETS_DIR: give a file name`
  else if (absolute === '/') problem = 'cannot mount a secret over the root of the container'
  else if (isAtOrUnder(absolute, CONTAINER_SECRETS_DIR)) problem = `a file under ${CONTAINER_SECRETS_DIR} is named by a relative target: give a file name instead`
  else if (rules.taken.has(absolute)) problem = `${quoted(absolute)} is the target of a mount too`
  if (problem === undefined) return absolute
  errors.push({ path, message: problem })
  return null
}

function readRef(item: unknown): SecretRef | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined
  const { name, version, target, ...rest } = item as Record<string, unknown>
  if (Object.keys(rest).length > 0 || typeof name !== 'string') return undefined
  if (target !== undefined && typeof target !== 'string') return undefined
  const resolved = version ?? 0
  if (typeof resolved !== 'number' || !Number.isSafeInteger(resolved) || resolved < 0) return undefined
  return target === undefined ? { name, version: resolved } : { name, version: resolved, target }
}

/**
 * The written form of refs: a bare name for version 0 without a target; otherwise the ref without
 * its version when that is 0 (`{ name, target }`). Values not known to be refs are passed on as they
 * are, for validation to judge.
 */
export function writtenSecretRefs(value: unknown): unknown {
  if (!Array.isArray(value)) return value
  return value.map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item
    const { version, ...rest } = item as Record<string, unknown>
    if (version !== 0) return item
    return Object.keys(rest).length === 1 && typeof rest.name === 'string' ? rest.name : rest
  })
}

/**
 * The spec with each listed secret at the version `versionOf` gives (0 for none). The same object
 * when nothing changes, so callers that cache by spec object keep their cache.
 */
export function resolveSecretVersions(spec: ServiceSpec, versionOf: (name: string) => number | undefined): ServiceSpec {
  const refs = spec.secrets
  if (refs === undefined || refs.length === 0) return spec
  const resolved = refs.map((ref) => ({ ...ref, version: versionOf(ref.name) ?? 0 }))
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
