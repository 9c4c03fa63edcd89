// The event-loop delay gauges: sampled every 100 ms (not prom-client's 10 ms), served without the
// sampling interval, so an idle loop reads near 0 and a stall reads its own length.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Registry } from 'prom-client'
import { collectProcessMetrics, EVENT_LOOP_SAMPLE_MS } from '../../../node/metrics/event-loop-delay.js'
import { parseFamilies } from './prometheus-text.js'

const delay = suite('event-loop delay')

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function gauge(registry: Registry, name: string): Promise<number> {
  const family = parseFamilies(await registry.metrics()).get(name)
  assert.ok(family !== undefined, `${name} is served`)
  return Number(family!.metrics[0]!.value)
}

delay('an idle loop reads near 0 s, a 300 ms stall reads ≈ 0.3 s as the maximum; each name is served once', async () => {
  const registry = new Registry()
  const stop = collectProcessMetrics(registry)
  try {
    await sleep(5 * EVENT_LOOP_SAMPLE_MS)
    assert.ok((await gauge(registry, 'nodejs_eventloop_lag_p50_seconds')) < 0.05, 'idle median')
    const blockedUntil = performance.now() + 300
    while (performance.now() < blockedUntil) {
      // A stalled event loop.
    }
    await sleep(3 * EVENT_LOOP_SAMPLE_MS)
    const max = await gauge(registry, 'nodejs_eventloop_lag_max_seconds')
    assert.ok(max > 0.15 && max < 0.6, `max ${max}`)
    assert.ok((await gauge(registry, 'nodejs_eventloop_lag_min_seconds')) < 0.05, 'min')
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name)
    assert.is(new Set(names).size, names.length)
  } finally {
    stop()
  }
})

delay.run()
