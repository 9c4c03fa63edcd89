// The slot-down reading of a history (slot-down.ts): stretches between samples, and an agent's own
// account of a start. Pure: no hosts needed.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { AgentEvent } from '../../node/control/index.js'
import type { Sample } from './history.js'
import { agentStartMs, longestMs, observedStretches, shortestMs } from './slot-down.js'

const copy = (slot: string, host: string) => ({ host, slot, service: 'web', specHash: 'h', pid: 1 })
const sample = (atMs: number, ...copies: Array<[string, string]>): Sample => ({ atMs, copies: copies.map(([slot, host]) => copy(slot, host)) })

const slotDown = suite('hosts: slot-down stretches')

slotDown('a stretch lies between the samples around it, and a slot not yet seen running has none', () => {
  const samples = [
    sample(0, ['web/0', 'h1']),
    sample(100, ['web/0', 'h1']),
    sample(200),
    sample(300),
    sample(400, ['web/0', 'h2'], ['web/1', 'h3']),
    sample(500, ['web/1', 'h3']),
  ]
  const stretches = observedStretches(samples, ['web/0', 'web/1'], 0)
  assert.equal(stretches, [
    { slot: 'web/0', lastUpMs: 100, firstDownMs: 200, lastDownMs: 300, upAgainMs: 400, hosts: ['h2'] },
    { slot: 'web/0', lastUpMs: 400, firstDownMs: 500, lastDownMs: 500, upAgainMs: Infinity, hosts: [] },
  ])
  assert.is(shortestMs(stretches[0]!), 100)
  assert.is(longestMs(stretches[0]!), 300)
  assert.equal(observedStretches(samples, ['web/0'], 450), [], 'samples before fromMs do not count, nor a slot first seen down')
})

slotDown("an agent's start is its last start event of the slot before the copy was up, to the running report after it", () => {
  const events: AgentEvent[] = [
    { at: 1_000, kind: 'start', slot: 'web/0', specHash: 'a' },
    { at: 1_100, kind: 'task', slot: 'web/0', state: 'running' },
    { at: 5_000, kind: 'stop', slot: 'web/0', reason: 'superseded' },
    { at: 5_000, kind: 'start', slot: 'web/0', specHash: 'b' },
    { at: 5_050, kind: 'task', slot: 'web/1', state: 'running' },
    { at: 5_400, kind: 'task', slot: 'web/0', state: 'running' },
  ]
  assert.is(agentStartMs(events, 'web/0', 5_500, 0), 400)
  assert.is(agentStartMs(events, 'web/0', 4_500, 0), 100)
  assert.is(agentStartMs(events, 'web/0', 3_500, 900), 100, 'event times are taken relative to the history start')
  assert.is(agentStartMs(events, 'web/0', 500, 0), undefined)
  assert.is(agentStartMs(events, 'web/1', 5_500, 0), undefined, 'no start event: unknown')
})

slotDown.run()
