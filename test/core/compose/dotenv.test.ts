// The .env format as compose reads it: quoting, escapes, comments, export, inherited names,
// substitution, and errors that name the line.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { dotenv } from '../../../core/index.js'

const Dotenv = suite('dotenv')

const values = (text: string, lookup?: (name: string) => string | undefined): Record<string, string> => {
  const result = dotenv(text, '.env', lookup)
  if (!result.ok) assert.unreachable(JSON.stringify(result.errors))
  return result.ok ? result.values : {}
}

const CASES: ReadonlyArray<readonly [text: string, expected: Record<string, string>]> = [
  ['A=1', { A: '1' }],
  ['A=1\nB=two words\n', { A: '1', B: 'two words' }],
  ['  A = spaced  \n', { A: 'spaced' }],
  ['A=value # a comment', { A: 'value' }],
  ['A=value#not-a-comment', { A: 'value#not-a-comment' }],
  ['# comment\n\n   # indented comment\nA=1', { A: '1' }],
  ['export A=1', { A: '1' }],
  ['A: yaml style', { A: 'yaml style' }],
  ['A=', { A: '' }],
  ['A=""', { A: '' }],
  ['A="double # not a comment"', { A: 'double # not a comment' }],
  ["A='single $NOT \\n raw'", { A: 'single $NOT \\n raw' }],
  ['A="line\\nbreak\\ttab \\"quoted\\" back\\\\slash"', { A: 'line\nbreak\ttab "quoted" back\\slash' }],
  ["A='it\\'s'", { A: "it's" }],
  ['A="multi\nline"\nB=2', { A: 'multi\nline', B: '2' }],
  ['A=1\nB=${A}-x\nC="$A$A"', { A: '1', B: '1-x', C: '11' }],
  ['A="\\$literal"', { A: '$literal' }],
  ['A=$$literal', { A: '$literal' }],
  ['A="\\0101"', { A: 'A' }],
  ['dotted.name=1\nwith-dash=2', { 'dotted.name': '1', 'with-dash': '2' }],
  ['A=1\nA=2', { A: '2' }],
  ['\uFEFFA=1', { A: '1' }],
  ['A=1\r\nB=2\r\n', { A: '1', B: '2' }],
]

Dotenv('reads each form as compose does', () => {
  for (const [text, expected] of CASES) assert.equal(values(text), expected, JSON.stringify(text))
})

Dotenv('a name alone takes its value from the lookup, or is left out', () => {
  const lookup = (name: string) => (name === 'HOME' ? '/root' : undefined)
  assert.equal(values('HOME\nMISSING\nA=1', lookup), { HOME: '/root', A: '1' })
  assert.equal(values('HOME', lookup), { HOME: '/root' })
})

Dotenv('substitution sees the lookup before the file', () => {
  assert.equal(values('A=file\nB=$A', (name) => (name === 'A' ? 'environment' : undefined)), { A: 'file', B: 'environment' })
})

const ERRORS: ReadonlyArray<readonly [text: string, path: string, fragment: string]> = [
  ['A=1\nB C=2', 'line 2', 'cannot contain a space'],
  ['A=1\n\nB!=2', 'line 3', 'unexpected character "!"'],
  ['A="unterminated', 'line 1', 'unterminated quoted value'],
  ['A=${MISSING:?needed}', 'line 1', 'required variable MISSING is missing a value: needed'],
  ['=value', 'line 1', 'expected NAME=value'],
]

Dotenv('errors name the file, the line and the problem', () => {
  for (const [text, path, fragment] of ERRORS) {
    const result = dotenv(text, '/p/.env')
    assert.not.ok(result.ok, text)
    if (result.ok) continue
    assert.is(result.errors.length, 1)
    assert.is(result.errors[0]!.file, '/p/.env')
    assert.is(result.errors[0]!.path, path, text)
    assert.ok(result.errors[0]!.message.includes(fragment), `${text}: ${result.errors[0]!.message}`)
  }
})

Dotenv.run()
