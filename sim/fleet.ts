// A fleet for capacity questions: peers whose allocations change as services are placed on them with
// the agents' own placement functions — candidates from the ring, bids, the auction, widening rounds
// — but without the network in between, so a planner can place hundreds of thousands of services in
// seconds. `peer sim --fill` and `--sweep` build on it.
//
// Each placement costs O(k) bids for k candidates (about log₂ N + replicas), not O(N): only a service
// no candidate can take widens its round, up to the whole fleet.

import {
  addResources, auction, candidateCount, candidates, compareStrings, computeBid, couldHost, isActive,
  ringOf, subtractResources,
  type PeerId, type PeerRing, type PeerView, type PlacementRequest, type Resources, type ServiceName, type SlotId, type TaskView,
} from '../core/index.js'
import { resourceOrder } from './resource-names.js'

/** A peer of the fleet: a PeerView whose allocation and tasks the fleet updates in place. */
export interface FleetPeer extends PeerView {
  state: PeerView['state']
  allocated: Resources
  readonly tasks: TaskView[]
}

export type PlaceOutcome = { ok: true; placed: number } | { ok: false; placed: number }

/** One resource's totals over the fleet's live peers. */
export interface ResourceTotals {
  readonly capacity: number
  readonly allocated: number
}

export class Fleet {
  readonly peers: FleetPeer[]
  private readonly byId = new Map<PeerId, FleetPeer>()
  private ring: PeerRing
  /** Which peers hold each service's active tasks, for spreadBy domain counts in O(replicas). */
  private readonly holders = new Map<ServiceName, PeerId[]>()

  constructor(views: readonly PeerView[]) {
    this.peers = [...views].sort((a, b) => compareStrings(a.id, b.id)).map((view) => ({ ...view, tasks: [...view.tasks] }))
    for (const peer of this.peers) {
      this.byId.set(peer.id, peer)
      if (peer.state === 'dead') continue
      for (const task of peer.tasks) if (isActive(task.state)) this.holdersOf(task.service).push(peer.id)
    }
    this.ring = this.buildLiveRing()
  }

  /**
   * Places one task of `want` for each slot. With `allOrNothing`, a service that cannot place every
   * slot places none (its partial placements are taken back), as a user's service that does not fit
   * whole does not count as fitting.
   */
  place(want: PlacementRequest, slots: readonly SlotId[], allOrNothing: boolean): PlaceOutcome {
    const added: TaskView[] = []
    const bySlot = new Set(slots)
    let remaining = [...bySlot]
    for (let round = 0; remaining.length > 0 && this.ring.peers.length > 0; round++) {
      const count = candidateCount(remaining.length, this.ring.peers.length, round)
      const asked = candidates(this.ring, want.service, count, (id) => {
        const peer = this.byId.get(id)!
        return couldHost(want, peer.drivers, peer.labels)
      })
      const domainCounts = want.spreadBy === '' ? undefined : this.countByDomain(want.service, want.spreadBy)
      const bids = []
      for (const id of asked) {
        const result = computeBid(this.byId.get(id)!, want, remaining.length, { round, ...(domainCounts ? { domainCounts } : {}) })
        if (result.ok) bids.push(result.bid)
      }
      const outcome = auction({ service: want.service, specHash: want.specHash, slots: remaining, bids, scoring: want, spreadByDomain: want.spreadBy !== '' })
      for (const award of outcome.awards) added.push(this.assign(this.byId.get(award.peer)!, award.slot, want))
      remaining = [...outcome.unassigned]
      if (count >= this.ring.peers.length) break
    }
    if (remaining.length === 0) return { ok: true, placed: added.length }
    if (allOrNothing) {
      for (const task of added) this.unassign(task)
      return { ok: false, placed: 0 }
    }
    return { ok: false, placed: added.length }
  }

  /** Whether any live peer meets the service's constraints and has its driver (load aside). */
  couldHostAnywhere(want: PlacementRequest): boolean {
    return this.peers.some((p) => p.state !== 'dead' && couldHost(want, p.drivers, p.labels))
  }

  /** Peers die: returns the active tasks they held, which no longer count anywhere. */
  lose(ids: readonly PeerId[]): TaskView[] {
    const lost: TaskView[] = []
    for (const id of ids) {
      const peer = this.byId.get(id)
      if (peer === undefined || peer.state === 'dead') continue
      for (const task of [...peer.tasks]) {
        if (!isActive(task.state)) continue
        this.unassign(task)
        lost.push(task)
      }
      peer.state = 'dead'
    }
    this.ring = this.buildLiveRing()
    return lost
  }

  /** Capacity and allocation of cpu (millicores), memory (MiB) and each extended resource, over live peers. */
  totals(): Map<string, ResourceTotals> {
    const capacity = new Map<string, number>([['cpu', 0], ['memory', 0]])
    const allocated = new Map<string, number>([['cpu', 0], ['memory', 0]])
    const add = (into: Map<string, number>, name: string, amount: number) => into.set(name, (into.get(name) ?? 0) + amount)
    for (const peer of this.peers) {
      if (peer.state === 'dead') continue
      add(capacity, 'cpu', peer.capacity.cpuMilli)
      add(capacity, 'memory', peer.capacity.memoryMiB)
      add(allocated, 'cpu', peer.allocated.cpuMilli)
      add(allocated, 'memory', peer.allocated.memoryMiB)
      for (const name in peer.capacity.extended) add(capacity, name, peer.capacity.extended[name]!)
      for (const name in peer.allocated.extended) add(allocated, name, peer.allocated.extended[name]!)
    }
    const out = new Map<string, ResourceTotals>()
    for (const name of resourceOrder([...capacity.keys(), ...allocated.keys()])) {
      out.set(name, { capacity: capacity.get(name) ?? 0, allocated: allocated.get(name) ?? 0 })
    }
    return out
  }

  private assign(peer: FleetPeer, slot: SlotId, want: PlacementRequest): TaskView {
    const task: TaskView = {
      slot, service: want.service, peer: peer.id, specHash: want.specHash, state: 'running', since: 0,
      resources: want.resources, ports: want.ports,
    }
    peer.tasks.push(task)
    peer.allocated = addResources(peer.allocated, want.resources)
    this.holdersOf(want.service).push(peer.id)
    return task
  }

  private unassign(task: TaskView): void {
    const peer = this.byId.get(task.peer)!
    const index = peer.tasks.lastIndexOf(task)
    if (index < 0) throw new Error(`task ${task.slot} is not on ${task.peer}`)
    peer.tasks.splice(index, 1)
    peer.allocated = subtractResources(peer.allocated, task.resources)
    const holders = this.holdersOf(task.service)
    holders.splice(holders.lastIndexOf(peer.id), 1)
  }

  private holdersOf(service: ServiceName): PeerId[] {
    let list = this.holders.get(service)
    if (list === undefined) this.holders.set(service, (list = []))
    return list
  }

  private countByDomain(service: ServiceName, label: string): Map<string, number> {
    const counts = new Map<string, number>()
    for (const id of this.holders.get(service) ?? []) {
      const domain = this.byId.get(id)!.labels[label] ?? ''
      counts.set(domain, (counts.get(domain) ?? 0) + 1)
    }
    return counts
  }

  private buildLiveRing(): PeerRing {
    return ringOf(this.peers.filter((p) => p.state !== 'dead').map((p) => p.id))
  }
}
