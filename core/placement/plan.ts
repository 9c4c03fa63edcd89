// The planner: one whole placement pass over a cluster view, with the same functions the peers use
// when they bid for real (reconcile → candidates → bids → auction). Offline it answers `peer plan`;
// the simulator and the benchmark use it to place at scale. It works on a private copy of the view
// and returns the result as data.

import { auctionSheet } from './auction.js'
import { computeBid } from './bid.js'
import { BidSheet } from './bid-sheet.js'
import { candidateCount, candidateOwners, ringOf, type PeerRing } from './candidates.js'
import { countRejections, feasible, type Rejection, type RejectionCount, type RejectionReason } from './feasibility.js'
import { hash32 } from '../hash.js'
import { compareStrings, sortBySlot, type PeerId, type ServiceName, type SlotId } from './ids.js'
import { mergeSettled, reconcileEach, type PlaceAction, type PlaceReason, type ReconcileEach, type StopAction, type WaitAction, type Rollout } from './reconcile.js'
import { HostClasses } from './host-classes.js'
import { PeerTable } from './peer-table.js'
import { peersInIdOrder } from './peer-order.js'
import { couldHost, placementRequest, type PlacementRequest } from './request.js'
import { marginalScore, type Score } from './scoring.js'
import { subtractResources } from '../service-spec/resources.js'
import type { Resources, ServiceSpec } from '../service-spec/types.js'
import { isActive, type PeerState, type PeerView, type TaskView } from './view.js'

export interface Placement {
  readonly slot: SlotId
  readonly service: ServiceName
  readonly peer: PeerId
  readonly reason: PlaceReason
  readonly score: Score
  /** Bid round that placed it: 0 unless the candidate set had to widen. */
  readonly round: number
}

export interface PendingSlot {
  readonly slot: SlotId
  readonly service: ServiceName
  readonly reason: PlaceReason
  /** Why no peer took it, most common reason first; empty when the cluster has no peers. */
  readonly rejections: readonly RejectionCount[]
}

/** One peer's part in a service's placement: its bid or its rejection, from the last round it was asked. */
export interface CandidateReport {
  readonly peer: PeerId
  readonly round: number
  /** Replicas it offered and the score of the first, when it bid. */
  readonly offered?: number
  readonly bestScore?: Score
  readonly won?: number
  readonly rejection?: { readonly reason: RejectionReason; readonly detail: string }
}

export interface ServicePlan {
  readonly service: ServiceName
  readonly specHash: string
  readonly rounds: number
  readonly candidates: readonly CandidateReport[]
  /** Peers never asked because their labels or drivers rule the service out (explain only). */
  readonly ruledOut: readonly RejectionCount[]
}

export interface PeerUsage {
  readonly peer: PeerId
  readonly state: PeerState
  readonly capacity: Resources
  readonly allocated: Resources
  readonly tasks: number
}

export interface PlanResult {
  readonly placements: readonly Placement[]
  readonly pending: readonly PendingSlot[]
  readonly stops: readonly StopAction[]
  readonly keep: readonly TaskView[]
  readonly wait: readonly WaitAction[]
  readonly rollouts: readonly Rollout[]
  readonly peers: readonly PeerUsage[]
  readonly services: readonly ServicePlan[]
}

export interface PlanInput {
  readonly services: readonly ServiceSpec[]
  readonly peers: readonly PeerView[]
  readonly now: number
  /** Collect per-candidate reports (for `peer why`); off in benchmarks. Default true. */
  readonly explain?: boolean
}

interface WorkingPeer {
  id: PeerId
  state: PeerState
  capacity: Resources
  allocated: Resources
  /** Index in the ring of live peers (and in the peer table); -1 for dead peers. */
  ringIndex: number
  /**
   * The planner's own copy of `allocated`, made on the peer's first placement: its extended resources
   * added to in place, its cpu and memory copied from the peer table's sums when the view is read.
   */
  owned: { cpuMilli: number; memoryMiB: number; extended: Record<string, number> } | undefined
  labels: Readonly<Record<string, string>>
  drivers: PeerView['drivers']
  /**
   * The peer's tasks as a PeerView shows them: the input's own array until the pass first changes it
   * (copy on write). Tasks placed in this pass are written here only when something reads the view
   * (written()): most bids come from the peer table and never do, and a TaskView per placement was
   * half a million objects a pass at 100k peers.
   */
  tasks: readonly TaskView[]
  ownTasks: boolean
}

// A live peer's placements of this pass not yet in its view, by ring index in `links` (four numbers a
// peer, so placing a replica touches no peer object): the first and last of them (indexes into the
// pass's placements, linked by nextOnPeer), how many, and whether `allocated` lags the peer table.
const LINK_FIELDS = 4
const FIRST_UNWRITTEN = 0
const LAST_PLACED = 1
const UNWRITTEN = 2
const ALLOCATION_STALE = 3

export function plan(input: PlanInput): PlanResult {
  const explain = input.explain ?? true
  const each = reconcileEach(input)
  const decided = mergeSettled(each)
  // The working peers in id order, one per id: of two views of one id the later stands, in the
  // place of the first, as a map by id would keep them.
  const working: WorkingPeer[] = []
  const inIdOrder = peersInIdOrder(input.peers)
  for (let i = 0; i < inIdOrder.length; i++) {
    const peer = inIdOrder[i]!
    // Every field written here, in one order, so all working peers share one shape.
    const entry: WorkingPeer = {
      id: peer.id, state: peer.state, capacity: peer.capacity, allocated: peer.allocated, labels: peer.labels,
      drivers: peer.drivers, tasks: peer.tasks, ownTasks: false, ringIndex: -1, owned: undefined,
    }
    if (working.length > 0 && working[working.length - 1]!.id === peer.id) working[working.length - 1] = entry
    else working.push(entry)
  }
  // By id, built on the first lookup: only stops and global slots look peers up by id, and a pass
  // with neither (a capacity plan) would build a 100k-entry map for nothing.
  let byId: Map<PeerId, WorkingPeer> | undefined
  const workingPeer = (id: PeerId): WorkingPeer | undefined => (byId ??= new Map(working.map((p) => [p.id, p]))).get(id)

  // Stopped tasks free their resources before anything is placed: the plan shows the end state.
  for (const { task } of decided.stop) {
    const peer = workingPeer(task.peer)
    if (peer === undefined) continue
    const index = peer.tasks.indexOf(task)
    if (index >= 0) {
      ownTasks(peer).splice(index, 1)
      peer.allocated = subtractResources(peer.allocated, task.resources)
    }
  }

  const live = working.filter((p) => p.state !== 'dead')
  const ring = ringOf(live.map((p) => p.id))
  // The ring's peers as working peers, by ring index: candidates come back as indexes into this.
  // The ring lists the live ids sorted and once each, which `live` already is.
  const ringPeers = sameIds(ring.peers, live) ? live : ring.peers.map((id) => workingPeer(id)!)
  for (let index = 0; index < ringPeers.length; index++) ringPeers[index]!.ringIndex = index
  const hostClasses = new HostClasses(ringPeers)
  const table = new PeerTable(ringPeers, hostClasses, peerHashesOf(ring))
  const sheet = new BidSheet(ring.peers)
  /** A live peer's value of a label, from its host class when peers are grouped. */
  const domainOf = (index: number, label: string): string => table.label(index, label) ?? (ringPeers[index]!.labels[label] ?? '')
  const links = new Int32Array(ringPeers.length * LINK_FIELDS)
  for (let index = 0; index < ringPeers.length; index++) links[index * LINK_FIELDS + FIRST_UNWRITTEN] = -1

  // Which live peers (by ring index) hold each service's active tasks: spreadBy counts per domain
  // and the replica counts of bids come from this in O(replicas of the service), not a scan of tasks.
  const holders = new Map<ServiceName, number[]>()
  for (let index = 0; index < ringPeers.length; index++) {
    const peer = ringPeers[index]!
    for (let t = 0; t < peer.tasks.length; t++) {
      const task = peer.tasks[t]!
      if (!isActive(task.state)) continue
      const list = holders.get(task.service)
      if (list === undefined) holders.set(task.service, [peer.ringIndex])
      else list.push(peer.ringIndex)
    }
  }

  const placements: Placement[] = []
  const pending: PendingSlot[] = []
  const servicePlans: ServicePlan[] = []
  const planned = placeActionsByService(each, input.services)
  // Beside each placement: its service's request (by the service's position in `planned`), and the
  // next placement on the same peer (-1 at the end), from which a peer's view gets its tasks of this
  // pass when something reads it. A pass places at most one replica per action.
  let actionCount = 0
  for (const { actions } of planned) actionCount += actions.length
  const wants: PlacementRequest[] = []
  const placedWant = new Int32Array(actionCount)
  const nextOnPeer = new Int32Array(actionCount)
  /** The peer's allocation after this pass's placements so far (cpu and memory as the table summed them). */
  const allocated = (peer: WorkingPeer): WorkingPeer => {
    const link = peer.ringIndex * LINK_FIELDS
    if (peer.ringIndex < 0 || links[link + ALLOCATION_STALE] === 0) return peer
    const owned = ownedAllocation(peer)
    owned.cpuMilli = table.cpuAllocated(peer.ringIndex)
    owned.memoryMiB = table.memoryAllocated(peer.ringIndex)
    links[link + ALLOCATION_STALE] = 0
    return peer
  }

  /** The peer as a PeerView with every task placed so far: for feasibility and computeBid. */
  const written = (peer: WorkingPeer): WorkingPeer => {
    allocated(peer)
    const link = peer.ringIndex * LINK_FIELDS
    if (peer.ringIndex < 0 || links[link + FIRST_UNWRITTEN]! < 0) return peer
    const tasks = ownTasks(peer)
    for (let i = links[link + FIRST_UNWRITTEN]!; i >= 0; i = nextOnPeer[i]!) {
      const placement = placements[i]!
      const want = wants[placedWant[i]!]!
      tasks.push({
        slot: placement.slot, service: placement.service, peer: peer.id, specHash: want.specHash,
        state: 'pending', since: input.now, resources: want.resources, ports: want.ports,
      })
    }
    links[link + FIRST_UNWRITTEN] = -1
    links[link + UNWRITTEN] = 0
    return peer
  }

  /** Places a replica on the live peer at ring index `index` (only alive peers pass feasibility). */
  const assign = (index: number, action: PlaceAction, want: PlacementRequest, score: Score, round: number) => {
    const placement = placements.length
    placedWant[placement] = wants.length - 1 // the service being planned: `want` is its request
    nextOnPeer[placement] = -1
    const link = index * LINK_FIELDS
    if (links[link + FIRST_UNWRITTEN]! < 0) links[link + FIRST_UNWRITTEN] = placement
    else nextOnPeer[links[link + LAST_PLACED]!] = placement
    links[link + LAST_PLACED] = placement
    links[link + UNWRITTEN]!++
    links[link + ALLOCATION_STALE] = 1
    // addResources' sums, in place: cpu and memory in the table, extended resources on the peer's own copy.
    table.add(index, want.resources)
    table.addReplica(index)
    for (const _ in want.resources.extended) {
      addExtended(ownedAllocation(ringPeers[index]!).extended, want.resources.extended)
      break
    }
    const list = holders.get(action.service)
    if (list === undefined) holders.set(action.service, [index])
    else list.push(index)
    placements.push({ slot: action.slot, service: action.service, peer: ring.peers[index]!, reason: action.reason, score, round })
  }

  /** Which of a round's candidates have room for one more replica (PeerTable.roomForOne), by position. */
  let room = new Uint8Array(64)
  for (const { service, want, actions } of planned) {
    wants.push(want)
    // Only explain fills it: without, every service shares one empty map.
    const reports = explain ? new Map<PeerId, CandidateReport>() : NO_REPORTS

    // Global slots belong to one peer: it takes the slot if it can.
    let fixed = 0
    for (let a = 0; a < actions.length; a++) {
      const action = actions[a]!
      if (action.peer === undefined) continue
      fixed++
      const peer = workingPeer(action.peer)
      const check = peer === undefined ? undefined : feasible(written(peer), want)
      if (peer !== undefined && check?.ok) assign(peer.ringIndex, action, want, [1], 0)
      else pending.push({ slot: action.slot, service, reason: action.reason, rejections: check && !check.ok ? countRejections([check.rejection]) : [] })
    }

    // Replicated slots and jobs go to auction, widening the candidate set until they fit or it covers everyone.
    // `remaining` and `remainingActions` stay side by side: the auction hands its slots back in the
    // order given when that order is already the slot order (as reconcile's is), so each winner's
    // action is found by position, without a map from slot to action per service.
    let remainingActions: readonly PlaceAction[] = fixed === 0 ? actions : actions.filter((a) => a.peer === undefined)
    let remaining = remainingActions.map((a) => a.slot)
    const mayHost = table.filter(want)
    const packed = PeerTable.serves(want)
    const held = holders.get(service)
    if (held !== undefined) for (let h = 0; h < held.length; h++) table.addReplica(held[h]!)
    let round = 0
    let roundsRun = 0
    while (remaining.length > 0 && ring.peers.length > 0) {
      roundsRun++
      const count = candidateCount(remaining.length, ring.peers.length, round)
      const asked = candidateOwners(ring, service, count, mayHost)
      const domainCounts = want.spreadBy === '' ? undefined : countByDomain(holders.get(service) ?? [], domainOf, want.spreadBy)
      const context = { round, ...(domainCounts ? { domainCounts } : {}) }
      // Each candidate's bid goes straight into the sheet, with its ring index as the bidder's ref:
      // the packed table's bids never exist as objects.
      sheet.clear()
      if (packed) {
        if (room.length < asked.length) room = new Uint8Array(2 * asked.length)
        table.roomForOne(asked, want, room)
      }
      for (let position = 0; position < asked.length; position++) {
        const owner = asked[position]!
        let bidder = -1
        if (packed && room[position] === 1) {
          const domain = want.spreadBy === '' ? '' : domainOf(owner, want.spreadBy)
          const domainCount = want.spreadBy === '' ? 0 : (domainCounts?.get(domain) ?? 0)
          if (table.bidInto(sheet, owner, want, remaining.length, domain, domainCount)) bidder = sheet.size - 1
        }
        // A peer the packed table turns down gets no bid from computeBid either (bidInto's contract);
        // computeBid is asked only for its reason, which only explain reports.
        if (bidder < 0 && (!packed || explain)) {
          const result = computeBid(written(ringPeers[owner]!), want, remaining.length, context)
          if (result.ok) bidder = sheet.addBid(result.bid, owner, table.peerHash(owner))
          else if (explain) reports.set(ring.peers[owner]!, { peer: ring.peers[owner]!, round, rejection: { reason: result.rejection.reason, detail: result.rejection.detail } })
        }
        if (bidder >= 0 && explain) {
          const offered = sheet.offered[bidder]!
          const id = ring.peers[owner]!
          reports.set(id, { peer: id, round, offered, ...(offered > 0 ? { bestScore: marginalScore(sheet.scoringState(bidder), want, sheet.existing[bidder]!, 0) } : {}) })
        }
      }
      const outcome = auctionSheet(service, remaining, sheet, want, want.spreadBy !== '')
      if (!sameSlots(outcome.slots, remaining)) remainingActions = inOrderOf(outcome.slots, remainingActions)
      for (let i = 0; i < outcome.winners.length; i++) {
        const bidder = outcome.winners[i]!
        assign(sheet.ref[bidder]!, remainingActions[i]!, want, outcome.scores[i]!, round)
        if (explain) {
          const report = reports.get(sheet.peerAt(bidder))!
          reports.set(report.peer, { ...report, won: (report.won ?? 0) + 1 })
        }
      }
      remaining = outcome.slots.slice(outcome.winners.length)
      remainingActions = remainingActions.slice(outcome.winners.length)
      if (count >= ring.peers.length) break
      round++
    }
    // The service's holders now include its placements of this pass.
    const holding = holders.get(service)
    if (holding !== undefined) for (let h = 0; h < holding.length; h++) table.clearReplicas(holding[h]!)

    if (remaining.length > 0) {
      // Ask every live peer, after this pass's placements, why it cannot take more: candidates skip
      // peers whose labels rule them out, and those reasons matter most to the user.
      const rejections: Rejection[] = []
      for (const peer of working) {
        if (peer.state === 'dead') continue
        const check = feasible(written(peer), want)
        if (!check.ok) rejections.push(check.rejection)
      }
      const counted = countRejections(rejections)
      for (let i = 0; i < remaining.length; i++) pending.push({ slot: remaining[i]!, service, reason: remainingActions[i]!.reason, rejections: counted })
    }
    const ruledOut: Rejection[] = []
    if (explain) {
      for (const peer of working) {
        if (peer.state === 'dead' || couldHost(want, peer.drivers, peer.labels)) continue
        const check = feasible(written(peer), want)
        if (!check.ok) ruledOut.push(check.rejection)
      }
    }
    servicePlans.push({
      service,
      specHash: want.specHash,
      rounds: roundsRun,
      ruledOut: countRejections(ruledOut),
      candidates: explain ? [...reports.values()].sort((a, b) => compareStrings(a.peer, b.peer)) : [],
    })
  }

  sortBySlot(placements, (p) => p.slot)
  sortBySlot(pending, (p) => p.slot)
  return {
    placements,
    pending,
    stops: decided.stop,
    keep: decided.keep,
    wait: decided.wait,
    rollouts: decided.rollouts,
    peers: working.map((p) => ({
      peer: p.id,
      state: p.state,
      capacity: p.capacity,
      allocated: allocated(p).allocated,
      tasks: countActive(p.tasks) + (p.ringIndex < 0 ? 0 : links[p.ringIndex * LINK_FIELDS + UNWRITTEN]!),
    })),
    services: servicePlans,
  }
}

/**
 * Each service with place actions, by name, with its request and the actions reconcile made for it,
 * not one merged list regrouped by service. They are left in reconcile's order, nearly always slot
 * order already: the auction takes its slots in slot order whatever order they come in, global slots
 * (one per peer) do not depend on each other, and the pass's placements and pending slots are sorted
 * at its end. Should two specs share a name (no document allows it), their actions are merged and
 * sorted and the later spec in `services` is planned, as a map by name would.
 */
function placeActionsByService(each: ReconcileEach, services: readonly ServiceSpec[]): Array<{ service: ServiceName; want: PlacementRequest; actions: readonly PlaceAction[] }> {
  const planned: Array<{ service: ServiceName; want: PlacementRequest; actions: readonly PlaceAction[] }> = []
  let previous: string | undefined
  let unique = true
  for (const { spec, result } of each.services) {
    unique &&= previous === undefined || previous < spec.name
    previous = spec.name
    if (result.place.length > 0) planned.push({ service: spec.name, want: result.request, actions: result.place })
  }
  if (unique) return planned
  const specs = new Map(services.map((spec) => [spec.name, spec]))
  const byService = new Map<ServiceName, PlaceAction[]>()
  for (const { actions } of planned) {
    for (const action of actions) {
      const list = byService.get(action.service)
      if (list === undefined) byService.set(action.service, [action])
      else list.push(action)
    }
  }
  return [...byService.keys()].sort(compareStrings).map((service) => ({ service, want: placementRequest(specs.get(service)!), actions: sortBySlot(byService.get(service)!, (a) => a.slot) }))
}

/** Whether `peers` are the peers of `ids`, in that order. */
function sameIds(ids: readonly PeerId[], peers: readonly WorkingPeer[]): boolean {
  if (ids.length !== peers.length) return false
  for (let i = 0; i < ids.length; i++) if (ids[i] !== peers[i]!.id) return false
  return true
}

/** Whether two slot lists hold the same slots in the same order. */
function sameSlots(a: readonly SlotId[], b: readonly SlotId[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The actions of `slots`, in that order (each slot's action among `actions`). */
function inOrderOf(slots: readonly SlotId[], actions: readonly PlaceAction[]): PlaceAction[] {
  const bySlot = new Map(actions.map((a) => [a.slot, a]))
  return slots.map((slot) => bySlot.get(slot)!)
}

const NO_REPORTS = new Map<PeerId, CandidateReport>()

/** hash32 of each ring peer's id (the auction's tie-break), kept with the ring as ringOf keeps rings. */
const ringHashes = new WeakMap<PeerRing, Uint32Array>()

function peerHashesOf(ring: PeerRing): Uint32Array {
  let hashes = ringHashes.get(ring)
  if (hashes === undefined) {
    hashes = Uint32Array.from(ring.peers, (id) => hash32(id))
    ringHashes.set(ring, hashes)
  }
  return hashes
}

/** The peer's tasks as an array of its own, copied from the input's on the first change. */
function ownTasks(peer: WorkingPeer): TaskView[] {
  if (!peer.ownTasks) {
    peer.tasks = [...peer.tasks]
    peer.ownTasks = true
  }
  return peer.tasks as TaskView[]
}

function countByDomain(holders: readonly number[], domainOf: (index: number, label: string) => string, label: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const index of holders) {
    const domain = domainOf(index, label)
    counts.set(domain, (counts.get(domain) ?? 0) + 1)
  }
  return counts
}

/** The peer's own copy of its allocation, made on first use (the input's objects are never written). */
function ownedAllocation(peer: WorkingPeer): { cpuMilli: number; memoryMiB: number; extended: Record<string, number> } {
  if (peer.owned === undefined) {
    peer.owned = { cpuMilli: peer.allocated.cpuMilli, memoryMiB: peer.allocated.memoryMiB, extended: { ...peer.allocated.extended } }
    peer.allocated = peer.owned
  }
  return peer.owned
}

function countActive(tasks: readonly TaskView[]): number {
  let count = 0
  for (const task of tasks) if (isActive(task.state)) count++
  return count
}

/** addResources' sums of extended resources, written into `into`. */
function addExtended(into: Record<string, number>, add: Resources['extended']): void {
  for (const name in add) into[name] = (into[name] ?? 0) + add[name]! * 1
}
