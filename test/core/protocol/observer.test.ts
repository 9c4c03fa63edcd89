// The machine's observer (core/protocol/observer.ts), which the agent turns into metrics: a placement
// reports the round, the auction and the claim; a slot held twice reports the conflict and who yields,
// on both sides of it; a suspicion of this peer reports its refutation. Observing changes nothing.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { claimTieBreak, placementRequest, type ProtocolEvent } from '../../../core/index.js'
import { Cluster, DEFAULT_CAPACITY, p, service, slot } from './harness.js'

const web = service('web', { command: 'serve' })
const kinds = (cluster: Cluster, peer: string, since = 0) =>
  cluster.observed.filter((seen) => seen.peer === peer && seen.event.at >= since).map((seen) => seen.event)
const ofKind = <K extends ProtocolEvent['kind']>(events: readonly ProtocolEvent[], kind: K) =>
  events.filter((event): event is Extract<ProtocolEvent, { kind: K }> => event.kind === kind)

/** Peer `a`, alone, placed web/0 on itself. */
function aloneWithWeb(): Cluster {
  const cluster = new Cluster({ peers: ['a'] })
  cluster.startAll()
  cluster.runFor(cluster.config.startupGraceMs)
  cluster.apply([web])
  cluster.runFor(500)
  return cluster
}

/** Another peer's advert holding web/0, running, placed in the same generation as `a`'s copy. */
function holderOfWeb(peer: string) {
  const hash = placementRequest(web).specHash
  return {
    kind: 'advert' as const,
    advert: {
      peer: p(peer), incarnation: 1, version: 1, capacity: DEFAULT_CAPACITY, allocated: web.resources, labels: {}, drivers: ['process' as const],
      tasks: [{ slot: slot('web', 0), service: web.name, peer: p(peer), specHash: hash, state: 'running' as const, since: 0, resources: web.resources, ports: [], epoch: 1 }],
    },
  }
}

const observer = suite('protocol observer')

observer('a placement reports a round this peer bid in, its auction with its duration, and the claim', () => {
  const events = kinds(aloneWithWeb(), 'a')
  const rounds = ofKind(events, 'round')
  const auctions = ofKind(events, 'auction')
  assert.ok(rounds.length >= 1 && rounds.every((round) => round.service === 'web'))
  assert.ok(rounds.some((round) => round.offered))
  assert.is(auctions.length, 1)
  assert.ok(auctions[0]!.durationMs >= 0 && auctions[0]!.claimed === 1, JSON.stringify(auctions))
  assert.equal(ofKind(events, 'claim').map((claim) => claim.slot), [slot('web', 0)])
})

const rivals = ['b', 'c', 'd', 'e', 'f', 'g', 'h']
const outranks = (x: string, y: string) => claimTieBreak(slot('web', 0), p(x)) > claimTieBreak(slot('web', 0), p(y))

observer('a slot held twice reports a conflict naming the loser: this peer when it yields', () => {
  const cluster = aloneWithWeb()
  const since = cluster.now
  const winner = rivals.find((name) => outranks(name, 'a'))!
  cluster.inject(winner, 'a', holderOfWeb(winner))
  cluster.runFor(200)
  const conflicts = ofKind(kinds(cluster, 'a', since), 'conflict')
  assert.ok(conflicts.length >= 1)
  assert.ok(conflicts.every((conflict) => conflict.slot === slot('web', 0) && conflict.loser === p('a') && conflict.loserEpoch === 1), JSON.stringify(conflicts))
})

observer('… and the other peer when this one keeps its copy', () => {
  const cluster = aloneWithWeb()
  const since = cluster.now
  const loser = rivals.find((name) => outranks('a', name))!
  cluster.inject(loser, 'a', holderOfWeb(loser))
  cluster.runFor(200)
  const conflicts = ofKind(kinds(cluster, 'a', since), 'conflict')
  assert.ok(conflicts.length >= 1)
  assert.ok(conflicts.every((conflict) => conflict.loser === p(loser)), JSON.stringify(conflicts))
  assert.equal(cluster.machine('a').localTasks().map((task) => task.slot), [slot('web', 0)])
})

observer('a suspicion of this peer reports its refutation', () => {
  const cluster = aloneWithWeb()
  const since = cluster.now
  const incarnation = cluster.machine('a').currentIncarnation()
  cluster.inject('b', 'a', { kind: 'member', record: { peer: p('a'), incarnation, status: 'suspect' } })
  cluster.runFor(10)
  assert.is(ofKind(kinds(cluster, 'a', since), 'refute').length, 1)
  assert.is(cluster.machine('a').currentIncarnation(), incarnation + 1)
})

observer.run()
