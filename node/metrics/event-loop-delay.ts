// Node's process metrics (prom-client's default set) with the event-loop delay sampled every 100 ms
// instead of every 10 ms.
//
// prom-client measures the delay with monitorEventLoopDelay at a 10 ms resolution: a timer that wakes
// the event loop 100 times a second, whether or not anyone scrapes. Measured on the 2-core host, a bare
// node process with that timer used 73 ms of CPU over 20 s against 5 ms without it (11 ms at 100 ms):
// ≈ 0.35 % of a core, a tenth of what an idle agent in a cluster of five used in all. At 100 ms a
// stall of 100 ms or more is still always caught (a sample falls inside it); shorter ones are not
// the ones that get a peer suspected (docs/monitoring.md).
//
// monitorEventLoopDelay records the time between two samples — the resolution plus the delay — so
// at 100 ms an idle loop would read 0.1 s. The nodejs_eventloop_lag_* distribution is therefore
// served from a histogram of our own with the sampling interval taken off: the delay alone, since
// the agent started.

import { monitorEventLoopDelay } from 'node:perf_hooks'
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client'

export const EVENT_LOOP_SAMPLE_MS = 100

const NS_PER_S = 1e9

/**
 * Registers prom-client's default process metrics in `registry`, the event-loop delay sampled every
 * EVENT_LOOP_SAMPLE_MS. Returns what stops our sampling timer (prom-client's own has no stop).
 */
export function collectProcessMetrics(registry: Registry): () => void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS })
  const histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS })
  histogram.enable()
  const interval = EVENT_LOOP_SAMPLE_MS * 1e6
  /** A recorded sample without its interval, in seconds; 0 before any sample. */
  const delay = (ns: number): number => (histogram.count === 0 ? 0 : Math.max(0, ns - interval) / NS_PER_S)
  const gauges: Array<[string, string, () => number]> = [
    ['min', 'Minimum event-loop delay since start.', () => delay(histogram.min)],
    ['max', 'Maximum event-loop delay since start.', () => delay(histogram.max)],
    ['mean', 'Mean event-loop delay since start.', () => delay(histogram.mean)],
    ['stddev', 'Standard deviation of the event-loop delay.', () => (histogram.count === 0 ? 0 : histogram.stddev / NS_PER_S)],
    ['p50', 'Median event-loop delay.', () => delay(histogram.percentile(50))],
    ['p90', '90th percentile of the event-loop delay.', () => delay(histogram.percentile(90))],
    ['p99', '99th percentile of the event-loop delay.', () => delay(histogram.percentile(99))],
  ]
  for (const [stat, help, read] of gauges) {
    const name = `nodejs_eventloop_lag_${stat}_seconds`
    registry.removeSingleMetric(name)
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read())
      },
    })
  }
  return () => histogram.disable()
}
