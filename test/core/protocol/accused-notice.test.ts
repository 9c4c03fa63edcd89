// A member accused by a record this peer received is told directly, so it refutes at once
// (core/protocol/accused-notice.ts): the rule alone, then halves that heal through one link first,
// as a real partition heals when its connections come back one by one.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AccusedNotices } from '../../../core/protocol/accused-notice.js'
import type { MemberRecord } from '../../../core/index.js'
import { Cluster, p } from './harness.js'

const rule = suite('accused notices: when a member is told')

const suspect = (incarnation: number): MemberRecord => ({ peer: p('m'), incarnation, status: 'suspect' })

rule('a member heard from lately that a received record makes suspect is told, once per incarnation', () => {
  const notices = new AccusedNotices(2_000)
  assert.ok(notices.shouldTell(suspect(5), 'alive', 9_000, 10_000))
  assert.not.ok(notices.shouldTell(suspect(5), 'alive', 9_500, 10_500), 'the same incarnation again')
  assert.ok(notices.shouldTell(suspect(6), 'alive', 10_900, 11_000), 'a later incarnation is a new accusation')
})

rule('a member silent here for longer than the window is not told: a real death costs nothing', () => {
  const notices = new AccusedNotices(2_000)
  assert.not.ok(notices.shouldTell(suspect(5), 'alive', 7_999, 10_000))
  assert.not.ok(notices.shouldTell(suspect(5), 'alive', undefined, 10_000), 'never heard from')
  assert.ok(notices.shouldTell(suspect(5), 'alive', 8_000, 10_000), 'heard exactly the window ago')
})

rule('only a change from alive to suspect or dead is told', () => {
  const notices = new AccusedNotices(2_000)
  assert.not.ok(notices.shouldTell(suspect(5), 'suspect', 9_000, 10_000), 'already suspected here')
  assert.not.ok(notices.shouldTell(suspect(5), 'dead', 9_000, 10_000), 'held dead here before')
  assert.not.ok(notices.shouldTell(suspect(5), undefined, 9_000, 10_000), 'not a member here before')
  assert.not.ok(notices.shouldTell({ ...suspect(5), status: 'alive' }, 'alive', 9_000, 10_000), 'the record did not win')
  assert.ok(notices.shouldTell({ ...suspect(5), status: 'dead' }, 'alive', 9_000, 10_000))
})

rule('a member that left is forgotten: told again if it comes back at the same incarnation', () => {
  const notices = new AccusedNotices(2_000)
  assert.ok(notices.shouldTell(suspect(5), 'alive', 9_000, 10_000))
  notices.forget(p('m'))
  assert.ok(notices.shouldTell(suspect(5), 'alive', 9_000, 10_000))
})

rule.run()

const heal = suite('accused notices: halves that heal through one link first')

const LEFT = ['p0', 'p1', 'p2']
const RIGHT = ['p3', 'p4', 'p5']
const CUT_UNTIL_MS = 8_000
/** Only p0–p3 comes back at the heal; every other link across stays cut this long more. */
const ONE_LINK_MS = 10_000
/** The harness's link latency here: a notice is one message, its refutation another. */
const LATENCY_MS = 5

/**
 * Per member of the right side other than p3 (which hears the left's verdict itself): how long after
 * the first peer of its own side suspected it (the left's verdict, brought over by p3) it refuted.
 * -1: it never refuted within the one-link span. The one link is found by the reconnects (one dead
 * member every reconnectIntervalMs), so the first contact comes at a different time in each seed.
 */
function refuteDelays(seed: number, notices: boolean): number[] {
  const cluster = new Cluster({ peers: 6, seed, latencyMs: LATENCY_MS })
  cluster.startAll()
  cluster.runUntil(3_000)
  assert.ok(cluster.converged(), 'membership settles')
  if (!notices) disableNotices(cluster)
  cluster.partition(LEFT, RIGHT)
  cluster.runUntil(CUT_UNTIL_MS)
  assert.ok(RIGHT.every((id) => cluster.record('p0', id)?.status === 'dead'), 'the left holds the right dead')
  const before = new Map(RIGHT.map((id) => [id, cluster.machine(id).currentIncarnation()]))
  cluster.heal()
  // Every link across but p0–p3 stays cut.
  const stillCut = cluster.drop((from, to) => {
    if (LEFT.includes(from) === LEFT.includes(to)) return false
    return !((from === p('p0') && to === p('p3')) || (from === p('p3') && to === p('p0')))
  })
  const suspectedAt = new Map<string, number>()
  const refutedAt = new Map<string, number>()
  cluster.runObserving(() => {
    for (const member of ['p4', 'p5']) {
      if (!suspectedAt.has(member) && RIGHT.some((id) => id !== member && cluster.record(id, member)?.status === 'suspect')) suspectedAt.set(member, cluster.now)
      if (!refutedAt.has(member) && cluster.machine(member).currentIncarnation() > before.get(member)!) refutedAt.set(member, cluster.now)
    }
  }, CUT_UNTIL_MS + ONE_LINK_MS)
  stillCut()
  return ['p4', 'p5'].map((member) => {
    const suspected = suspectedAt.get(member)
    const refuted = refutedAt.get(member)
    if (refuted === undefined) return -1
    return suspected === undefined ? 0 : Math.max(0, refuted - suspected)
  })
}

/** The rule switched off in every machine (how the protocol ran before it), for the comparison. */
function disableNotices(cluster: Cluster): void {
  for (const id of [...LEFT, ...RIGHT]) {
    const machine = cluster.machine(id) as unknown as { accused: { shouldTell: () => boolean } }
    machine.accused.shouldTell = () => false
  }
}

heal('a member its own side suspects on the other side\'s verdict refutes within a link\'s round trip, not when piggybacking gets there', () => {
  const withNotices: number[] = []
  const without: number[] = []
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    withNotices.push(...refuteDelays(seed, true))
    without.push(...refuteDelays(seed, false))
  }
  console.log(`    halves 3 | 3 healed through one link: suspected → refuted ${withNotices.map(Math.round).join(', ')} ms (told directly); ${without.map(Math.round).join(', ')} ms (piggybacked)`)
  for (const ms of withNotices) assert.ok(ms >= 0 && ms <= 2 * LATENCY_MS, `refuted ${ms} ms after its side suspected it`)
  assert.ok(Math.max(...without) > Math.max(...withNotices), 'piggybacking alone is slower')
})

heal.run()
