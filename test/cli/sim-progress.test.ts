// The progress line of long `peer sim` runs: quiet at first, throttled, on one line, and cleared.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { perSecond, progressLine, progressText } from '../../cli/commands/sim-progress.js'

const progress = suite('progress line')

progress('says nothing when disabled (not a terminal, or --json)', () => {
  const written: string[] = []
  const line = progressLine({ enabled: false, write: (t) => written.push(t), nowMs: () => 1e9 })
  line.update(0.5, 'half')
  line.done()
  assert.equal(written, [])
})

progress('stays quiet for the first seconds, then redraws in place at most every 250 ms, and clears at the end', () => {
  let now = 0
  const written: string[] = []
  const line = progressLine({ enabled: true, write: (t) => written.push(t), nowMs: () => now })
  line.update(0.1, 'early')
  now = 2_500
  line.update(0.5, 'simulated 60s of 120s')
  now = 2_600
  line.update(0.55, 'too soon')
  now = 3_000
  line.update(0.6, 'later')
  line.done()
  assert.equal(written, ['\r\x1b[Ksimulated 60s of 120s · 50% · ETA 3s', '\r\x1b[Klater · 60% · ETA 2s', '\r\x1b[K'])
})

progress('a short run that never drew leaves nothing behind', () => {
  const written: string[] = []
  const line = progressLine({ enabled: true, write: (t) => written.push(t), nowMs: () => 0 })
  line.update(0.9, 'x')
  line.done()
  assert.equal(written, [])
})

progress('the time left reads in seconds, minutes or hours; without a fraction there is none', () => {
  assert.is(progressText(0.25, 'x', 30_000), 'x · 25% · ETA 1m30s')
  assert.is(progressText(0.01, 'x', 60_000), 'x · 1% · ETA 1h39m')
  assert.is(progressText(undefined, 'x', 5_000), 'x')
  assert.is(perSecond(123_456, 1_000), '123k')
  assert.is(perSecond(500, 1_000), '500')
})

progress.run()
