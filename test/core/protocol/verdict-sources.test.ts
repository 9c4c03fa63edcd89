// Whose "dead" verdicts count as verdicts (core/protocol/verdict-sources.ts): the pure rule as
// properties, and the machine acting on it — a verdict from a peer just back from a cut, or about a
// member heard from lately, is a suspicion; one from a peer here all along about a silent member is a
// verdict, as before.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { defaultConfig, statusRank, suspicionTimeoutMs, type MemberRecord, type MemberStatus, type PeerMachine } from '../../../core/index.js'
import { receivedRecord, VerdictSources, type VerdictEvidence } from '../../../core/protocol/verdict-sources.js'
import { makeMachine, p } from './harness.js'

const WINDOWS = { sourceMs: 2_000, subjectMs: 1_000 }
const STATUSES: MemberStatus[] = ['alive', 'suspect', 'dead', 'left']
const record = fc.record({ peer: fc.constantFrom(p('a'), p('b')), incarnation: fc.nat(1_000), status: fc.constantFrom(...STATUSES) })
const span = fc.oneof(fc.double({ min: 0, max: 10_000, noNaN: true }), fc.constantFrom(-Infinity, Infinity))
const evidence = fc.record({ sourceAliveForMs: span, subjectSilentForMs: span })

const Rule = suite('received verdicts: the rule')

Rule('never graver than received, about the same member and incarnation; only "dead" is ever changed', () => {
  fc.assert(fc.property(record, evidence, (received, seen) => {
    const counted = receivedRecord(received, seen, WINDOWS)
    assert.is(counted.peer, received.peer)
    assert.is(counted.incarnation, received.incarnation)
    assert.ok(statusRank(counted.status) <= statusRank(received.status))
    if (received.status !== 'dead') assert.equal(counted, received)
    else assert.ok(counted.status === 'dead' || counted.status === 'suspect')
  }))
})

Rule('"dead" stays a verdict exactly when the source was alive here through its evidence and the member silent here as long as a verdict implies', () => {
  fc.assert(fc.property(record, evidence, (received, seen) => {
    const verdict = { ...received, status: 'dead' as const }
    const sound = seen.sourceAliveForMs >= WINDOWS.sourceMs && seen.subjectSilentForMs >= WINDOWS.subjectMs
    assert.is(receivedRecord(verdict, seen, WINDOWS).status, sound ? 'dead' : 'suspect')
  }))
})

Rule('more evidence never turns a verdict into a suspicion (monotone in both spans)', () => {
  fc.assert(fc.property(record, evidence, fc.double({ min: 0, max: 5_000, noNaN: true }), fc.double({ min: 0, max: 5_000, noNaN: true }), (received, seen, more, longer) => {
    const verdict = { ...received, status: 'dead' as const }
    const stronger: VerdictEvidence = { sourceAliveForMs: seen.sourceAliveForMs + more, subjectSilentForMs: seen.subjectSilentForMs + longer }
    if (receivedRecord(verdict, seen, WINDOWS).status === 'dead') assert.is(receivedRecord(verdict, stronger, WINDOWS).status, 'dead')
  }))
})

Rule('tracking: a source counts from when it last became alive; any other status breaks the span; an unknown source never counts', () => {
  const sources = new VerdictSources(WINDOWS)
  const dead: MemberRecord = { peer: p('m'), incarnation: 3, status: 'dead' }
  sources.memberChanged(p('s'), 'alive', 0)
  assert.is(sources.received(dead, p('s'), 1_999).status, 'suspect')
  assert.is(sources.received(dead, p('s'), 2_000).status, 'dead')
  sources.memberChanged(p('s'), 'alive', 2_500)
  assert.is(sources.received(dead, p('s'), 2_600).status, 'dead', 'alive again (a refutation) without a break keeps the span')
  sources.memberChanged(p('s'), 'suspect', 3_000)
  sources.memberChanged(p('s'), 'alive', 3_100)
  assert.is(sources.received(dead, p('s'), 5_000).status, 'suspect', 'a suspicion broke the span')
  assert.is(sources.received(dead, p('s'), 5_100).status, 'dead')
  sources.heard(p('m'), 5_000)
  assert.is(sources.received(dead, p('s'), 5_999).status, 'suspect', 'the member spoke within the last suspicion timeout')
  assert.is(sources.received(dead, p('s'), 6_000).status, 'dead')
  assert.is(sources.received(dead, p('stranger'), 9_000).status, 'suspect')
})

Rule.run()

// ---------------------------------------------------------------------------------------------------

const Machine = suite('received verdicts: the machine')

const CONFIG = defaultConfig(3)

/** p0 started at 0, knowing p1 and p2 alive from their own pings at 10 ms. */
function observer(): PeerMachine {
  const machine = makeMachine({ self: 'p0', config: CONFIG })
  machine.start(0)
  for (const peer of ['p1', 'p2']) {
    machine.receive(p(peer), { kind: 'member', record: { peer: p(peer), incarnation: 5, status: 'alive' } }, 10)
  }
  return machine
}

const statusOf = (machine: PeerMachine, peer: string): MemberStatus | undefined => machine.memberRecords().find((r) => r.peer === peer)?.status

Machine('a gossiped verdict about a silent member, from a peer alive here throughout, is acted on at once', () => {
  const machine = observer()
  const at = 10 + CONFIG.replaceAfterMs
  machine.receive(p('p2'), { kind: 'member', record: { peer: p('p1'), incarnation: 5, status: 'dead' } }, at)
  assert.is(statusOf(machine, 'p1'), 'dead')
})

Machine('a verdict about a member that spoke within the last suspicion timeout is a suspicion, refuted by the member', () => {
  const machine = observer()
  const at = 10 + CONFIG.replaceAfterMs
  machine.receive(p('p1'), { kind: 'ping', seq: 1, desired: machine.desiredDigest(), updates: [] }, at - suspicionTimeoutMs(CONFIG) + 1)
  machine.receive(p('p2'), { kind: 'member', record: { peer: p('p1'), incarnation: 5, status: 'dead' } }, at)
  assert.is(statusOf(machine, 'p1'), 'suspect')
  machine.receive(p('p1'), { kind: 'member', record: { peer: p('p1'), incarnation: 6, status: 'alive' } }, at + 50)
  assert.is(statusOf(machine, 'p1'), 'alive')
})

Machine('a verdict piggybacked by a peer just back from a cut is a suspicion; unrefuted, the suspicion still ends in a verdict', () => {
  const machine = observer()
  // p2 was cut off: held dead here (p1's verdict), then back (its refutation) just now.
  machine.receive(p('p1'), { kind: 'member', record: { peer: p('p2'), incarnation: 5, status: 'dead' } }, 10 + CONFIG.replaceAfterMs)
  assert.is(statusOf(machine, 'p2'), 'dead')
  const back = 10 + 2 * CONFIG.replaceAfterMs
  machine.receive(p('p2'), { kind: 'member', record: { peer: p('p2'), incarnation: 6, status: 'alive' } }, back)
  machine.receive(p('p2'), { kind: 'ping', seq: 7, desired: machine.desiredDigest(), updates: [{ peer: p('p1'), incarnation: 5, status: 'dead' }] }, back + 10)
  assert.is(statusOf(machine, 'p1'), 'suspect', 'p1 has been silent, but p2 formed its verdict while cut off from here')
  machine.tick(back + 10 + suspicionTimeoutMs(CONFIG) + 1)
  assert.is(statusOf(machine, 'p1'), 'dead', 'nobody refuted: this peer\'s own suspicion ran out')
})

Machine.run()
