// Telling a compose file from peer's own format. Both may have top-level `services:` (and `version:`),
// so the services themselves decide:
//   - next to services, a top-level field of compose's other than version (networks, volumes, secrets,
//     configs, name, include, x-…) is compose: peer's format has none (an unknown field decides
//     nothing: it is a typo, reported as such by whichever format the services choose); without
//     services, a document of such fields only (an override file declaring volumes) is compose;
//   - services as a list, or no services map at all, is peer's format (compose has only the map);
//   - each service votes with its fields. Compose-only: environment, deploy, build, volumes, env_file,
//     depends_on, networks, container_name, working_dir, expose, stop_grace_period… (any compose field
//     peer's format lacks), `restart` as a string, a healthcheck with `test`, a port with `target`.
//     Peer-only: env, resources, constraints, maxPerNode, strategy, spreadBy, update, driver, mode,
//     replicas, name, workdir, mounts, capAdd, capDrop, stopGrace, `restart` as a map, a healthcheck
//     with `command`, a port with `host`. The side with votes wins (the larger count if both have
//     some, peer's format on a tie);
//   - with only fields both share (image, command, entrypoint, user, labels, ports as strings,
//     secrets), it is compose when it has `version:` or a value holding `${` — compose files carry
//     both, and peer's format would take a `${TAG}` literally — and undecided otherwise, which on its
//     own is peer's format, and next to compose files on one command line is compose (an override
//     file that only sets image:).
// The CLI's `--format compose|peer` overrides this.

import { IGNORED_SERVICE_FIELDS, MAPPED_SERVICE_FIELDS, TOP_LEVEL_FIELDS } from './fields.js'
import { isMap } from './values.js'

const TOP_LEVEL_ONLY = new Set<string>(TOP_LEVEL_FIELDS)
const SHARED_FIELDS = new Set(['image', 'command', 'entrypoint', 'user', 'labels', 'ports', 'healthcheck', 'restart', 'secrets'])
const COMPOSE_ONLY_FIELDS = new Set([...MAPPED_SERVICE_FIELDS, ...Object.keys(IGNORED_SERVICE_FIELDS)].filter((field) => !SHARED_FIELDS.has(field)))
const NATIVE_ONLY_FIELDS = new Set([
  'env', 'resources', 'constraints', 'maxPerNode', 'strategy', 'spreadBy', 'update', 'driver', 'mode', 'replicas', 'name',
  'workdir', 'mounts', 'capAdd', 'capDrop', 'stopGrace',
])

export function looksLikeCompose(document: unknown): boolean {
  return documentFormat(document) === 'compose'
}

/** Which format the document is in; `undecided` when its services hold only fields both share. */
export function documentFormat(document: unknown): 'compose' | 'peer' | 'undecided' {
  if (!isMap(document)) return 'peer'
  const keys = Object.keys(document)
  // Without services, only a document made of compose's top-level fields (an override file with
  // volumes, say) is compose; peer's single-service form has fields such as image instead.
  if (!('services' in document)) return keys.length > 0 && keys.every((key) => key.startsWith('x-') || TOP_LEVEL_ONLY.has(key)) ? 'compose' : 'peer'
  // Only a field compose knows decides: a typo at the top of peer's own file (`timeOut:`) must be
  // reported as the one unknown field it is, not turn the file into a compose file full of errors.
  if (keys.some((key) => key !== 'services' && key !== 'version' && (key.startsWith('x-') || TOP_LEVEL_ONLY.has(key)))) return 'compose'
  const services = document.services
  if (!isMap(services)) return 'peer'
  let compose = 0
  let native = 0
  for (const service of Object.values(services)) {
    if (!isMap(service)) continue
    for (const [field, value] of Object.entries(service)) {
      const vote = fieldVote(field, value)
      if (vote === 'compose') compose++
      else if (vote === 'native') native++
    }
  }
  if (compose > 0 || native > 0) return compose > native ? 'compose' : 'peer'
  return document.version !== undefined || holdsInterpolation(services) ? 'compose' : 'undecided'
}

function fieldVote(field: string, value: unknown): 'compose' | 'native' | undefined {
  if (field.startsWith('x-') || COMPOSE_ONLY_FIELDS.has(field)) return 'compose'
  if (NATIVE_ONLY_FIELDS.has(field)) return 'native'
  if (field === 'restart') return typeof value === 'string' ? 'compose' : isMap(value) ? 'native' : undefined
  if (field === 'healthcheck' && isMap(value)) {
    if ('test' in value || 'disable' in value) return 'compose'
    if ('command' in value) return 'native'
  }
  if (field === 'ports' && Array.isArray(value)) {
    if (value.some((port) => isMap(port) && 'target' in port)) return 'compose'
    if (value.some((port) => isMap(port) && 'host' in port)) return 'native'
  }
  return undefined
}

/** Whether any string in the value holds `${`, compose's variable syntax (bounded: documents nest at most 64 deep). */
function holdsInterpolation(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('${')
  if (depth > 64) return false
  if (Array.isArray(value)) return value.some((entry) => holdsInterpolation(entry, depth + 1))
  if (isMap(value)) return Object.values(value).some((entry) => holdsInterpolation(entry, depth + 1))
  return false
}
