// command and entrypoint: a list is taken as it is; a string is split into words as `docker stack
// deploy` splits it (shell-words.ts), so `sh -c "echo hi"` is three arguments, not four.

import { quoted } from '../error-message.js'
import type { Report } from './report.js'
import { shellWords } from './shell-words.js'

export function readCommand(value: unknown, path: string, report: Report): string[] | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') {
    const split = shellWords(value)
    if (split.ok) return split.words
    report.error(path, `cannot split ${quoted(value)} into arguments: ${split.error}`)
    return undefined
  }
  if (Array.isArray(value) && value.every((word) => typeof word === 'string' || (typeof word === 'number' && Number.isFinite(word)))) {
    return value.map(String)
  }
  report.error(path, 'expected a list of arguments, or one string split like a shell command line')
  return undefined
}
