// extends within one file, as compose-go applies it: the service starts from a copy of the service it
// extends (itself extended first) and its own fields merge over that by the usual merge rules. It runs
// per file, before the files merge. Extending a service of another file (`extends: { file }`) would
// need that file parsed here; it is refused with a hint instead.

import { quoted } from '../error-message.js'
import { EXTENDS_FIELDS } from './fields.js'
import { join } from './field-path.js'
import { mergeValues } from './merge.js'
import type { Report } from './report.js'
import { checkKeys, isMap, put, readString } from './values.js'

export function applyExtends(document: Record<string, unknown>, report: Report): Record<string, unknown> {
  const services = document.services
  if (!isMap(services)) return document
  const resolved = new Map<string, unknown>()
  const resolve = (name: string, chain: readonly string[]): unknown => {
    if (resolved.has(name)) return resolved.get(name)
    const service = services[name]
    if (!isMap(service) || service.extends === undefined) {
      resolved.set(name, service)
      return service
    }
    const path = join(join('services', name), 'extends')
    const { extends: written, ...own } = service
    const base = baseName(written, path, report)
    let result: unknown = own
    if (base !== undefined) {
      if (!Object.hasOwn(services, base)) {
        report.error(path, `no service ${quoted(base)} in this file to extend`)
      } else if (chain.includes(base) || base === name) {
        report.error(path, `extends itself: ${[...chain, name, base].join(' → ')}`)
      } else {
        result = mergeValues(resolve(base, [...chain, name]), own, ['services', name], report)
      }
    }
    resolved.set(name, result)
    return result
  }
  const out: Record<string, unknown> = {}
  for (const name of Object.keys(services)) put(out, name, resolve(name, []))
  return { ...document, services: out }
}

function baseName(written: unknown, path: string, report: Report): string | undefined {
  if (typeof written === 'string') return written
  if (!isMap(written)) {
    report.error(path, 'expected the name of a service, or { service }')
    return undefined
  }
  checkKeys(written, EXTENDS_FIELDS, path, report)
  if (written.file !== undefined) {
    report.error(join(path, 'file'), 'extending a service of another file is not supported; merge the files with -f, or copy the service')
    return undefined
  }
  const service = readString(written.service, join(path, 'service'), report)
  if (service === undefined) report.error(join(path, 'service'), 'expected the name of the service to extend')
  return service
}
