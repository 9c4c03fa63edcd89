// How validation reports a problem: the path of the field it is in and what was expected. Shared by
// every reader of a spec's parts (validate.ts, mounts.ts, …), so each names fields the same way.

import { quoted } from '../error-message.js'

export interface SpecError {
  /** Dotted path to the offending field, e.g. `services.web.resources.memory`. */
  readonly path: string
  readonly message: string
}

/** Keys a person would write bare; any other key is shown quoted, so a path is always one short line. */
const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,63}$/

/** `path.key`, or `path["odd key"]` for a key that is long, empty, or holds spaces or control characters. */
export function join(path: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${path}[${quoted(key)}]`
  return path === '' ? key : `${path}.${key}`
}

export function unknownKeys(value: Record<string, unknown>, allowed: readonly string[], path: string, errors: SpecError[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) errors.push({ path: join(path, key), message: `unknown field; expected one of ${allowed.join(', ')}` })
  }
}

/**
 * Whether a string may be used as a value: at most `maxLength` characters, and no NUL, which no
 * command line, environment or container label can carry. Pushes the problem when not.
 */
export function fitsText(value: string, maxLength: number, path: string, errors: SpecError[]): boolean {
  if (value.length > maxLength) {
    errors.push({ path, message: `at most ${maxLength} characters, not ${quoted(value)}` })
    return false
  }
  if (value.includes('\u0000')) {
    errors.push({ path, message: `holds a NUL character (${quoted(value)}), which no command line or environment can carry` })
    return false
  }
  return true
}
