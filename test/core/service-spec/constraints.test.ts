// Label constraints: the Swarm-style written forms, their inverse, and evaluation against a peer's
// labels, including peers that lack the label.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  checked, compileConstraint, formatConstraint, parseConstraint, type Constraint, type ConstraintOp,
} from '../../../core/index.js'

const constraint = (label: string, op: ConstraintOp, values: string[]): Constraint => ({ label, op, values })

const Parse = suite('parseConstraint')

const parsed: Array<{ name: string; input: string; expected: Constraint }> = [
  { name: 'equality', input: 'zone == eu-1', expected: constraint('zone', '==', ['eu-1']) },
  { name: 'equality without spaces', input: 'zone==eu-1', expected: constraint('zone', '==', ['eu-1']) },
  { name: 'inequality', input: 'arch != arm64', expected: constraint('arch', '!=', ['arm64']) },
  { name: 'inequality without spaces', input: 'arch!=arm64', expected: constraint('arch', '!=', ['arm64']) },
  { name: 'a set', input: 'zone in (a, b)', expected: constraint('zone', 'in', ['a', 'b']) },
  { name: 'a set without spaces', input: 'zone in(a,b,c)', expected: constraint('zone', 'in', ['a', 'b', 'c']) },
  { name: 'an excluded set', input: 'zone notin (c)', expected: constraint('zone', 'notin', ['c']) },
  { name: 'existence', input: 'gpu exists', expected: constraint('gpu', 'exists', []) },
  { name: 'a regular expression', input: 'host matches ^edge-', expected: constraint('host', 'matches', ['^edge-']) },
  { name: 'a regular expression with spaces and parentheses', input: 'host matches ^(a|b) x$', expected: constraint('host', 'matches', ['^(a|b) x$']) },
  { name: 'a dotted, slashed label key', input: 'node.example.com/zone == eu', expected: constraint('node.example.com/zone', '==', ['eu']) },
  { name: 'surrounding whitespace', input: '  zone == eu  ', expected: constraint('zone', '==', ['eu']) },
]
for (const { name, input, expected } of parsed) {
  Parse(`${name} (${JSON.stringify(input)}) parses to ${expected.op}`, () => {
    assert.equal(parseConstraint(input), expected)
  })
}

const unparsable: Array<{ name: string; input: string; message: RegExp }> = [
  { name: 'an empty string', input: '', message: /cannot parse/ },
  { name: 'a bare label', input: 'zone', message: /cannot parse/ },
  { name: 'a single "="', input: 'zone = eu', message: /cannot parse/ },
  { name: 'an unknown operator', input: 'zone ~= eu', message: /cannot parse/ },
  { name: 'an equality with no value', input: 'zone ==', message: /cannot parse/ },
  { name: 'a set without parentheses', input: 'zone in a, b', message: /cannot parse/ },
  { name: '"exists" with a value', input: 'gpu exists 1', message: /cannot parse/ },
  { name: '"matches" with no pattern', input: 'host matches', message: /cannot parse/ },
  { name: 'an empty set', input: 'zone in ()', message: /"in" needs at least one value/ },
  { name: 'a set of blanks', input: 'zone notin ( , )', message: /"notin" needs at least one value/ },
  { name: 'an invalid regular expression', input: 'host matches [edge', message: /invalid regular expression/ },
  { name: 'an unbalanced group', input: 'host matches (edge', message: /invalid regular expression/ },
  { name: 'a lookahead, outside the supported patterns', input: 'host matches ^(?!edge)', message: /invalid regular expression "\^\(\?!edge\)": lookahead/ },
  { name: 'a backreference', input: 'host matches (a)\\1', message: /invalid regular expression .*backreferences/ },
  { name: 'a label key starting with "-"', input: '-zone == eu', message: /not a valid label name/ },
  { name: 'a label key with a colon', input: 'zo:ne == eu', message: /not a valid label name/ },
]
for (const { name, input, message } of unparsable) {
  Parse(`${name} (${JSON.stringify(input)}) is rejected with a sentence`, () => {
    const result = parseConstraint(input)
    assert.type(result, 'string', `parsed to ${JSON.stringify(result)}`)
    assert.match(result as string, message)
  })
}

Parse.run()

const Checked = suite('checked (structured constraints)')

const structured: Array<{ name: string; label: string; op: ConstraintOp; values: string[]; error?: RegExp }> = [
  { name: 'equality with one value is accepted', label: 'zone', op: '==', values: ['eu'] },
  { name: 'a set of several values is accepted', label: 'zone', op: 'in', values: ['a', 'b'] },
  { name: 'existence with no value is accepted', label: 'gpu', op: 'exists', values: [] },
  { name: 'existence with a value is rejected', label: 'gpu', op: 'exists', values: ['1'], error: /takes no value/ },
  { name: 'equality with two values is rejected', label: 'zone', op: '==', values: ['a', 'b'], error: /exactly one value/ },
  { name: 'inequality with an empty value is rejected', label: 'zone', op: '!=', values: [''], error: /exactly one value/ },
  { name: 'equality with no value is rejected', label: 'zone', op: '==', values: [], error: /exactly one value/ },
  { name: 'an empty excluded set is rejected', label: 'zone', op: 'notin', values: [], error: /at least one value/ },
  { name: 'matches with two patterns is rejected', label: 'host', op: 'matches', values: ['a', 'b'], error: /one regular expression/ },
  { name: 'matches with a broken pattern is rejected', label: 'host', op: 'matches', values: ['*'], error: /invalid regular expression/ },
  { name: 'matches with a pattern over 256 characters is rejected', label: 'host', op: 'matches', values: ['a'.repeat(257)], error: /at most 256 characters/ },
  { name: 'matches with a pattern of 256 characters is accepted', label: 'host', op: 'matches', values: ['a'.repeat(256)] },
  { name: 'an empty label key is rejected', label: '', op: 'exists', values: [], error: /not a valid label name/ },
]
for (const { name, label, op, values, error } of structured) {
  Checked(name, () => {
    const result = checked(label, op, values)
    if (error) {
      assert.type(result, 'string')
      assert.match(result as string, error)
    } else {
      assert.equal(result, { label, op, values })
    }
  })
}

Checked('the returned constraint owns a copy of the values', () => {
  const values = ['a']
  const result = checked('zone', 'in', values) as Constraint
  values.push('b')
  assert.equal(result.values, ['a'])
})

Checked.run()

const Format = suite('formatConstraint')

const formatted: Array<{ input: Constraint; expected: string }> = [
  { input: constraint('zone', '==', ['eu']), expected: 'zone == eu' },
  { input: constraint('arch', '!=', ['arm64']), expected: 'arch != arm64' },
  { input: constraint('zone', 'in', ['a', 'b']), expected: 'zone in (a, b)' },
  { input: constraint('zone', 'notin', ['c']), expected: 'zone notin (c)' },
  { input: constraint('gpu', 'exists', []), expected: 'gpu exists' },
  { input: constraint('host', 'matches', ['^edge-[0-9]+$']), expected: 'host matches ^edge-[0-9]+$' },
]
for (const { input, expected } of formatted) {
  Format(`a "${input.op}" constraint is written as ${JSON.stringify(expected)} and parses back to itself`, () => {
    assert.is(formatConstraint(input), expected)
    assert.equal(parseConstraint(expected), input)
  })
}

Format('every parsed form survives a format → parse round trip', () => {
  for (const text of ['zone==eu', 'zone in(a,b)', '  gpu   exists ', 'host matches ^(a|b)$', 'a.b/c notin (x, y, z)']) {
    const first = parseConstraint(text) as Constraint
    assert.type(first, 'object', text)
    assert.equal(parseConstraint(formatConstraint(first)), first, text)
  }
})

Format.run()

const Evaluate = suite('compileConstraint')

// Labels of three peers: one with zone eu, one with zone ap, one with no labels at all.
const EU = { zone: 'eu', host: 'edge-7', gpu: '' }
const AP = { zone: 'ap', host: 'core-1' }
const NONE = {}

const truth: Array<{ text: string; eu: boolean; ap: boolean; missing: boolean }> = [
  { text: 'zone == eu', eu: true, ap: false, missing: false },
  { text: 'zone != eu', eu: false, ap: true, missing: true },
  { text: 'zone in (eu, us)', eu: true, ap: false, missing: false },
  { text: 'zone notin (eu, us)', eu: false, ap: true, missing: true },
  { text: 'zone exists', eu: true, ap: true, missing: false },
  { text: 'gpu exists', eu: true, ap: false, missing: false },
  { text: 'host matches ^edge-', eu: true, ap: false, missing: false },
  { text: 'host matches dge', eu: true, ap: false, missing: false },
  { text: 'host matches ^(edge|core)-[0-9]$', eu: true, ap: true, missing: false },
]
for (const { text, eu, ap, missing } of truth) {
  Evaluate(`"${text}" holds on zone=eu: ${eu}, on zone=ap: ${ap}, on a peer without the label: ${missing}`, () => {
    const compiled = compileConstraint(parseConstraint(text) as Constraint)
    assert.is(compiled.test(EU), eu, 'zone=eu')
    assert.is(compiled.test(AP), ap, 'zone=ap')
    assert.is(compiled.test(NONE), missing, 'no labels')
  })
}

Evaluate('a label with an empty value exists and equals the empty string only by "exists"', () => {
  assert.is(compileConstraint(constraint('gpu', 'exists', [])).test({ gpu: '' }), true)
  assert.is(compileConstraint(constraint('gpu', 'in', ['x'])).test({ gpu: '' }), false)
})

Evaluate('names inherited from Object.prototype are not labels a peer has', () => {
  for (const label of ['constructor', 'toString', '__proto__']) {
    assert.is(compileConstraint(constraint(label, 'exists', [])).test({}), false, `${label} exists`)
    assert.is(compileConstraint(constraint(label, 'in', ['x'])).test({}), false, `${label} in`)
    assert.is(compileConstraint(constraint(label, 'notin', ['x'])).test({}), true, `${label} notin`)
    assert.is(compileConstraint(constraint(label, '!=', ['x'])).test({}), true, `${label} !=`)
    assert.is(compileConstraint(constraint(label, 'matches', ['.'])).test({}), false, `${label} matches`)
  }
})

Evaluate('the compiled form keeps the constraint it was built from', () => {
  const source = constraint('zone', '==', ['eu'])
  assert.equal(compileConstraint(source).constraint, source)
})

Evaluate('a compiled regular expression gives the same answer on repeated calls', () => {
  // A global-flag regex would alternate true/false through lastIndex; the compiled test must not.
  const compiled = compileConstraint(constraint('host', 'matches', ['edge']))
  for (let i = 0; i < 4; i++) assert.is(compiled.test({ host: 'edge-1' }), true)
})

Evaluate('a pattern that backtracking would take forever over is answered at once', () => {
  // (a+)+$ against "aaa…a!" takes RegExp exponential time; label patterns never backtrack.
  const compiled = compileConstraint(constraint('host', 'matches', ['(a+)+$']))
  assert.is(compiled.test({ host: `${'a'.repeat(10_000)}!` }), false)
  assert.is(compiled.test({ host: 'a'.repeat(10_000) }), true)
})

Evaluate('answers stay right for more distinct label values than are remembered, and on asking again', () => {
  const compiled = compileConstraint(constraint('host', 'matches', ['^edge-\\d*[05]$']))
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < 3000; i++) assert.is(compiled.test({ host: `edge-${i}` }), i % 5 === 0, `edge-${i}, pass ${pass}`)
  }
})

Evaluate('a hand-built constraint whose pattern does not compile matches no peer', () => {
  const compiled = compileConstraint(constraint('host', 'matches', ['(?=edge)']))
  assert.is(compiled.test({ host: 'edge' }), false)
  assert.is(compiled.test({}), false)
})

Evaluate.run()
