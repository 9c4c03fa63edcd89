// Volumes, as peer mounts `{ type, source, target, readOnly }`:
//   - bind: a host path; a relative one resolves against the project directory, `~` against HOME;
//   - volume: a named volume declared at the top level (compose's rule), mounted by its `name:`;
//     named volumes are per host, as Docker's local volumes are;
//   - tmpfs: no source; also what the service-level `tmpfs:` list becomes.
// An anonymous volume (`- /data`) is ignored with a warning: its data would live and die with one
// container, which is what a tmpfs or the container's own file system already gives; name it to keep it.

import { quoted } from '../error-message.js'
import { TOP_VOLUME_FIELDS, VOLUME_FIELDS } from './fields.js'
import { item, join } from './field-path.js'
import { expandHome, isAbsolutePath, resolvePath } from './host-paths.js'
import type { DeclaredVolume, Project, ServiceContext } from './project.js'
import type { Report } from './report.js'
import { cleanTarget, parseShortVolume } from './short-volume.js'
import { checkKeys, isMap, readBoolean, readMap, readString, readStrings } from './values.js'

export interface Mount {
  readonly type: 'bind' | 'volume' | 'tmpfs'
  readonly source?: string
  readonly target: string
  readonly readOnly: boolean
}

/** The top-level `volumes:` declarations, by key. */
export function readDeclaredVolumes(section: unknown, report: Report): Map<string, DeclaredVolume> {
  const declared = new Map<string, DeclaredVolume>()
  const map = readMap(section, 'volumes', report, 'a map of volume names to their options')
  if (map === undefined) return declared
  for (const [key, body] of Object.entries(map)) {
    if (key.startsWith('x-')) continue
    const path = join('volumes', key)
    if (body === null || body === undefined) {
      declared.set(key, { name: key })
      continue
    }
    if (!isMap(body)) {
      report.error(path, 'expected a map of volume options, or nothing')
      continue
    }
    checkKeys(body, TOP_VOLUME_FIELDS, path, report)
    let name = readString(body.name, join(path, 'name'), report)
    if (isMap(body.external)) {
      checkKeys(body.external, ['name'], join(path, 'external'), report)
      name ??= readString(body.external.name, join(join(path, 'external'), 'name'), report)
    } else if (body.external !== undefined) {
      readBoolean(body.external, join(path, 'external'), report)
    }
    if (body.driver !== undefined && body.driver !== 'local') report.warn(join(path, 'driver'), 'ignored: peer mounts volumes of the engine\'s local driver')
    if (body.driver_opts !== undefined) report.warn(join(path, 'driver_opts'), 'ignored: peer passes no volume driver options')
    if (body.labels !== undefined) report.warn(join(path, 'labels'), 'ignored: peer sets no volume labels')
    declared.set(key, { name: name ?? key })
  }
  return declared
}

/** A service's `volumes:` and `tmpfs:` as mounts; `named` tells whether any mounts a named volume. */
export function readMounts(volumes: unknown, tmpfs: unknown, context: ServiceContext): { mounts: Mount[]; named: boolean } {
  const mounts: Mount[] = []
  let named = false
  const path = join(context.path, 'volumes')
  if (volumes !== undefined && volumes !== null) {
    if (!Array.isArray(volumes)) {
      context.report.error(path, 'expected a list such as ["./data:/data", "cache:/cache:ro"]')
    } else {
      volumes.forEach((entry, i) => {
        const mount = readMount(entry, item(path, i), context)
        if (mount === undefined) return
        if (mount.type === 'volume') named = true
        mounts.push(mount)
      })
    }
  }
  mounts.push(...readTmpfs(tmpfs, join(context.path, 'tmpfs'), context.report))
  return { mounts, named }
}

function readMount(entry: unknown, path: string, context: ServiceContext): Mount | undefined {
  const { report, project } = context
  if (typeof entry === 'string') {
    const parsed = parseShortVolume(entry)
    if (!parsed.ok) {
      report.error(path, parsed.error)
      return undefined
    }
    const { type, source, target, readOnly, options } = parsed.volume
    if (options.length > 0) report.warn(path, `ignored options ${options.join(', ')}: peer mounts with none but ro`)
    return mountOf(type, source, target, readOnly, path, path, project, report)
  }
  if (!isMap(entry)) {
    report.error(path, 'expected "source:target[:ro]" or { type, source, target, read_only }')
    return undefined
  }
  checkKeys(entry, VOLUME_FIELDS, path, report)
  const type = readString(entry.type, join(path, 'type'), report)
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    report.error(join(path, 'type'), type === undefined ? 'expected a type: bind, volume or tmpfs' : `peer mounts bind, volume and tmpfs, not ${quoted(type)}`)
    return undefined
  }
  const source = readString(entry.source, join(path, 'source'), report) ?? ''
  const target = readString(entry.target, join(path, 'target'), report)
  if (target === undefined) {
    report.error(join(path, 'target'), 'expected the path in the container')
    return undefined
  }
  const readOnly = readBoolean(entry.read_only, join(path, 'read_only'), report) ?? false
  if (entry.consistency !== undefined) report.warn(join(path, 'consistency'), 'ignored: it applies to Docker Desktop only')
  for (const options of ['bind', 'volume', 'tmpfs', 'image'] as const) {
    const value = entry[options]
    if (value === undefined || value === null) continue
    if (options !== type) {
      report.error(join(path, options), `${options} options do not apply to a ${type} mount`)
    } else if (isMap(value) && Object.keys(value).length > 0) {
      report.warn(join(path, options), `ignored: peer mounts with no ${options} options (${Object.keys(value).join(', ')})`)
    }
  }
  return mountOf(type, source, cleanTarget(target), readOnly, join(path, 'source'), path, project, report)
}

function mountOf(
  type: Mount['type'],
  source: string,
  target: string,
  readOnly: boolean,
  sourcePath: string,
  path: string,
  project: Project,
  report: Report,
): Mount | undefined {
  if (!isAbsolutePath(target)) {
    report.error(path, `the target ${quoted(target)} must be an absolute path in the container`)
    return undefined
  }
  switch (type) {
    case 'bind': {
      if (source === '') {
        report.error(sourcePath, 'a bind mount needs the host path as source')
        return undefined
      }
      const expanded = expandHome(source, project.environment)
      if (!expanded.ok) {
        report.error(sourcePath, expanded.error)
        return undefined
      }
      return { type, source: resolvePath(project.directory, expanded.path), target, readOnly }
    }
    case 'volume': {
      if (source === '') {
        report.warn(path, 'ignored: an anonymous volume lives and dies with one container; name it (and declare it under the top-level volumes:) to keep its data, or use tmpfs')
        return undefined
      }
      const declared = project.volumes.get(source)
      if (declared === undefined) {
        report.error(sourcePath, `undefined volume ${quoted(source)}: declare it under the top-level volumes:`)
        return undefined
      }
      return { type, source: declared.name, target, readOnly }
    }
    case 'tmpfs':
      if (source !== '') {
        report.error(sourcePath, 'a tmpfs mount has no source')
        return undefined
      }
      return { type, target, readOnly }
  }
}

/** `tmpfs: /run` or a list of `/path[:options]`: tmpfs mounts (options are ignored with a warning). */
function readTmpfs(value: unknown, path: string, report: Report): Mount[] {
  const paths = readStrings(value, path, report, true)
  if (paths === undefined) return []
  const mounts: Mount[] = []
  paths.forEach((entry, i) => {
    const entryPath = Array.isArray(value) ? item(path, i) : path
    const colon = entry.indexOf(':')
    const target = cleanTarget(colon < 0 ? entry : entry.slice(0, colon))
    if (colon >= 0) report.warn(entryPath, `ignored options ${entry.slice(colon + 1)}: peer mounts tmpfs with none`)
    if (!isAbsolutePath(target)) report.error(entryPath, `the target ${quoted(target)} must be an absolute path in the container`)
    else mounts.push({ type: 'tmpfs', target, readOnly: false })
  })
  return mounts
}
