// Label patterns: the documented subset is accepted and means what RegExp means, everything else is
// refused with a sentence, and no pattern makes a match take more than linear time.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { LABEL_PATTERN_LIMITS, compileLabelPattern, type LabelPattern } from '../../../core/service-spec/label-pattern.js'

function compiled(source: string): LabelPattern {
  const result = compileLabelPattern(source)
  if (!result.ok) throw new Error(`${JSON.stringify(source)} was refused: ${result.error}`)
  return result.pattern
}

/** Asserts that the pattern answers as RegExp does for every value, and returns its answers. */
function agreeing(source: string, values: readonly string[]): boolean[] {
  const pattern = compiled(source)
  const expected = new RegExp(source)
  return values.map((value) => {
    const answer = pattern.test(value)
    assert.is(answer, expected.test(value), `${JSON.stringify(source)} on ${JSON.stringify(value)}`)
    return answer
  })
}

// --- the subset ------------------------------------------------------------------------------------

const Accepted = suite('accepted syntax')

const accepted: Array<{ name: string; pattern: string; matching: string[]; other: string[] }> = [
  { name: 'literals search anywhere', pattern: 'dge', matching: ['edge', 'dge-1'], other: ['', 'edg', 'DGE'] },
  { name: 'non-ASCII literals', pattern: 'zürich', matching: ['eu-zürich-1'], other: ['zurich'] },
  { name: 'a dot is any character but a line break', pattern: '^a.c$', matching: ['abc', 'a.c', 'a\u00a0c'], other: ['ac', 'a\nc', 'a\rc', 'a\u2028c'] },
  { name: 'escaped punctuation stands for itself', pattern: '^a\\.b\\-c\\\\d\\/e\\(\\)\\[\\]\\{\\}\\|\\*\\+\\?\\^\\$\\ $', matching: ['a.b-c\\d/e()[]{}|*+?^$ '], other: ['axb-c\\d/e()[]{}|*+?^$ '] },
  { name: 'digit, word and space escapes', pattern: '^\\d\\w\\s$', matching: ['1a ', '9_\t', '0Z\u3000'], other: ['a1 ', '1-\t', '11x'] },
  { name: 'their complements', pattern: '^\\D\\W\\S$', matching: ['a-x', ' .1'], other: ['1-x', 'aax', 'a- '] },
  { name: 'a class with ranges and a trailing dash', pattern: '^[a-z0-9_-]+$', matching: ['edge-1', 'a_b', '-'], other: ['Edge', 'a.b', ''] },
  { name: 'a negated class', pattern: '^[^0-9]+$', matching: ['edge', '-'], other: ['edge1', ''] },
  { name: 'class escapes inside a class', pattern: '^[\\d\\s.]+$', matching: ['1.2 3'], other: ['1a'] },
  { name: 'a dash right after a range is literal', pattern: '^[a-c-e]+$', matching: ['a-e', 'bc'], other: ['d'] },
  { name: 'a leading dash and a literal "^" later in a class', pattern: '^[-a^]+$', matching: ['-^a'], other: ['b'] },
  { name: 'escaped "]" and "\\" inside a class', pattern: '^[\\]\\\\]$', matching: [']', '\\'], other: ['['] },
  { name: 'an unescaped "[" inside a class', pattern: '^[[]$', matching: ['['], other: [']'] },
  { name: 'the empty class matches nothing; its complement anything', pattern: '[]|^[^]$', matching: ['\n', 'x'], other: ['', 'xy'] },
  { name: 'anchors', pattern: '^edge-\\d+$', matching: ['edge-12'], other: ['xedge-1', 'edge-1x', 'edge-'] },
  { name: 'anchors at the ends of alternatives, in groups too', pattern: '(^|-)edge(-|$)', matching: ['edge', 'eu-edge-1', 'x-edge'], other: ['hedge', 'edges'] },
  { name: 'an anchor-only alternative', pattern: '^$|^x$', matching: ['', 'x'], other: ['xx'] },
  { name: 'alternation', pattern: '^(edge|core)-[0-9]$', matching: ['edge-1', 'core-7'], other: ['edge-10', 'gpu-1'] },
  { name: 'a non-capturing group and empty alternatives', pattern: '^a(?:b|)c$', matching: ['abc', 'ac'], other: ['abbc'] },
  { name: 'an empty group', pattern: '^()a$', matching: ['a'], other: [''] },
  { name: 'star, plus and question mark', pattern: '^a*b+c?$', matching: ['b', 'aabbc'], other: ['', 'ac', 'bcc'] },
  { name: 'exact and bounded counts', pattern: '^a{2}b{1,3}c{2,}$', matching: ['aabcc', 'aabbbccccc'], other: ['abcc', 'aabbbbcc', 'aabc'] },
  { name: 'a count of zero', pattern: '^xa{0}$', matching: ['x'], other: ['xa'] },
  { name: 'the largest count', pattern: '^a{100}$', matching: ['a'.repeat(100)], other: ['a'.repeat(99), 'a'.repeat(101)] },
  { name: 'a repeated group that can match empty', pattern: '^(a*)*b$', matching: ['b', 'aab'], other: ['aa'] },
  { name: 'a repeated anchor group', pattern: '(^)*a', matching: ['a', 'ba'], other: ['b'] },
  { name: 'an IPv4-shaped value', pattern: '^(?:\\d{1,3}\\.){3}\\d{1,3}$', matching: ['10.0.0.1'], other: ['10.0.0', '1000.0.0.1'] },
  { name: 'surrogate pairs are two code units, as without the u flag', pattern: '^😀+$', matching: ['😀', '😀\ude00'], other: ['😀😀'] },
]
for (const { name, pattern, matching, other } of accepted) {
  Accepted(`${name}: ${JSON.stringify(pattern)}`, () => {
    assert.equal(agreeing(pattern, matching), matching.map(() => true), 'matching values')
    assert.equal(agreeing(pattern, other), other.map(() => false), 'other values')
  })
}

Accepted('\\d \\w \\s \\D \\W \\S and . agree with RegExp on every UTF-16 code unit', () => {
  for (const escape of ['\\d', '\\w', '\\s', '\\D', '\\W', '\\S', '.', '[^\\s\\d]', '[\\W_]']) {
    const pattern = compiled(`^${escape}$`)
    const expected = new RegExp(`^${escape}$`)
    for (let unit = 0; unit <= 0xffff; unit++) {
      const value = String.fromCharCode(unit)
      if (pattern.test(value) !== expected.test(value)) assert.unreachable(`${escape} on U+${unit.toString(16)}`)
    }
  }
})

Accepted('the state count is what repetition writes out, and the limit is inclusive', () => {
  assert.is(compiled('a').stateCount, 2)
  assert.is(compiled('a{100}').stateCount, 101)
  assert.is(compiled('a|b|c').stateCount, 6)
  assert.is(compiled('(?:ab){2,4}').stateCount, 11)
  assert.is(compiled('a*').stateCount, 3)
  assert.is(compiled('(?:a{99}){10}').stateCount, 991)
  assert.is(compiled('(?:a{99}){10}a{9}').stateCount, LABEL_PATTERN_LIMITS.states)
  const over = compileLabelPattern('(?:a{99}){10}a{10}')
  assert.ok(!over.ok && /more than 1000 states/.test(over.error), JSON.stringify(over))
})

Accepted('a pattern of exactly 256 characters is accepted, one more is not', () => {
  assert.ok(compileLabelPattern('a'.repeat(LABEL_PATTERN_LIMITS.sourceLength)).ok)
  const long = compileLabelPattern('a'.repeat(LABEL_PATTERN_LIMITS.sourceLength + 1))
  assert.ok(!long.ok && /at most 256 characters/.test(long.error))
})

Accepted('the same pattern gives the same answer on repeated calls', () => {
  const pattern = compiled('edge')
  for (let i = 0; i < 4; i++) assert.is(pattern.test('edge-1'), true)
})

Accepted.run()

const Refused = suite('refused syntax')

const refused: Array<{ pattern: string; message: RegExp }> = [
  { pattern: '(a)\\1', message: /backreferences/ },
  { pattern: '\\0', message: /octal escapes/ },
  { pattern: '(?<n>a)\\k<n>', message: /named groups/ },
  { pattern: '\\k<n>', message: /named backreferences/ },
  { pattern: 'a(?=b)', message: /lookahead \(\?=…\)/ },
  { pattern: 'a(?!b)', message: /lookahead \(\?!…\)/ },
  { pattern: '(?<=a)b', message: /lookbehind \(\?<=…\)/ },
  { pattern: '(?<!a)b', message: /lookbehind \(\?<!…\)/ },
  { pattern: '(?i)edge', message: /inline flags/ },
  { pattern: 'a*?', message: /lazy quantifiers/ },
  { pattern: 'a{1,2}?', message: /lazy quantifiers/ },
  { pattern: 'a**', message: /nothing to repeat/ },
  { pattern: 'a{2}{3}', message: /nothing to repeat/ },
  { pattern: '*a', message: /nothing to repeat/ },
  { pattern: '(+a)', message: /nothing to repeat/ },
  { pattern: '^*', message: /nothing to repeat/ },
  { pattern: '\\bedge', message: /word boundaries/ },
  { pattern: '[\\b]', message: /escape \\b is not supported/ },
  { pattern: '\\p{L}', message: /Unicode property escapes/ },
  { pattern: '\\x41', message: /escape \\x is not supported/ },
  { pattern: '\\u0041', message: /escape \\u is not supported/ },
  { pattern: '\\cA', message: /escape \\c is not supported/ },
  { pattern: '\\n', message: /escape \\n is not supported/ },
  { pattern: '\\é', message: /escape \\é is not supported/ },
  { pattern: 'a\\', message: /ends with a lone/ },
  { pattern: 'a^b', message: /"\^" may only start/ },
  { pattern: '^^a', message: /"\^" may only start/ },
  { pattern: 'a$b', message: /"\$" may only end/ },
  { pattern: 'a$*', message: /"\$" may only end/ },
  { pattern: '(a', message: /not closed: missing "\)"/ },
  { pattern: 'a)', message: /unmatched "\)"/ },
  { pattern: '[a', message: /class is not closed/ },
  { pattern: '[a-', message: /class is not closed/ },
  { pattern: '[z-a]', message: /range z-a in a class is out of order/ },
  { pattern: '[\\d-z]', message: /one character at each end/ },
  { pattern: '[a-\\w]', message: /one character at each end/ },
  { pattern: ']', message: /write \\] for a literal/ },
  { pattern: '}', message: /write \\} for a literal/ },
  { pattern: 'a{', message: /starts a repetition/ },
  { pattern: 'a{,3}', message: /starts a repetition/ },
  { pattern: 'a{x}', message: /starts a repetition/ },
  { pattern: '{2}', message: /nothing to repeat/ },
  { pattern: 'a{101}', message: /at most 100/ },
  { pattern: 'a{1,101}', message: /at most 100/ },
  { pattern: 'a{101,}', message: /at most 100/ },
  { pattern: 'a{99999999999999999999}', message: /at most 100/ },
  { pattern: 'a{3,2}', message: /\{3,2\} is out of order/ },
  { pattern: '(?:(?:a{100}){100}){100}', message: /more than 1000 states/ },
]
for (const { pattern, message } of refused) {
  Refused(`${JSON.stringify(pattern)} is refused with a sentence`, () => {
    const result = compileLabelPattern(pattern)
    assert.ok(!result.ok, `${JSON.stringify(pattern)} was accepted`)
    assert.match(result.error, message)
  })
}

Refused('a refusal says where the problem is', () => {
  const result = compileLabelPattern('^edge(?=-)')
  assert.ok(!result.ok)
  assert.match(result.error, /\(at character 6\)$/)
})

Refused.run()

// --- the same answers as RegExp ----------------------------------------------------------------------

const Properties = suite('agreement with RegExp')

/** Throws (for fast-check to shrink) unless the pattern answers as RegExp does on every value. */
function answersAsRegExp(pattern: LabelPattern, tried: readonly string[]): void {
  const expected = new RegExp(pattern.source)
  for (const value of tried) {
    if (pattern.test(value) !== expected.test(value)) throw new Error(`${JSON.stringify(pattern.source)} on ${JSON.stringify(value)}`)
  }
}

/** Characters the random values are made of: enough to hit every literal, class and escape below. */
const VALUE_CHARACTERS = ['a', 'b', 'A', '0', '_', '-', '.', ' ', '\n', '\u00a0', 'é', '[', '\\']
const values = fc.array(fc.string({ unit: fc.constantFrom(...VALUE_CHARACTERS), maxLength: 8 }), { minLength: 1, maxLength: 12 })

const CLASS_ITEMS = ['a', 'b', '0', '.', '^', '[', '$', ' ', 'a-b', '0-9', 'A-z', '\\d', '\\w', '\\s', '\\S', '\\W', '\\]', '\\-', '\\\\', 'é']
const characterClass = fc.tuple(fc.boolean(), fc.array(fc.constantFrom(...CLASS_ITEMS), { maxLength: 3 }), fc.boolean())
  .map(([negated, items, dash]) => `[${negated ? '^' : ''}${items.join('')}${dash ? '-' : ''}]`)

/** Patterns from the documented grammar, small enough that RegExp's backtracking stays quick. */
const { pattern: grammarPattern } = fc.letrec<{ pattern: string; sequence: string; term: string; atom: string }>((tie) => ({
  pattern: fc.array(tie('sequence'), { minLength: 1, maxLength: 3 }).map((options) => options.join('|')),
  sequence: fc.tuple(fc.boolean(), fc.array(tie('term'), { maxLength: 4 }), fc.boolean())
    .map(([start, terms, end]) => `${start ? '^' : ''}${terms.join('')}${end ? '$' : ''}`),
  term: fc.tuple(tie('atom'), fc.constantFrom('', '', '', '*', '+', '?', '{0}', '{1}', '{2}', '{0,1}', '{1,3}', '{2,}', '{0,}'))
    .map(([atom, quantifier]) => atom + quantifier),
  atom: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'group' },
    fc.constantFrom('a', 'b', 'A', '0', '-', ' ', 'é'),
    fc.constantFrom('.', '\\.', '\\-', '\\\\', '\\[', '\\(', '\\|', '\\$', '\\^', '\\d', '\\w', '\\s', '\\D', '\\W', '\\S'),
    characterClass,
    fc.tuple(fc.constantFrom('(', '(?:'), tie('pattern')).map(([open, inner]) => `${open}${inner})`),
  ),
}))

const GRAMMAR_RUNS = 3000

Properties(`patterns from the documented grammar are accepted and answer as RegExp does (${GRAMMAR_RUNS} patterns)`, () => {
  fc.assert(fc.property(grammarPattern, values, (source, tried) => {
    const result = compileLabelPattern(source)
    // The grammar nests repetitions freely; the few patterns past the size bounds are refused by design.
    fc.pre(source.length <= LABEL_PATTERN_LIMITS.sourceLength && (result.ok || !/more than \d+ states/.test(result.error)))
    if (!result.ok) throw new Error(`${JSON.stringify(source)} was refused: ${result.error}`)
    answersAsRegExp(result.pattern, tried)
  }), { numRuns: GRAMMAR_RUNS })
})

/** Syntax characters in any order: most strings are refused, and what is accepted must mean the same. */
const SYNTAX_CHARACTERS = ['a', 'b', '-', '0', '1', ',', ':', '=', '!', '<', 'd', 'w', 'x', '(', ')', '[', ']', '{', '}', '?', '*', '+', '|', '^', '$', '.', '\\']
const FUZZ_RUNS = 5000

Properties(`any string the parser accepts is a valid RegExp with the same answers (${FUZZ_RUNS} strings)`, () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...SYNTAX_CHARACTERS), minLength: 1, maxLength: 10 }), values, (source, tried) => {
    const result = compileLabelPattern(source)
    if (result.ok) answersAsRegExp(result.pattern, tried)
  }), { numRuns: FUZZ_RUNS })
})

Properties.run()

// --- no backtracking ------------------------------------------------------------------------------------

const Linear = suite('linear time')

// Each of these takes RegExp exponential time in the label's length; a regression here hangs the
// suite rather than failing an assertion, which is visible enough.
const LONG = 'a'.repeat(10_000)
const hostile: Array<{ pattern: string; label: string; expected: boolean }> = [
  { pattern: '(a+)+$', label: `${LONG}!`, expected: false },
  { pattern: '(a+)+$', label: LONG, expected: true },
  { pattern: '(a|a)*b', label: LONG, expected: false },
  { pattern: '(a*)*c', label: LONG, expected: false },
  { pattern: '^(a|aa)+$', label: `${LONG}b`, expected: false },
  { pattern: '(?:a{0,50}){9}b', label: LONG, expected: false },
]
for (const { pattern, label, expected } of hostile) {
  Linear(`${JSON.stringify(pattern)} against a ${label.length}-character label answers ${expected} without backtracking`, () => {
    assert.is(compiled(pattern).test(label), expected)
  })
}

Linear.run()
