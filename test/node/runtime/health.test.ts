// Healthcheck rules (Docker's), as a table: a run of probe results at times, and the transitions they cause.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { HealthTracker, type HealthState } from '../../../node/runtime/index.js'
import type { HealthcheckSpec } from '../../../core/index.js'

const check = (retries: number, startPeriodMs = 0): HealthcheckSpec => ({ command: ['true'], intervalMs: 10, timeoutMs: 5, retries, startPeriodMs })

/** [description, healthcheck, probes as [passed, atMs], transitions expected after each probe] */
const cases: Array<[string, HealthcheckSpec, Array<[boolean, number]>, Array<HealthState | undefined>]> = [
  ['one pass makes a task healthy; more passes change nothing', check(3), [[true, 10], [true, 20]], ['healthy', undefined]],
  ['`retries` failures in a row make it unhealthy', check(3), [[false, 10], [false, 20], [false, 30], [false, 40]], [undefined, undefined, 'unhealthy', undefined]],
  ['a pass resets the count of failures', check(2), [[false, 10], [true, 20], [false, 30], [false, 40]], [undefined, 'healthy', undefined, 'unhealthy']],
  ['an unhealthy task becomes healthy on one pass', check(1), [[false, 10], [true, 20]], ['unhealthy', 'healthy']],
  ['failures in the start period do not count', check(1, 100), [[false, 10], [false, 99], [false, 100]], [undefined, undefined, 'unhealthy']],
  ['a pass ends the start period early', check(1, 100), [[true, 10], [false, 20]], ['healthy', 'unhealthy']],
]

const health = suite('HealthTracker')

for (const [description, spec, probes, expected] of cases) {
  health(description, () => {
    const tracker = new HealthTracker(spec, 0)
    assert.is(tracker.current, 'running')
    assert.equal(probes.map(([passed, at]) => tracker.record(passed, at)), expected)
  })
}

health.run()
