// Version ids as people read and type them. A version's number is what a person expects ("3"), but
// concurrent writes on two peers both take the next number, so a number alone may name several
// versions. Such versions are told apart by a prefix of their key: `2·1a2b` and `2·9f3c`. A number
// that only one version has is shown bare, so a history without concurrent writes reads as before.

import type { StoredVersion } from './versions.js'
import { VERSION_KEY_LENGTH } from './versions.js'

/** What `revert` accepts: a version number, or an id as history shows it (`2·1a2b`, or `2.1a2b`). */
export type VersionRef = number | string

/** Between a number and its key prefix. `.` is accepted on input too, for keyboards without `·`. */
export const VERSION_ID_SEPARATOR = '·'

/** Shortest key prefix shown: 4 hex digits tell a handful of concurrent versions apart. */
const MIN_PREFIX = 4

export interface ParsedVersionRef {
  readonly version: number
  /** Lower-case hex, when the reference named one version among concurrent ones. */
  readonly keyPrefix?: string
}

const ID_PATTERN = new RegExp(`^(\\d{1,15})(?:[${VERSION_ID_SEPARATOR}.]([0-9a-fA-F]{1,${VERSION_KEY_LENGTH}}))?$`)

/** The reference in parts, or undefined when it is neither a version number nor an id. */
export function parseVersionRef(ref: VersionRef): ParsedVersionRef | undefined {
  if (typeof ref === 'number') return Number.isSafeInteger(ref) && ref >= 1 ? { version: ref } : undefined
  const match = ID_PATTERN.exec(ref)
  if (match === null) return undefined
  const version = Number(match[1])
  if (version < 1) return undefined
  return match[2] === undefined ? { version } : { version, keyPrefix: match[2].toLowerCase() }
}

/**
 * Id of every version by key. Versions sharing a number get one prefix length, the shortest (at least
 * 4) that tells them all apart, so their ids line up in a table. Every peer holding the same versions
 * computes the same ids; an id gains a suffix only when a concurrent version with its number arrives.
 */
export function versionIds(versions: readonly StoredVersion[]): Map<string, string> {
  const byNumber = new Map<number, string[]>()
  for (const { key, record } of versions) {
    const keys = byNumber.get(record.version)
    if (keys === undefined) byNumber.set(record.version, [key])
    else keys.push(key)
  }
  const ids = new Map<string, string>()
  for (const [version, keys] of byNumber) {
    if (keys.length === 1) {
      ids.set(keys[0]!, String(version))
      continue
    }
    let length = MIN_PREFIX
    while (length < VERSION_KEY_LENGTH && new Set(keys.map((key) => key.slice(0, length))).size < keys.length) length++
    for (const key of keys) ids.set(key, `${version}${VERSION_ID_SEPARATOR}${key.slice(0, length)}`)
  }
  return ids
}
