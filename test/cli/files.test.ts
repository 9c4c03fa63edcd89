// Reading the files users hand to the CLI: hostile YAML (alias bombs, undefined aliases, deep
// nesting) is refused with one line naming file and position, never a stack trace; through the real
// CLI it exits 2.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_NESTING_DEPTH, formatFileError, parseDocuments } from '../../cli/files.js'
import { runCli } from './run-cli.js'

/** A "billion laughs" document: nine levels of nine aliases each. */
function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  for (let level = 1; level < 9; level++) {
    const previous = String.fromCharCode(97 + level - 1)
    const name = String.fromCharCode(97 + level)
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`)
  }
  return lines.join('\n') + '\nservices: {x: *i}\n'
}

const hostile: Array<[string, string, RegExp]> = [
  ['an alias bomb', aliasBomb(), /^f\.yaml: 2:\d+: aliases expand more than 100 times/],
  ['an undefined alias', 'services: {hx: *nope}\n', /^f\.yaml: 1:16: alias \*nope refers to no anchor defined before it$/],
  ['nesting the parser cannot follow', `services: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`, /^f\.yaml: 1:\d+: nested too deeply to read/],
  ['nesting deeper than the limit', `services: ${'['.repeat(MAX_NESTING_DEPTH + 5)}${']'.repeat(MAX_NESTING_DEPTH + 5)}\n`, /^f\.yaml: nested deeper than 64 levels$/],
  ['a syntax error', 'services:\n  web: [unclosed\n', /^f\.yaml: \d+:\d+: /],
]

const files = suite('spec files')

for (const [what, text, expected] of hostile) {
  files(`${what} is refused with one line naming the file and position`, () => {
    const result = parseDocuments('f.yaml', text)
    assert.is(result.ok, false)
    if (result.ok) return
    const lines = result.errors.map(formatFileError)
    assert.is(lines.length, 1, lines.join('\n'))
    assert.match(lines[0]!, expected)
  })
}

files('anchors and aliases used as people use them still work', () => {
  const result = parseDocuments('f.yaml', 'x-env: &env {A: "1"}\nservices:\n  a: {command: [true], env: *env}\n  b: {command: [true], env: *env}\n')
  assert.is(result.ok, true)
})

files('through the CLI, hostile files exit 2 with one line and no stack', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'peer-files-'))
  try {
    for (const [what, text] of hostile) {
      const path = join(dir, 'f.yaml')
      writeFileSync(path, text)
      const result = await runCli(['plan', '-f', path, '--inventory', 'examples/inventory.yaml'])
      assert.is(result.code, 2, `${what}: ${result.stderr}`)
      assert.is(result.stderr.trim().split('\n').length, 1, `${what}: ${result.stderr}`)
      assert.not.match(result.stderr, /\n\s+at /)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

files.run()
