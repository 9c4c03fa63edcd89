// Networks. peer has no overlay network yet: every top-level network is ignored with one warning, and
// a service's `networks:` only has to name declared ones (compose's rule), without repeating it.

import { quoted } from '../error-message.js'
import { NETWORK_FIELDS } from './fields.js'
import { join } from './field-path.js'
import type { ServiceContext } from './project.js'
import type { Report } from './report.js'
import { checkKeys, isMap, readMap } from './values.js'

const NO_OVERLAY = 'ignored: peer has no overlay networks yet; tasks reach each other through published host ports'

/** The top-level `networks:` names, each warned about once. */
export function readDeclaredNetworks(section: unknown, report: Report): Set<string> {
  const declared = new Set<string>()
  const map = readMap(section, 'networks', report, 'a map of network names to their options')
  if (map === undefined) return declared
  for (const [key, body] of Object.entries(map)) {
    if (key.startsWith('x-')) continue
    const path = join('networks', key)
    if (isMap(body)) checkKeys(body, NETWORK_FIELDS, path, report)
    else if (body !== null) report.error(path, 'expected a map of network options, or nothing')
    declared.add(key)
    report.warn(path, NO_OVERLAY)
  }
  return declared
}

/** A service's `networks:` (a list of names or a map of name to options): each must be declared. */
export function checkServiceNetworks(value: unknown, context: ServiceContext): void {
  const path = join(context.path, 'networks')
  if (value === undefined || value === null) return
  let names: string[]
  if (Array.isArray(value)) names = value.map(String)
  else if (isMap(value)) names = Object.keys(value).filter((key) => !key.startsWith('x-'))
  else {
    context.report.error(path, 'expected a list of network names, or a map of network name to options')
    return
  }
  for (const name of names) {
    if (name !== 'default' && !context.project.networks.has(name)) {
      context.report.error(join(path, name), `undefined network ${quoted(name)}: declare it under the top-level networks:`)
    }
  }
}
