// Metrics: histogram percentiles within the documented error of an exact sort, counters and series
// that say what happened over simulated time.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { Counters, Histogram, RateSeries, TimeSeries, percentile, roundTo, summarize } from '../../sim/metrics.js'
import { seededRandom } from '../../core/index.js'
import { lognormal } from '../../sim/random.js'

// The exact percentile of a sort is the definition Histogram promises to approximate.
const exact = suite('percentile')

exact('nearest rank: the smallest value with at least p % of the values at or below it', () => {
  const values = [15, 20, 35, 40, 50]
  assert.equal([0, 5, 20, 21, 30, 40, 50, 99, 100].map((p) => percentile(values, p)), [15, 15, 15, 20, 20, 20, 35, 50, 50])
  assert.is(percentile([3, 1, 2], 50), 2, 'unsorted input')
  assert.is(percentile(Array.from({ length: 99 }, (_, i) => i + 1), 99), 99, 'with fewer than 100 values p99 is the maximum')
})

exact('no values give -1 (not measured), and bad p is refused', () => {
  assert.is(percentile([], 50), -1)
  assert.throws(() => percentile([1], 101), /p in \[0, 100\]/)
  assert.throws(() => percentile([1], NaN), /p in \[0, 100\]/)
})

exact('leaves its input as it was', () => {
  const values = [3, 1, 2]
  percentile(values, 50)
  assert.equal(values, [3, 1, 2])
})

exact.run()

const close = (got: number, want: number) => Math.abs(got - want) <= Histogram.RELATIVE_ERROR * 1.0001 * Math.abs(want) + 1e-12

const histogram = suite('Histogram')

histogram('percentiles are within 0.5 % of an exact sort', () => {
  const random = seededRandom(1)
  const values = Array.from({ length: 50_000 }, () => lognormal(random, 40, 1.2))
  const h = new Histogram()
  for (const v of values) h.record(v)
  for (const p of [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 100]) {
    const want = percentile(values, p)
    assert.ok(close(h.percentile(p), want), `p${p}: ${h.percentile(p)} vs ${want}`)
  }
})

histogram('any set of values: every percentile is within the error bound', () => {
  const value = fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e9, noNaN: true }), fc.integer({ min: 0, max: 5000 }))
  fc.assert(fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 100, noNaN: true }), (values, p) => {
    const h = new Histogram()
    for (const v of values) h.record(v)
    return close(h.percentile(p), percentile(values, p))
  }), { numRuns: 300 })
})

histogram('count, mean, min and max are exact', () => {
  const h = new Histogram()
  for (const v of [3, 1, 4, 1, 5, 9, 2, 6]) h.record(v)
  assert.is(h.count, 8)
  assert.is(h.mean, 31 / 8)
  assert.is(h.min, 1)
  assert.is(h.max, 9)
  assert.is(h.percentile(100), 9)
  assert.is(h.percentile(0), 1)
})

histogram('an empty histogram reports zeros, and bad input is refused', () => {
  const h = new Histogram()
  assert.equal([h.count, h.mean, h.max, h.min, h.percentile(99)], [0, 0, 0, 0, 0])
  assert.equal(h.cdf(), [])
  assert.throws(() => h.record(-1), /non-negative/)
  assert.throws(() => h.record(NaN), /non-negative/)
  assert.throws(() => h.percentile(101), /p in \[0, 100\]/)
})

histogram('zeros are counted exactly', () => {
  const h = new Histogram()
  for (let i = 0; i < 60; i++) h.record(0)
  for (let i = 0; i < 40; i++) h.record(10)
  assert.is(h.percentile(60), 0)
  assert.ok(close(h.percentile(61), 10))
})

histogram('the CDF rises to 1 and never falls', () => {
  const random = seededRandom(2)
  const h = new Histogram()
  for (let i = 0; i < 10_000; i++) h.record(lognormal(random, 5, 1))
  const cdf = h.cdf(100)
  assert.ok(cdf.length > 50 && cdf.length <= 100)
  assert.is(cdf[cdf.length - 1]![1], 1)
  for (let i = 1; i < cdf.length; i++) assert.ok(cdf[i]![0] > cdf[i - 1]![0] && cdf[i]![1] > cdf[i - 1]![1])
})

histogram('merging equals recording everything in one', () => {
  const a = new Histogram()
  const b = new Histogram()
  const both = new Histogram()
  for (let i = 1; i <= 500; i++) {
    ;(i % 3 === 0 ? a : b).record(i)
    both.record(i)
  }
  a.merge(b)
  assert.equal(summarize(a), summarize(both))
})

histogram('summarize rounds to fixed decimals', () => {
  const h = new Histogram()
  h.record(1 / 3)
  assert.equal(summarize(h), { count: 1, mean: 0.333, p50: 0.333, p90: 0.333, p99: 0.333, p999: 0.333, max: 0.333 })
})

const counters = suite('Counters')

counters('counts per peer and in total', () => {
  const c = new Counters(['a', 'b'])
  c.add('messages', 'a')
  c.add('messages', 'a')
  c.add('bytes', 'b', 300)
  for (let i = 0; i < 40; i++) c.add('messages', `late-${i}`)
  assert.is(c.get('messages', 'a'), 2)
  assert.is(c.get('messages', 'b'), 0)
  assert.is(c.get('messages', 'nobody'), 0)
  assert.is(c.total('messages'), 42)
  assert.is(c.total('bytes'), 300)
  assert.equal(c.names(), ['bytes', 'messages'])
  assert.equal(c.perPeer('bytes').slice(0, 2), [{ peer: 'a', value: 0 }, { peer: 'b', value: 300 }])
})

counters('rates per peer per second name the busiest peer', () => {
  const c = new Counters(['a', 'b', 'c', 'd'])
  c.add('sent', 'a', 10)
  c.add('sent', 'b', 20)
  c.add('sent', 'c', 90)
  assert.equal(c.ratePerPeer('sent', 10_000), { meanPerSecond: 3, p99PerSecond: 9, maxPerSecond: 9, busiestPeer: 'c' })
  assert.equal(c.ratePerPeer('unknown', 10_000), { meanPerSecond: 0, p99PerSecond: 0, maxPerSecond: 0, busiestPeer: '' })
})

const series = suite('TimeSeries and RateSeries')

series('a time series samples every interval with the value the state had then', () => {
  const s = new TimeSeries('running', 'fraction', 100)
  let state = 0
  const events: Array<[number, number]> = [[0, 0.1], [50, 0.2], [250, 0.5], [420, 1]]
  for (const [time, next] of events) {
    s.observe(time, () => state)
    state = next
  }
  s.finish(450, state)
  assert.equal(s.points, [[0, 0], [100, 0.2], [200, 0.2], [300, 0.5], [400, 0.5], [450, 1]])
  assert.throws(() => new TimeSeries('x', 'y', 0), /positive/)
})

series('a rate series gives rates per second, per peer, with a partial last interval counted fairly', () => {
  const s = new RateSeries('sent', 'msg/s', 500)
  for (let t = 0; t < 1250; t += 10) s.add(t, 2)
  // 50 adds of 2 per 500 ms = 200 per second; the last interval holds only 250 ms of them.
  assert.equal(s.points(), [[0, 200], [500, 200], [1000, 100]])
  assert.equal(s.points(4, 1250), [[0, 50], [500, 50], [1000, 50]])
})

series('roundTo gives stable text', () => {
  assert.is(roundTo(-0.0001, 3), 0)
  assert.is(Object.is(roundTo(-0.0001, 3), -0), false)
  assert.is(roundTo(2 / 3, 2), 0.67)
  assert.is(roundTo(Infinity), Infinity)
})

histogram.run()
counters.run()
series.run()
