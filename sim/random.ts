// The distributions the simulator's network and workload models draw from. The streams themselves are
// the core's: SeededRandom (core/seeded-random.ts; one seed derives every random choice of a run),
// which implements the core's Random (core/random.ts), all these functions need.

import type { Random } from '../core/index.js'

// --- distributions: plain functions over a Random, so any stream can be used ---

/** z-score of the 99th percentile of the standard normal distribution. */
export const Z_P99 = 2.3263478740408408

/** Exponentially distributed with the given mean (e.g. time between independent failures). */
export function exponential(random: Random, mean: number): number {
  // 1 - next() is in (0, 1], so the logarithm is finite.
  return -Math.log(1 - random.next()) * mean
}

/** Normally distributed (Box–Muller; one draw pair per call so a call always consumes the same amount). */
export function normal(random: Random, mean = 0, standardDeviation = 1): number {
  const u1 = 1 - random.next()
  const u2 = random.next()
  return mean + standardDeviation * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

/** Log-normally distributed with the given median and shape σ (the standard deviation of ln x). */
export function lognormal(random: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(random))
}

/** The σ of a log-normal distribution whose 99th percentile is `p99` for the given median. */
export function lognormalSigma(median: number, p99: number): number {
  if (!(median > 0) || !(p99 >= median)) throw new RangeError(`need 0 < median <= p99, got median ${median}, p99 ${p99}`)
  return Math.log(p99 / median) / Z_P99
}

/** Uniform in [low, high). */
export function uniform(random: Random, low: number, high: number): number {
  return low + (high - low) * random.next()
}

/** Shuffles in place (Fisher–Yates) and returns the same array. */
export function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1)
    const held = items[i]!
    items[i] = items[j]!
    items[j] = held
  }
  return items
}

/** `count` distinct elements in random order (all of them when count >= length). */
export function sample<T>(random: Random, items: readonly T[], count: number): T[] {
  const pool = items.slice()
  const take = Math.max(0, Math.min(count, pool.length))
  // Partial Fisher–Yates: only the first `take` positions are settled.
  for (let i = 0; i < take; i++) {
    const j = i + random.int(pool.length - i)
    const held = pool[i]!
    pool[i] = pool[j]!
    pool[j] = held
  }
  pool.length = take
  return pool
}
