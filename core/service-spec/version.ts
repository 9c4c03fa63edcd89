// Spec identity. Two hashes, because two questions are asked of a spec:
//  - specHash: "must a running task be replaced?" It covers only what a task embodies (what runs and
//    with which resources, ports and health check). Scaling, moving constraints or changing the restart
//    or update policy keeps it, so those changes never restart healthy tasks (as in Swarm and Nomad).
//    It covers the secrets a task uses with their versions (secrets.ts), so a new version of a secret
//    replaces the tasks that use it; a spec without secrets hashes as it did before they existed.
//    The container fields added later (entrypoint, user, workdir, mounts, capabilities, stop grace)
//    are covered the same way: each only when present, so older specs keep their hash.
//  - specDigest: "is this the same version of the whole spec?" Used for history and for `apply` to
//    report unchanged services.

import { canonicalJson, hash64Hex } from '../hash.js'
import type { ServiceSpec } from './types.js'

/** Optional fields a running task embodies: part of specHash when present, and only then. */
const OPTIONAL_TASK_FIELDS = ['entrypoint', 'user', 'workdir', 'mounts', 'capAdd', 'capDrop', 'stopGraceMs'] as const satisfies ReadonlyArray<keyof ServiceSpec>

export function specHash(spec: ServiceSpec): string {
  const optional: Record<string, unknown> = {}
  for (const field of OPTIONAL_TASK_FIELDS) if (spec[field] !== undefined) optional[field] = spec[field]
  return hash64Hex(canonicalJson({
    name: spec.name,
    driver: spec.driver,
    image: spec.image,
    command: spec.command,
    env: spec.env,
    resources: spec.resources,
    ports: spec.ports,
    healthcheck: spec.healthcheck,
    labels: spec.labels,
    ...(spec.secrets === undefined || spec.secrets.length === 0 ? {} : { secrets: spec.secrets }),
    ...optional,
  }))
}

export function specDigest(spec: ServiceSpec): string {
  return hash64Hex(canonicalJson(spec))
}
