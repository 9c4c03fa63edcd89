// The auction: bids in, slots to peers out, the same answer on every peer whatever order the bids
// arrived in.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  auction, bidScore, computeBid, domainScore, latestBids, placementRequest, replicaSlot, serviceName,
  type AuctionResult, type Bid, type PeerView, type PlacementRequest, type SlotId,
} from '../../../core/index.js'
import { makePeer, makePeers, makeSpec, resources, shuffled } from './fixtures.js'

function bidsFor(peers: readonly PeerView[], want: PlacementRequest, wanted: number, round = 0, domainCounts?: Map<string, number>): Bid[] {
  return peers.flatMap((peer) => {
    const result = computeBid(peer, want, wanted, { round, ...(domainCounts ? { domainCounts } : {}) })
    return result.ok ? [result.bid] : []
  })
}

const slots = (want: PlacementRequest, count: number): SlotId[] => Array.from({ length: count }, (_, i) => replicaSlot(want.service, i))

function run(want: PlacementRequest, slotIds: readonly SlotId[], bids: readonly Bid[]): AuctionResult {
  return auction({ service: want.service, specHash: want.specHash, slots: slotIds, bids, scoring: want, spreadByDomain: want.spreadBy !== '' })
}

const winners = (result: AuctionResult) => result.awards.map((a) => a.peer)
const tally = (result: AuctionResult) => {
  const counts: Record<string, number> = {}
  for (const award of result.awards) counts[award.peer] = (counts[award.peer] ?? 0) + 1
  return counts
}

const spread = placementRequest(makeSpec({ resources: { cpu: '100m', memory: 64 } }))
const binpack = placementRequest(makeSpec({ resources: { cpu: '100m', memory: 64 }, strategy: 'binpack' }))

// Three peers of one size at three fill levels.
const emptyPeer = makePeer('empty', { capacity: resources(1000, 1024) })
const halfPeer = makePeer('half', { capacity: resources(1000, 1024), allocated: resources(500, 512) })
const fullPeer = makePeer('full', { capacity: resources(1000, 1024), allocated: resources(800, 800) })
const levels = [halfPeer, fullPeer, emptyPeer]

const Winner = suite('auction winners')

Winner('with one slot, the highest spread score (the emptiest peer) wins', () => {
  const result = run(spread, slots(spread, 1), bidsFor(levels, spread, 1))
  assert.equal(winners(result), ['empty'])
  assert.equal(result.unassigned, [])
})

Winner('with one slot, the highest binpack score (the fullest peer that fits) wins', () => {
  assert.equal(winners(run(binpack, slots(binpack, 1), bidsFor(levels, binpack, 1))), ['full'])
})

Winner('the award carries the winning score, the one every peer derives from the bid', () => {
  const bids = bidsFor(levels, spread, 1)
  const result = run(spread, slots(spread, 1), bids)
  const winning = bids.find((b) => b.peer === 'empty')!
  assert.equal(result.awards[0]!.score, bidScore(winning, spread, 0))
})

Winner('spread over identical peers gives each the same number of slots', () => {
  const peers = makePeers(3)
  const result = run(spread, slots(spread, 6), bidsFor(peers, spread, 6))
  assert.equal(Object.values(tally(result)), [2, 2, 2])
})

Winner('spread gives a new replica to a peer without one before a second to any peer', () => {
  const peers = [...makePeers(4), makePeer('roomy', { capacity: resources(64_000, 131_072) })]
  const result = run(spread, slots(spread, 5), bidsFor(peers, spread, 5))
  assert.is(new Set(winners(result)).size, 5)
})

Winner('binpack gives every slot to one peer while it has room', () => {
  const peers = makePeers(3)
  const result = run(binpack, slots(binpack, 5), bidsFor(peers, binpack, 5))
  assert.is(Object.keys(tally(result)).length, 1)
})

Winner('binpack moves to a second peer only once the first is full', () => {
  const small = [makePeer('a', { capacity: resources(300, 8192) }), makePeer('b', { capacity: resources(300, 8192) })]
  const result = run(binpack, slots(binpack, 4), bidsFor(small, binpack, 4))
  assert.equal(Object.values(tally(result)).sort(), [1, 3])
})

Winner('identical peers do not all win the first slot of every service (the service is in the tie-break)', () => {
  const peers = makePeers(10)
  const firsts = new Set<string>()
  for (let i = 0; i < 20; i++) {
    const want = placementRequest(makeSpec({ name: `svc-${i}` }))
    firsts.add(run(want, slots(want, 1), bidsFor(peers, want, 1)).awards[0]!.peer)
  }
  assert.ok(firsts.size >= 4, `${firsts.size} distinct winners over 20 services`)
})

Winner.run()

const Order = suite('auction determinism')

Order('equal scores are resolved identically whatever order the bids arrive in', () => {
  const peers = makePeers(8)
  const bids = bidsFor(peers, spread, 3)
  const expected = run(spread, slots(spread, 3), bids)
  for (let seed = 1; seed <= 20; seed++) {
    assert.equal(run(spread, slots(spread, 3), shuffled(bids, seed)), expected, `seed ${seed}`)
  }
})

Order('mixed scores are resolved identically whatever order the bids arrive in', () => {
  const peers = [...makePeers(5), ...levels, makePeer('big', { capacity: resources(16_000, 65_536) })]
  for (const want of [spread, binpack]) {
    const bids = bidsFor(peers, want, 12)
    const expected = run(want, slots(want, 12), bids)
    for (let seed = 1; seed <= 10; seed++) assert.equal(run(want, slots(want, 12), shuffled(bids, seed)), expected)
  }
})

Order('the slot list in any order, with duplicates, gives the same awards', () => {
  const bids = bidsFor(makePeers(4), spread, 5)
  const expected = run(spread, slots(spread, 5), bids)
  const messy = ['web/4', 'web/0', 'web/3', 'web/0', 'web/2', 'web/1', 'web/4'] as SlotId[]
  assert.equal(run(spread, messy, bids), expected)
})

Order('awards go to slots in slot order (web/2 before web/10)', () => {
  const want = spread
  const slotIds = ['web/10', 'web/2', 'web/1'] as SlotId[]
  const result = run(want, slotIds, bidsFor(makePeers(5), want, 3))
  assert.equal(result.awards.map((a) => a.slot), ['web/1', 'web/2', 'web/10'])
})

Order('a duplicated bid counts once', () => {
  const [only] = bidsFor([makePeer('a', { capacity: resources(200, 8192) })], spread, 5)
  const result = run(spread, slots(spread, 5), [only!, only!, { ...only! }])
  assert.is(result.awards.length, 2)
})

Order.run()

const Limits = suite('auction limits and filtering')

Limits('a peer whose bid offers 2 wins at most 2 slots', () => {
  const bids = bidsFor([makePeer('a', { capacity: resources(200, 8192) })], spread, 5)
  assert.is(bids[0]!.offered, 2)
  const result = run(spread, slots(spread, 5), bids)
  assert.equal(winners(result), ['a', 'a'])
})

Limits('slots left when the bids run out are unassigned, the last in slot order', () => {
  const peers = [makePeer('a', { capacity: resources(200, 8192) }), makePeer('b', { capacity: resources(100, 8192) })]
  const result = run(spread, slots(spread, 5), bidsFor(peers, spread, 5))
  assert.is(result.awards.length, 3)
  assert.equal(result.unassigned, ['web/3', 'web/4'])
})

Limits('with no bids every slot is unassigned', () => {
  const result = run(spread, slots(spread, 3), [])
  assert.equal(result.awards, [])
  assert.equal(result.unassigned, ['web/0', 'web/1', 'web/2'])
})

Limits('with no slots nothing is awarded', () => {
  assert.equal(run(spread, [], bidsFor(makePeers(3), spread, 1)), { awards: [], unassigned: [] })
})

Limits('a bid offering nothing wins nothing', () => {
  const [bid] = bidsFor([makePeer('a')], spread, 1)
  assert.equal(run(spread, slots(spread, 2), [{ ...bid!, offered: 0 }]).awards, [])
})

Limits('a newer round of a peer\'s bid replaces its older round, whatever the arrival order', () => {
  const old = bidsFor([makePeer('a')], spread, 5, 0)[0]!
  const newer = { ...bidsFor([makePeer('a', { capacity: resources(100, 8192) })], spread, 5, 1)[0]! }
  assert.is(old.offered, 5)
  assert.is(newer.offered, 1)
  for (const bids of [[old, newer], [newer, old]]) {
    assert.equal(latestBids(spread.service, spread.specHash, bids), [newer])
    assert.equal(winners(run(spread, slots(spread, 5), bids)), ['a'])
  }
})

Limits('two different bids of one peer in the same round resolve to the same one in either order', () => {
  const a = bidsFor([makePeer('a')], spread, 5, 0)[0]!
  const b = bidsFor([makePeer('a', { capacity: resources(200, 8192) })], spread, 5, 0)[0]!
  assert.equal(latestBids(spread.service, spread.specHash, [a, b]), latestBids(spread.service, spread.specHash, [b, a]))
  assert.equal(run(spread, slots(spread, 5), [a, b]), run(spread, slots(spread, 5), [b, a]))
})

Limits('bids for another service are ignored', () => {
  const api = placementRequest(makeSpec({ name: 'api' }))
  const foreign = bidsFor([makePeer('x')], api, 3)
  const own = bidsFor([makePeer('y')], spread, 3)
  assert.equal(winners(run(spread, slots(spread, 3), [...foreign, ...own])), ['y', 'y', 'y'])
  assert.equal(run(spread, slots(spread, 3), foreign).unassigned, slots(spread, 3))
})

Limits('bids for another version (specHash) of the service are ignored', () => {
  const oldVersion = placementRequest(makeSpec({ image: 'nginx:1.0' }))
  const newVersion = placementRequest(makeSpec({ image: 'nginx:2.0' }))
  assert.is(oldVersion.service, newVersion.service)
  const stale = bidsFor([makePeer('x')], oldVersion, 2)
  const current = bidsFor([makePeer('y')], newVersion, 2)
  assert.equal(winners(run(newVersion, slots(newVersion, 2), [...stale, ...current])), ['y', 'y'])
  assert.equal(latestBids(serviceName('web'), newVersion.specHash, [...stale, ...current]).map((b) => b.peer), ['y'])
})

Limits.run()

const Domains = suite('auction with spreadBy')

const zoned = placementRequest(makeSpec({ spreadBy: 'zone' }))
const zonePeers = [
  makePeer('a1', { labels: { zone: 'a' } }),
  makePeer('a2', { labels: { zone: 'a' } }),
  makePeer('a3', { labels: { zone: 'a' } }),
  makePeer('b1', { labels: { zone: 'b' } }),
]
const zoneOf = (peer: string) => zonePeers.find((p) => p.id === peer)!.labels.zone

Domains('slots alternate between domains, even when one domain has more peers', () => {
  const result = run(zoned, slots(zoned, 6), bidsFor(zonePeers, zoned, 6))
  const domains = result.awards.map((a) => zoneOf(a.peer))
  assert.is(domains.filter((d) => d === 'a').length, 3)
  assert.is(domains.filter((d) => d === 'b').length, 3)
  for (let i = 1; i < domains.length; i++) assert.is.not(domains[i], domains[i - 1], `awards ${domains.join(',')}`)
})

Domains('within a domain the peers still spread', () => {
  const result = run(zoned, slots(zoned, 6), bidsFor(zonePeers, zoned, 6))
  const inA = result.awards.filter((a) => zoneOf(a.peer) === 'a').map((a) => a.peer)
  assert.equal(new Set(inA), new Set(['a1', 'a2', 'a3']))
})

Domains('a domain that already holds replicas is behind until the others catch up', () => {
  const counts = new Map([['a', 2]])
  const result = run(zoned, slots(zoned, 4), bidsFor(zonePeers, zoned, 4, 0, counts))
  assert.equal(result.awards.slice(0, 2).map((a) => zoneOf(a.peer)), ['b', 'b'])
  assert.equal(result.awards.slice(2).map((a) => zoneOf(a.peer)).sort(), ['a', 'b'])
})

Domains('a domain\'s existing count is the largest any of its bidders reported', () => {
  // a1 thinks zone a has 1, a2 thinks 3: every peer takes 3, so b gets the first three slots.
  const bids = [
    ...bidsFor([zonePeers[0]!], zoned, 4, 0, new Map([['a', 1]])),
    ...bidsFor([zonePeers[1]!], zoned, 4, 0, new Map([['a', 3]])),
    ...bidsFor([zonePeers[3]!], zoned, 4, 0, new Map()),
  ]
  const result = run(zoned, slots(zoned, 4), bids)
  assert.equal(result.awards.slice(0, 3).map((a) => zoneOf(a.peer)), ['b', 'b', 'b'])
})

Domains('the domain term comes first in the awarded score', () => {
  const result = run(zoned, slots(zoned, 2), bidsFor(zonePeers, zoned, 2))
  assert.is(result.awards[0]!.score[0], domainScore(0))
  assert.is(result.awards[1]!.score[0], domainScore(0))
  assert.is(result.awards[0]!.score.length, 3)
})

Domains('when only one domain can bid, it takes every slot it can', () => {
  const result = run(zoned, slots(zoned, 4), bidsFor(zonePeers.slice(0, 2), zoned, 4))
  assert.is(result.awards.length, 4)
})

Domains('without spreadByDomain the labels are ignored', () => {
  const result = auction({ service: zoned.service, specHash: zoned.specHash, slots: slots(zoned, 4), bids: bidsFor(zonePeers, zoned, 4), scoring: zoned, spreadByDomain: false })
  assert.equal(new Set(winners(result)), new Set(['a1', 'a2', 'a3', 'b1']))
  assert.is(result.awards[0]!.score.length, 2)
})

Domains('spreadBy results do not depend on bid order', () => {
  const bids = bidsFor(zonePeers, zoned, 7, 0, new Map([['a', 1], ['b', 0]]))
  const expected = run(zoned, slots(zoned, 7), bids)
  for (let seed = 1; seed <= 10; seed++) assert.equal(run(zoned, slots(zoned, 7), shuffled(bids, seed)), expected)
})

Domains.run()
