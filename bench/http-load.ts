// One autocannon run and the medians the mesh benchmarks report (bench/mesh.ts, bench/mesh-kernel.ts).

import autocannon from 'autocannon'
import { optionOf } from './bench-args.js'

export interface Run {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  errors: number
  seconds: number
}

export interface LoadOptions {
  connections: number
  duration: number
  overallRate?: number
}

/**
 * Loads `url` for the duration; latency percentiles from every response's own time, unrounded
 * (autocannon's histogram has 1 ms resolution).
 */
export function load(url: string, options: LoadOptions): Promise<Run> {
  const times: number[] = []
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, ...options }, (error, result) => {
      if (error) return reject(error)
      times.sort((a, b) => a - b)
      const at = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? Number.NaN
      resolve({ requestsPerSecond: result.requests.total / result.duration, p50Ms: at(0.5), p99Ms: at(0.99), errors: result.errors + result.timeouts + result.non2xx, seconds: result.duration })
    })
    instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime))
  })
}

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits))

export const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!

/** The medians over runs of one path, and every error of every run. */
export const summary = (runs: readonly Run[]) => ({
  requestsPerSecond: Math.round(median(runs.map((r) => r.requestsPerSecond))),
  p50Ms: round(median(runs.map((r) => r.p50Ms))),
  p99Ms: round(median(runs.map((r) => r.p99Ms))),
  errors: runs.reduce((sum, r) => sum + r.errors, 0),
})

/** The median of paired figures, with their least and greatest: how far one pair can be off. */
export const spread = (values: readonly number[]) => ({ median: round(median(values)), min: round(Math.min(...values)), max: round(Math.max(...values)) })

/** The flags both mesh benchmarks take; a usage line and exit status 2 for anything not a whole number ≥ 1. */
export function loadFlags(args: readonly string[], bench: string): { duration: number; rounds: number; connections: number; rate: number } {
  const duration = Number(optionOf(args, '--duration') ?? '10')
  const rounds = Number(optionOf(args, '--rounds') ?? '2')
  const connections = Number(optionOf(args, '--connections') ?? '10')
  const rate = Number(optionOf(args, '--rate') ?? '1000')
  if (![duration, rounds, connections, rate].every((n) => Number.isSafeInteger(n) && n >= 1)) {
    console.error(`usage: npm run bench -- ${bench} [--duration seconds] [--rounds N] [--connections N] [--rate requests/s] (whole numbers ≥ 1)`)
    process.exit(2)
  }
  return { duration, rounds, connections, rate }
}
