// The seeded PRNG: a seed must reproduce a run exactly, and forks must keep consumers independent.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { seededRandom, type SeededRandom } from '../../core/index.js'

const draws = (random: SeededRandom, count: number) => Array.from({ length: count }, () => random.uint32())

const streams = suite('seededRandom')

streams('the same seed gives the same sequence', () => {
  assert.equal(draws(seededRandom(42), 100), draws(seededRandom(42), 100))
  assert.equal(draws(seededRandom('swarm-7'), 100), draws(seededRandom('swarm-7'), 100))
})

streams('different seeds give different sequences', () => {
  const seen = new Set<string>()
  for (const seed of [0, 1, 2, -1, 2 ** 32, 2 ** 40 + 1, 'a', 'b', '']) seen.add(draws(seededRandom(seed), 4).join(','))
  assert.is(seen.size, 9)
})

streams('a seed printed today still reproduces the same numbers (pinned first values)', () => {
  // If this test fails, the generator changed and every recorded `--seed=` would replay differently.
  assert.equal(draws(seededRandom(42), 4), PINNED_SEED_42)
})

streams('next() stays in [0, 1) and int(n) in [0, n)', () => {
  fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 2 ** 40 }), (seed, max) => {
    const random = seededRandom(seed)
    for (let i = 0; i < 20; i++) {
      const x = random.next()
      const n = random.int(max)
      if (!(x >= 0 && x < 1) || !(Number.isInteger(n) && n >= 0 && n < max)) return false
    }
    return true
  }), { numRuns: 200 })
})

streams('int(n) is close to uniform', () => {
  const random = seededRandom(3)
  const counts = new Array<number>(10).fill(0)
  for (let i = 0; i < 100_000; i++) counts[random.int(10)]!++
  for (const count of counts) assert.ok(Math.abs(count - 10_000) < 500, `bucket count ${count}`)
})

streams('int rejects a bound that is not a positive safe integer', () => {
  const random = seededRandom(1)
  for (const bad of [0, -3, 1.5, NaN, 2 ** 60]) assert.throws(() => random.int(bad), /positive safe integer/)
})

streams('chance(0) is never and chance(1) is always, without drawing', () => {
  const a = seededRandom(9)
  const b = seededRandom(9)
  for (let i = 0; i < 100; i++) {
    assert.is(a.chance(0), false)
    assert.is(a.chance(1), true)
  }
  assert.is(a.uint32(), b.uint32())
})

streams('pick chooses from the list and refuses an empty one', () => {
  const random = seededRandom(5)
  const items = ['a', 'b', 'c']
  const seen = new Set(Array.from({ length: 100 }, () => random.pick(items)))
  assert.equal([...seen].sort(), items)
  assert.throws(() => random.pick([]), /empty/)
})

const forks = suite('fork')

forks('forking does not change the values the parent draws next', () => {
  const plain = seededRandom(77)
  const forked = seededRandom(77)
  forked.uint32()
  plain.uint32()
  const child = forked.fork('network')
  draws(child, 50)
  forked.fork('faults')
  assert.equal(draws(forked, 50), draws(plain, 50))
})

forks('a fork depends on the parent seed and the label, not on when it is taken', () => {
  const early = seededRandom(77).fork('network')
  const parent = seededRandom(77)
  draws(parent, 1000)
  assert.equal(draws(parent.fork('network'), 20), draws(early, 20))
})

forks('different labels and different parents give different streams', () => {
  const root = seededRandom(1)
  const seen = new Set([
    draws(root.fork('a'), 4).join(),
    draws(root.fork('b'), 4).join(),
    draws(root.fork('a').fork('a'), 4).join(),
    draws(seededRandom(2).fork('a'), 4).join(),
    draws(root, 4).join(),
  ])
  assert.is(seen.size, 5)
})

forks('a fork names its path for debugging', () => {
  assert.is(seededRandom(7).fork('net').fork('latency').path, '7/net/latency')
})

forks('forked streams are uncorrelated with their parent', () => {
  const parent = seededRandom(11)
  const child = seededRandom(11).fork('x')
  let sum = 0
  const n = 20_000
  for (let i = 0; i < n; i++) sum += (parent.next() - 0.5) * (child.next() - 0.5)
  // Covariance of independent uniforms is 0 with standard error 1/(12·√n) ≈ 0.0006.
  assert.ok(Math.abs(sum / n) < 0.003, `covariance ${sum / n}`)
})

const PINNED_SEED_42 = [2554198225, 2216698612, 2524472943, 408028164]

streams.run()
forks.run()
