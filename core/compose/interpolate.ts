// Variable substitution in compose values, as compose-go's template package does it:
//   $VAR and ${VAR}            the value, or "" when unset (reported, so the caller can warn)
//   ${VAR:-default} ${VAR-default}   the default when unset or empty (:-) / only when unset (-)
//   ${VAR:?message} ${VAR?message}   an error when unset or empty (:?) / only when unset (?)
//   ${VAR:+other}   ${VAR+other}     `other` when set and not empty (:+) / when set (+), else the value
//   $$                          a literal $
// Defaults, messages and alternatives are themselves substituted, so `${A:-${B:-c}}` nests. A `$`
// that starts no name and no `{` is kept as it is; `${` not followed by a name and a closing brace is
// an error, as compose refuses it. Substitution applies to values only, never to keys.

import { quoted } from '../error-message.js'
import { join, item } from './field-path.js'
import type { Report } from './report.js'
import { put } from './values.js'

export type Lookup = (name: string) => string | undefined

export type Substitution =
  | { ok: true; value: string; unset: readonly string[] }
  | { ok: false; error: string }

const NAME_START = /^[_a-z]$/i
const NAME_CHARACTER = /^[_a-z0-9]$/i
/** Two-character operators first, so `:-` is not read as `:` then `-`. */
const OPERATORS = [':?', ':-', ':+', '?', '-', '+'] as const
type Operator = (typeof OPERATORS)[number]

/** Substitutes every variable of `template`; `unset` lists the plain `$VAR`/`${VAR}` that were unset. */
export function substitute(template: string, lookup: Lookup): Substitution {
  const unset: string[] = []
  const result = substituteAll(template, lookup, unset)
  if (typeof result !== 'string') return { ok: false, error: result.error }
  return { ok: true, value: result, unset }
}

interface Failure {
  readonly error: string
}

function substituteAll(template: string, lookup: Lookup, unset: string[]): string | Failure {
  let out = ''
  let i = 0
  while (i < template.length) {
    const character = template[i]!
    if (character !== '$') {
      out += character
      i++
      continue
    }
    const next = template[i + 1]
    if (next === '$') {
      out += '$'
      i += 2
    } else if (next !== undefined && NAME_START.test(next)) {
      let end = i + 2
      while (end < template.length && NAME_CHARACTER.test(template[end]!)) end++
      out += plainValue(template.slice(i + 1, end), lookup, unset)
      i = end
    } else if (next === '{') {
      const braced = substituteBraced(template, i, lookup, unset)
      if ('error' in braced) return braced
      out += braced.value
      i = braced.end
    } else {
      out += '$'
      i++
    }
  }
  return out
}

function plainValue(name: string, lookup: Lookup, unset: string[]): string {
  const value = lookup(name)
  if (value === undefined) unset.push(name)
  return value ?? ''
}

/** `${…}` starting at `start` (the `$`): its value and the index just past its closing brace. */
function substituteBraced(template: string, start: number, lookup: Lookup, unset: string[]): { value: string; end: number } | Failure {
  const invalid = { error: `invalid interpolation format in ${quoted(template)}; write a literal $ as $$` }
  let end = start + 2
  if (!NAME_START.test(template[end] ?? '')) return invalid
  while (end < template.length && NAME_CHARACTER.test(template[end]!)) end++
  const name = template.slice(start + 2, end)
  if (template[end] === '}') return { value: plainValue(name, lookup, unset), end: end + 1 }
  const operator = OPERATORS.find((candidate) => template.startsWith(candidate, end))
  if (operator === undefined) return invalid
  const close = closingBrace(template, start)
  if (close < 0) return invalid
  const value = applyOperator(name, operator, template.slice(end + operator.length, close), lookup, unset)
  return typeof value === 'string' ? { value, end: close + 1 } : value
}

function applyOperator(name: string, operator: Operator, argument: string, lookup: Lookup, unset: string[]): string | Failure {
  const value = lookup(name)
  const empty = value === undefined || value === ''
  switch (operator) {
    case ':?':
    case '?': {
      if (operator === ':?' ? !empty : value !== undefined) return value!
      const reason = substituteAll(argument, lookup, unset)
      if (typeof reason !== 'string') return reason
      return { error: `required variable ${name} is missing a value${reason === '' ? '' : `: ${reason}`}` }
    }
    case ':-':
      return empty ? substituteAll(argument, lookup, unset) : value!
    case '-':
      return value === undefined ? substituteAll(argument, lookup, unset) : value
    case ':+':
      return empty ? value ?? '' : substituteAll(argument, lookup, unset)
    case '+':
      return value === undefined ? '' : substituteAll(argument, lookup, unset)
  }
}

/**
 * The index of the brace closing the `${` at `start`, counted as compose-go counts it (an opening
 * brace also skips the character after it), so the same texts nest the same way.
 */
function closingBrace(text: string, start: number): number {
  let open = 0
  for (let i = start; i < text.length; i++) {
    if (text[i] === '}') {
      open--
      if (open === 0) return i
    }
    if (text[i] === '{') {
      open++
      i++
    }
  }
  return -1
}

/**
 * Deeper nesting than this is no compose file a person wrote (the CLI refuses it when parsing too);
 * cutting it here keeps every later step's recursion shallow, whoever calls the translation.
 */
const MAX_NESTING_DEPTH = 64

/**
 * Substitutes every string value of a parsed compose file (keys stay as written), giving a new
 * document. A required variable that is missing, or a malformed `${`, is an error at the value's
 * path; an unset plain variable is a warning, once per variable in the file.
 */
export function interpolateDocument(document: unknown, environment: Readonly<Record<string, string>>, report: Report): unknown {
  const lookup: Lookup = (name) => (Object.hasOwn(environment, name) ? environment[name] : undefined)
  const warned = new Set<string>()
  const visit = (value: unknown, path: string, depth: number): unknown => {
    if (typeof value === 'string') {
      const result = substitute(value, lookup)
      if (!result.ok) {
        report.error(path, result.error)
        return value
      }
      for (const name of result.unset) {
        if (warned.has(name)) continue
        warned.add(name)
        report.warn(path, `\${${name}} is not set; using ""`)
      }
      return result.value
    }
    if (typeof value !== 'object' || value === null) return value
    if (depth >= MAX_NESTING_DEPTH) {
      report.error(path, `nested deeper than ${MAX_NESTING_DEPTH} levels`)
      return null
    }
    if (Array.isArray(value)) return value.map((entry, i) => visit(entry, item(path, i), depth + 1))
    const out: Record<string, unknown> = {}
    for (const [key, entry] of Object.entries(value)) put(out, key, visit(entry, join(path, key), depth + 1))
    return out
  }
  return visit(document, '', 0)
}
