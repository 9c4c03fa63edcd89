// The translation pipeline, file by file as compose loads them, then as one project:
//   1. each file: its top-level fields checked, values interpolated, `extends` applied;
//   2. the files merged in order (merge.ts), repeated list entries removed after each;
//   3. the top-level declarations read: volumes, networks (warned), secrets and configs;
//   4. each service enabled by the active profiles translated (service.ts);
//   5. the secrets and configs the services use reported, for the CLI to create.
// Nothing here reads files or the environment itself: the caller passes both in.

import { TOP_LEVEL_FIELDS } from './fields.js'
import { join } from './field-path.js'
import { applyExtends } from './extends.js'
import { interpolateDocument } from './interpolate.js'
import { mergeDocuments, withUniqueEntries } from './merge.js'
import { readDeclaredNetworks } from './networks.js'
import { enabledByProfiles } from './profiles.js'
import type { Project } from './project.js'
import { problemLog, type Report } from './report.js'
import { readFileObjects, usedFileObjects } from './secrets.js'
import { translateService } from './service.js'
import type { ComposeOptions, ComposeResult, ComposeSource } from './types.js'
import { checkKeys, isMap } from './values.js'
import { readDeclaredVolumes } from './volumes.js'

export function translateCompose(sources: readonly ComposeSource[], options: ComposeOptions): ComposeResult {
  if (sources.length === 0) return { ok: false, errors: [{ file: '', path: '', message: 'no compose file given' }], warnings: [] }
  const origins = new Map<string, string>()
  const fileOf = (path: string): string => originOf(path, origins) ?? sources[0]!.file
  const log = problemLog(fileOf)

  let merged: Record<string, unknown> = {}
  for (const source of sources) {
    const report = log.forFile(source.file)
    if (!isMap(source.document)) {
      report.error('', 'expected a compose file: a map with services:')
      continue
    }
    checkKeys(source.document, TOP_LEVEL_FIELDS, '', report)
    const interpolated = interpolateDocument(source.document, options.environment, report) as Record<string, unknown>
    const extended = applyExtends(interpolated, report)
    recordOrigins(extended, source.file, origins)
    merged = withUniqueEntries(mergeDocuments(merged, extended, log))
  }

  readProjectFields(merged, log)
  // As compose does, relative paths in every file resolve against the first file's directory.
  const paths = { directory: sources[0]!.directory, environment: options.environment }
  const project: Project = {
    ...paths,
    readText: options.readText,
    volumes: readDeclaredVolumes(merged.volumes, log),
    networks: readDeclaredNetworks(merged.networks, log),
    secrets: readFileObjects('secret', merged.secrets, paths, fileOf, log),
    configs: readFileObjects('config', merged.configs, paths, fileOf, log),
    used: { secrets: new Set(), configs: new Set() },
  }

  const services: Array<Record<string, unknown>> = []
  const written = merged.services
  if (written !== undefined && written !== null && !isMap(written)) {
    log.error('services', 'expected a map of service name to service')
  } else if (isMap(written)) {
    for (const [name, body] of Object.entries(written)) {
      const path = join('services', name)
      if (isMap(body) && !enabledByProfiles(body, options.profiles, path, log)) continue
      const service = translateService(name, body, project, log)
      if (service !== undefined) services.push(service)
    }
  }
  const secrets = usedFileObjects(project, log)
  if (log.errors.length === 0 && services.length === 0) {
    const some = isMap(written) && Object.keys(written).length > 0
    log.error('services', some ? `no service is enabled by the active profiles (${options.profiles.join(', ') || 'none'})` : 'no services defined')
  }
  if (log.errors.length > 0) return { ok: false, errors: log.errors, warnings: log.warnings }
  return { ok: true, services, warnings: log.warnings, secrets }
}

/** name, include, models: what the project-wide fields mean for peer. version needs nothing. */
function readProjectFields(document: Record<string, unknown>, report: Report): void {
  if (document.name !== undefined) report.warn('name', 'ignored: peer does not prefix services with a project name; each keeps its own name')
  if (document.include !== undefined) report.error('include', 'include is not supported: give the included files with -f instead')
  if (document.models !== undefined) report.warn('models', 'ignored: peer runs no models')
}

/** Records, for each top-level field, service, service field and declaration, the last file that wrote it. */
function recordOrigins(document: Record<string, unknown>, file: string, origins: Map<string, string>): void {
  for (const [key, value] of Object.entries(document)) {
    origins.set(join('', key), file)
    if (!isMap(value)) continue
    for (const [name, entry] of Object.entries(value)) {
      const path = join(key, name)
      origins.set(path, file)
      if (key === 'services' && isMap(entry)) for (const field of Object.keys(entry)) origins.set(join(path, field), file)
    }
  }
}

/** The file of the longest recorded path that `path` lies within. */
function originOf(path: string, origins: ReadonlyMap<string, string>): string | undefined {
  let best: string | undefined
  let bestLength = -1
  for (const [prefix, file] of origins) {
    if (prefix.length <= bestLength) continue
    if (path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`)) {
      best = file
      bestLength = prefix.length
    }
  }
  return best
}
