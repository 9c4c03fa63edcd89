// Bids: what a candidate offers for a service, computed from its exact local state.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  MAX_REPLICAS_PER_BID, bidScore, computeBid, feasible, marginalScore, placementRequest, specHash,
  type Bid, type PeerView,
} from '../../../core/index.js'
import { makePeer, makeSpec, makeTask, resources } from './fixtures.js'

function bidOf(peer: PeerView, spec: Record<string, unknown>, wanted: number, round = 0, domainCounts?: Map<string, number>): Bid {
  const result = computeBid(peer, placementRequest(makeSpec(spec)), wanted, { round, ...(domainCounts ? { domainCounts } : {}) })
  if (!result.ok) throw new Error(`expected a bid, got ${JSON.stringify(result.rejection)}`)
  return result.bid
}

const webSpec = makeSpec({})
const running = (count: number, peer = 'p1') => Array.from({ length: count }, (_, i) => makeTask(webSpec, i, peer))

const Offered = suite('computeBid offered count')

// Default spec: 100m cpu and 64 MiB; default peer: 4000m and 8192 MiB, so 40 fit by cpu.
const offeredCases: Array<{ name: string; peer: PeerView; spec: Record<string, unknown>; wanted: number; expected: number }> = [
  { name: 'a roomy peer offers what is wanted', peer: makePeer('p1'), spec: {}, wanted: 3, expected: 3 },
  { name: 'a peer offers only what fits by cpu', peer: makePeer('p1', { capacity: resources(1000, 8192) }), spec: { resources: { cpu: '250m' } }, wanted: 10, expected: 4 },
  { name: 'a peer offers only what fits by memory', peer: makePeer('p1', { capacity: resources(8000, 1024) }), spec: { resources: { memory: '300Mi' } }, wanted: 10, expected: 3 },
  { name: 'a peer offers only what fits after its allocation', peer: makePeer('p1', { capacity: resources(1000, 8192), allocated: resources(600, 0) }), spec: { resources: { cpu: '100m' } }, wanted: 10, expected: 4 },
  { name: 'a peer offers only what fits by an extended resource', peer: makePeer('p1', { capacity: resources(4000, 8192, { gpu: 3 }), allocated: resources(0, 0, { gpu: 1 }) }), spec: { resources: { gpu: 1 } }, wanted: 10, expected: 2 },
  { name: 'a peer offers at most maxPerNode minus what it runs', peer: makePeer('p1', { tasks: running(1) }), spec: { maxPerNode: 3 }, wanted: 10, expected: 2 },
  { name: 'a peer offers one replica of a service with host ports', peer: makePeer('p1'), spec: { ports: ['8080:80'] }, wanted: 5, expected: 1 },
  { name: 'a peer offers at most MAX_REPLICAS_PER_BID of a service that asks for nothing', peer: makePeer('p1'), spec: { resources: { cpu: 0, memory: 0 } }, wanted: MAX_REPLICAS_PER_BID * 3, expected: MAX_REPLICAS_PER_BID },
  { name: 'the smallest limit wins: wanted below fit and maxPerNode', peer: makePeer('p1'), spec: { maxPerNode: 5 }, wanted: 2, expected: 2 },
  { name: 'the smallest limit wins: fit below wanted and maxPerNode', peer: makePeer('p1', { capacity: resources(300, 8192) }), spec: { maxPerNode: 5 }, wanted: 10, expected: 3 },
  { name: 'exited tasks do not count against maxPerNode', peer: makePeer('p1', { tasks: [makeTask(webSpec, 0, 'p1', { state: 'exited' })] }), spec: { maxPerNode: 2 }, wanted: 10, expected: 2 },
]
for (const { name, peer, spec, wanted, expected } of offeredCases) {
  Offered(name, () => {
    assert.is(bidOf(peer, spec, wanted).offered, expected)
  })
}

Offered('a peer that may not take the service returns the same rejection as feasible', () => {
  const want = placementRequest(makeSpec({ constraints: ['zone == eu'] }))
  const peer = makePeer('p1', { labels: { zone: 'ap' } })
  const result = computeBid(peer, want, 3, { round: 0 })
  assert.equal(result, feasible(peer, want))
  assert.equal(result.ok ? undefined : result.rejection, { peer: 'p1', reason: 'label', detail: 'zone == eu' })
})

Offered('a peer at maxPerNode does not bid (rejected as max-per-node)', () => {
  const result = computeBid(makePeer('p1', { tasks: running(2) }), placementRequest(makeSpec({ maxPerNode: 2 })), 3, { round: 0 })
  assert.is(result.ok ? 'bid' : result.rejection.reason, 'max-per-node')
})

Offered('a peer too full for one more does not bid (rejected as cpu)', () => {
  const result = computeBid(makePeer('p1', { capacity: resources(50, 8192) }), placementRequest(makeSpec({})), 3, { round: 0 })
  assert.is(result.ok ? 'bid' : result.rejection.reason, 'cpu')
})

Offered.run()

const Content = suite('computeBid content')

Content('a bid names the peer, service, version and round', () => {
  const spec = makeSpec({ replicas: 3 })
  const bid = bidOf(makePeer('p7'), { replicas: 3 }, 3, 2)
  assert.is(bid.peer, 'p7')
  assert.is(bid.service, 'web')
  assert.is(bid.specHash, specHash(spec))
  assert.is(bid.round, 2)
})

Content('a bid carries the replicas the peer already runs (active ones only)', () => {
  const tasks = [...running(2), makeTask(webSpec, 5, 'p1', { state: 'failed' }), makeTask(makeSpec({ name: 'api' }), 0, 'p1')]
  assert.is(bidOf(makePeer('p1', { tasks }), {}, 3).existing, 2)
})

Content('a bid carries the peer\'s exact cpu and memory numbers', () => {
  const bid = bidOf(makePeer('p1', { capacity: resources(3000, 6000), allocated: resources(1200, 2500) }), {}, 1)
  assert.equal(
    [bid.cpuCapacityMilli, bid.cpuAllocatedMilli, bid.memoryCapacityMiB, bid.memoryAllocatedMiB],
    [3000, 1200, 6000, 2500],
  )
})

Content('every peer derives the bidder\'s own marginal scores from the bid', () => {
  const peer = makePeer('p1', { capacity: resources(2000, 4096), allocated: resources(300, 1000), tasks: running(1) })
  const want = placementRequest(makeSpec({ resources: { cpu: '200m', memory: 128 } }))
  const result = computeBid(peer, want, 5, { round: 0 })
  assert.ok(result.ok)
  const bid = (result as { ok: true; bid: Bid }).bid
  const local = {
    cpuCapacityMilli: 2000, cpuAllocatedMilli: 300, memoryCapacityMiB: 4096, memoryAllocatedMiB: 1000,
  }
  for (let extra = 0; extra < bid.offered; extra++) {
    assert.equal(bidScore(bid, want, extra), marginalScore(local, want, 1, extra), `extra ${extra}`)
  }
})

Content('without spreadBy a bid has an empty domain and a zero domain count', () => {
  const bid = bidOf(makePeer('p1', { labels: { zone: 'eu' } }), {}, 1, 0, new Map([['eu', 5], ['', 2]]))
  assert.is(bid.domain, '')
  assert.is(bid.domainCount, 0)
})

Content('with spreadBy a bid carries the peer\'s label value and that domain\'s count', () => {
  const bid = bidOf(makePeer('p1', { labels: { zone: 'eu' } }), { spreadBy: 'zone' }, 1, 0, new Map([['eu', 5], ['ap', 2]]))
  assert.is(bid.domain, 'eu')
  assert.is(bid.domainCount, 5)
})

Content('with spreadBy a peer without the label is in the empty domain', () => {
  const bid = bidOf(makePeer('p1'), { spreadBy: 'zone' }, 1, 0, new Map([['', 3], ['eu', 1]]))
  assert.is(bid.domain, '')
  assert.is(bid.domainCount, 3)
})

Content('with spreadBy and no known counts the domain count is 0', () => {
  assert.is(bidOf(makePeer('p1', { labels: { zone: 'eu' } }), { spreadBy: 'zone' }, 1).domainCount, 0)
})

Content('the same peer and service always give an equal bid', () => {
  const peer = makePeer('p1', { tasks: running(2), labels: { zone: 'eu' } })
  assert.equal(bidOf(peer, { spreadBy: 'zone' }, 4, 1), bidOf(peer, { spreadBy: 'zone' }, 4, 1))
})

Content.run()

const Extended = suite('computeBid with extended resources')

Extended('a bid for a gpu service carries the bidder\'s gpu capacity and allocation, and scores by them', () => {
  const peer = makePeer('g1', { capacity: resources(4000, 8192, { gpu: 8, fpga: 2 }), allocated: resources(0, 0, { gpu: 3 }) })
  const made = bidOf(peer, { resources: { cpu: '100m', memory: 64, gpu: 1 } }, 2)
  assert.equal(made.extended, { gpu: [8, 3] })
  const want = placementRequest(makeSpec({ resources: { cpu: '100m', memory: 64, gpu: 1 } }))
  assert.equal(bidScore(made, want, 0), marginalScore({ ...made }, want, 0, 0))
})

Extended('a bid for a service without extended resources carries none', () => {
  const peer = makePeer('g1', { capacity: resources(4000, 8192, { gpu: 8 }) })
  assert.is(bidOf(peer, {}, 1).extended, undefined)
})

Extended.run()
