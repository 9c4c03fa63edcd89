// Field paths as problems name them: `services.web.ports[0]`, or `labels["odd key"]` for a key that
// would not read as one field (the same rule as native validation, so paths look alike in both).

import { quoted } from '../error-message.js'

const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,63}$/

/** `path.key`, or `path["odd key"]` for a key that is long, empty, or holds spaces or control characters. */
export function join(path: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${path}[${quoted(key)}]`
  return path === '' ? key : `${path}.${key}`
}

export function item(path: string, index: number): string {
  return `${path}[${index}]`
}
