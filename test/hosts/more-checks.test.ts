// The checker's rules for the newer faults, over hand-made histories, and the schedule that deals
// them: a one-way drop explains two copies of a slot on its two hosts until it ends (and no longer);
// a not-desired copy on a host a partition cut off has the heal budget after it;
// a removed service still held by an agent after the heal is a missing write; a crash inside an
// isolation has no failover of its own; writes during a partition go through both of its sides.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { placementRequest, type ServiceSpec } from '../../core/index.js'
import { check } from './checker.js'
import { auxSpec, serviceSpec } from './cluster.js'
import type { Copy, FaultRecord, History } from './history.js'
import { makeSchedule } from './schedule.js'

const web = serviceSpec(2, 0)
const aux = auxSpec()
const HOSTS = ['h1', 'h2', 'h3'].map((name) => ({ name, cpuMilli: 2000, memoryMiB: 2048 }))

/** A history sampled every 100 ms over [0, untilMs], web desired from 0; `place` says where each slot runs. */
function history(untilMs: number, place: (atMs: number) => ReadonlyArray<readonly [string, string]>, faults: FaultRecord[] = []): History {
  const samples = []
  for (let atMs = 0; atMs <= untilMs; atMs += 100) {
    const copies: Copy[] = place(atMs).map(([slot, host], i) => ({ host, slot, service: 'web', specHash: placementRequest(web).specHash, pid: 1000 + i }))
    samples.push({ atMs, copies })
  }
  return { startedAtMs: 0, hosts: HOSTS, desired: [{ fromMs: 0, services: [web] }], samples, faults }
}

const steady = (): ReadonlyArray<readonly [string, string]> => [['web/0', 'h1'], ['web/1', 'h2']]
const oneWay = (toMs?: number): FaultRecord => ({ kind: 'one-way', hosts: ['h1', 'h3'], fromMs: 1_000, ...(toMs === undefined ? {} : { toMs }), detail: 'h1 → h3 dropped', separated: [['h1', 'h3']] })

const checks = suite('hosts checker: one-way drops, removals, offline reboots; schedule')

checks('two copies on the two hosts of a one-way drop are explained while it lasts, and have the heal budget after', () => {
  const doubled = (untilMs: number) => (atMs: number) => [...steady(), ...(atMs >= 2_000 && atMs < untilMs ? [['web/0', 'h3'] as const] : [])]
  assert.equal(check(history(9_000, doubled(7_000), [oneWay(6_000)])).anomalies, [], 'gone 1 s after the drop ended')
  const late = check(history(12_000, doubled(10_000), [oneWay(6_000)])).anomalies
  assert.equal(late.map((anomaly) => [anomaly.kind, anomaly.slot, anomaly.fromMs, anomaly.toMs]), [['duplicate', 'web/0', 6_000, 10_000]], 'still two 4 s after it ended')
})

checks('a one-way drop between other hosts explains nothing', () => {
  const anomalies = check(history(6_000, (atMs) => [...steady(), ...(atMs >= 2_000 && atMs < 5_000 ? [['web/1', 'h3'] as const] : [])], [oneWay(6_000)])).anomalies
  assert.equal(anomalies.map((anomaly) => [anomaly.kind, anomaly.slot]), [['duplicate', 'web/1']])
})

checks('an agent that still holds a service removed last is missing that write; one that does not is fine', () => {
  const base = history(3_000, steady)
  const withReads = (held: readonly ServiceSpec[]): History => ({
    ...base,
    desired: [{ fromMs: 0, services: [web, aux] }, { fromMs: 1_000, services: [web] }],
    finalReads: [{ host: 'h1', atMs: 3_000, digest: 'd', services: held }, { host: 'h2', atMs: 3_000, digest: 'd', services: [web] }],
  })
  assert.equal(check(withReads([web])).anomalies, [])
  const missing = check(withReads([web, aux])).anomalies
  assert.equal(missing.map((anomaly) => [anomaly.kind, anomaly.hosts, anomaly.detail]), [['write-missing', ['h1'], 'aux held, but removed']])
})

checks('a crash inside an isolation (an offline reboot) has no failover figure; a crash outside one has', () => {
  const isolation: FaultRecord = { kind: 'partition', hosts: ['h1', 'h2', 'h3'], fromMs: 500, toMs: 4_000, separated: [['h1', 'h2'], ['h1', 'h3']] }
  const crash = (fromMs: number): FaultRecord => ({ kind: 'crash', hosts: ['h1'], fromMs, toMs: fromMs + 1_000 })
  const moved = (atMs: number) => (atMs < 1_000 ? steady() : [['web/0', 'h3'], ['web/1', 'h2']] as const)
  assert.equal(check(history(6_000, moved, [isolation, crash(1_000)])).failovers, [])
  assert.equal(check(history(6_000, moved, [crash(1_000)])).failovers.map((failover) => [failover.host, failover.ms]), [['h1', 0]])
})

checks('a copy no longer desired on a host a partition cut off has the heal budget once it ends, and says so', () => {
  const isolation: FaultRecord = { kind: 'partition', hosts: ['h1', 'h2', 'h3'], fromMs: 500, toMs: 3_000, detail: 'h3 | h1 h2', separated: [['h3', 'h1'], ['h3', 'h2']] }
  const scaledDown = (until: number): History => ({
    ...history(7_000, (atMs) => [['web/0', 'h1'], ...(atMs < until ? [['web/1', 'h3'] as const] : [])], [isolation]),
    desired: [{ fromMs: 0, services: [web] }, { fromMs: 1_000, services: [serviceSpec(1, 0)] }],
  })
  assert.equal(check(scaledDown(4_500)).anomalies, [], 'stopped 1.5 s after the heal')
  const late = check(scaledDown(5_500)).anomalies
  assert.equal(late.map((anomaly) => [anomaly.kind, anomaly.slot, anomaly.fromMs, anomaly.toMs]), [['undesired', 'web/1', 3_000, 5_500]])
  assert.match(late[0]!.detail ?? '', /; 2500 ms after the partition \(h3 \| h1 h2\) ended$/)
})

checks('the schedule deals every kind of fault over a long run, the same for one seed, and partition writes cross the cut', () => {
  const schedule = makeSchedule(1, 5, 600_000, 10)
  assert.equal(makeSchedule(1, 5, 600_000, 10), schedule, 'same seed, same schedule')
  const kinds = new Set(schedule.episodes.map((episode) => (episode.fault.kind === 'partition' ? episode.fault.shape : episode.fault.kind)))
  assert.equal([...kinds].sort(), ['bridge', 'crash', 'disk-full', 'halves', 'isolate', 'kill', 'loss', 'offline-reboot', 'one-way', 'pause'])
  for (const episode of schedule.episodes) {
    const { fault, writes } = episode
    if (writes === undefined) continue
    if (fault.kind === 'partition' || fault.kind === 'bridge') {
      const [one, other] = fault.kind === 'partition' ? fault.groups : [fault.left, fault.right]
      const side = (host: string): number => (one!.includes(host) ? 0 : other!.includes(host) ? 1 : -1)
      assert.ok(side(writes.scaleVia) >= 0 && side(writes.applyVia) >= 0 && side(writes.scaleVia) !== side(writes.applyVia), `scale and apply on two sides: ${JSON.stringify(episode)}`)
      assert.ok(writes.auxVia !== undefined && side(writes.auxVia) >= 0, `aux written on a side: ${JSON.stringify(episode)}`)
    } else {
      assert.is(writes.auxVia, undefined)
      const hit = fault.kind === 'one-way' ? [fault.from, fault.to] : 'host' in fault ? [fault.host] : []
      assert.ok(!hit.includes(writes.scaleVia) && !hit.includes(writes.applyVia), `writes avoid the hosts hit: ${JSON.stringify(episode)}`)
    }
  }
  const reboots = schedule.episodes.flatMap((episode) => (episode.fault.kind === 'offline-reboot' ? [episode.fault] : []))
  // rejoinLimitMs on a LAN is 6 s: the heal must come after the isolated host restarted its tasks.
  for (const reboot of reboots) assert.ok(reboot.isolatedMs - reboot.crashAfterMs - reboot.downMs > 6_000, JSON.stringify(reboot))
})

checks.run()
