// The planner's packed copy of what a bid reads from each live peer, one row of eight numbers (one
// cache line) per peer by ring index: cpu and memory, whether it is alive, its host class, its
// replicas of the service being planned and the hash of its id. At 100k peers the peer objects
// (capacity, allocated, tasks, labels) lie all over a heap of hundreds of megabytes, and reading them
// for each of a pass's million candidates was most of its time; the bid and the auction's tie-break
// now read one row. (The candidate walk's filter reads the host classes' own array, 2 bytes a peer,
// which stays in cache where a row a candidate did not.) For the common service — no host ports, no
// maxPerNode, no extended resources, no missing secrets — a bid needs only these numbers, and is the
// very bid computeBid makes. Anything else, and any peer that cannot take one more replica, goes to
// computeBid, which says why.

import { MAX_REPLICAS_PER_BID } from './bid.js'
import type { BidSheet } from './bid-sheet.js'
import type { HostClasses } from './host-classes.js'
import type { PlacementRequest } from './request.js'
import type { Resources } from '../service-spec/types.js'
import type { PeerView } from './view.js'

const FIELDS = 8
const CPU_CAPACITY = 0
const CPU_ALLOCATED = 1
const MEMORY_CAPACITY = 2
const MEMORY_ALLOCATED = 3
const ALIVE = 4
/** Host class (HostClasses), -1 when peers are not grouped. */
const CLASS = 5
/** Replicas of the service being planned: set from its holders when it starts, cleared when it ends. */
const REPLICAS = 6
const PEER_HASH = 7

export class PeerTable {
  private readonly numbers: Float64Array

  /** `peerHashes`: hash32 of each peer's id, by the same index. */
  constructor(peers: readonly PeerView[], private readonly classes: HostClasses, peerHashes: Uint32Array) {
    this.numbers = new Float64Array(peers.length * FIELDS)
    const grouped = classes.grouped
    peers.forEach((peer, i) => {
      const base = i * FIELDS
      this.numbers[base + CPU_CAPACITY] = peer.capacity.cpuMilli
      this.numbers[base + CPU_ALLOCATED] = peer.allocated.cpuMilli
      this.numbers[base + MEMORY_CAPACITY] = peer.capacity.memoryMiB
      this.numbers[base + MEMORY_ALLOCATED] = peer.allocated.memoryMiB
      this.numbers[base + ALIVE] = peer.state === 'alive' ? 1 : 0
      this.numbers[base + CLASS] = grouped ? classes.classAt(i) : -1
      this.numbers[base + PEER_HASH] = peerHashes[i]!
    })
  }

  /** Keeps the copy equal to the peer's allocation after one more task of `resources` (as addResources sums). */
  add(index: number, resources: Resources): void {
    this.numbers[index * FIELDS + CPU_ALLOCATED] = this.numbers[index * FIELDS + CPU_ALLOCATED]! + resources.cpuMilli * 1
    this.numbers[index * FIELDS + MEMORY_ALLOCATED] = this.numbers[index * FIELDS + MEMORY_ALLOCATED]! + resources.memoryMiB * 1
  }

  /** The peer's cpu and memory allocation as this table has summed it. */
  cpuAllocated(index: number): number {
    return this.numbers[index * FIELDS + CPU_ALLOCATED]!
  }

  memoryAllocated(index: number): number {
    return this.numbers[index * FIELDS + MEMORY_ALLOCATED]!
  }

  /** Replicas of the service being planned on the peer. */
  replicas(index: number): number {
    return this.numbers[index * FIELDS + REPLICAS]!
  }

  addReplica(index: number): void {
    this.numbers[index * FIELDS + REPLICAS]!++
  }

  clearReplicas(index: number): void {
    this.numbers[index * FIELDS + REPLICAS] = 0
  }

  peerHash(index: number): number {
    return this.numbers[index * FIELDS + PEER_HASH]!
  }

  /** The peer's value of label `name` ('' when unset) from its class, or undefined when not grouped. */
  label(index: number, name: string): string | undefined {
    const group = this.numbers[index * FIELDS + CLASS]!
    return group < 0 ? undefined : this.classes.label(group, name)
  }

  /** couldHost for `want` by peer index (HostClasses.filter's). */
  filter(want: PlacementRequest): (index: number) => boolean {
    return this.classes.filter(want)
  }

  /** Whether bids for `want` can be made here: nothing feasibility or the bid reads beyond these numbers. */
  static serves(want: PlacementRequest): boolean {
    if (want.maxPerNode !== 0 || want.ports.length > 0 || want.missingSecrets.length > 0) return false
    for (const _ in want.resources.extended) return false
    return true
  }

  /**
   * Whether each peer of `indexes` is alive and has room for one more replica of `want` (bidInto's
   * first tests), into `into` by position. A round's candidates lie all over the table, so each
   * row read is a cache miss; asked here, in a loop that does nothing else, the misses of a whole
   * round overlap, where bid by bid each waited for the one before. The bids then find their rows
   * in cache.
   */
  roomForOne(indexes: readonly number[], want: PlacementRequest, into: Uint8Array): void {
    const numbers = this.numbers
    const cpu = want.resources.cpuMilli
    const memory = want.resources.memoryMiB
    for (let i = 0; i < indexes.length; i++) {
      const base = indexes[i]! * FIELDS
      const alive = numbers[base + ALIVE] === 1
      const cpuShort = numbers[base + CPU_ALLOCATED]! + cpu > numbers[base + CPU_CAPACITY]! && cpu > 0
      const memoryShort = numbers[base + MEMORY_ALLOCATED]! + memory > numbers[base + MEMORY_CAPACITY]! && memory > 0
      into[i] = alive && !cpuShort && !memoryShort ? 1 : 0
    }
  }

  /**
   * computeBid's bid for a peer that passed couldHost for `want` (a service this table serves),
   * written into `sheet` as the bidder with ref `index` (no id: the sheet names it by ref); false, writing nothing, when the peer is not alive or
   * one more replica does not fit: computeBid then rejects it.
   */
  bidInto(sheet: BidSheet, index: number, want: PlacementRequest, wanted: number, domain: string, domainCount: number): boolean {
    const base = index * FIELDS
    if (this.numbers[base + ALIVE] !== 1) return false
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
    sheet.add(
      undefined, this.numbers[base + PEER_HASH]!, index, this.numbers[base + REPLICAS]!, Math.max(0, offered), domain, domainCount,
      cpuCapacity, cpuAllocated, memoryCapacity, memoryAllocated, undefined,
    )
    return true
  }
}
