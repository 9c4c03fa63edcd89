// Secrets and configs. Both become peer cluster secrets, which a task sees as files:
//   - a top-level entry with `file:` is created from that file on apply (reported in the result);
//     one with `external: true` must already exist (`peer secret create`);
//   - `environment:` and `content:` sources are refused: peer creates secrets from files, so the
//     value never travels through the translation — write it to a file, or create it beforehand;
//   - the cluster secret's name is the entry's `name:`, else its key (peer has no stack namespace);
//   - a service's secret is mounted at /run/secrets/<target> (target: its key unless given); a config
//     at its target, by default /<config key>, as Swarm mounts configs.

import { quoted } from '../error-message.js'
import { SECRET_NAME_PATTERN } from '../service-spec/index.js'
import { CONFIG_FIELDS, FILE_REFERENCE_FIELDS, SECRET_FIELDS } from './fields.js'
import { item, join } from './field-path.js'
import { expandHome, resolvePath } from './host-paths.js'
import type { DeclaredFileObject, Project, ServiceContext } from './project.js'
import type { Report } from './report.js'
import type { ComposeSecret } from './types.js'
import { checkKeys, isMap, readBoolean, readString } from './values.js'

export type FileObjectKind = 'secret' | 'config'

const SECTION: Record<FileObjectKind, 'secrets' | 'configs'> = { secret: 'secrets', config: 'configs' }

/** The top-level `secrets:` or `configs:` entries, by key. */
export function readFileObjects(
  kind: FileObjectKind,
  section: unknown,
  project: Pick<Project, 'directory' | 'environment'>,
  fileOf: (path: string) => string,
  report: Report,
): Map<string, DeclaredFileObject> {
  const declared = new Map<string, DeclaredFileObject>()
  const sectionPath = SECTION[kind]
  if (section === undefined || section === null) return declared
  if (!isMap(section)) {
    report.error(sectionPath, `expected a map of ${kind} names to { file } or { external: true }`)
    return declared
  }
  for (const [key, body] of Object.entries(section)) {
    if (key.startsWith('x-')) continue
    const path = join(sectionPath, key)
    declared.set(key, readFileObject(kind, key, body, path, project, fileOf(path), report))
  }
  return declared
}

function readFileObject(
  kind: FileObjectKind,
  key: string,
  body: unknown,
  path: string,
  project: Pick<Project, 'directory' | 'environment'>,
  sourceFile: string,
  report: Report,
): DeclaredFileObject {
  if (!isMap(body)) {
    report.error(path, `expected { file: ./path } or { external: true }`)
    return undefined
  }
  checkKeys(body, kind === 'secret' ? SECRET_FIELDS : CONFIG_FIELDS, path, report)
  const before = report.errorCount()
  const external = readExternal(body.external, join(path, 'external'), report)
  const name = readString(body.name, join(path, 'name'), report) ?? external?.name ?? key
  const file = readString(body.file, join(path, 'file'), report)
  for (const field of ['labels', 'driver_opts', 'template_driver'] as const) {
    if (body[field] !== undefined) report.warn(join(path, field), `ignored: peer ${kind}s have no ${field.replace('_', ' ')}`)
  }
  if (body.driver !== undefined) report.error(join(path, 'driver'), `peer has no ${kind} drivers; use file: or external: true`)
  if (body.environment !== undefined) {
    report.error(join(path, 'environment'), `peer creates ${kind}s from files, so the value does not pass through the translation: write it to a file and use file:, or create it with \`peer secret create\` and mark it external: true`)
  }
  if (body.content !== undefined) {
    report.error(join(path, 'content'), 'peer creates configs from files: write the content to a file and use file:, or create it with `peer secret create` and mark it external: true')
  }
  if (!SECRET_NAME_PATTERN.test(name)) {
    report.error(body.name === undefined ? path : join(path, 'name'), `${quoted(name)} cannot name a peer secret: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128; set name:`)
  }
  if (external?.external === true) {
    if (file !== undefined) report.error(join(path, 'file'), `an external ${kind} already exists; drop file: or external:`)
    if (report.errorCount() > before) return undefined
    return { name, kind, external: true, declaredAt: path, sourceFile }
  }
  if (file === undefined) {
    if (body.environment === undefined && body.content === undefined && body.driver === undefined) {
      report.error(path, `expected file: (created on apply) or external: true (created beforehand with \`peer secret create\`)`)
    }
    return undefined
  }
  const expanded = expandHome(file, project.environment)
  if (!expanded.ok) {
    report.error(join(path, 'file'), expanded.error)
    return undefined
  }
  if (report.errorCount() > before) return undefined
  return { name, kind, file: resolvePath(project.directory, expanded.path), external: false, declaredAt: path, sourceFile }
}

/** `external: true`, `external: false`, or the legacy `external: { name }`. */
function readExternal(value: unknown, path: string, report: Report): { external: boolean; name?: string } | undefined {
  if (value === undefined || value === null) return undefined
  if (isMap(value)) {
    checkKeys(value, ['name'], path, report)
    const name = readString(value.name, join(path, 'name'), report)
    return name === undefined ? { external: true } : { external: true, name }
  }
  const external = readBoolean(value, path, report)
  return external === undefined ? undefined : { external }
}

/** A secret as a service lists it: a bare name when it is mounted under its own name, else `{ name, target }`. */
export type WrittenSecretRef = string | { name: string; target: string }

/** A service's `secrets:` or `configs:` list as peer secret references. */
export function readFileReferences(kind: FileObjectKind, value: unknown, context: ServiceContext): WrittenSecretRef[] {
  const section = SECTION[kind]
  const path = join(context.path, section)
  const { report, project } = context
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    report.error(path, `expected a list of ${kind} names, or of { source, target }`)
    return []
  }
  const declared = kind === 'secret' ? project.secrets : project.configs
  const refs: WrittenSecretRef[] = []
  value.forEach((entry, i) => {
    const entryPath = item(path, i)
    let source: string | undefined
    let target: string | undefined
    if (typeof entry === 'string') {
      source = entry
    } else if (isMap(entry)) {
      checkKeys(entry, FILE_REFERENCE_FIELDS, entryPath, report)
      source = readString(entry.source, join(entryPath, 'source'), report)
      if (source === undefined) report.error(join(entryPath, 'source'), `expected the name of a top-level ${kind}`)
      target = readString(entry.target, join(entryPath, 'target'), report)
      const owner = ['uid', 'gid', 'mode'].filter((field) => entry[field] !== undefined)
      if (owner.length > 0) report.warn(join(entryPath, owner[0]!), `ignored: peer sets no owner or mode on ${kind} files (${owner.join(', ')})`)
    } else {
      report.error(entryPath, `expected a ${kind} name, or { source, target }`)
    }
    if (source === undefined) return
    if (!declared.has(source)) {
      report.error(entryPath, `undefined ${kind} ${quoted(source)}: declare it under the top-level ${section}:`)
      return
    }
    ;(kind === 'secret' ? project.used.secrets : project.used.configs).add(source)
    const object = declared.get(source)
    if (object === undefined) return
    refs.push(reference(kind, object.name, source, target))
  })
  return refs
}

function reference(kind: FileObjectKind, name: string, key: string, target: string | undefined): WrittenSecretRef {
  if (kind === 'secret') {
    const file = target ?? key
    return file === name ? name : { name, target: file }
  }
  // Swarm mounts a config given a relative target at that path from the root.
  const file = target ?? key
  return { name, target: file.startsWith('/') ? file : `/${file}` }
}

/**
 * The secrets and configs some service uses, one per cluster name. Two declarations of one name must
 * agree (the same file, or both external); unused declarations are reported as not created.
 */
export function usedFileObjects(project: Project, report: Report): ComposeSecret[] {
  const byName = new Map<string, ComposeSecret>()
  for (const kind of ['secret', 'config'] as const) {
    const declared = kind === 'secret' ? project.secrets : project.configs
    const used = kind === 'secret' ? project.used.secrets : project.used.configs
    for (const [key, object] of declared) {
      if (!used.has(key)) {
        report.warn(join(SECTION[kind], key), `ignored: no service uses this ${kind}, so it is not created`)
        continue
      }
      if (object === undefined) continue
      const earlier = byName.get(object.name)
      if (earlier === undefined) {
        byName.set(object.name, object)
      } else if (earlier.file !== object.file || earlier.external !== object.external) {
        report.error(object.declaredAt, `names the same peer secret ${quoted(object.name)} as ${earlier.declaredAt}, with another source; give one of them another name:`)
      }
    }
  }
  return [...byName.values()]
}
