// Anti-entropy on its own, through its deps: what a digest answer sends and asks back, how a "dead"
// learned this way counts, and whom a peer with nobody reachable talks to.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AntiEntropy, type AntiEntropyDeps } from '../../../core/protocol/anti-entropy.js'
import { ClusterState, defaultConfig, MemberTable, seededRandom, type Advert, type MemberRecord, type Message, type PeerId } from '../../../core/index.js'
import { DEFAULT_CAPACITY, p } from './harness.js'

interface Fake {
  readonly antiEntropy: AntiEntropy
  readonly members: MemberTable
  readonly cluster: ClusterState
  readonly sent: Array<{ to: PeerId; message: Message }>
  readonly applied: MemberRecord[]
  readonly syncs: PeerId[]
}

function fake(options: { seeds?: string[]; digest?: string; self?: string } = {}): Fake {
  const self = p(options.self ?? 'a')
  const members = new MemberTable(self)
  const cluster = new ClusterState()
  const sent: Fake['sent'] = []
  const applied: MemberRecord[] = []
  const syncs: PeerId[] = []
  const deps: AntiEntropyDeps = {
    self, config: defaultConfig(3), random: seededRandom(1), members, cluster,
    desiredDigest: () => options.digest ?? 'ours',
    applyRecord: (record) => applied.push(record),
    applyAdvert: (advert) => cluster.putAdvert(advert),
    send: (to, message) => sent.push({ to, message }),
    syncDesired: (peer) => syncs.push(peer),
  }
  const antiEntropy = new AntiEntropy(deps, { seeds: (options.seeds ?? []).map(p) })
  return { antiEntropy, members, cluster, sent, applied, syncs }
}

const alive = (peer: string, incarnation = 1): MemberRecord => ({ peer: p(peer), incarnation, status: 'alive' })
const advert = (peer: string, version: number): Advert => ({
  peer: p(peer), incarnation: 1, version, capacity: DEFAULT_CAPACITY, allocated: DEFAULT_CAPACITY, labels: {}, drivers: ['process'], tasks: [],
})
const digest = (fields: Partial<Extract<Message, { kind: 'digest' }>>): Extract<Message, { kind: 'digest' }> =>
  ({ kind: 'digest', members: [], adverts: [], desired: 'ours', reply: false, ...fields })

const Digests = suite('anti-entropy: digests')

Digests('a digest is answered with what the other side lacks, and with our own digest when we lack something', () => {
  const { antiEntropy, members, cluster, sent } = fake()
  members.apply(alive('b'), 3)
  cluster.putAdvert(advert('b', 2))
  antiEntropy.onDigest(p('c'), digest({ members: [[p('b'), 1, 'alive'], [p('d'), 1, 'alive']], adverts: [[p('b'), 1, 1]] }), 0)
  assert.equal(sent.map((s) => [s.to, s.message.kind]), [['c', 'state'], ['c', 'digest']])
  const state = sent[0]!.message as Extract<Message, { kind: 'state' }>
  assert.equal(state.members, [], 'they know b as well as we do')
  assert.equal(state.adverts.map((a) => [a.peer, a.version]), [['b', 2]], 'our advert of b is newer')
  assert.is((sent[1]!.message as Extract<Message, { kind: 'digest' }>).reply, true, 'we lack d: ask back, as a reply')
})

Digests('a reply digest is never answered with another digest, so two peers do not ping-pong', () => {
  const { antiEntropy, sent } = fake()
  antiEntropy.onDigest(p('c'), digest({ members: [[p('d'), 1, 'alive']], reply: true }), 0)
  assert.equal(sent, [])
})

Digests('a digest exchange with another desired-state digest asks for a sync at once; equal digests do not', () => {
  const { antiEntropy, syncs } = fake()
  antiEntropy.onDigest(p('b'), digest({ desired: 'ours' }), 0)
  antiEntropy.onDigest(p('c'), digest({ desired: 'theirs' }), 0)
  assert.equal(syncs, ['c'])
})

Digests('a "dead" learned from a state answer counts only as a suspicion; other records and adverts apply as they came', () => {
  const { antiEntropy, cluster, applied } = fake()
  antiEntropy.onState({ kind: 'state', members: [{ peer: p('b'), incarnation: 2, status: 'dead' }, { peer: p('c'), incarnation: 1, status: 'left' }], adverts: [advert('d', 4)] })
  assert.equal(applied, [{ peer: p('b'), incarnation: 2, status: 'suspect' }, { peer: p('c'), incarnation: 1, status: 'left' }])
  assert.is(cluster.advert(p('d'))?.version, 4)
})

Digests('a digest that holds us dead is refuted before it is answered, so the answer carries our new incarnation', () => {
  const { antiEntropy, members, applied } = fake()
  members.apply(alive('a', 3), 3)
  antiEntropy.onDigest(p('c'), digest({ members: [[p('a'), 3, 'dead'], [p('c'), 1, 'alive']] }), 0)
  assert.equal(applied[0], { peer: p('a'), incarnation: 3, status: 'suspect' }, 'the verdict reaches the machine as a suspicion of us, which it refutes')
})

Digests('a digest that holds us alive refutes nothing', () => {
  const { antiEntropy, members, applied } = fake()
  members.apply(alive('a', 3), 3)
  antiEntropy.onDigest(p('c'), digest({ members: [[p('a'), 3, 'alive']] }), 0)
  assert.equal(applied, [])
})

Digests.run()

const Healing = suite('anti-entropy: a member held dead speaks again')

const dead = (peer: string): MemberRecord => ({ peer: p(peer), incarnation: 1, status: 'dead' })

Healing('every member held dead is sent a digest at once, not one per reconnect interval', () => {
  const { antiEntropy, members, sent } = fake()
  for (const peer of ['b', 'c', 'd']) members.apply(dead(peer), 3)
  members.apply(alive('e'), 3)
  antiEntropy.healing(0)
  assert.equal(sent.map((s) => [s.to, s.message.kind]).sort(), [['b', 'digest'], ['c', 'digest'], ['d', 'digest']])
})

Healing('a large split reaches out to a bounded number of distinct members, once per reconnect interval', () => {
  const { antiEntropy, members, sent } = fake()
  const peers = Array.from({ length: 40 }, (_, i) => `d${i}`)
  for (const peer of peers) members.apply(dead(peer), 3)
  antiEntropy.healing(0)
  const first = sent.map((s) => s.to)
  assert.is(first.length, 16)
  assert.is(new Set(first).size, 16, 'distinct members')
  antiEntropy.healing(1)
  assert.is(sent.length, 16, 'a second member speaking soon after adds nothing')
  antiEntropy.healing(defaultConfig(3).reconnectIntervalMs)
  assert.is(sent.length, 32, 'after the interval it reaches out again')
})

Healing('members whose id sorts before ours are reached a probe interval later, and only those still held dead', () => {
  const { antiEntropy, members, sent } = fake({ self: 'm' })
  const { probeIntervalMs } = defaultConfig(3)
  for (const peer of ['b', 'c', 'x', 'y']) members.apply(dead(peer), 3)
  antiEntropy.start(0) // no seeds: sets the push-pull and reconnect timers past this test's times
  antiEntropy.healing(0)
  assert.equal(sent.map((s) => s.to).sort(), [p('x'), p('y')], 'the ends whose id sorts after ours, at once')
  assert.ok(antiEntropy.nextWakeAt() <= probeIntervalMs)
  antiEntropy.tick(probeIntervalMs - 1)
  assert.is(sent.length, 2)
  members.apply(alive('b', 2), 3) // b reached us meanwhile: its exchange covers the pair
  antiEntropy.tick(probeIntervalMs)
  assert.equal(sent.slice(2).map((s) => [s.to, s.message.kind]), [[p('c'), 'digest']])
  antiEntropy.tick(2 * probeIntervalMs)
  assert.is(sent.length, 3, 'once')
})
Healing.run()

const Timers = suite('anti-entropy: timers')

Timers('at start a peer offers a digest to each seed but itself', () => {
  const { antiEntropy, sent } = fake({ seeds: ['a', 's1', 's2'] })
  antiEntropy.start(0)
  assert.equal(sent.map((s) => s.to), ['s1', 's2'])
})

Timers('with nobody reachable, each reconnect interval goes back to the seeds', () => {
  const { antiEntropy, sent } = fake({ seeds: ['s1'] })
  antiEntropy.start(0)
  sent.length = 0
  const config = defaultConfig(3)
  antiEntropy.tick(config.reconnectIntervalMs * 1.5)
  assert.equal(sent.map((s) => [s.to, s.message.kind]), [['s1', 'digest']])
  assert.is(antiEntropy.nextWakeAt() > config.reconnectIntervalMs * 1.5, true)
})

Timers.run()

const Openings = suite('anti-entropy: how an exchange opens')

/** A peer id as long as libp2p's (52 characters), so digest sizes are those of real hosts. */
const longId = (n: number): string => `12D3KooW${String(n).padStart(44, 'x')}`

/** A peer that knows `count` other members, each with an advert. */
function knowing(count: number): Fake {
  const peer = fake({ self: longId(0) })
  for (let i = 1; i <= count; i++) {
    peer.members.apply(alive(longId(i)), 3)
    peer.cluster.putAdvert({ ...advert(longId(i), 1) })
  }
  return peer
}

const opening = (sent: Fake['sent']): 'full' | 'root' => {
  const message = sent.at(-1)!.message as Extract<Message, { kind: 'digest' }>
  if (message.root !== undefined) return 'root'
  assert.is(message.covers, undefined, 'a full digest covers every bucket')
  return 'full'
}

Openings('ten members with libp2p ids: a push-pull opens with a root, a reunion with the full digest', () => {
  const { antiEntropy, sent } = knowing(10)
  antiEntropy.sendDigest(p(longId(1)))
  assert.is(opening(sent), 'root', 'the views likely agree: 16 digits say so')
  antiEntropy.sendDigest(p(longId(2)), true)
  assert.is(opening(sent), 'full', 'the views likely differ: root, summary and entries would be three messages where one does')
  const full = sent.at(-1)!.message as Extract<Message, { kind: 'digest' }>
  assert.is(full.members.length, 10)
  assert.is(full.adverts.length, 10)
})

Openings('a reunion in a large cluster still opens with a root: messages stay bounded', () => {
  const { antiEntropy, sent } = knowing(60)
  antiEntropy.sendDigest(p(longId(1)), true)
  assert.is(opening(sent), 'root')
})

Openings('a member held dead that speaks again: the heal reaches out with full digests', () => {
  const { antiEntropy, members, sent } = knowing(10)
  for (const i of [5, 6, 7]) members.apply({ peer: p(longId(i)), incarnation: 3, status: 'dead' }, 3)
  antiEntropy.healing(0)
  assert.ok(sent.length > 0)
  for (const { message } of sent) assert.is((message as Extract<Message, { kind: 'digest' }>).root, undefined)
})

Openings.run()
