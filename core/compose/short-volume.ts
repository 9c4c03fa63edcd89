// The short volume syntax, as compose-go's format.ParseVolume reads it:
//   /target                anonymous volume
//   name:/target[:opts]    named volume
//   ./dir:/target[:opts]   bind mount (a source starting with ".", "/" or "~")
// where opts is a comma-separated list: ro, rw, nocopy, z, Z and the bind propagations.

import { quoted } from '../error-message.js'

export interface ShortVolume {
  readonly type: 'bind' | 'volume'
  /** Empty for an anonymous volume. */
  readonly source: string
  readonly target: string
  readonly readOnly: boolean
  /** Options other than ro and rw, as written (nocopy, z, rshared, …). */
  readonly options: readonly string[]
}

export type ParsedVolume = { ok: true; volume: ShortVolume } | { ok: false; error: string }

export function parseShortVolume(spec: string): ParsedVolume {
  if (spec === '') return { ok: false, error: 'an empty volume' }
  const parts = spec.split(':')
  if (parts.length > 3) return { ok: false, error: `${quoted(spec)}: too many colons; expected [source:]target[:options]` }
  if (parts.some((part) => part === '')) return { ok: false, error: `${quoted(spec)}: an empty part between colons` }
  if (parts.length === 1) return { ok: true, volume: { type: 'volume', source: '', target: cleanTarget(spec), readOnly: false, options: [] } }
  const [source, target, written] = parts as [string, string, string | undefined]
  let readOnly = false
  const options: string[] = []
  for (const option of written === undefined ? [] : written.split(',')) {
    if (option === 'ro') readOnly = true
    else if (option === 'rw') readOnly = false
    else options.push(option)
  }
  const type = /^[./~]/.test(source) ? 'bind' : 'volume'
  return { ok: true, volume: { type, source, target: cleanTarget(target), readOnly, options } }
}

/** A container path as compose cleans it (`/data/` and `/data/.` are `/data`); relative ones stay relative. */
export function cleanTarget(target: string): string {
  const absolute = target.startsWith('/')
  const parts: string[] = []
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop()
    else if (part !== '..' || !absolute) parts.push(part)
  }
  const joined = parts.join('/')
  return absolute ? `/${joined}` : joined === '' ? '.' : joined
}
