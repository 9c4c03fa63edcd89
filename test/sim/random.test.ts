// The simulator's distributions over a seeded stream: each hits the shape it is asked for.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { seededRandom } from '../../core/index.js'
import { percentile } from '../../sim/metrics.js'
import { Z_P99, exponential, lognormal, lognormalSigma, normal, sample, shuffle, uniform } from '../../sim/random.js'

const distributions = suite('distributions')

distributions('lognormal with σ from (median, p99) hits that median and p99', () => {
  const random = seededRandom(4)
  const sigma = lognormalSigma(0.5, 3)
  const values = Array.from({ length: 50_000 }, () => lognormal(random, 0.5, sigma))
  assert.ok(Math.abs(percentile(values, 50) - 0.5) < 0.02, `median ${percentile(values, 50)}`)
  assert.ok(Math.abs(percentile(values, 99) - 3) < 0.25, `p99 ${percentile(values, 99)}`)
  assert.throws(() => lognormalSigma(2, 1), /median <= p99/)
})

distributions('normal and exponential have the asked mean', () => {
  const random = seededRandom(8)
  const n = 40_000
  let normalSum = 0
  let exponentialSum = 0
  for (let i = 0; i < n; i++) {
    normalSum += normal(random, 10, 2)
    exponentialSum += exponential(random, 250)
  }
  assert.ok(Math.abs(normalSum / n - 10) < 0.05)
  assert.ok(Math.abs(exponentialSum / n - 250) < 5)
  assert.ok(Math.abs(Z_P99 - 2.326) < 0.001)
})

distributions('uniform stays in its range', () => {
  const random = seededRandom(6)
  for (let i = 0; i < 1000; i++) {
    const x = uniform(random, 3, 5)
    assert.ok(x >= 3 && x < 5)
  }
})

distributions('shuffle permutes and sample picks distinct elements', () => {
  const random = seededRandom(12)
  const items = Array.from({ length: 50 }, (_, i) => i)
  assert.equal(shuffle(random, items.slice()).sort((a, b) => a - b), items)
  const picked = sample(random, items, 20)
  assert.is(picked.length, 20)
  assert.is(new Set(picked).size, 20)
  assert.is(sample(random, items, 80).length, 50)
  assert.equal(sample(random, items, 0), [])
})

distributions.run()
