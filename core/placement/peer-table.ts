// The planner's packed copy of what a bid reads from each live peer: state, cpu and memory, one
// cache line per peer by ring index. At 100k peers the peer objects (capacity, allocated, tasks,
// labels) lie all over a heap of hundreds of megabytes, and reading them for each of a pass's million
// candidates was most of its time. For the common service — no host ports, no maxPerNode, no
// extended resources, no missing secrets — a bid needs only these numbers and the peer's replica
// count, and is the very bid computeBid makes. Anything else, and any peer that cannot take one more
// replica, goes to computeBid, which says why.

import { MAX_REPLICAS_PER_BID } from './bid.js'
import type { BidSheet } from './bid-sheet.js'
import type { PeerId } from './ids.js'
import type { PlacementRequest } from './request.js'
import type { Resources } from '../service-spec/types.js'
import type { PeerView } from './view.js'

const FIELDS = 4
const CPU_CAPACITY = 0
const CPU_ALLOCATED = 1
const MEMORY_CAPACITY = 2
const MEMORY_ALLOCATED = 3

export class PeerTable {
  private readonly numbers: Float64Array
  private readonly alive: Uint8Array

  constructor(peers: readonly PeerView[]) {
    this.numbers = new Float64Array(peers.length * FIELDS)
    this.alive = new Uint8Array(peers.length)
    peers.forEach((peer, i) => {
      this.alive[i] = peer.state === 'alive' ? 1 : 0
      this.numbers[i * FIELDS + CPU_CAPACITY] = peer.capacity.cpuMilli
      this.numbers[i * FIELDS + CPU_ALLOCATED] = peer.allocated.cpuMilli
      this.numbers[i * FIELDS + MEMORY_CAPACITY] = peer.capacity.memoryMiB
      this.numbers[i * FIELDS + MEMORY_ALLOCATED] = peer.allocated.memoryMiB
    })
  }

  /** Keeps the copy equal to the peer's allocation after one more task of `resources` (as addResources sums). */
  add(index: number, resources: Resources): void {
    this.numbers[index * FIELDS + CPU_ALLOCATED] = this.numbers[index * FIELDS + CPU_ALLOCATED]! + resources.cpuMilli * 1
    this.numbers[index * FIELDS + MEMORY_ALLOCATED] = this.numbers[index * FIELDS + MEMORY_ALLOCATED]! + resources.memoryMiB * 1
  }

  /** Whether bids for `want` can be made here: nothing feasibility or the bid reads beyond these numbers. */
  static serves(want: PlacementRequest): boolean {
    if (want.maxPerNode !== 0 || want.ports.length > 0 || want.missingSecrets.length > 0) return false
    for (const _ in want.resources.extended) return false
    return true
  }

  /**
   * computeBid's bid for a peer that passed couldHost for `want` (a service this table serves),
   * written into `sheet` as the bidder `index`; false, writing nothing, when the peer is not alive or
   * one more replica does not fit: computeBid then rejects it.
   */
  bidInto(sheet: BidSheet, index: number, peer: PeerId, peerHash: number, want: PlacementRequest, wanted: number, existing: number, domain: string, domainCount: number): boolean {
    if (this.alive[index] !== 1) return false
    const base = index * FIELDS
    const cpuCapacity = this.numbers[base + CPU_CAPACITY]!
    const cpuAllocated = this.numbers[base + CPU_ALLOCATED]!
    const memoryCapacity = this.numbers[base + MEMORY_CAPACITY]!
    const memoryAllocated = this.numbers[base + MEMORY_ALLOCATED]!
    const cpu = want.resources.cpuMilli
    const memory = want.resources.memoryMiB
    // shortfall(): feasibility's resource check.
    if (cpuAllocated + cpu > cpuCapacity && cpu > 0) return false
    if (memoryAllocated + memory > memoryCapacity && memory > 0) return false
    // unitsThatFit(), then computeBid's bounds.
    let units = Infinity
    if (cpu > 0) units = Math.min(units, Math.floor((cpuCapacity - cpuAllocated) / cpu))
    if (memory > 0) units = Math.min(units, Math.floor((memoryCapacity - memoryAllocated) / memory))
    const offered = Math.min(wanted, MAX_REPLICAS_PER_BID, Math.max(0, units))
    sheet.add(peer, peerHash, index, existing, Math.max(0, offered), domain, domainCount, cpuCapacity, cpuAllocated, memoryCapacity, memoryAllocated, undefined)
    return true
  }
}
