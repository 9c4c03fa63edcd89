// Service names. Compose allows letters, digits, ".", "_" and "-"; a peer service name is a DNS label
// (lowercase letters, digits and "-", at most 63). A name outside that is refused with a suggestion,
// never renamed silently: other services, scripts and people refer to services by name.

import { quoted } from '../error-message.js'
import { SERVICE_NAME_PATTERN } from '../placement/index.js'

/** undefined for a valid name, else the sentence the error gives. */
export function serviceNameProblem(name: string): string | undefined {
  if (SERVICE_NAME_PATTERN.test(name)) return undefined
  const suggestion = suggestedName(name)
  const rule = 'a peer service name is a DNS label: lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit'
  return suggestion === undefined ? rule : `${rule}; rename it, e.g. to ${quoted(suggestion)} (and update what refers to it)`
}

export function suggestedName(name: string): string | undefined {
  const suggestion = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '')
  return SERVICE_NAME_PATTERN.test(suggestion) ? suggestion : undefined
}
