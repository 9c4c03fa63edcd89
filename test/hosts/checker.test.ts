// The checker over hand-made histories: a clean run, a slot run twice beyond the conflict window, a
// lost slot, copies nobody wants, and the failover figure after a crash.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { placementRequest, validateService, type ServiceSpec, type SpecError } from '../../core/index.js'
import { check } from './checker.js'
import type { Copy, FaultRecord, History } from './history.js'

function service(name: string, replicas: number): ServiceSpec {
  const errors: SpecError[] = []
  const spec = validateService(name, { command: ['sleep', '600'], replicas, resources: { cpu: '50m', memory: '16Mi' } }, name, errors)
  if (spec === undefined) throw new Error(JSON.stringify(errors))
  return spec
}

const web = service('web', 2)
const hash = placementRequest(web).specHash
const HOSTS = ['h1', 'h2', 'h3'].map((name) => ({ name, cpuMilli: 2000, memoryMiB: 2048 }))

/** Where each slot runs at a time: [slot, host] pairs (a slot twice for a duplicate). */
type Placement = (atMs: number) => ReadonlyArray<readonly [slot: string, host: string]>

/** A history sampled every 100 ms over [0, untilMs], web desired from 0. */
function history(untilMs: number, placement: Placement, faults: FaultRecord[] = [], specHash = hash): History {
  const samples = []
  for (let atMs = 0; atMs <= untilMs; atMs += 100) {
    const copies: Copy[] = placement(atMs).map(([slot, host], i) => ({ host, slot, service: slot.split('/')[0]!, specHash, pid: 1000 + i + (host === 'h1' ? 0 : 100) }))
    samples.push({ atMs, copies })
  }
  return { startedAtMs: 0, hosts: HOSTS, desired: [{ fromMs: 0, services: [web] }], samples, faults }
}

const steady: Placement = () => [['web/0', 'h1'], ['web/1', 'h2']]

const checker = suite('hosts checker')

checker('a run where every slot runs once throughout is valid', () => {
  const verdict = check(history(5_000, steady))
  assert.equal(verdict.anomalies, [])
  assert.ok(verdict.valid)
  assert.equal(verdict.duplicates, [])
  assert.is(verdict.samples, 51)
})

checker('a slot running on two hosts beyond the conflict window is a duplicate, with its hosts and times', () => {
  const verdict = check(history(5_000, (atMs) => [...steady(atMs), ...(atMs >= 1_000 && atMs < 2_500 ? [['web/0', 'h3'] as const] : [])]))
  assert.not.ok(verdict.valid)
  assert.equal(verdict.anomalies, [{ kind: 'duplicate', slot: 'web/0', hosts: ['h1', 'h3'], fromMs: 1_000, toMs: 2_500 }])
})

checker('a duplicate within the conflict window is a figure, not an anomaly', () => {
  const verdict = check(history(5_000, (atMs) => [...steady(atMs), ...(atMs >= 1_000 && atMs < 1_300 ? [['web/1', 'h3'] as const] : [])]))
  assert.ok(verdict.valid, JSON.stringify(verdict.anomalies))
  assert.equal(verdict.duplicates, [{ slot: 'web/1', hosts: ['h2', 'h3'], fromMs: 1_000, toMs: 1_300, open: false }])
})

checker('a duplicate still on when the history ends is reported open', () => {
  const verdict = check(history(3_000, (atMs) => [...steady(atMs), ...(atMs >= 1_000 ? [['web/1', 'h3'] as const] : [])]))
  assert.equal(verdict.duplicates.map((d) => [d.slot, d.open]), [['web/1', true]])
  assert.equal(verdict.anomalies.map((a) => a.kind), ['duplicate', 'final-state'])
})

checker('a placed slot running nowhere beyond the failover budget is lost; a shorter gap is not', () => {
  const gap = (fromMs: number, toMs: number): Placement => (atMs) => steady(atMs).filter(([slot]) => slot !== 'web/1' || atMs < fromMs || atMs >= toMs)
  const lost = check(history(8_000, gap(1_000, 5_000)))
  assert.equal(lost.anomalies.map(({ kind, slot, hosts, fromMs, toMs }) => ({ kind, slot, hosts, fromMs, toMs })), [{ kind: 'lost', slot: 'web/1', hosts: ['h2'], fromMs: 1_000, toMs: 5_000 }])
  assert.ok(check(history(8_000, gap(1_000, 3_500))).valid)
})

checker('time inside a fault that leaves nowhere to run does not count towards a loss', () => {
  const gap: Placement = (atMs) => steady(atMs).filter(([slot]) => slot !== 'web/1' || atMs < 1_000 || atMs >= 5_000)
  const outage: FaultRecord = { kind: 'crash', hosts: ['h1', 'h2', 'h3'], fromMs: 1_000, toMs: 3_000, excusesLoss: true }
  assert.ok(check(history(8_000, gap, [outage])).valid)
})

checker('a `partition: majority` slot running nowhere during a partition is not lost; a `serve` slot is, and so is the majority slot after the heal', () => {
  const singleton = validateService('db', { command: ['sleep', '600'], replicas: 1, partition: 'majority', resources: { cpu: '50m', memory: '16Mi' } }, 'db', [])!
  const cut: FaultRecord = { kind: 'partition', hosts: ['h1', 'h2', 'h3'], fromMs: 1_000, toMs: 9_000, separated: [['h1', 'h2'], ['h1', 'h3']] }
  const withDb = (until: number, placement: Placement): History => {
    const made = history(until, placement, [cut])
    const dbHash = placementRequest(singleton).specHash
    const samples = made.samples.map((sample) => ({ ...sample, copies: sample.copies.map((copy) => (copy.service === 'db' ? { ...copy, specHash: dbHash } : copy)) }))
    return { ...made, samples, desired: [{ fromMs: 0, services: [web, singleton] }] }
  }
  // The singleton stops on h1 at 2 s (lease) and starts on h2 at 8 s (takeover delay): 6 s nowhere.
  const takenOver: Placement = (atMs) => [...steady(atMs), ...(atMs < 2_000 ? [['db/0', 'h1'] as const] : atMs >= 8_000 ? [['db/0', 'h2'] as const] : [])]
  assert.equal(check(withDb(12_000, takenOver)).anomalies, [])
  // A `serve` slot gone as long in the same partition is lost.
  const webGone: Placement = (atMs) => [...takenOver(atMs).filter(([slot]) => slot !== 'web/1' || atMs < 2_000 || atMs >= 8_000)]
  assert.equal(check(withDb(12_000, webGone)).anomalies.map((a) => [a.kind, a.slot]), [['lost', 'web/1']])
  // Missing on past the heal (9 s) by more than the failover budget: lost.
  const late: Placement = (atMs) => [...steady(atMs), ...(atMs < 2_000 ? [['db/0', 'h1'] as const] : atMs >= 12_500 ? [['db/0', 'h2'] as const] : [])]
  assert.equal(check(withDb(14_000, late)).anomalies.map((a) => [a.kind, a.slot]), [['lost', 'db/0']])
})

checker('a slot desired but never seen running is reported once the placement budget has passed', () => {
  const verdict = check(history(12_000, (atMs) => steady(atMs).filter(([slot]) => slot !== 'web/1')))
  assert.equal(verdict.anomalies.map((a) => [a.kind, a.slot ?? a.detail]), [['never-placed', 'web/1'], ['final-state', 'every-slot-once: web/1 is not running']])
})

checker('copies beyond the replicas or of another version are undesired after the window', () => {
  const extra = check(history(5_000, (atMs) => [...steady(atMs), ...(atMs >= 1_000 ? [['web/2', 'h3'] as const] : [])]), { settledAtEnd: false })
  assert.equal(extra.anomalies.map((a) => [a.kind, a.slot, a.detail]), [['undesired', 'web/2', 'beyond 2 replicas']])
  const stale = check(history(3_000, steady, [], 'old'), { settledAtEnd: false })
  assert.equal(stale.anomalies.map((a) => [a.kind, a.slot]), [['undesired', 'web/0'], ['undesired', 'web/1']])
})

checker('the last sample must satisfy the simulator\'s invariants exactly, unless the run did not settle', () => {
  const doubled = (atMs: number) => [...steady(atMs), ...(atMs >= 4_900 ? [['web/0', 'h3'] as const] : [])]
  assert.equal(check(history(5_000, doubled)).anomalies.map((a) => a.detail), ['every-slot-once: web/0 runs 2 times (h1, h3)'])
  assert.ok(check(history(5_000, doubled), { settledAtEnd: false }).valid)
})

checker('after a crash, failover is the time until every slot the host ran runs elsewhere', () => {
  const crash: FaultRecord = { kind: 'crash', hosts: ['h1'], fromMs: 2_000, toMs: 6_000 }
  const moved: Placement = (atMs) => [
    ...(atMs < 2_000 ? [['web/0', 'h1'] as const] : atMs >= 3_700 ? [['web/0', 'h3'] as const] : []),
    ['web/1', 'h2'],
  ]
  const verdict = check(history(8_000, moved, [crash]))
  assert.ok(verdict.valid, JSON.stringify(verdict.anomalies))
  assert.equal(verdict.failoverMs, [1_700])
  assert.equal(verdict.failovers, [{ kind: 'crash', host: 'h1', fromMs: 2_000, slots: ['web/0'], ms: 1_700 }])
})

checker.run()
