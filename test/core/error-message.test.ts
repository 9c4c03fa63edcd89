// How an error message shows a value a person wrote: on one line, escaped, and never in full when long.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { quoted } from '../../core/error-message.js'

const Quoted = suite('quoted')

Quoted('a short value is JSON-quoted as it is', () => {
  assert.is(quoted('zone == eu'), '"zone == eu"')
  assert.is(quoted(''), '""')
})

Quoted('a long value shows its first 40 characters and its length', () => {
  assert.is(quoted('x'.repeat(100_000)), `"${'x'.repeat(40)}"… (100000 characters)`)
  assert.is(quoted('x'.repeat(40)), `"${'x'.repeat(40)}"`)
})

Quoted('line breaks and characters that drive a terminal are escaped', () => {
  assert.is(quoted('a\nb\u001b[31m'), '"a\\nb\\u001b[31m"')
  assert.is(quoted('\u007f\u009b\u2028\u2029'), '"\\u007f\\u009b\\u2028\\u2029"')
})

Quoted.run()
