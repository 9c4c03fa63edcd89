// Site cut or host death (core/protocol/site-cut.ts) on one peer's view: the rule as a pure function,
// its safety as properties, and SiteCuts over a changing membership. The cluster-wide proof is the
// simulator's (test/sim/site-cut.test.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ClusterState, heldByCut, NO_RESOURCES, peerId, replicaSlot, serviceName, SiteCuts, siteOf, type PeerId } from '../../../core/index.js'

const HOLD_MS = 300_000
const ANSWER_MS = 200
const REFUTE_MS = 1_000

const rule = suite('site cut: the rule')

type Facts = Parameters<typeof heldByCut>[0]
const base = { holdMs: HOLD_MS, answerMs: ANSWER_MS, refuteMs: REFUTE_MS, heardAt: undefined }

const cases: Array<{ name: string; facts: Omit<Facts, 'holdMs' | 'answerMs' | 'refuteMs' | 'heardAt'> & Partial<Facts>; held: boolean }> = [
  { name: 'a host of no site is never held', facts: { site: undefined, deadAt: 1_000, siteBackAt: undefined, now: 1_000 }, held: false },
  { name: 'a site not heard from since the verdict is held', facts: { site: 'b', deadAt: 1_000, siteBackAt: undefined, now: 5_000 }, held: true },
  { name: 'a site-mate answering the verdict makes it a host death', facts: { site: 'b', deadAt: 1_000, siteBackAt: 1_050, now: 1_050 }, held: false },
  { name: 'heard from at the verdict itself counts', facts: { site: 'b', deadAt: 1_000, siteBackAt: 1_000, now: 1_000 }, held: false },
  { name: 'a site back after a cut: the member is held while it may still refute', facts: { site: 'b', deadAt: 1_000, siteBackAt: 30_000, now: 30_000 }, held: true },
  { name: 'a site back after a cut: the member heard from since is held on', facts: { site: 'b', deadAt: 1_000, siteBackAt: 30_000, heardAt: 30_010, now: 30_000 + REFUTE_MS }, held: true },
  { name: 'a site back after a cut: the member silent for the refute time is released, a host death', facts: { site: 'b', deadAt: 1_000, siteBackAt: 30_000, heardAt: 900, now: 30_000 + REFUTE_MS }, held: false },
  { name: 'the hold runs out', facts: { site: 'b', deadAt: 1_000, siteBackAt: undefined, now: 1_000 + HOLD_MS }, held: false },
  { name: 'the hold runs out even while the member may still refute', facts: { site: 'b', deadAt: 1_000, siteBackAt: HOLD_MS, now: 1_000 + HOLD_MS }, held: false },
  { name: 'a hold of 0 replaces at once, as without sites', facts: { site: 'b', deadAt: 1_000, siteBackAt: undefined, now: 1_000, holdMs: 0 }, held: false },
]
for (const c of cases) {
  rule(c.name, () => {
    assert.is(heldByCut({ ...base, ...c.facts }), c.held)
  })
}

const time = fc.integer({ min: 0, max: 10_000_000 })
const facts = fc.record({
  site: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
  deadAt: time,
  siteBackAt: fc.option(time, { nil: undefined }),
  heardAt: fc.option(time, { nil: undefined }),
  now: time,
  holdMs: fc.integer({ min: 0, max: 1_000_000 }),
  answerMs: fc.integer({ min: 0, max: 1_000 }),
  refuteMs: fc.integer({ min: 0, max: 10_000 }),
})

rule('never held: a host of no site, a site that answered the verdict, past the hold, or a member silent for the refute time since its site came back (property)', () => {
  fc.assert(fc.property(facts, (f) => {
    const held = heldByCut(f)
    if (f.site === undefined || f.now >= f.deadAt + f.holdMs) return !held
    if (f.siteBackAt === undefined) return held
    if (f.siteBackAt <= f.deadAt + f.answerMs) return !held
    return held === (f.now < Math.max(f.siteBackAt, f.heardAt ?? -Infinity) + f.refuteMs)
  }), { numRuns: 2_000 })
})

rule('a site that comes back never ends a hold before the member could refute (property)', () => {
  // Whatever the member's silence, it keeps its slots for refuteMs from its site's first word after a cut.
  fc.assert(fc.property(facts, fc.integer({ min: 0, max: 10_000 }), (f, since) => {
    if (f.site === undefined || f.siteBackAt === undefined || f.siteBackAt <= f.deadAt + f.answerMs) return true
    const now = f.siteBackAt + (since % Math.max(1, f.refuteMs))
    return heldByCut({ ...f, now }) || now >= f.deadAt + f.holdMs || f.refuteMs === 0
  }), { numRuns: 2_000 })
})

rule('while nothing is heard, a hold only ends as time passes, never starts again (property)', () => {
  fc.assert(fc.property(facts, fc.integer({ min: 0, max: 1_000_000 }), (f, later) => {
    return !heldByCut({ ...f, now: f.now + later }) || heldByCut(f) || f.now < f.deadAt
  }), { numRuns: 2_000 })
})

rule.run()

const watch = suite('site cut: SiteCuts over a membership')

type Status = 'alive' | 'suspect' | 'dead'

/** A view: self in site a, members with sites and statuses the test changes. */
function view(sites: Record<string, string | undefined>, holdMs = HOLD_MS) {
  const statuses = new Map<PeerId, Status>(Object.keys(sites).map((peer) => [peerId(peer), 'alive']))
  const heardTimes = new Map<PeerId, number>()
  const cuts = new SiteCuts({
    self: peerId('self'),
    holdMs,
    answerMs: ANSWER_MS,
    refuteMs: REFUTE_MS,
    siteOf: (peer) => (peer === 'self' ? 'a' : siteOf(sites[peer] === undefined ? {} : { site: sites[peer]! })),
    members: () => [...statuses].map(([peer, status]) => ({ peer, status })),
    heardAt: (peer) => heardTimes.get(peer),
  })
  // As the machine does: the time is recorded where every rule reads it, then the cut is told.
  const hear = (peer: string, now: number) => {
    heardTimes.set(peerId(peer), now)
    return cuts.heard(peerId(peer), now)
  }
  const die = (peer: string, now: number): PeerId[] => {
    statuses.set(peerId(peer), 'dead')
    const asked = cuts.statusChanged(peerId(peer), true, now)
    cuts.update(now, (member) => member === peer)
    return asked
  }
  return { cuts, statuses, die, hear }
}

watch('a whole far site dying together is held; its members\' site-mates are asked first', () => {
  const { cuts, statuses, die } = view({ b1: 'b', b2: 'b', b3: 'b', a2: 'a' })
  statuses.set(peerId('b2'), 'suspect')
  assert.equal(die('b1', 1_000).sort(), ['b2', 'b3'])
  assert.ok(cuts.isHeld(peerId('b1')))
  die('b2', 1_100)
  die('b3', 1_200)
  assert.ok(cuts.isHeld(peerId('b2')) && cuts.isHeld(peerId('b3')))
  assert.is(cuts.nextWakeAt(), 1_000 + HOLD_MS)
})

watch('a site-mate answering after the verdict releases the dead member: a host death', () => {
  const { cuts, die, hear } = view({ b1: 'b', b2: 'b' })
  die('b1', 1_000)
  assert.ok(cuts.isHeld(peerId('b1')))
  assert.equal(hear('b2', 1_020), { released: [peerId('b1')], ask: [] })
  assert.not.ok(cuts.isHeld(peerId('b1')))
  // Later updates agree: the site was heard from after the verdict.
  assert.equal(cuts.update(2_000), [])
})

watch('a site back after a cut: its held members are asked, and held while they may refute; one that refutes is alive with its tasks', () => {
  const { cuts, die, hear, statuses } = view({ b1: 'b', b2: 'b' })
  die('b1', 1_000)
  die('b2', 1_100)
  // The heal: b2's first message comes before b1's refutation (a round trip or two behind).
  assert.equal(hear('b2', 30_000), { released: [], ask: [peerId('b1')] })
  assert.ok(cuts.isHeld(peerId('b1')), 'released at its site-mate\'s first word')
  assert.is(cuts.nextWakeAt(), 30_000 + REFUTE_MS)
  // b1 answers: heard, and still held until its refutation makes it alive.
  assert.equal(hear('b1', 30_008), { released: [], ask: [peerId('b2')] })
  assert.equal(cuts.update(30_000 + REFUTE_MS), [])
  assert.ok(cuts.isHeld(peerId('b1')))
  statuses.set(peerId('b1'), 'alive')
  cuts.statusChanged(peerId('b1'), false, 30_020)
  assert.not.ok(cuts.isHeld(peerId('b1')))
})

watch('a site back after a cut without one of its members: that one is released once silent for the refute time, a host death', () => {
  const { cuts, die, hear } = view({ b1: 'b', b2: 'b' })
  die('b1', 1_000)
  hear('b2', 30_000)
  assert.equal(cuts.update(30_000 + REFUTE_MS - 1), [])
  assert.equal(cuts.update(30_000 + REFUTE_MS), [peerId('b1')])
  assert.not.ok(cuts.isHeld(peerId('b1')))
  // Released for good: a later word of its own does not hold it again (its refutation makes it alive).
  hear('b1', 31_500)
  assert.equal(cuts.update(31_600), [])
  assert.not.ok(cuts.isHeld(peerId('b1')))
  assert.is(cuts.nextWakeAt(), Infinity)
})

watch('a site-mate answering later than the verdict\'s round trip counts as a site back: held for the refute time', () => {
  const { cuts, die, hear } = view({ b1: 'b', b2: 'b' })
  die('b1', 1_000)
  assert.equal(hear('b2', 1_000 + ANSWER_MS + 1).released, [])
  assert.ok(cuts.isHeld(peerId('b1')))
  assert.equal(cuts.update(1_000 + ANSWER_MS + 1 + REFUTE_MS), [peerId('b1')])
})

watch('a message heard before the verdict does not release it', () => {
  const { cuts, die, hear } = view({ b1: 'b', b2: 'b' })
  hear('b2', 900)
  die('b1', 1_000)
  assert.ok(cuts.isHeld(peerId('b1')))
})

watch('a message from another site releases nothing', () => {
  const { cuts, die, hear } = view({ b1: 'b', b2: 'b', c1: 'c' })
  die('b1', 1_000)
  assert.equal(hear('c1', 1_050), { released: [], ask: [] })
  assert.ok(cuts.isHeld(peerId('b1')))
})

watch('a member of this peer\'s own site, or of none, is never held', () => {
  const { cuts, die } = view({ a2: 'a', x: undefined })
  assert.equal(die('a2', 1_000), [], 'nobody to ask: this peer is of that site')
  die('x', 1_000)
  assert.not.ok(cuts.isHeld(peerId('a2')))
  assert.not.ok(cuts.isHeld(peerId('x')))
  assert.is(cuts.nextWakeAt(), Infinity)
})

watch('the hold ends at its bound, and a member back from the dead is no longer held', () => {
  const { cuts, die, statuses } = view({ b1: 'b', b2: 'b' }, 10_000)
  die('b1', 1_000)
  die('b2', 1_100)
  assert.equal(cuts.update(10_999), [])
  assert.equal(cuts.update(11_000), [peerId('b1')])
  statuses.set(peerId('b2'), 'alive')
  cuts.statusChanged(peerId('b2'), false, 11_050)
  assert.not.ok(cuts.isHeld(peerId('b2')))
  assert.is(cuts.nextWakeAt(), Infinity)
})

watch('a one-host site is held: its cut cannot be told from its death', () => {
  const { cuts, die } = view({ cloud: 'cloud' })
  assert.equal(die('cloud', 1_000), [])
  assert.ok(cuts.isHeld(peerId('cloud')))
})

watch.run()

const held = suite('site cut: a held member in the cluster state')

/** A cluster state holding one advert of b1 (site b) running web/0 and lock/0; lock is a `majority` service. */
function clusterWithHeld(): ClusterState {
  const cluster = new ClusterState((service) => service !== 'lock')
  const peer = peerId('b1')
  const task = (service: string) => ({
    slot: replicaSlot(serviceName(service), 0), service: serviceName(service), peer, specHash: 'h', state: 'running' as const, since: 0, resources: NO_RESOURCES, ports: [],
  })
  cluster.putAdvert({
    peer, incarnation: 1, version: 1, capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} }, allocated: NO_RESOURCES,
    labels: { site: 'b' }, drivers: ['process'], tasks: [task('web'), task('lock')],
  })
  cluster.setStatus(peer, 'dead')
  return cluster
}

held('dead and held: suspect to placement, its tasks kept; a `majority` service sees it dead and its slot lost', () => {
  const cluster = clusterWithHeld()
  const b1 = peerId('b1')
  assert.is(cluster.get(b1)!.state, 'dead')
  assert.ok(cluster.serviceTasks(serviceName('web')).lost.has(replicaSlot(serviceName('web'), 0)))
  cluster.setCutOff(b1, true)
  assert.is(cluster.get(b1)!.state, 'suspect')
  const web = cluster.serviceTasks(serviceName('web'))
  assert.is(web.lost.size, 0)
  assert.is(web.bySlot.get(replicaSlot(serviceName('web'), 0))?.[0]?.peer, b1)
  const lock = cluster.serviceTasks(serviceName('lock'))
  assert.ok(lock.lost.has(replicaSlot(serviceName('lock'), 0)))
  assert.is(lock.bySlot.size, 0)
  cluster.setCutOff(b1, false)
  assert.is(cluster.get(b1)!.state, 'dead')
  assert.ok(cluster.serviceTasks(serviceName('web')).lost.has(replicaSlot(serviceName('web'), 0)))
})

held.run()
