// A service's bid rounds cost a bounded number of bids whatever the cluster's size. Every peer's
// BidRounds runs here, as the machine drives it: round-0 candidates reconcile the service, a bid
// makes its receiver reconcile it, rounds move on at their timeouts. No claim is ever seen (claims
// lost, the case that makes rounds go on), so the rounds keep going: each must stay within
// k(2k + 1) bids at 50, 500 and 5,000 peers alike — among its k = slots + ⌈log₂(N + 1)⌉ + 2
// candidates every one answers every other (k(k − 1)), an offering bid also reaches the previous
// round's k candidates (k² more at most), and round 0's first two announce the round to at most k
// candidates new to it. Widening 4× a round, as the first version did, sent round 2 of a 3-slot
// service at 500 peers to 240 candidates: up to 57,360 bids.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { BidRounds } from '../../../core/protocol/bid-rounds.js'
import {
  buildRing, candidateCount, candidates, ClusterState, defaultConfig, NO_RESOURCES, roundWindow, type Advert, type Message, type PeerId, type PeerRing,
} from '../../../core/index.js'
import { Cluster, DEFAULT_CAPACITY, describePlacement, p, service, services } from './harness.js'

interface World {
  readonly ids: readonly PeerId[]
  readonly cluster: ClusterState
  readonly ring: PeerRing
}

/** N peers with room to spare, every one advertised to every other. */
function world(n: number): World {
  const ids = Array.from({ length: n }, (_, i) => p(`peer-${i}`))
  const cluster = new ClusterState()
  for (const peer of ids) {
    const advert: Advert = { peer, incarnation: 1, version: 1, capacity: DEFAULT_CAPACITY, allocated: NO_RESOURCES, labels: {}, drivers: ['process'], tasks: [] }
    cluster.putAdvert(advert)
  }
  return { ids, cluster, ring: buildRing(ids) }
}

const WORLDS = new Map([50, 500, 5_000].map((n) => [n, world(n)]))

interface Sent {
  readonly from: PeerId
  readonly to: PeerId
  readonly round: number
}

/**
 * Runs the rounds of `replicas` slots of `name` for `rounds` round timeouts, in 5 ms steps with 1 ms
 * links; returns every bid sent and the peers that ever held round state.
 */
function runRounds(w: World, name: string, replicas: number, rounds: number): { sent: Sent[]; touched: number } {
  const spec = service(name, { command: 'serve', replicas, resources: { cpu: '100m', memory: 64 } })
  const config = defaultConfig(w.ids.length)
  const machines = new Map<PeerId, BidRounds>()
  const dirty = new Set<PeerId>()
  let inFlight: Array<{ from: PeerId; to: PeerId; message: Extract<Message, { kind: 'bid' }> }> = []
  const sent: Sent[] = []
  const machine = (self: PeerId): BidRounds => {
    let rounds = machines.get(self)
    if (rounds !== undefined) return rounds
    rounds = new BidRounds({
      self, config, cluster: w.cluster,
      reachable: () => w.ids.filter((id) => id !== self),
      spec: (service) => (service === spec.name ? spec : undefined),
      runsTasksOf: () => false,
      heldVersion: () => undefined,
      // The claim is lost: nobody, the claimer included, sees the slot taken.
      claim: () => {},
      stopTask: () => {},
      send: (to, message) => {
        if (message.kind !== 'bid') return
        sent.push({ from: self, to, round: message.bid.round })
        inFlight.push({ from: self, to, message })
      },
      markDirty: () => dirty.add(self),
      // Every peer sees the same members: one ring, built once.
      buildRing: (peers) => {
        assert.is(peers.length, w.ids.length)
        return w.ring
      },
    })
    rounds.refreshRing()
    machines.set(self, rounds)
    return rounds
  }
  const unowned = Array.from({ length: replicas }, (_, i) => i)
  // Who reconciles the service at first: the peers that count themselves involved. Asking all of
  // them would build 5,000 machines; round 0's window is who they are, and a sample of the others
  // confirms that they are not.
  for (const peer of roundWindow(w.ring, spec.name, replicas, 0).candidates) {
    assert.ok(machine(peer).involvedIn(spec))
    dirty.add(peer)
  }
  for (const peer of w.ids.slice(0, 40)) {
    if (dirty.has(peer)) continue
    const bystander = new BidRounds(machineDeps(w, peer))
    bystander.refreshRing()
    assert.not.ok(bystander.involvedIn(spec), `${peer} is not involved`)
  }
  const end = rounds * config.roundTimeoutMs
  for (let now = 0; now <= end; now += 5) {
    const arriving = inFlight
    inFlight = []
    for (const { to, message } of arriving) machine(to).onBid(message.bid, message.slots, now)
    for (const peer of [...dirty].sort()) {
      dirty.delete(peer)
      machine(peer).bid(spec, unowned, now)
    }
    for (const rounds of machines.values()) if (rounds.nextWakeAt() <= now) rounds.progress(now)
  }
  return { sent, touched: machines.size }
}

/** The deps of a peer that only answers whether it is involved. */
function machineDeps(w: World, self: PeerId): ConstructorParameters<typeof BidRounds>[0] {
  return {
    self, config: defaultConfig(w.ids.length), cluster: w.cluster,
    reachable: () => w.ids.filter((id) => id !== self),
    spec: () => undefined, runsTasksOf: () => false, heldVersion: () => undefined,
    claim: () => {}, stopTask: () => {}, send: () => {}, markDirty: () => {},
    buildRing: () => w.ring,
  }
}

const Bounded = suite('bid rounds: bounded per round')

Bounded('every round sends at most k(2k + 1) bids and involves at most k + 2 senders, at 50, 500 and 5,000 peers', () => {
  fc.assert(fc.property(fc.constantFrom(50, 500, 5_000), fc.nat(10_000), fc.integer({ min: 1, max: 40 }), (n, key, replicas) => {
    const w = WORLDS.get(n)!
    const rounds = 5
    const { sent, touched } = runRounds(w, `svc-${key}`, replicas, rounds)
    const k = candidateCount(replicas, n, 0)
    const byRound = new Map<number, Sent[]>()
    for (const bid of sent) byRound.set(bid.round, [...(byRound.get(bid.round) ?? []), bid])
    assert.ok(byRound.size >= rounds - 1, `rounds went on: ${[...byRound.keys()]}`)
    for (const [round, bids] of byRound) {
      assert.ok(bids.length <= k * (2 * k + 1), `round ${round}: ${bids.length} bids > k(2k + 1) = ${k * (2 * k + 1)} (N ${n})`)
      const senders = new Set(bids.map((b) => b.from))
      assert.ok(senders.size <= k + 2, `round ${round}: ${senders.size} senders`)
      if (round > 0 && k < n) assert.ok(bids.some((b) => b.from !== bids[0]!.from), `round ${round} had bidders`)
    }
    // The peers that ever held round state: round 0's and each later round's new ones, not the cluster.
    assert.ok(touched <= k + rounds * k, `${touched} peers took part`)
  }), { numRuns: 12 })
})

Bounded.run()

const Walk = suite('bid rounds: windows walk the sequence')

// The price of bounded rounds: a slot that only a far peer can take waits for the windows to reach
// it (here round 4, where 4× widening reached every peer in round 2), instead of asking everyone.
Walk('a slot only the last peer of its candidate sequence can take is placed there, each round within k(2k + 1) bids', () => {
  const n = 40
  const names = Array.from({ length: n }, (_, i) => `p${i}`)
  const far = candidates(buildRing(names.map(p)), 'big', n)[n - 1]!
  const cluster = new Cluster({
    peers: names.map((id) => (id === far ? { id, capacity: { cpuMilli: 4000, memoryMiB: 32_768, extended: {} } } : { id })),
    seed: 3,
  })
  cluster.startAll()
  cluster.runUntil(3_000)
  assert.ok(cluster.converged())
  const appliedAt = cluster.now
  cluster.apply(services({ big: { command: 'serve', replicas: 1, resources: { memory: '16Gi' } } }))
  const placedAt = cluster.runUntilTrue(() => cluster.placement('big').size > 0, appliedAt + 20_000)
  assert.ok(placedAt !== undefined, 'placed')
  assert.equal(describePlacement(cluster.placement('big')), [`big/0@${far}`])
  // Five rounds of 400 ms: the window holding the last of 40 peers (9 candidates, 9 further a round).
  assert.ok(placedAt - appliedAt < 8 * cluster.config.roundTimeoutMs, `placed ${placedAt - appliedAt} ms after the apply`)
  const k = candidateCount(1, n, 0)
  const perRound = new Map<number, number>()
  for (const { message } of cluster.messages('bid')) perRound.set(message.bid.round, (perRound.get(message.bid.round) ?? 0) + 1)
  assert.ok(Math.max(...perRound.keys()) >= 4, `the windows walked: rounds ${[...perRound.keys()]}`)
  for (const [round, bids] of perRound) assert.ok(bids <= k * (2 * k + 1), `round ${round}: ${bids} bids`)
})

Walk.run()
