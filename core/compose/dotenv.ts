// The `.env` format as compose reads it (compose-go's dotenv parser), for `.env`, `--env-file`,
// `env_file:` and `label_file:`:
//   KEY=value          unquoted: to the end of the line, a " #" starts a comment, trailing spaces go
//   KEY="a\n$OTHER"    double quotes: escapes (\n \t \\ \" \$ …) and ${VAR} substitution; may span lines
//   KEY='raw $text'    single quotes: taken literally (\' is a quote); may span lines
//   export KEY=value   `export ` is dropped;  KEY: value  a colon works as "="
//   KEY                alone on its line: the value `lookup` gives, or no entry when it gives none
//   # comment          whole-line comments and blank lines are skipped
// Substitution sees `lookup` first, then the values read so far from the same file.

import { quoted } from '../error-message.js'
import { substitute } from './interpolate.js'
import type { ComposeProblem } from './types.js'
import { put } from './values.js'

export type DotenvResult = { ok: true; values: Record<string, string> } | { ok: false; errors: ComposeProblem[] }

const BYTE_ORDER_MARK = '\uFEFF'

/** Spaces that do not end a line (a line break ends a statement). */
function isSpace(character: string): boolean {
  return character === ' ' || character === '\t' || character === '\v' || character === '\f' || character === '\r' || character === '\u0085' || character === '\u00a0'
}

const KEY_CHARACTER = /^[\p{L}\p{N}_.\-[\]]$/u

export function dotenv(text: string, file: string, lookup?: (name: string) => string | undefined): DotenvResult {
  const values: Record<string, string> = {}
  let rest = text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text
  let line = 1
  const fail = (message: string): DotenvResult => ({ ok: false, errors: [{ file, path: `line ${line}`, message }] })
  const resolve = (name: string): string | undefined => lookup?.(name) ?? (Object.hasOwn(values, name) ? values[name] : undefined)
  const expand = (value: string): string | { error: string } => {
    const result = substitute(value, resolve)
    return result.ok ? result.value : { error: result.error }
  }

  for (;;) {
    // Skip blank space and comment lines, counting line breaks.
    for (;;) {
      const start = rest.search(/\S/u)
      if (start < 0) {
        rest = ''
        break
      }
      line += countLineBreaks(rest.slice(0, start))
      rest = rest.slice(start)
      if (rest[0] !== '#') break
      const end = rest.indexOf('\n')
      rest = end < 0 ? '' : rest.slice(end)
    }
    if (rest === '') break

    if (/^export\s+/.test(rest)) rest = rest.slice('export'.length).replace(/^[ \t\v\f\r\u0085\u00a0]+/, '')
    let keyEnd = -1
    let separator = ''
    for (let i = 0; i < rest.length; i++) {
      const character = rest[i]!
      if (isSpace(character)) continue
      if (character === '=' || character === ':' || character === '\n') {
        keyEnd = i
        separator = character
        break
      }
      if (!KEY_CHARACTER.test(character)) {
        return fail(`unexpected character ${quoted(character)} in variable name ${quoted(rest.split('\n')[0]!)}`)
      }
    }
    // A name alone on the last line, with no line break after it, is inherited like any other.
    if (keyEnd < 0) {
      keyEnd = rest.length
      separator = '\n'
    }
    const key = rest.slice(0, keyEnd).replace(/\s+$/u, '')
    rest = rest.slice(keyEnd + 1).replace(/^[ \t\v\f\r\u0085\u00a0]+/, '')
    if (key.includes(' ') || key.includes('\t')) return fail('a variable name cannot contain a space')
    if (key === '') return fail('a line starts with a separator: expected NAME=value')

    if (separator === '\n') {
      line++
      const inherited = lookup?.(key)
      if (inherited !== undefined) put(values, key, inherited)
      continue
    }

    const quote = rest[0]
    if (quote !== '"' && quote !== "'") {
      const end = rest.indexOf('\n')
      let value = end < 0 ? rest : rest.slice(0, end)
      rest = end < 0 ? '' : rest.slice(end + 1)
      const comment = value.indexOf(' #')
      if (comment >= 0) value = value.slice(0, comment)
      const expanded = expand(value.replace(/\s+$/u, ''))
      if (typeof expanded !== 'string') return fail(expanded.error)
      put(values, key, expanded)
      line++
      continue
    }

    const read = readQuoted(rest, quote)
    if (read === undefined) return fail(`unterminated quoted value ${quoted(rest.split('\n')[0]!)}`)
    line += countLineBreaks(rest.slice(0, read.end))
    rest = rest.slice(read.end + 1)
    if (quote === "'") {
      put(values, key, read.value)
      continue
    }
    const expanded = expand(expandEscapes(read.value))
    if (typeof expanded !== 'string') return fail(expanded.error)
    put(values, key, expanded)
  }
  return { ok: true, values }
}

function countLineBreaks(text: string): number {
  let count = 0
  for (const character of text) if (character === '\n') count++
  return count
}

/**
 * The text between the quote at 0 and its closing quote (at `end`). A backslash before the quote
 * character stands for the quote; before anything else it is kept, for expandEscapes to read.
 */
function readQuoted(text: string, quote: string): { value: string; end: number } | undefined {
  let value = ''
  let escaped = false
  for (let i = 1; i < text.length; i++) {
    const character = text[i]!
    if (character !== quote) {
      if (!escaped && character === '\\') {
        escaped = true
        continue
      }
      if (escaped) {
        escaped = false
        value += '\\'
      }
      value += character
      continue
    }
    if (escaped) {
      escaped = false
      value += character
      continue
    }
    return { value, end: i }
  }
  return undefined
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\' }

/**
 * Shell escapes of double-quoted values. `\$` becomes `$$`, which substitution then reads as a literal
 * `$`; `\0` followed by three octal digits is that character; any other backslash stays.
 */
function expandEscapes(text: string): string {
  return text.replace(/\\(?:[abcfnrtv$"\\]|0\d{0,3})/g, (match) => {
    const escape = match.slice(1)
    if (escape === '$') return '$$'
    if (escape.startsWith('0')) {
      const octal = escape.slice(1)
      return /^[0-7]{3}$/.test(octal) && Number.parseInt(octal, 8) <= 0o377 ? String.fromCharCode(Number.parseInt(octal, 8)) : match
    }
    return ESCAPES[escape] ?? match
  })
}
