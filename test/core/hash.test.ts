// Deterministic hashing: every peer must get the same value for the same input, and the values must
// spread well enough to balance load and break ties fairly.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { canonicalJson, combine32, hash32, hash64Hex, mix32 } from '../../core/index.js'

const inputs = (count: number) => Array.from({ length: count }, (_, i) => `web/${i}`)

const Hash32 = suite('hash32')

Hash32('the same text always gives the same unsigned 32-bit value', () => {
  for (const text of ['', 'a', 'web/0', 'agent@edge-1', 'ünïcødé ✓']) {
    const value = hash32(text)
    assert.is(hash32(text), value)
    assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, `${text} → ${value}`)
  }
})

const pinned: Array<{ text: string; seed: number; expected: number }> = [
  { text: '', seed: 0, expected: 2872998923 },
  { text: 'a', seed: 0, expected: 444641715 },
  { text: 'web/0', seed: 0, expected: 2481929643 },
  { text: 'web/0', seed: 7, expected: 3215093115 },
  { text: 'agent@edge-1', seed: 0, expected: 77892422 },
]
for (const { text, seed, expected } of pinned) {
  // Pinned values: a change here changes every peer's tie-breaks and candidate sets, so it is a
  // protocol change and old and new peers would disagree.
  Hash32(`hash32(${JSON.stringify(text)}, ${seed}) keeps its pinned value ${expected}`, () => {
    assert.is(hash32(text, seed), expected)
  })
}

Hash32('a different seed gives a different value for the same text', () => {
  let same = 0
  for (const text of inputs(1000)) if (hash32(text, 1) === hash32(text, 2)) same++
  assert.ok(same <= 1, `${same} of 1000 texts hashed equal under seeds 1 and 2`)
})

Hash32('10,000 distinct texts fall evenly into 64 buckets (chi-square well below the 1% critical value)', () => {
  const buckets = new Array<number>(64).fill(0)
  const count = 10_000
  for (const text of inputs(count)) buckets[hash32(text) % 64]!++
  const expected = count / 64
  const chiSquare = buckets.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0)
  // 63 degrees of freedom: the 1% critical value is about 92.
  assert.ok(chiSquare < 92, `chi-square ${chiSquare.toFixed(1)}`)
})

Hash32('the top bit is set for about half of the inputs (the high bits spread too)', () => {
  let high = 0
  for (const text of inputs(10_000)) if (hash32(text) >= 0x80000000) high++
  assert.ok(high > 4700 && high < 5300, `${high} of 10000`)
})

Hash32('10,000 distinct short texts give almost no 32-bit collisions', () => {
  const seen = new Set(inputs(10_000).map((text) => hash32(text)))
  // The birthday bound for 10k values in 2^32 is about 0.01 expected collisions.
  assert.ok(seen.size >= 9_998, `${10_000 - seen.size} collisions`)
})

Hash32.run()

const Mix = suite('mix32 and combine32')

Mix('mix32 is deterministic and returns an unsigned 32-bit value', () => {
  for (const value of [0, 1, -1, 0x7fffffff, 0xffffffff, 123456789]) {
    const mixed = mix32(value)
    assert.is(mix32(value), mixed)
    assert.ok(mixed >= 0 && mixed <= 0xffffffff)
  }
})

Mix('mix32 of consecutive integers has no collisions and spreads over the buckets', () => {
  const seen = new Set<number>()
  const buckets = new Array<number>(16).fill(0)
  for (let i = 0; i < 10_000; i++) {
    const mixed = mix32(i)
    seen.add(mixed)
    buckets[mixed >>> 28]!++
  }
  assert.is(seen.size, 10_000) // the finaliser is a bijection on 32-bit values
  for (const count of buckets) assert.ok(count > 500 && count < 750, `bucket ${count}`)
})

Mix('combine32 is deterministic', () => {
  assert.is(combine32(hash32('web'), hash32('p1')), combine32(hash32('web'), hash32('p1')))
})

Mix('combine32 is order-sensitive: combine(a, b) differs from combine(b, a)', () => {
  let symmetric = 0
  for (let i = 0; i < 1000; i++) {
    const a = hash32(`a${i}`)
    const b = hash32(`b${i}`)
    if (combine32(a, b) === combine32(b, a)) symmetric++
  }
  assert.ok(symmetric <= 1, `${symmetric} of 1000 pairs combined symmetrically`)
})

Mix('combine32 over one key and many peers gives distinct, spread values', () => {
  const key = hash32('web')
  const values = inputs(10_000).map((text) => combine32(key, hash32(text)))
  assert.ok(new Set(values).size >= 9_998)
  let high = 0
  for (const value of values) if (value >= 0x80000000) high++
  assert.ok(high > 4700 && high < 5300, `${high} of 10000`)
})

Mix.run()

const Hash64 = suite('hash64Hex')

Hash64('the digest is 16 lower-case hex digits and deterministic', () => {
  for (const text of ['', 'a', '{"name":"web"}', 'x'.repeat(100_000)]) {
    const digest = hash64Hex(text)
    assert.match(digest, /^[0-9a-f]{16}$/)
    assert.is(hash64Hex(text), digest)
  }
})

const pinned64: Array<{ text: string; expected: string }> = [
  { text: '', expected: '488bdcb81aee8d83' },
  { text: 'a', expected: '501c2ba782c97901' },
  { text: 'web/0', expected: '9c00e4b90ca80520' },
]
for (const { text, expected } of pinned64) {
  Hash64(`hash64Hex(${JSON.stringify(text)}) keeps its pinned value ${expected}`, () => {
    assert.is(hash64Hex(text), expected)
  })
}

Hash64('10,000 distinct inputs give 10,000 distinct digests', () => {
  const specs = Array.from({ length: 10_000 }, (_, i) => `{"image":"nginx:1.${i}","replicas":${i % 7}}`)
  assert.is(new Set(specs.map(hash64Hex)).size, 10_000)
})

Hash64('inputs that differ in one character differ in both 32-bit halves', () => {
  let sameHalf = 0
  for (let i = 0; i < 1000; i++) {
    const a = hash64Hex(`web-${i}`)
    const b = hash64Hex(`web-${i}!`)
    if (a.slice(0, 8) === b.slice(0, 8) || a.slice(8) === b.slice(8)) sameHalf++
  }
  assert.ok(sameHalf <= 1, `${sameHalf} of 1000 pairs shared a half`)
})

Hash64('permutations of the same characters give different digests', () => {
  assert.is.not(hash64Hex('ab'), hash64Hex('ba'))
  assert.is.not(hash64Hex('web/12'), hash64Hex('web/21'))
})

Hash64.run()

const Canonical = suite('canonicalJson')

const canonicalCases: Array<{ name: string; input: unknown; expected: string }> = [
  { name: 'sorts object keys', input: { b: 1, a: 2 }, expected: '{"a":2,"b":1}' },
  { name: 'sorts nested object keys', input: { z: { y: 1, x: [{ d: 1, c: 2 }] } }, expected: '{"z":{"x":[{"c":2,"d":1}],"y":1}}' },
  { name: 'keeps array order', input: [3, 1, 2], expected: '[3,1,2]' },
  { name: 'drops undefined fields', input: { a: 1, b: undefined }, expected: '{"a":1}' },
  { name: 'keeps null fields', input: { a: null }, expected: '{"a":null}' },
  { name: 'writes strings with JSON escaping', input: { 'k"': 'line\nbreak' }, expected: '{"k\\"":"line\\nbreak"}' },
  { name: 'writes booleans and numbers plainly', input: [true, false, 0, -1.5, 1e21], expected: '[true,false,0,-1.5,1e+21]' },
  { name: 'writes an empty object and array', input: { a: {}, b: [] }, expected: '{"a":{},"b":[]}' },
  { name: 'writes no whitespace', input: { a: [1, { b: 2 }] }, expected: '{"a":[1,{"b":2}]}' },
]
for (const { name, input, expected } of canonicalCases) {
  Canonical(`canonicalJson ${name}`, () => {
    assert.is(canonicalJson(input), expected)
  })
}

Canonical('two objects with the same entries in different key order give the same text', () => {
  const a = { name: 'web', env: { B: '2', A: '1' }, resources: { memoryMiB: 64, cpuMilli: 100 } }
  const b = { resources: { cpuMilli: 100, memoryMiB: 64 }, env: { A: '1', B: '2' }, name: 'web' }
  assert.is(canonicalJson(a), canonicalJson(b))
})

Canonical('an object with an undefined field equals the same object without it', () => {
  assert.is(canonicalJson({ a: 1, b: undefined, c: { d: undefined } }), canonicalJson({ a: 1, c: {} }))
})

Canonical('the text parses back to an equal value', () => {
  const value = { b: [1, 'two', { c: null }], a: { y: true, x: 1.25 } }
  assert.equal(JSON.parse(canonicalJson(value)), value)
})

const nonFinite: Array<{ name: string; input: unknown }> = [
  { name: 'NaN', input: NaN },
  { name: 'Infinity', input: Infinity },
  { name: '-Infinity', input: -Infinity },
  { name: 'NaN inside an object', input: { a: { b: NaN } } },
  { name: 'Infinity inside an array', input: [1, Infinity] },
]
for (const { name, input } of nonFinite) {
  Canonical(`canonicalJson rejects ${name} (JSON would silently write null)`, () => {
    assert.throws(() => canonicalJson(input), /non-finite/)
  })
}

Canonical.run()
