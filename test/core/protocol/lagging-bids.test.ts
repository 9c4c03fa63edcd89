// Answers to a bid that lags a claim: which holders a candidate names back to the bidder.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { holdersNamedByBid, inRanges } from '../../../core/protocol/lagging-bids.js'
import { NO_RESOURCES, replicaSlot, serviceName, toRanges, type Bid, type PeerId, type ServiceTasks, type SlotId, type TaskView } from '../../../core/index.js'
import { p } from './harness.js'

const web = serviceName('web')

function bid(peer: string, specHash = 'v1'): Bid {
  return {
    peer: p(peer), service: web, specHash, round: 1, domain: '', domainCount: 0, existing: 0, offered: 1,
    cpuCapacityMilli: 1000, cpuAllocatedMilli: 0, memoryCapacityMiB: 1024, memoryAllocatedMiB: 0,
  }
}

function task(index: number, peer: string, specHash = 'v1'): TaskView {
  return { slot: replicaSlot(web, index), service: web, peer: p(peer), specHash, state: 'running', since: 0, resources: NO_RESOURCES, ports: [] }
}

function tasks(...held: TaskView[]): ServiceTasks {
  const bySlot = new Map<SlotId, TaskView[]>()
  for (const t of held) bySlot.set(t.slot, [...(bySlot.get(t.slot) ?? []), t])
  return { bySlot, lost: new Set(), ended: new Map() }
}

const everyoneAlive = (): boolean => true

const Holders = suite('lagging bids: the holders a bid names')

Holders('a bid whose slots all look open here names nobody: bidders that agree exchange nothing more', () => {
  assert.equal(holdersNamedByBid(bid('a'), toRanges([0, 1]), tasks(task(2, 'b')), everyoneAlive), [])
})

Holders('a bid naming a slot another live peer holds names that peer, once, however many of its slots the bid names', () => {
  const held = tasks(task(0, 'c'), task(1, 'c'), task(3, 'b'))
  assert.equal(holdersNamedByBid(bid('a'), toRanges([0, 1, 3, 7]), held, everyoneAlive), [p('b'), p('c')])
})

Holders('the bidder itself, tasks of another version, and holders not alive here are not named', () => {
  const held = tasks(task(0, 'a'), task(1, 'b', 'v0'), task(2, 'x'))
  const alive = (peer: PeerId) => peer !== p('x')
  assert.equal(holdersNamedByBid(bid('a'), toRanges([0, 1, 2]), held, alive), [])
})

Holders('inRanges finds an index in sorted half-open ranges, and nothing at their ends', () => {
  const ranges = toRanges([0, 1, 2, 5, 9, 10])
  const inside = Array.from({ length: 12 }, (_, i) => i).filter((i) => inRanges(ranges, i))
  assert.equal(inside, [0, 1, 2, 5, 9, 10])
  assert.is(inRanges([], 0), false)
})

Holders.run()
