// Site cut or host death (core/protocol/site-cut.ts) on one peer's view: the rule as a pure function,
// its safety as properties, and SiteCuts over a changing membership. The cluster-wide proof is the
// simulator's (test/sim/site-cut.test.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ClusterState, heldByCut, NO_RESOURCES, peerId, replicaSlot, serviceName, SiteCuts, siteOf, type PeerId } from '../../../core/index.js'

const HOLD_MS = 300_000

const rule = suite('site cut: the rule')

const cases: Array<{ name: string; site: string | undefined; deadAt: number; siteHeardAt: number; now: number; held: boolean }> = [
  { name: 'a host of no site is never held', site: undefined, deadAt: 1_000, siteHeardAt: -Infinity, now: 1_000, held: false },
  { name: 'a site not heard from since the verdict is held', site: 'b', deadAt: 1_000, siteHeardAt: 900, now: 5_000, held: true },
  { name: 'a site never heard from at all is held', site: 'b', deadAt: 1_000, siteHeardAt: -Infinity, now: 1_000, held: true },
  { name: 'a site-mate heard from after the verdict makes it a host death', site: 'b', deadAt: 1_000, siteHeardAt: 1_050, now: 1_050, held: false },
  { name: 'heard from at the verdict itself counts', site: 'b', deadAt: 1_000, siteHeardAt: 1_000, now: 1_000, held: false },
  { name: 'the hold runs out', site: 'b', deadAt: 1_000, siteHeardAt: 900, now: 1_000 + HOLD_MS, held: false },
  { name: 'a hold of 0 replaces at once, as without sites', site: 'b', deadAt: 1_000, siteHeardAt: 900, now: 1_000, held: false },
]
for (const c of cases) {
  rule(c.name, () => {
    const holdMs = c.name.includes('hold of 0') ? 0 : HOLD_MS
    assert.is(heldByCut({ site: c.site, deadAt: c.deadAt, siteHeardAt: c.siteHeardAt, now: c.now, holdMs }), c.held)
  })
}

const time = fc.integer({ min: 0, max: 10_000_000 })
const facts = fc.record({
  site: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
  deadAt: time,
  siteHeardAt: fc.oneof(time, fc.constant(-Infinity)),
  now: time,
  holdMs: fc.integer({ min: 0, max: 1_000_000 }),
})

rule('never held: a host of no site, a site heard from after the verdict, or past the hold (property)', () => {
  fc.assert(fc.property(facts, (f) => {
    const held = heldByCut(f)
    if (f.site === undefined || f.siteHeardAt >= f.deadAt || f.now >= f.deadAt + f.holdMs) return !held
    return held
  }), { numRuns: 2_000 })
})

rule('a hold only ends as time passes, never starts again (property)', () => {
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
    siteOf: (peer) => (peer === 'self' ? 'a' : siteOf(sites[peer] === undefined ? {} : { site: sites[peer]! })),
    members: () => [...statuses].map(([peer, status]) => ({ peer, status })),
    heardAt: (peer) => heardTimes.get(peer),
  })
  // As the machine does: the time is recorded where every rule reads it, then the cut is told.
  const hear = (peer: string, now: number): PeerId[] => {
    heardTimes.set(peerId(peer), now)
    return cuts.heard(peerId(peer))
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
  assert.equal(hear('b2', 1_020), [peerId('b1')])
  assert.not.ok(cuts.isHeld(peerId('b1')))
  // Later updates agree: the site was heard from after the verdict.
  assert.equal(cuts.update(2_000), [])
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
  assert.equal(hear('c1', 1_050), [])
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
