// Host paths, POSIX only (peer runs on Linux hosts), without node:path so the core stays pure.
// As docker compose and `docker stack deploy` do, a relative path in any of the files resolves
// against the project directory, the directory of the first file.

import { quoted } from '../error-message.js'

export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/')
}

/** `.` and `..` resolved, repeated and trailing slashes dropped; `..` above the root stays at the root. */
export function normalisePath(path: string): string {
  const parts: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') parts.pop()
    else parts.push(part)
  }
  return `/${parts.join('/')}`
}

/** `path` made absolute against `directory` (itself absolute). */
export function resolvePath(directory: string, path: string): string {
  return normalisePath(isAbsolutePath(path) ? path : `${directory}/${path}`)
}

export type Expanded = { ok: true; path: string } | { ok: false; error: string }

/**
 * A leading `~` replaced by HOME from the compose environment, as compose does (`~/data`); other
 * users' homes (`~alice`) are not looked up.
 */
export function expandHome(path: string, environment: Readonly<Record<string, string>>): Expanded {
  if (!path.startsWith('~')) return { ok: true, path }
  if (path !== '~' && !path.startsWith('~/')) return { ok: false, error: `${quoted(path)}: only ~ and ~/… are expanded; write the path in full` }
  const home = Object.hasOwn(environment, 'HOME') ? environment.HOME : undefined
  if (home === undefined || home === '') return { ok: false, error: `cannot expand ~ in ${quoted(path)}: HOME is not set` }
  return { ok: true, path: home + path.slice(1) }
}
