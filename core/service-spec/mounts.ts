// `mounts:` — file systems a container sees, in Docker's `--mount` terms (docker only):
//
//   mounts:
//     - { type: bind, source: /srv/site, target: /usr/share/nginx/html, readOnly: true }
//     - { type: volume, source: pgdata, target: /var/lib/postgresql/data }
//     - { type: tmpfs, target: /tmp }
//
// bind: a host path, which must exist on the peer that runs the task (the engine refuses to start
// the container otherwise, and the slot moves on by its restart policy). volume: a named local
// volume of that peer, made by the engine on first use and kept after the task ends — a replica
// placed on another peer finds that peer's volume of the name, not this one's data. tmpfs: memory,
// gone with the container.
//
// Kept sorted by target, so the order they are written in does not change the spec's hash; each
// target at most once, and never /run/secrets or under it, where the task's secrets are mounted.

import { quoted } from '../error-message.js'
import { fitsText, join, unknownKeys, type SpecError } from './field-errors.js'
import { SPEC_LIMITS } from './limits.js'
import { absolutePath, isAtOrUnder } from './paths.js'
import { CONTAINER_SECRETS_DIR } from './secrets.js'
import { MOUNT_TYPES, type MountSpec, type MountType } from './types.js'

/** A volume is a directory of the engine's on the host: its name is at most a file name long. */
const MAX_VOLUME_NAME_LENGTH = 255

/** Docker's rule for volume names (at least two characters), at most MAX_VOLUME_NAME_LENGTH. */
export const VOLUME_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,254}$/
const VOLUME_NAME_RULE = 'a volume name: a letter or digit, then letters, digits, "_", "." or "-", 2 to 255 characters'

const MOUNT_FIELDS = ['type', 'source', 'target', 'readOnly']

/** Mounts as written; sorted by target, undefined for none (absent or empty). */
export function validateMounts(value: unknown, path: string, errors: SpecError[]): MountSpec[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'expected a list of { type, source, target, readOnly } with type bind, volume or tmpfs' })
    return undefined
  }
  if (value.length > SPEC_LIMITS.maxMounts) {
    errors.push({ path, message: `at most ${SPEC_LIMITS.maxMounts} mounts` })
    return undefined
  }
  const mounts: MountSpec[] = []
  const targets = new Set<string>()
  value.forEach((item, i) => {
    const mount = mountObject(item, `${path}[${i}]`, errors)
    if (mount === undefined) return
    if (targets.has(mount.target)) {
      errors.push({ path: join(`${path}[${i}]`, 'target'), message: `${quoted(mount.target)} is the target of an earlier mount too` })
      return
    }
    targets.add(mount.target)
    mounts.push(mount)
  })
  if (mounts.length === 0) return undefined
  return mounts.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0))
}

function mountObject(item: unknown, path: string, errors: SpecError[]): MountSpec | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    errors.push({ path, message: 'expected { type, source, target, readOnly } with type bind, volume or tmpfs' })
    return undefined
  }
  const body = item as Record<string, unknown>
  const before = errors.length
  unknownKeys(body, MOUNT_FIELDS, path, errors)
  const type = body.type as MountType
  if (!MOUNT_TYPES.includes(type)) {
    errors.push({ path: join(path, 'type'), message: `expected one of ${MOUNT_TYPES.join(', ')}` })
    return undefined
  }
  const source = mountSource(type, body.source, join(path, 'source'), errors)
  const target = absolutePath(body.target, join(path, 'target'), errors)
  if (target === '/' || (target !== undefined && isAtOrUnder(target, CONTAINER_SECRETS_DIR))) {
    errors.push({ path: join(path, 'target'), message: target === '/' ? 'cannot mount over the root of the container' : `${CONTAINER_SECRETS_DIR} is where the task's secrets are mounted; choose another target` })
  }
  let readOnly = false
  if (body.readOnly !== undefined) {
    if (typeof body.readOnly === 'boolean') readOnly = body.readOnly
    else errors.push({ path: join(path, 'readOnly'), message: 'expected true or false' })
  }
  if (errors.length > before || source === undefined || target === undefined) return undefined
  return { type, source, target, readOnly }
}

function mountSource(type: MountType, value: unknown, path: string, errors: SpecError[]): string | undefined {
  switch (type) {
    case 'bind':
      if (value === undefined) {
        errors.push({ path, message: 'a bind mount needs the host path to mount' })
        return undefined
      }
      return absolutePath(value, path, errors)
    case 'volume':
      if (typeof value === 'string' && !fitsText(value, MAX_VOLUME_NAME_LENGTH, path, errors)) return undefined
      if (typeof value === 'string' && VOLUME_NAME_PATTERN.test(value)) return value
      errors.push({ path, message: `expected ${VOLUME_NAME_RULE}` })
      return undefined
    case 'tmpfs':
      if (value === undefined || value === '') return ''
      errors.push({ path, message: 'a tmpfs mount has no source; leave it out' })
      return undefined
  }
}

/**
 * The written form of mounts: `source` left out of a tmpfs mount and `readOnly` when false. Values
 * not known to be mounts are passed on as they are, for validation to judge.
 */
export function writtenMounts(value: unknown): unknown {
  if (!Array.isArray(value)) return value
  return value.map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item
    const { source, readOnly, ...rest } = item as Record<string, unknown>
    return {
      ...rest,
      ...(source === undefined || (source === '' && rest.type === 'tmpfs') ? {} : { source }),
      ...(readOnly === undefined || readOnly === false ? {} : { readOnly }),
    }
  })
}
