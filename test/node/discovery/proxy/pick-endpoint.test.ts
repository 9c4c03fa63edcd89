// Where a new connection goes: the rules of pickEndpoint, case by case and as properties over any set
// of endpoints and standings.

import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { endpointKey, NEVER_PICKED, pickEndpoint, type EndpointStanding } from '../../../../node/discovery/proxy/pick-endpoint.js'
import type { Endpoint } from '../../../../node/discovery/types.js'
import { endpointAt } from './sockets.js'

const AVOID_MS = 5000
const NOW = 100_000

function pick(endpoints: Endpoint[], standings: Record<string, Partial<EndpointStanding>> = {}, tried: string[] = []): string | undefined {
  const chosen = pickEndpoint({
    endpoints,
    standing: (endpoint) => ({ ...NEVER_PICKED, ...standings[endpoint.slot] }),
    now: NOW,
    avoidFailedMs: AVOID_MS,
    tried: new Set(tried.map((slot) => endpointKey(endpoints.find((e) => e.slot === slot)!))),
  })
  return chosen?.slot
}

const a = endpointAt('web/0', '10.0.0.1', 8000)
const b = endpointAt('web/1', '10.0.0.2', 8000)
const c = endpointAt('web/2', '10.0.0.3', 8000)
const localB = { ...b, local: true }
const localC = { ...c, local: true }

const rules = suite('pickEndpoint: the rules')

for (const [name, endpoints, standings, tried, expected] of [
  ['nothing to pick from', [], {}, [], undefined],
  ['only unready endpoints', [{ ...a, ready: false }], {}, [], undefined],
  ['an unready endpoint is never picked, even with fewer connections', [{ ...a, ready: false }, b], { 'web/1': { active: 9 } }, [], 'web/1'],
  ['never picked: the order given', [a, b, c], {}, [], 'web/0'],
  ['the fewest active connections', [a, b, c], { 'web/0': { active: 2, lastPicked: 0 }, 'web/1': { active: 1, lastPicked: 1 }, 'web/2': { active: 3, lastPicked: 2 } }, [], 'web/1'],
  ['a tie goes to the one picked longest ago', [a, b, c], { 'web/0': { active: 1, lastPicked: 7 }, 'web/1': { active: 1, lastPicked: 5 }, 'web/2': { active: 1, lastPicked: 6 } }, [], 'web/1'],
  ['a local endpoint beats remote ones with fewer connections', [a, localB], { 'web/0': { active: 0 }, 'web/1': { active: 50 } }, [], 'web/1'],
  ['among local endpoints, the fewest connections', [a, localB, localC], { 'web/1': { active: 2 }, 'web/2': { active: 1 } }, [], 'web/2'],
  ['a recently failed endpoint is skipped while another is available', [a, b], { 'web/0': { failedAt: NOW - 1000 }, 'web/1': { active: 5 } }, [], 'web/1'],
  ['a recently failed local endpoint loses to a healthy remote one', [a, localB], { 'web/1': { failedAt: NOW - 10 } }, [], 'web/0'],
  ['a failure older than the avoidance window counts no more', [a, b], { 'web/0': { failedAt: NOW - AVOID_MS }, 'web/1': { active: 1 } }, [], 'web/0'],
  ['every endpoint failed recently: still try one (the fewest connections)', [a, b], { 'web/0': { failedAt: NOW - 1, active: 1 }, 'web/1': { failedAt: NOW - 2 } }, [], 'web/1'],
  ['a directly reached endpoint beats a tunnelled one with fewer connections', [{ ...a, tunnel: true }, b], { 'web/1': { active: 9 } }, [], 'web/1'],
  ['only tunnelled endpoints: the fewest connections among them', [{ ...a, tunnel: true }, { ...b, tunnel: true }], { 'web/0': { active: 2 } }, [], 'web/1'],
  ['the direct one failed recently: the tunnelled one is tried', [{ ...a, tunnel: true }, b], { 'web/1': { failedAt: NOW - 10 } }, [], 'web/0'],
  ['an endpoint already tried for this connection is not tried again', [a, b], {}, ['web/0'], 'web/1'],
  ['every endpoint tried: none', [a, b], {}, ['web/0', 'web/1'], undefined],
] as const) {
  rules(name, () => {
    assert.is(pick(endpoints as unknown as Endpoint[], standings as Record<string, Partial<EndpointStanding>>, [...tried]), expected)
  })
}

rules.run()

// Arbitrary endpoints (distinct slots) with arbitrary standings.
const world = fc.array(
  fc.record({
    local: fc.boolean(),
    ready: fc.boolean(),
    active: fc.nat(5),
    lastPicked: fc.integer({ min: -1, max: 20 }),
    failedAgoMs: fc.option(fc.nat(2 * AVOID_MS), { nil: undefined }),
    tried: fc.boolean(),
  }),
  { maxLength: 8 },
).map((rows) => rows.map((row, index) => ({ ...row, endpoint: endpointAt(`web/${index}`, `10.0.0.${index + 1}`, 80, row) })))

function run(rows: { endpoint: Endpoint; active: number; lastPicked: number; failedAgoMs?: number; tried: boolean }[]) {
  const bySlot = new Map(rows.map((row) => [row.endpoint.slot as string, row]))
  const chosen = pickEndpoint({
    endpoints: rows.map((row) => row.endpoint),
    standing: (endpoint) => {
      const row = bySlot.get(endpoint.slot)!
      return { active: row.active, lastPicked: row.lastPicked, failedAt: row.failedAgoMs === undefined ? undefined : NOW - row.failedAgoMs }
    },
    now: NOW,
    avoidFailedMs: AVOID_MS,
    tried: new Set(rows.filter((row) => row.tried).map((row) => endpointKey(row.endpoint))),
  })
  const eligible = rows.filter((row) => row.endpoint.ready && !row.tried)
  const healthy = eligible.filter((row) => row.failedAgoMs === undefined || row.failedAgoMs >= AVOID_MS)
  return { chosen: chosen === undefined ? undefined : bySlot.get(chosen.slot)!, eligible, healthy }
}

const properties = suite('pickEndpoint: properties')

properties('a pick exists exactly when some ready endpoint was not tried, and it is one of them', () => {
  fc.assert(fc.property(world, (rows) => {
    const { chosen, eligible } = run(rows)
    assert.is(chosen !== undefined, eligible.length > 0)
    if (chosen !== undefined) assert.ok(chosen.endpoint.ready && !chosen.tried)
  }))
})

properties('a recently failed endpoint is picked only when every eligible one failed recently', () => {
  fc.assert(fc.property(world, (rows) => {
    const { chosen, healthy } = run(rows)
    if (chosen !== undefined && healthy.length > 0) assert.ok(healthy.includes(chosen))
  }))
})

properties('a remote endpoint is picked only when no local one is in the pool', () => {
  fc.assert(fc.property(world, (rows) => {
    const { chosen, eligible, healthy } = run(rows)
    const pool = healthy.length > 0 ? healthy : eligible
    if (chosen !== undefined && !chosen.endpoint.local) assert.not.ok(pool.some((row) => row.endpoint.local))
  }))
})

properties('nothing in the chosen group has fewer connections, nor as few and an older pick', () => {
  fc.assert(fc.property(world, (rows) => {
    const { chosen, eligible, healthy } = run(rows)
    if (chosen === undefined) return
    const pool = healthy.length > 0 ? healthy : eligible
    const group = pool.some((row) => row.endpoint.local) ? pool.filter((row) => row.endpoint.local) : pool
    for (const row of group) {
      assert.ok(row.active >= chosen.active)
      if (row.active === chosen.active) assert.ok(row.lastPicked >= chosen.lastPicked)
    }
  }))
})

/** Picks `count` times as the proxy does, recording each pick; `hold` keeps connections open. */
function simulate(endpoints: Endpoint[], count: number, hold: boolean): Map<string, number> {
  const standings = new Map<string, { active: number; lastPicked: number }>(endpoints.map((e) => [e.slot, { active: 0, lastPicked: -1 }]))
  const picks = new Map<string, number>()
  for (let sequence = 0; sequence < count; sequence++) {
    const chosen = pickEndpoint({ endpoints, standing: (e) => standings.get(e.slot)!, now: NOW, avoidFailedMs: AVOID_MS })!
    const standing = standings.get(chosen.slot)!
    standing.lastPicked = sequence
    if (hold) standing.active++
    picks.set(chosen.slot, (picks.get(chosen.slot) ?? 0) + 1)
  }
  return picks
}

properties('equal endpoints share short connections exactly evenly (round-robin)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 20 }), (n, rounds) => {
    const endpoints = Array.from({ length: n }, (_, i) => endpointAt(`web/${i}`, `10.0.0.${i + 1}`, 80))
    const picks = simulate(endpoints, n * rounds, false)
    assert.equal([...picks.values()], Array(n).fill(rounds))
  }))
})

properties('long-lived connections stay within one of each other across equal endpoints', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 60 }), (n, count) => {
    const endpoints = Array.from({ length: n }, (_, i) => endpointAt(`web/${i}`, `10.0.0.${i + 1}`, 80))
    const counts = [...simulate(endpoints, count, true).values()]
    if (counts.length > 0) assert.ok(Math.max(...counts) - Math.min(...counts) <= 1 && (counts.length === n || count < n))
  }))
})

properties.run()
