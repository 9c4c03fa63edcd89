// Paths a spec names on a host or in a container (workdir, mounts, secret targets): absolute and in
// their one clean form, so `/data`, `/data/` and `/srv/../data` cannot be three names of one place —
// two mounts at one target would slip past the uniqueness check, and equal intent would hash apart.

import { fitsText, type SpecError } from './field-errors.js'
import { SPEC_LIMITS } from './limits.js'

/** The rule in words, for error messages. */
export const PATH_RULE = 'an absolute path such as /var/lib/data, without ".", ".." or empty segments and without a trailing "/"'

export function isCleanAbsolutePath(path: string): boolean {
  if (!path.startsWith('/')) return false
  if (path === '/') return true
  return path.slice(1).split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
}

/** Whether the clean path `path` is `dir` or lies under it. */
export function isAtOrUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`)
}

/** A written absolute path, or undefined with the problem pushed. */
export function absolutePath(value: unknown, path: string, errors: SpecError[]): string | undefined {
  if (typeof value === 'string' && !fitsText(value, SPEC_LIMITS.maxPathLength, path, errors)) return undefined
  if (typeof value === 'string' && isCleanAbsolutePath(value)) return value
  errors.push({ path, message: `expected ${PATH_RULE}` })
  return undefined
}
