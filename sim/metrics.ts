// What a run measured: latency histograms, per-peer counters, and series over simulated time.
// Everything here is deterministic given the same inputs, and numbers leave it rounded the same way,
// so two runs of one seed print byte-identical JSON.

/**
 * A log-bucketed histogram (DDSketch-style) with bounded memory and bounded relative error: any
 * percentile it reports is within 0.5 % of a value actually at that rank, for values from 1e-6 to
 * 1e12 (smaller positive values count as 1e-6; zero is exact). count, mean, min and max are exact.
 * Millions of placements cost the same 33 KiB as ten.
 *
 * Percentiles use the nearest-rank definition: percentile(p) is the smallest recorded value with at
 * least p % of all values at or below it (p = 0 gives the minimum).
 */
export class Histogram {
  /** Relative accuracy α: bucket i covers (γ^(i-1), γ^i] with γ = (1 + α) / (1 - α). */
  static readonly RELATIVE_ERROR = 0.005
  private static readonly GAMMA = (1 + Histogram.RELATIVE_ERROR) / (1 - Histogram.RELATIVE_ERROR)
  private static readonly LOG_GAMMA = Math.log(Histogram.GAMMA)
  private static readonly MIN_VALUE = 1e-6
  private static readonly MAX_VALUE = 1e12
  private static readonly MIN_INDEX = Math.ceil(Math.log(Histogram.MIN_VALUE) / Histogram.LOG_GAMMA)
  private static readonly BUCKETS = Math.ceil(Math.log(Histogram.MAX_VALUE) / Histogram.LOG_GAMMA) - Histogram.MIN_INDEX + 1

  private readonly buckets = new Float64Array(Histogram.BUCKETS)
  private zeros = 0
  private total = 0
  private sum = 0
  private smallest = Infinity
  private largest = -Infinity

  /** Records a non-negative finite value (a latency, a size). */
  record(value: number): void {
    if (!(value >= 0) || value === Infinity) throw new RangeError(`Histogram.record needs a non-negative finite value, got ${value}`)
    this.total++
    this.sum += value
    if (value < this.smallest) this.smallest = value
    if (value > this.largest) this.largest = value
    if (value === 0) {
      this.zeros++
      return
    }
    this.buckets[Histogram.bucketOf(value)]!++
  }

  get count(): number {
    return this.total
  }

  /** Mean of the recorded values; 0 when empty. */
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total
  }

  /** Largest recorded value; 0 when empty. */
  get max(): number {
    return this.total === 0 ? 0 : this.largest
  }

  /** Smallest recorded value; 0 when empty. */
  get min(): number {
    return this.total === 0 ? 0 : this.smallest
  }

  /** The value at percentile p in [0, 100] (nearest rank); 0 when empty. */
  percentile(p: number): number {
    const rank = nearestRank(p, this.total)
    return this.total === 0 ? 0 : this.valueAtRank(rank)
  }

  /**
   * The cumulative distribution at up to `points` values, as [value, fraction at or below] pairs:
   * what the report draws, without keeping the samples.
   */
  cdf(points = 200): [number, number][] {
    if (this.total === 0) return []
    const out: [number, number][] = []
    const step = this.total / Math.max(1, points)
    for (let i = 1; i <= points; i++) {
      const rank = Math.min(this.total, Math.max(1, Math.round(i * step)))
      const value = this.valueAtRank(rank)
      const last = out[out.length - 1]
      if (last !== undefined && last[0] === value) last[1] = rank / this.total
      else out.push([value, rank / this.total])
      if (rank === this.total) break
    }
    return out
  }

  /** Adds another histogram's values into this one (e.g. per-peer histograms into a cluster-wide one). */
  merge(other: Histogram): void {
    for (let i = 0; i < this.buckets.length; i++) this.buckets[i]! += other.buckets[i]!
    this.zeros += other.zeros
    this.total += other.total
    this.sum += other.sum
    this.smallest = Math.min(this.smallest, other.smallest)
    this.largest = Math.max(this.largest, other.largest)
  }

  private valueAtRank(rank: number): number {
    if (rank <= this.zeros) return 0
    if (rank === this.total) return this.largest
    let seen = this.zeros
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!
      if (seen >= rank) {
        // The bucket's value of least relative error, kept inside what was actually recorded.
        const estimate = (2 * Math.pow(Histogram.GAMMA, i + Histogram.MIN_INDEX)) / (Histogram.GAMMA + 1)
        return Math.min(this.largest, Math.max(this.smallest, estimate))
      }
    }
    return this.largest
  }

  private static bucketOf(value: number): number {
    const clamped = Math.min(Histogram.MAX_VALUE, Math.max(Histogram.MIN_VALUE, value))
    const index = Math.ceil(Math.log(clamped) / Histogram.LOG_GAMMA) - Histogram.MIN_INDEX
    return Math.min(Histogram.BUCKETS - 1, Math.max(0, index))
  }
}

/**
 * The exact percentile p in [0, 100] of a few values (nearest rank, as Histogram approximates it):
 * the smallest value with at least p % of them at or below it. -1 when there are none, which is how
 * a benchmark's JSON says "not measured". Sorts a copy: for samples counted in thousands, not millions.
 */
export function percentile(values: readonly number[], p: number): number {
  const rank = nearestRank(p, values.length)
  if (values.length === 0) return -1
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[rank - 1]!
}

/** The 1-based rank of percentile p among `count` sorted values (nearest rank; p = 0 gives the first). */
function nearestRank(p: number, count: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile needs p in [0, 100], got ${p}`)
  return Math.max(1, Math.ceil((p / 100) * count))
}

/** The usual latency summary of a histogram, rounded for output. */
export interface LatencySummary {
  count: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

export function summarize(histogram: Histogram, digits = 3): LatencySummary {
  return {
    count: histogram.count,
    mean: roundTo(histogram.mean, digits),
    p50: roundTo(histogram.percentile(50), digits),
    p90: roundTo(histogram.percentile(90), digits),
    p99: roundTo(histogram.percentile(99), digits),
    p999: roundTo(histogram.percentile(99.9), digits),
    max: roundTo(histogram.max, digits),
  }
}

/**
 * Named counters per peer, e.g. `messages-sent` and `bytes-sent`. Peers are kept by index so 100k
 * peers cost one Float64Array per counter.
 */
export class Counters {
  private readonly peerIndex = new Map<string, number>()
  private readonly peerNames: string[] = []
  private readonly values = new Map<string, Float64Array>()

  constructor(peers: readonly string[] = []) {
    for (const peer of peers) this.indexOf(peer)
  }

  /** Adds `amount` to counter `name` of `peer`. */
  add(name: string, peer: string, amount = 1): void {
    const i = this.indexOf(peer)
    let column = this.values.get(name)
    if (column === undefined || column.length <= i) column = this.widen(name, column)
    column[i]! += amount
  }

  get(name: string, peer: string): number {
    const i = this.peerIndex.get(peer)
    return i === undefined ? 0 : this.values.get(name)?.[i] ?? 0
  }

  total(name: string): number {
    const column = this.values.get(name)
    let sum = 0
    // A column is only as long as the peers seen when it last grew; missing entries are zero.
    if (column !== undefined) for (let i = 0; i < Math.min(column.length, this.peerNames.length); i++) sum += column[i]!
    return sum
  }

  /** Counter names in sorted order. */
  names(): string[] {
    return [...this.values.keys()].sort()
  }

  /** One counter's value for each peer, in the order peers were first seen. */
  perPeer(name: string): { peer: string; value: number }[] {
    const column = this.values.get(name)
    return this.peerNames.map((peer, i) => ({ peer, value: column?.[i] ?? 0 }))
  }

  /**
   * Rates of one counter per peer per second over `durationMs` of simulated time: the mean over all
   * known peers, the 99th percentile and the busiest peer. The question at scale is whether any peer
   * pays O(N), so the maximum matters as much as the mean.
   */
  ratePerPeer(name: string, durationMs: number): { meanPerSecond: number; p99PerSecond: number; maxPerSecond: number; busiestPeer: string } {
    const seconds = durationMs / 1000
    const column = this.values.get(name)
    const n = this.peerNames.length
    if (column === undefined || n === 0 || !(seconds > 0)) return { meanPerSecond: 0, p99PerSecond: 0, maxPerSecond: 0, busiestPeer: '' }
    const rates = Float64Array.from({ length: n }, (_, i) => (column[i] ?? 0) / seconds)
    let busiest = 0
    for (let i = 1; i < n; i++) if (rates[i]! > rates[busiest]!) busiest = i
    const sum = rates.reduce((a, b) => a + b, 0)
    const sorted = rates.slice().sort()
    return {
      meanPerSecond: roundTo(sum / n, 3),
      p99PerSecond: roundTo(sorted[Math.max(0, Math.ceil(0.99 * n) - 1)]!, 3),
      maxPerSecond: roundTo(rates[busiest]!, 3),
      busiestPeer: this.peerNames[busiest]!,
    }
  }

  private indexOf(peer: string): number {
    let i = this.peerIndex.get(peer)
    if (i === undefined) {
      i = this.peerNames.length
      this.peerIndex.set(peer, i)
      this.peerNames.push(peer)
    }
    return i
  }

  private widen(name: string, column: Float64Array | undefined): Float64Array {
    const wider = new Float64Array(Math.max(16, this.peerNames.length * 2))
    if (column !== undefined) wider.set(column)
    this.values.set(name, wider)
    return wider
  }
}

/**
 * A gauge sampled at a fixed interval of simulated time (utilisation, fraction of slots running).
 * The runner calls `observe(nowMs, read)` before it handles each event; every sample time passed
 * since the last call is recorded with the value the state had then, which is `read()` because the
 * state has not changed since the previous event. So sampling adds no events to the queue.
 */
export class TimeSeries {
  readonly points: [number, number][] = []
  private nextSampleMs = 0

  constructor(readonly name: string, readonly unit: string, readonly intervalMs: number) {
    if (!(intervalMs > 0)) throw new RangeError(`TimeSeries interval must be positive, got ${intervalMs}`)
  }

  /** Records samples for every interval boundary at or before `nowMs` not yet sampled. */
  observe(nowMs: number, read: () => number): void {
    if (nowMs < this.nextSampleMs) return
    const value = read()
    while (this.nextSampleMs <= nowMs) {
      this.points.push([this.nextSampleMs, value])
      this.nextSampleMs += this.intervalMs
    }
  }

  /** Records the final value at the run's end, so the series reaches the last instant. */
  finish(endMs: number, value: number): void {
    this.observe(endMs, () => value)
    const last = this.points[this.points.length - 1]
    if (last === undefined || last[0] < endMs) this.points.push([endMs, value])
  }
}

/**
 * Counts of something that happens (messages sent) in fixed intervals of simulated time, read out as
 * a rate per second, optionally per peer.
 */
export class RateSeries {
  private readonly counts: number[] = []

  constructor(readonly name: string, readonly unit: string, readonly intervalMs: number) {
    if (!(intervalMs > 0)) throw new RangeError(`RateSeries interval must be positive, got ${intervalMs}`)
  }

  add(timeMs: number, amount = 1): void {
    const bucket = Math.floor(timeMs / this.intervalMs)
    while (this.counts.length <= bucket) this.counts.push(0)
    this.counts[bucket]! += amount
  }

  /**
   * [interval start ms, rate per second (divided by `perPeers` when given)] for each interval. With
   * `endMs`, the last interval counts only up to the run's end, so a partial interval does not read
   * as a sudden drop.
   */
  points(perPeers = 1, endMs?: number): [number, number][] {
    const peers = Math.max(1, perPeers)
    const out: [number, number][] = []
    this.counts.forEach((count, i) => {
      const startMs = i * this.intervalMs
      const spanMs = endMs === undefined ? this.intervalMs : Math.min(this.intervalMs, endMs - startMs)
      if (spanMs > 0) out.push([startMs, roundTo((count * 1000) / spanMs / peers, 3)])
    })
    return out
  }
}

/** Rounds to `digits` decimals, with -0 made 0, so equal runs print equal text. */
export function roundTo(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value
  const scale = 10 ** digits
  const rounded = Math.round(value * scale) / scale
  return rounded === 0 ? 0 : rounded
}
