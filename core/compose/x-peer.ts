// `x-peer:` in a service: peer's own fields that compose cannot say (strategy, driver, constraints in
// peer's syntax, restart.maxDelay, update.healthDeadline, …), merged over the translation. Compose
// tools ignore `x-` fields, so a file carrying them still works with docker. Merging: the maps
// (resources, env, labels, restart, update, healthcheck) merge key by key, constraints and secrets are
// appended, anything else replaces what the translation gave. A field peer does not know is an error.

import { join } from './field-path.js'
import type { Report } from './report.js'
import { isMap, put } from './values.js'

/** Native service fields `x-peer` may set: the spec's own (docs/spec.md) and the container ones. */
export const NATIVE_FIELDS = [
  'driver', 'image', 'command', 'env', 'mode', 'replicas', 'resources', 'constraints', 'maxPerNode', 'strategy', 'spreadBy',
  'ports', 'healthcheck', 'restart', 'update', 'labels', 'secrets', 'entrypoint', 'user', 'workdir', 'mounts', 'capAdd',
  'capDrop', 'stopGrace', 'partition',
] as const

const MERGED_MAPS = new Set(['resources', 'env', 'labels', 'restart', 'update', 'healthcheck'])
const APPENDED_LISTS = new Set(['constraints', 'secrets'])

export function mergePeerFields(service: Record<string, unknown>, peer: unknown, path: string, report: Report): Record<string, unknown> {
  if (peer === undefined || peer === null) return service
  if (!isMap(peer)) {
    report.error(path, `expected a map of peer service fields (${NATIVE_FIELDS.join(', ')})`)
    return service
  }
  const out: Record<string, unknown> = { ...service }
  for (const [key, value] of Object.entries(peer)) {
    if (!(NATIVE_FIELDS as readonly string[]).includes(key)) {
      report.error(join(path, key), `not a peer service field; expected one of ${NATIVE_FIELDS.join(', ')}`)
      continue
    }
    const translated = out[key]
    if (MERGED_MAPS.has(key) && isMap(translated) && isMap(value)) put(out, key, { ...translated, ...value })
    else if (APPENDED_LISTS.has(key) && Array.isArray(translated) && Array.isArray(value)) put(out, key, [...translated, ...value])
    else put(out, key, value)
  }
  return out
}
