// Fault specs and plans: clear errors for bad `--faults`, plans that stay inside the safety phase,
// and one plan per seed.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {
  NO_FAULTS, describeFaultEvent, faultActions, formatFaultSpec, networkConfigWithFaults, parseFaultSpec, planFaults, randomFaultSpec,
  type FaultEvent, type FaultSpec,
} from '../../sim/faults.js'
import { LAN_PROFILE } from '../../sim/network.js'
import { seededRandom } from '../../core/index.js'

const peers = (count: number) => Array.from({ length: count }, (_, i) => `peer-${i}`)

const parsing = suite('parseFaultSpec')

parsing('reads every key', () => {
  assert.equal(parseFaultSpec('kill=3,partition=1,loss=0.05,pause=2,dup=0.01,slow=0.1'), {
    ok: true, spec: { kill: 3, partition: 1, pause: 2, loss: 0.05, dup: 0.01, slow: 0.1 },
  })
})

parsing('empty text and "none" mean no faults; missing keys are zero', () => {
  assert.equal(parseFaultSpec(''), { ok: true, spec: NO_FAULTS })
  assert.equal(parseFaultSpec(' none '), { ok: true, spec: NO_FAULTS })
  assert.equal(parseFaultSpec('kill=1'), { ok: true, spec: { ...NO_FAULTS, kill: 1 } })
  assert.equal(parseFaultSpec(' kill = 2 , loss = 0.5 '), { ok: true, spec: { ...NO_FAULTS, kill: 2, loss: 0.5 } })
})

const badSpecs: Array<[string, RegExp]> = [
  ['explode=1', /unknown key "explode"; expected one of kill, partition, pause, loss, dup, slow/],
  ['kill', /expected key=value, got "kill"/],
  ['=3', /expected key=value/],
  ['kill=1,kill=2', /kill is given twice/],
  ['kill=1.5', /kill=1.5 must be a whole number/],
  ['kill=-1', /kill=-1 must be a whole number/],
  ['kill=many', /kill=many must be a whole number/],
  ['kill=20000', /kill=20000 must be a whole number from 0 to 10000/],
  ['loss=1.2', /loss=1.2 must be a probability from 0 to 1/],
  ['dup=abc', /dup=abc must be a probability/],
  ['slow=2', /slow=2 must be a fraction of peers/],
  ['loss=', /loss= must be a probability/],
  ['kill=1,,loss=0.1', /expected key=value, got ""/],
]

for (const [text, message] of badSpecs) {
  parsing(`refuses ${JSON.stringify(text)} naming the bad key or value`, () => {
    const result = parseFaultSpec(text)
    assert.is(result.ok, false)
    if (!result.ok) assert.match(result.error, message)
  })
}

parsing('formatFaultSpec is the inverse of parseFaultSpec', () => {
  assert.is(formatFaultSpec(NO_FAULTS), 'none')
  const spec: FaultSpec = { kill: 3, partition: 1, pause: 0, loss: 0.05, dup: 0, slow: 0.1 }
  assert.is(formatFaultSpec(spec), 'kill=3,partition=1,loss=0.05,slow=0.1')
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
    const random = randomFaultSpec(seededRandom(seed))
    const again = parseFaultSpec(formatFaultSpec(random))
    return again.ok && JSON.stringify(again.spec) === JSON.stringify(random)
  }), { numRuns: 100 })
})

const swarm = suite('randomFaultSpec')

swarm('each seed draws a profile within the documented bounds, and seeds differ', () => {
  const seen = new Set<string>()
  for (let seed = 0; seed < 100; seed++) {
    const spec = randomFaultSpec(seededRandom(seed))
    assert.ok(spec.kill >= 0 && spec.kill <= 5)
    assert.ok(spec.partition >= 0 && spec.partition <= 2)
    assert.ok(spec.pause >= 0 && spec.pause <= 3)
    assert.ok(spec.loss >= 0 && spec.loss <= 0.1)
    assert.ok(spec.dup >= 0 && spec.dup <= 0.02)
    assert.ok(spec.slow >= 0 && spec.slow <= 0.2)
    seen.add(formatFaultSpec(spec))
  }
  assert.ok(seen.size > 80, `only ${seen.size} distinct profiles`)
  assert.ok(seen.has('none') || [...seen].some((s) => !s.includes('loss')), 'some seeds are loss-free')
})

swarm('slow peers from a spec shape the network config', () => {
  assert.is(networkConfigWithFaults(LAN_PROFILE, NO_FAULTS), LAN_PROFILE)
  assert.equal(networkConfigWithFaults(LAN_PROFILE, { ...NO_FAULTS, slow: 0.2 }).slowPeers, { fraction: 0.2, factor: 10 })
})

const plans = suite('planFaults')

const endOf = (event: FaultEvent): number => {
  switch (event.kind) {
    case 'kill': return event.restartAtMs ?? event.atMs
    case 'partition': return event.healAtMs
    case 'pause': return event.resumeAtMs
    case 'loss':
    case 'duplicate': return event.untilMs
    case 'heal': return event.atMs
  }
}

/** The plan's promises, as a list of broken ones (empty when all hold). */
function brokenPromises(plan: FaultEvent[], spec: FaultSpec, names: string[], safetyEndMs: number): string[] {
  const broken: string[] = []
  const last = plan[plan.length - 1]
  if (last?.kind !== 'heal' || last.atMs !== safetyEndMs) broken.push('the last event is heal at safetyEndMs')
  plan.forEach((event, i) => {
    if (i > 0 && event.atMs < plan[i - 1]!.atMs) broken.push(`sorted at ${i}`)
    if (!(event.atMs >= 0 && endOf(event) <= safetyEndMs && endOf(event) >= event.atMs)) broken.push(`inside the safety phase: ${describeFaultEvent(event)}`)
  })
  const kills = plan.filter((e) => e.kind === 'kill')
  const pauses = plan.filter((e) => e.kind === 'pause')
  const partitions = plan.filter((e) => e.kind === 'partition')
  if (kills.length !== Math.min(spec.kill, Math.max(0, names.length - 1))) broken.push('kill count')
  if (new Set(kills.map((k) => k.peer)).size !== kills.length) broken.push('kills strike distinct peers')
  const killed = new Set(kills.map((k) => k.peer))
  if (pauses.some((p) => killed.has(p.peer))) broken.push('no peer is both killed and paused')
  if (new Set(pauses.map((p) => p.peer)).size !== pauses.length) broken.push('pauses strike distinct peers')
  for (const partition of partitions) {
    const listed = partition.groups.flat()
    if (listed.length !== names.length || new Set(listed).size !== names.length) broken.push('a partition lists every peer once')
    if (partition.groups.some((g) => g.length === 0)) broken.push('no partition group is empty')
  }
  for (let i = 1; i < partitions.length; i++) if (partitions[i]!.atMs < partitions[i - 1]!.healAtMs) broken.push('partitions do not overlap')
  return broken
}

plans('a plan keeps every fault inside the safety phase and ends with heal', () => {
  const spec: FaultSpec = { kill: 3, partition: 2, pause: 2, loss: 0.05, dup: 0.01, slow: 0 }
  const names = peers(20)
  const plan = planFaults(spec, seededRandom(1), { peers: names, durationMs: 60_000, safetyEndMs: 30_000 })
  assert.equal(brokenPromises(plan, spec, names, 30_000), [])
  assert.is(plan.filter((e) => e.kind === 'loss').length, 1)
  assert.is(plan.filter((e) => e.kind === 'duplicate').length, 1)
})

plans('every random profile on every cluster size keeps the plan\'s promises', () => {
  fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 100_000 }), (seed, size, safetyEndMs) => {
    const random = seededRandom(seed)
    const spec = randomFaultSpec(random.fork('profile'))
    const names = peers(size)
    const plan = planFaults(spec, random.fork('plan'), { peers: names, durationMs: safetyEndMs * 2, safetyEndMs })
    return brokenPromises(plan, spec, names, safetyEndMs).length === 0
  }), { numRuns: 300 })
})

plans('the same seed gives the same plan, and different seeds different plans', () => {
  const spec: FaultSpec = { kill: 2, partition: 1, pause: 1, loss: 0, dup: 0, slow: 0 }
  const options = { peers: peers(10), durationMs: 20_000, safetyEndMs: 10_000 }
  assert.equal(planFaults(spec, seededRandom(5), options), planFaults(spec, seededRandom(5), options))
  assert.not.equal(planFaults(spec, seededRandom(5), options), planFaults(spec, seededRandom(6), options))
})

plans('changing one kind of fault does not move the others', () => {
  const options = { peers: peers(10), durationMs: 20_000, safetyEndMs: 10_000 }
  const few = planFaults({ ...NO_FAULTS, kill: 1, partition: 1 }, seededRandom(5), options)
  const more = planFaults({ ...NO_FAULTS, kill: 4, partition: 1 }, seededRandom(5), options)
  assert.equal(few.filter((e) => e.kind === 'partition'), more.filter((e) => e.kind === 'partition'))
})

plans('kills leave at least one peer alive, and a one-peer cluster is never partitioned', () => {
  const plan = planFaults({ ...NO_FAULTS, kill: 10, partition: 2 }, seededRandom(2), { peers: peers(1), durationMs: 100, safetyEndMs: 100 })
  assert.equal(plan, [{ atMs: 100, kind: 'heal' }])
  const three = planFaults({ ...NO_FAULTS, kill: 10, pause: 5 }, seededRandom(2), { peers: peers(3), durationMs: 100, safetyEndMs: 100 })
  assert.is(three.filter((e) => e.kind === 'kill').length, 2)
  assert.is(three.filter((e) => e.kind === 'pause').length, 1)
})

plans('a safety phase longer than the run is refused', () => {
  assert.throws(() => planFaults(NO_FAULTS, seededRandom(1), { peers: peers(3), durationMs: 10, safetyEndMs: 20 }), /safetyEndMs <= durationMs/)
})

plans('faultActions turns the plan into starts and ends, ends first at equal times and heal last', () => {
  const plan: FaultEvent[] = [
    { atMs: 0, kind: 'loss', probability: 0.1, untilMs: 100 },
    { atMs: 10, kind: 'kill', peer: 'a', restartAtMs: 50 },
    { atMs: 20, kind: 'partition', groups: [['a'], ['b']], healAtMs: 50 },
    { atMs: 50, kind: 'pause', peer: 'b', resumeAtMs: 100 },
    { atMs: 60, kind: 'kill', peer: 'c' },
    { atMs: 100, kind: 'heal' },
  ]
  assert.equal(faultActions(plan).map((a) => `${a.atMs} ${a.kind}${'peer' in a ? ` ${a.peer}` : ''}`), [
    '0 loss-start', '10 kill a', '20 partition', '50 restart a', '50 heal-partition', '50 pause b', '60 kill c',
    '100 loss-end', '100 resume b', '100 heal',
  ])
})

plans('each event has a line a person can read', () => {
  assert.is(describeFaultEvent({ atMs: 12_345, kind: 'kill', peer: 'p3', restartAtMs: 20_000 }), '12.345 s kill p3 (restarts at 20.000 s)')
  assert.is(describeFaultEvent({ atMs: 0, kind: 'kill', peer: 'p3' }), '0.000 s kill p3 (for good)')
  assert.match(describeFaultEvent({ atMs: 1000, kind: 'partition', groups: [['a'], ['b', 'c']], healAtMs: 2000 }), /partition into 1 \/ 2 peers/)
})

parsing.run()
swarm.run()
plans.run()
