// Merging several compose files in order, as `docker compose -f a.yml -f b.yml` does (the compose
// specification's merge rules, implemented after compose-go's override package):
//   - maps merge key by key; a scalar of the later file replaces the earlier one; null changes nothing
//   - sequences are appended, except command, entrypoint and healthcheck.test, which are replaced
//   - environment, labels, deploy.labels (and the other key=value fields) merge by key, the later
//     file winning, whether either file wrote a map or a list
//   - ports, volumes (by target), secrets and configs (by target), expose, cap_add, cap_drop,
//     profiles… are appended, and an entry whose key another entry already has replaces it in place
//   - depends_on and networks merge as maps (a list is a map of names)
// A map met by a list, or a list by a map, is an error: the files disagree on the field's form.

import { join } from './field-path.js'
import type { Report } from './report.js'
import { parseShortVolume } from './short-volume.js'
import { isMap, put } from './values.js'

type Merger = (base: unknown, override: unknown, path: readonly string[], report: Report) => unknown

/** Merges `override` into `base` (neither is changed) and gives the result. */
export function mergeDocuments(base: Record<string, unknown>, override: Record<string, unknown>, report: Report): Record<string, unknown> {
  return mergeMaps(base, override, [], report)
}

/** The value of `override` merged into `base` at `path` (segments, e.g. ["services", "web", "ports"]). */
export function mergeValues(base: unknown, override: unknown, path: readonly string[], report: Report): unknown {
  const special = SPECIAL_MERGES.find(([pattern]) => matches(path, pattern))
  if (special !== undefined) return special[1](base, override, path, report)
  if (override === null || override === undefined) return base
  if (isMap(base)) {
    if (!isMap(override)) return mismatch(base, override, path, report)
    return mergeMaps(base, override, path, report)
  }
  if (Array.isArray(base)) {
    if (!Array.isArray(override)) return mismatch(base, override, path, report)
    return [...base, ...override]
  }
  return override
}

function mismatch(base: unknown, override: unknown, path: readonly string[], report: Report): unknown {
  report.error(pathText(path), `cannot merge ${describe(override)} into the ${describe(base)} an earlier file wrote; use the same form in both files`)
  return override
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'list' : isMap(value) ? 'map' : 'value'
}

export function pathText(path: readonly string[]): string {
  return path.reduce((text, key) => join(text, key), '')
}

function mergeMaps(base: Record<string, unknown>, override: Record<string, unknown>, path: readonly string[], report: Report): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(override)) {
    put(out, key, Object.hasOwn(out, key) ? mergeValues(out[key], value, [...path, key], report) : value)
  }
  return out
}

function matches(path: readonly string[], pattern: readonly string[]): boolean {
  return path.length === pattern.length && pattern.every((segment, i) => segment === '*' || segment === path[i])
}

const replace: Merger = (_base, override) => override

/** key=value fields: both sides as sorted `KEY=value` lists, appended; uniqueness then keeps the later. */
const asSequence: Merger = (base, override) => [...toSequence(base), ...toSequence(override)]

const withoutRepeats: Merger = (base, override) => {
  const earlier = toSequence(base)
  const seen = new Set(earlier.map((entry) => JSON.stringify(entry)))
  return [...earlier, ...toSequence(override).filter((entry) => !seen.has(JSON.stringify(entry)))]
}

function toSequence(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (typeof value === 'string') return [value]
  if (!isMap(value)) return []
  const entries: string[] = []
  for (const [key, entry] of Object.entries(value)) {
    if (entry === null || entry === undefined) entries.push(key)
    else if (Array.isArray(entry)) entries.push(...entry.map((part) => `${key}=${String(part)}`))
    else entries.push(`${key}=${String(entry)}`)
  }
  return entries.sort()
}

/** depends_on and networks: a list is a map of names (with compose's defaults for depends_on). */
function asMapping(defaults: Record<string, unknown> | null): Merger {
  const toMapping = (value: unknown): Record<string, unknown> => {
    if (isMap(value)) return value
    const out: Record<string, unknown> = {}
    if (Array.isArray(value)) for (const name of value) put(out, String(name), defaults === null ? null : { ...defaults })
    return out
  }
  return (base, override, path, report) => mergeMaps(toMapping(base), toMapping(override), path, report)
}

/** Logging options merge only when both files name the same driver (or one names none). */
const logging: Merger = (base, override, path, report) => {
  if (!isMap(base) || !isMap(override)) return override ?? base
  const same = base.driver === override.driver || base.driver === undefined || override.driver === undefined
  return same ? mergeMaps(base, override, path, report) : override
}

/** build: a string is the build context. */
const build: Merger = (base, override, path, report) => {
  const toMap = (value: unknown): Record<string, unknown> => (typeof value === 'string' ? { context: value } : isMap(value) ? value : {})
  return mergeMaps(toMap(base), toMap(override), path, report)
}

const SPECIAL_MERGES: ReadonlyArray<readonly [readonly string[], Merger]> = [
  [['services', '*', 'command'], replace],
  [['services', '*', 'entrypoint'], replace],
  [['services', '*', 'healthcheck', 'test'], replace],
  [['services', '*', 'environment'], asSequence],
  [['services', '*', 'labels'], asSequence],
  [['services', '*', 'deploy', 'labels'], asSequence],
  [['services', '*', 'annotations'], asSequence],
  [['services', '*', 'env_file'], asSequence],
  [['services', '*', 'label_file'], asSequence],
  [['services', '*', 'sysctls'], asSequence],
  [['services', '*', 'tmpfs'], asSequence],
  [['services', '*', 'dns'], asSequence],
  [['services', '*', 'dns_opt'], asSequence],
  [['services', '*', 'dns_search'], asSequence],
  [['services', '*', 'build', 'args'], asSequence],
  [['services', '*', 'build', 'labels'], asSequence],
  [['services', '*', 'build', 'additional_contexts'], asSequence],
  [['services', '*', 'extra_hosts'], withoutRepeats],
  [['services', '*', 'build', 'extra_hosts'], withoutRepeats],
  [['services', '*', 'depends_on'], asMapping({ condition: 'service_started', required: true })],
  [['services', '*', 'networks'], asMapping(null)],
  [['services', '*', 'models'], asMapping(null)],
  [['services', '*', 'logging'], logging],
  [['services', '*', 'build'], build],
  [['services', '*', 'ulimits', '*'], replace],
  [['networks', '*', 'labels'], asSequence],
  [['volumes', '*', 'labels'], asSequence],
]

/** How the entries of a list field are told apart: an entry with the key of an earlier one replaces it. */
type EntryKey = (entry: unknown) => string

const byName: EntryKey = (entry) => (typeof entry === 'string' ? entry.split('=')[0]! : JSON.stringify(entry))

const byTarget = (defaultDirectory: string): EntryKey => (entry) => {
  if (typeof entry === 'string') return `${defaultDirectory}/${entry}`
  if (isMap(entry)) return typeof entry.target === 'string' ? entry.target : `${defaultDirectory}/${String(entry.source)}`
  return JSON.stringify(entry)
}

const byVolumeTarget: EntryKey = (entry) => {
  if (isMap(entry)) return String(entry.target)
  if (typeof entry === 'string') {
    const parsed = parseShortVolume(entry)
    return parsed.ok ? parsed.volume.target : entry
  }
  return JSON.stringify(entry)
}

const byPort: EntryKey = (entry) => {
  if (isMap(entry)) return `${String(entry.host_ip ?? '0.0.0.0')}:${String(entry.published)}:${String(entry.target)}/${String(entry.protocol ?? 'tcp')}`
  return String(entry)
}

const byEnvFile: EntryKey = (entry) => (isMap(entry) ? String(entry.path) : String(entry))

/** Service fields whose entries are unique, and how each is keyed (compose-go's EnforceUnicity). */
const UNIQUE_ENTRIES: Readonly<Record<string, EntryKey>> = {
  annotations: byName,
  cap_add: byName,
  cap_drop: byName,
  configs: byTarget(''),
  dns: byName,
  dns_opt: byName,
  dns_search: byName,
  environment: byName,
  env_file: byEnvFile,
  expose: (entry) => String(entry),
  labels: byName,
  links: byName,
  ports: byPort,
  profiles: byName,
  secrets: byTarget('/run/secrets'),
  sysctls: byName,
  tmpfs: byName,
  volumes: byVolumeTarget,
  devices: (entry) => (typeof entry === 'string' ? (entry.split(':')[1] ?? entry) : isMap(entry) ? String(entry.target) : JSON.stringify(entry)),
}

/**
 * The document with repeated entries of the unique list fields removed: the later entry takes the
 * earlier one's place. Compose does this after every file, the first included.
 */
export function withUniqueEntries(document: Record<string, unknown>): Record<string, unknown> {
  const services = document.services
  if (!isMap(services)) return document
  const out: Record<string, unknown> = {}
  for (const [name, service] of Object.entries(services)) put(out, name, isMap(service) ? uniqueFields(service) : service)
  return { ...document, services: out }
}

function uniqueFields(service: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...service }
  for (const [field, keyOf] of Object.entries(UNIQUE_ENTRIES)) {
    const list = service[field]
    if (Array.isArray(list)) put(out, field, unique(list, keyOf))
  }
  const deploy = service.deploy
  if (isMap(deploy) && Array.isArray(deploy.labels)) put(out, 'deploy', { ...deploy, labels: unique(deploy.labels, byName) })
  return out
}

function unique(list: readonly unknown[], keyOf: EntryKey): unknown[] {
  const out: unknown[] = []
  const index = new Map<string, number>()
  for (const entry of list) {
    const key = keyOf(entry)
    const at = index.get(key)
    if (at === undefined) {
      index.set(key, out.length)
      out.push(entry)
    } else {
      out[at] = entry
    }
  }
  return out
}
