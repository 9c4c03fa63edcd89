// The bid rounds on their own, through their deps: a round on three peers from the first bid to the
// claim, the sit-out after a give-up, bids held for a spec that has not arrived, who reconciles a
// service, and the pending report.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { aheadOfView, beforeClaiming, BidRounds, type BidEntry, type BidRoundsDeps } from '../../../core/protocol/bid-rounds.js'
import {
  bidWindowMs, ClusterState, defaultConfig, NO_RESOURCES, placementRequest, toRanges, type Advert, type Bid, type Message, type PeerId, type ServiceName,
  type PeerView, type ServiceSpec, type SlotId, type TaskView,
} from '../../../core/index.js'
import { DEFAULT_CAPACITY, p, service, slot } from './harness.js'

const config = defaultConfig(3)
const PEERS = ['a', 'b', 'c']

interface Fake {
  readonly rounds: BidRounds
  readonly sent: Array<{ to: PeerId; message: Message }>
  readonly claims: SlotId[]
  readonly dirty: ServiceName[]
  readonly specs: Map<ServiceName, ServiceSpec>
}

/** `unadvertised`: members besides PEERS whose adverts have not arrived; `tasks`: what each peer's advert shows it runs. */
function fake(specs: ServiceSpec[] = [], unadvertised: string[] = [], tasks: Record<string, TaskView[]> = {}): Fake {
  const cluster = new ClusterState()
  for (const peer of PEERS) {
    const advert: Advert = { peer: p(peer), incarnation: 1, version: 1, capacity: DEFAULT_CAPACITY, allocated: NO_RESOURCES, labels: {}, drivers: ['process'], tasks: tasks[peer] ?? [] }
    cluster.putAdvert(advert)
  }
  const sent: Fake['sent'] = []
  const claims: SlotId[] = []
  const dirty: ServiceName[] = []
  const byName = new Map(specs.map((spec) => [spec.name, spec]))
  const deps: BidRoundsDeps = {
    self: p('a'), config, cluster,
    reachable: () => [p('b'), p('c'), ...unadvertised.map(p)],
    spec: (name) => byName.get(name),
    runsTasksOf: () => false,
    heldVersion: () => undefined,
    claim: (at) => claims.push(at),
    stopTask: () => {},
    send: (to, message) => sent.push({ to, message }),
    markDirty: (name) => dirty.push(name),
  }
  const rounds = new BidRounds(deps)
  rounds.refreshRing()
  return { rounds, sent, claims, dirty, specs: byName }
}

const web = service('web', { command: 'serve', replicas: 1, resources: { cpu: '100m', memory: 64 } })
/** The slots a bid for web/0 names. */
const SLOT_0 = toRanges([0])

/** Another candidate's round-0 bid for web offering nothing. */
function zero(peer: string): Bid {
  return {
    peer: p(peer), service: web.name, specHash: placementRequest(web).specHash, round: 0, domain: '', domainCount: 0, existing: 0, offered: 0,
    cpuCapacityMilli: DEFAULT_CAPACITY.cpuMilli, cpuAllocatedMilli: 0, memoryCapacityMiB: DEFAULT_CAPACITY.memoryMiB, memoryAllocatedMiB: 0,
  }
}

const Rounds = suite('bid rounds: a round')

Rounds('a candidate bids to the other candidates, and claims at once when every candidate has bid', () => {
  const { rounds, sent, claims } = fake([web])
  rounds.bid(web, [0], 0)
  assert.equal(sent.map((s) => [s.to, s.message.kind]), [['b', 'bid'], ['c', 'bid']], 'three peers: all are round-0 candidates')
  assert.is(rounds.nextWakeAt(), bidWindowMs(config, 0), 'the auction waits for the window at most')
  rounds.onBid(zero('b'), SLOT_0, 10)
  rounds.progress(10)
  assert.equal(claims, [], 'c has not bid yet')
  rounds.onBid(zero('c'), SLOT_0, 20)
  assert.is(rounds.nextWakeAt(), 20, 'every candidate has bid: the auction is due now')
  rounds.progress(20)
  assert.equal(claims, [slot('web', 0)])
})

Rounds('a peer that gave the service up offers nothing until the sit-out ends, and says so in round 0', () => {
  const { rounds, sent } = fake([web])
  rounds.sitOut(web.name, 1_000)
  rounds.bid(web, [0], 0)
  const offered = sent.map((s) => (s.message as Extract<Message, { kind: 'bid' }>).bid.offered)
  assert.equal(offered, [0, 0])
})

Rounds('a bid from a later round makes this peer follow it', () => {
  const { rounds, dirty } = fake([web])
  rounds.bid(web, [0], 0)
  rounds.onBid(zero('b'), SLOT_0, 10)
  rounds.onBid(zero('c'), SLOT_0, 10)
  rounds.progress(10)
  dirty.length = 0
  rounds.onBid({ ...zero('b'), round: 2 }, SLOT_0, 50)
  assert.equal(dirty, [web.name], 'reconciled again, to bid in round 2')
  assert.is(rounds.nextWakeAt(), 50 + config.roundTimeoutMs, 'round 2 started when its bid arrived')
})

Rounds('round 0 waits longer than wider rounds for a missing bid, never past the point its claims are due', () => {
  assert.is(bidWindowMs(config, 0), config.roundTimeoutMs - config.bidWindowMs)
  assert.is(bidWindowMs(config, 1), config.bidWindowMs)
  const wan = defaultConfig(3, 'wan')
  assert.is(bidWindowMs(wan, 0), wan.roundTimeoutMs - wan.bidWindowMs)
  assert.is(bidWindowMs({ ...config, bidWindowMs: 300, roundTimeoutMs: 500 }, 0), 300, 'never shorter than the window')
})

Rounds('a full-width round that placed some slots is followed by the next after one round\'s time; only rounds that placed nothing back off', () => {
  // Three peers: every peer is a candidate from round 0, so each round is at full width.
  const pair = service('pair', { command: 'serve', replicas: 2, resources: { cpu: '100m', memory: 64 } })
  const roundEndsAt = (placedMeanwhile: boolean): number => {
    const { rounds } = fake([pair])
    rounds.bid(pair, [0, 1], 0)
    // No other bid comes: the window closes, this peer claims its share, the others' claims are due later.
    rounds.progress(bidWindowMs(config, 0))
    const due = rounds.nextWakeAt()
    // A claim arrived meanwhile (this peer's view now shows one slot open), or none did.
    if (placedMeanwhile) rounds.bid(pair, [1], due - 1)
    rounds.progress(due)
    return rounds.nextWakeAt() - due
  }
  assert.is(roundEndsAt(true), config.roundTimeoutMs, 'the round placed a slot: no backoff')
  assert.is(roundEndsAt(false), 2 * config.roundTimeoutMs, 'the round placed nothing: backs off')
})

Rounds.run()

const Ahead = suite('bid rounds: bids ahead of this peer\'s view')

Ahead('a bid that came before this peer saw the slot open survives the drop, and the auction opened a moment later has it', () => {
  // b declared a dead peer dead first and bid for its slot; here the slot still looked held.
  const { rounds, claims } = fake([web])
  rounds.onBid(zero('b'), SLOT_0, 0)
  rounds.drop(web.name, 5)
  // Our own verdict comes 20 ms later: we bid, and once c's bid is in every candidate has bid.
  rounds.bid(web, [0], 20)
  rounds.onBid(zero('c'), SLOT_0, 25)
  assert.is(rounds.nextWakeAt(), 25, 'b\'s bid is still here: no wait for the window')
  rounds.progress(25)
  assert.equal(claims, [slot('web', 0)])
})

Ahead('what a drop keeps: other peers\' bids of rounds this peer was not in, received within the last round', () => {
  const entry = (peer: string, round: number, receivedAt: number): BidEntry => ({ bid: { ...zero(peer), round }, slots: SLOT_0, receivedAt })
  const hash = placementRequest(web).specHash
  const byRound = new Map([
    [`${hash}#0`, new Map([[p('a'), entry('a', 0, 100)], [p('b'), entry('b', 0, 100)]])],
    [`${hash}#1`, new Map([[p('b'), entry('b', 1, 100)], [p('c'), entry('c', 1, 10)]])],
  ])
  const kept = (state: { specHash: string; consideredRound: number } | undefined) =>
    [...aheadOfView(byRound, state, p('a'), 50)].map(([key, entries]) => [key.split('#')[1], [...entries.keys()]])
  assert.equal(kept(undefined), [['0', ['b']], ['1', ['b']]], 'no round of ours: our own bid and c\'s old one go')
  assert.equal(kept({ specHash: hash, consideredRound: 0 }), [['1', ['b']]], 'we were in round 0: its bids go')
  assert.equal(kept({ specHash: hash, consideredRound: 1 }), [])
  assert.equal(kept({ specHash: 'older', consideredRound: 1 }), [['0', ['b']], ['1', ['b']]], 'our rounds were of another version')
})

Ahead.run()

const Early = suite('bid rounds: bids before their spec')

Early('bids for a service not yet known are held for one round, once; then the service is reconciled so they go', () => {
  const { rounds, dirty } = fake()
  rounds.onBid(zero('b'), SLOT_0, 0)
  assert.equal(dirty, [web.name], 'the first bid heard of a service makes this peer reconcile it')
  assert.is(rounds.holdEarlyBids(web.name, 0), true)
  assert.is(rounds.nextWakeAt(), config.roundTimeoutMs)
  rounds.forgetEarlyBids(config.roundTimeoutMs - 1)
  assert.equal(dirty, [web.name], 'still within the round')
  rounds.forgetEarlyBids(config.roundTimeoutMs)
  assert.equal(dirty, [web.name, web.name], 'the spec never came')
  assert.is(rounds.holdEarlyBids(web.name, config.roundTimeoutMs), false, 'held once already')
})

Early('a spec that arrives ends the hold', () => {
  const { rounds } = fake()
  rounds.onBid(zero('b'), SLOT_0, 0)
  rounds.holdEarlyBids(web.name, 0)
  rounds.specArrived(web.name)
  assert.is(rounds.nextWakeAt(), Infinity)
})

Early.run()

const Involved = suite('bid rounds: who reconciles a service')

Involved('global services, services in rounds and services no peer can host involve every peer', () => {
  const { rounds } = fake()
  assert.is(rounds.involvedIn(service('agent', { command: 'run', mode: 'global' })), true)
  assert.is(rounds.involvedIn(service('gpu', { command: 'run', constraints: ['gpu == yes'] })), true, 'no host at all: every peer reports it pending')
  rounds.onBid(zero('b'), SLOT_0, 0)
  assert.is(rounds.involvedIn(web), true, 'a bid for it has been heard')
})

Involved.run()

const Pending = suite('bid rounds: pending report')

Pending('a blocked global slot is reported until it is placed; dropping the service forgets it', () => {
  const { rounds } = fake()
  const agent = service('agent', { command: 'run', mode: 'global' })
  rounds.globalBlocked(agent.name, `agent@a` as SlotId, { peer: p('a'), reason: 'cpu', detail: '' }, 5)
  assert.equal(rounds.pendingServices(), [{ service: agent.name, slots: ['agent@a'], round: 0, since: 5, rejections: [{ reason: 'cpu', detail: '', peers: 1 }] }])
  rounds.placed(agent.name)
  assert.equal(rounds.pendingServices(), [])
  rounds.globalBlocked(agent.name, `agent@a` as SlotId, { peer: p('a'), reason: 'cpu', detail: '' }, 6)
  rounds.drop(agent.name, 7)
  assert.equal(rounds.pendingServices(), [])
})

Pending.run()

const Wake = suite('bid rounds: the remembered next wake')

Wake('after any sequence of inputs, the remembered next wake is the one a fresh scan of the rounds gives', () => {
  // nextWakeAt keeps its answer until a round changes; forgetting it by hand and asking again must
  // give the same time, whatever the inputs were (bids of any round from either peer, our own bids,
  // round progress, drops, early-bid holds, a peer's arrival).
  const pair = service('pair', { command: 'serve', replicas: 2, resources: { cpu: '100m', memory: 64 } })
  const hashOf = (spec: ServiceSpec) => placementRequest(spec).specHash
  const input = fc.oneof(
    fc.record({ kind: fc.constant('bid' as const), which: fc.integer({ min: 0, max: 1 }), open: fc.subarray([0, 1], { minLength: 1 }) }),
    fc.record({ kind: fc.constant('onBid' as const), which: fc.constantFrom(0, 0, 1, 2), from: fc.constantFrom('b', 'c'), round: fc.constantFrom(0, 0, 0, 1, 3), offered: fc.integer({ min: 0, max: 1 }) }),
    fc.record({ kind: fc.constant('progress' as const) }),
    fc.record({ kind: fc.constant('drop' as const), which: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('hold' as const), which: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('forget' as const) }),
    fc.record({ kind: fc.constant('specArrived' as const), which: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('peerArrived' as const) }),
  )
  const step = fc.record({ input, advanceMs: fc.constantFrom(0, 1, 10, 100, 500, 2_000) })
  fc.assert(fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
    const specs = [web, pair]
    const { rounds } = fake(specs)
    const names = [web.name, pair.name, 'unknown' as ServiceName]
    let now = 0
    for (const { input: op, advanceMs } of steps) {
      now += advanceMs
      switch (op.kind) {
        case 'bid': {
          const spec = specs[op.which]!
          rounds.bid(spec, spec.replicas === 1 ? [0] : op.open, now)
          break
        }
        case 'onBid': {
          const name = names[op.which]!
          const spec = specs[op.which]
          const bid: Bid = { ...zero(op.from), service: name, specHash: spec === undefined ? 'ffffffffffffffff' : hashOf(spec), round: op.round, offered: op.offered }
          rounds.onBid(bid, spec === pair ? toRanges([0, 1]) : SLOT_0, now)
          break
        }
        case 'progress':
          rounds.progress(now)
          break
        case 'drop':
          rounds.drop(names[op.which]!, now)
          break
        case 'hold':
          rounds.holdEarlyBids(names[op.which]!, now)
          break
        case 'forget':
          rounds.forgetEarlyBids(now)
          break
        case 'specArrived':
          rounds.specArrived(names[op.which]!)
          break
        case 'peerArrived':
          rounds.peerArrived()
          break
      }
      const remembered = rounds.nextWakeAt()
      Reflect.set(rounds, 'wakeAt', undefined)
      if (rounds.nextWakeAt() !== remembered) return false
    }
    return true
  }), { numRuns: 2000 })
})

Wake.run()

const Views = suite('bid rounds: bidders whose views differ')

const web2 = service('web', { command: 'serve', replicas: 2, resources: { cpu: '100m', memory: 64 } })
const task = (peer: string, index: number, spec = web2): TaskView => ({
  slot: slot(spec.name, index), service: spec.name, peer: p(peer), specHash: placementRequest(spec).specHash, state: 'running', since: 0,
  resources: spec.resources, ports: [],
})
/** Peer b's round-0 bid for web2, naming `open` as the slots it saw unowned. */
const bidOf = (peer: string, open: number[]): [Bid, ReturnType<typeof toRanges>] => [
  { ...zero(peer), specHash: placementRequest(web2).specHash, offered: open.length }, toRanges(open),
]
const bidSent = (fakeRounds: Fake) => fakeRounds.sent.find(({ message }) => message.kind === 'bid')?.message

Views('a member whose advert has not arrived is a candidate: it hears the bid and is waited for', () => {
  const f = fake([web2], ['d'])
  f.rounds.bid(web2, [0, 1], 0)
  assert.ok(f.sent.some(({ to }) => to === p('d')), 'the bid goes to d')
  for (const peer of ['b', 'c']) f.rounds.onBid({ ...zero(peer), specHash: placementRequest(web2).specHash }, toRanges([0, 1]), 1)
  f.rounds.progress(2)
  assert.equal(f.claims, [], 'not all in without d: the auction waits')
})

Views('a slot a bidder of the round holds although its own bid named it open is named open again', () => {
  // b bid for both slots, ran its auction first and claimed web/0; a heard of the apply late.
  const f = fake([web2], [], { b: [task('b', 0)] })
  f.rounds.onBid(...bidOf('b', [0, 1]), 0)
  f.rounds.bid(web2, [1], 1)
  const sent = bidSent(f)
  assert.ok(sent?.kind === 'bid')
  if (sent?.kind === 'bid') assert.equal(sent.slots, toRanges([0, 1]))
})

Views('a slot held before the round began (its holder\'s bid named it taken) is not named open again', () => {
  const f = fake([web2], [], { b: [task('b', 0)] })
  f.rounds.onBid(...bidOf('b', [1]), 0)
  f.rounds.bid(web2, [1], 1)
  const sent = bidSent(f)
  if (sent?.kind === 'bid') assert.equal(sent.slots, toRanges([1]))
  else assert.unreachable('no bid sent')
})

Views('a stand-in bid leaves out its sender\'s tasks in the auctioned slots and the resources they hold', () => {
  const other = service('api', { command: 'api', replicas: 1, resources: { cpu: '200m', memory: 32 } })
  const tasks = [task('b', 0), task('b', 1), task('b', 0, other)]
  const allocated = tasks.reduce((sum, t) => ({ cpuMilli: sum.cpuMilli + t.resources.cpuMilli, memoryMiB: sum.memoryMiB + t.resources.memoryMiB, extended: {} }), NO_RESOURCES)
  const view: PeerView = { id: p('b'), state: 'alive', capacity: DEFAULT_CAPACITY, allocated, labels: {}, drivers: ['process'], tasks }
  const before = beforeClaiming(view, web2.name, new Set([slot('web', 1)]))
  assert.equal(before.tasks.map((t) => t.slot), [slot('web', 0), slot('api', 0)])
  assert.is(before.allocated.cpuMilli, 100 + 200)
  assert.is(before.allocated.memoryMiB, 64 + 32)
  assert.is(beforeClaiming(view, web2.name, new Set([slot('web', 7)])), view, 'nothing claimed in the auctioned slots: the view as it is')
})

Views.run()
