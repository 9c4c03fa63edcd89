// Level-based reconcile (controller-runtime style): it reads the whole desired state and the whole
// actual view every time and says what must change. A lost or duplicated message can delay it but
// never leave it wrong, because the next pass sees the world as it is. It decides *what* must change;
// *where* new tasks go is the auction's job (place actions carry no peer, except for global slots).
//
// Per desired slot:
//   no active task ............................ place (reason new, or failover if its peer died)
//   a job slot that completed ................. nothing, ever again
//   several tasks ............................. the conflict rule keeps one; the rest stop once it is up
//   one task on an old version ................ update, at most `parallelism` slots at a time, in slot
//                                               order, each wave after the previous is settled
//   one task on a peer it may no longer use ... place a replacement; the old one stops once the
//                                               replacement is up (the conflict rule prefers it)
// Tasks of services no longer desired, or past the replica count, stop.

import { compareStrings, globalSlot, sortBySlot, parseSlot, replicaSlot, type PeerId, type ServiceName, type SlotId } from './ids.js'
import { resolveClaims } from './conflict.js'
import { placementRequest, type PlacementRequest } from './request.js'
import type { ServiceSpec } from './spec/types.js'
import { isActive, isUp, type PeerView, type TaskView } from './view.js'

export type PlaceReason = 'new' | 'failover' | 'migrate' | 'update'
export type StopReason = 'not-desired' | 'scaled-down' | 'duplicate' | 'superseded' | 'ineligible'

export interface PlaceAction {
  readonly slot: SlotId
  readonly service: ServiceName
  readonly reason: PlaceReason
  /** Set for global slots, which belong to one peer. */
  readonly peer?: PeerId
  /** The task this placement replaces, for migrate and update. */
  readonly replaces?: TaskView
}

export interface StopAction {
  readonly task: TaskView
  readonly reason: StopReason
}

/** A slot that has work in flight and nothing to do until it settles. */
export interface WaitAction {
  readonly slot: SlotId
  readonly why: 'replacement-starting' | 'update-wave'
}

export interface Rollout {
  readonly service: ServiceName
  readonly specHash: string
  /** Slots on the desired version and settled. */
  readonly settled: number
  /** Slots moving now (counted against parallelism). */
  readonly inFlight: number
  /** Slots still on an old version, waiting for their wave. */
  readonly waiting: number
}

export interface ReconcileResult {
  readonly place: readonly PlaceAction[]
  readonly stop: readonly StopAction[]
  readonly keep: readonly TaskView[]
  readonly wait: readonly WaitAction[]
  readonly rollouts: readonly Rollout[]
}

export interface ReconcileInput {
  readonly services: readonly ServiceSpec[]
  readonly peers: readonly PeerView[]
  /** Current time, ms, on the same clock as the tasks' `since`. */
  readonly now: number
}

/** Peer states on which an existing task may stay. */
const HOLDS_TASKS = new Set(['alive', 'suspect', 'cordoned'])

export function reconcile(input: ReconcileInput): ReconcileResult {
  const place: PlaceAction[] = []
  const stop: StopAction[] = []
  const keep: TaskView[] = []
  const wait: WaitAction[] = []
  const rollouts: Rollout[] = []

  const peersById = new Map(input.peers.map((peer) => [peer.id, peer]))
  const desired = new Map(input.services.map((spec) => [spec.name, spec]))

  // Active tasks grouped by service and slot. Tasks on dead peers are gone; their slots are unowned.
  const lostSlots = new Set<SlotId>()
  const bySlot = new Map<ServiceName, Map<SlotId, TaskView[]>>()
  const completed = new Set<string>()
  for (const peer of input.peers) {
    for (const task of peer.tasks) {
      // A job slot is done for the version that completed; a new version runs it again (as Nomad does).
      if (task.state === 'complete') completed.add(`${task.slot}#${task.specHash}`)
      if (!isActive(task.state)) continue
      if (peer.state === 'dead') {
        lostSlots.add(task.slot)
        continue
      }
      const spec = desired.get(task.service)
      const parsed = parseSlot(task.slot)
      if (spec === undefined || parsed === undefined || parsed.service !== task.service) {
        stop.push({ task, reason: 'not-desired' })
        continue
      }
      let slots = bySlot.get(task.service)
      if (slots === undefined) bySlot.set(task.service, (slots = new Map()))
      const list = slots.get(task.slot)
      if (list === undefined) slots.set(task.slot, [task])
      else list.push(task)
    }
  }

  for (const spec of [...input.services].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const want = placementRequest(spec)
    const tasksBySlot = bySlot.get(spec.name) ?? new Map<SlotId, TaskView[]>()
    const eligible = (peer: PeerId): boolean => mayHold(peersById.get(peer), want)
    const desiredSlots = desiredSlotsOf(spec, input.peers, want, tasksBySlot)
    const desiredSet = new Set(desiredSlots.map((d) => d.slot))

    for (const [slot, tasks] of tasksBySlot) {
      if (desiredSet.has(slot)) continue
      for (const task of tasks) stop.push({ task, reason: spec.mode === 'global' ? 'ineligible' : 'scaled-down' })
    }

    // First pass: settle each slot's ownership; collect old-version slots for the rolling update.
    const outdated: Array<{ slot: SlotId; task: TaskView }> = []
    let settled = 0
    let inFlight = 0
    for (const { slot, peer } of desiredSlots) {
      const tasks = tasksBySlot.get(slot) ?? []
      if (spec.mode === 'job' && completed.has(`${slot}#${want.specHash}`)) continue
      if (tasks.length === 0) {
        place.push({ slot, service: spec.name, reason: lostSlots.has(slot) ? 'failover' : 'new', ...(peer ? { peer } : {}) })
        inFlight++
        continue
      }
      const { keep: kept, losers, mayStopLosers } = resolveClaims(tasks, want.specHash, eligible)
      keep.push(kept)
      for (const loser of losers) {
        if (mayStopLosers) stop.push({ task: loser, reason: loser.specHash === want.specHash ? 'duplicate' : 'superseded' })
        else keep.push(loser)
      }
      if (losers.length > 0 && !mayStopLosers) wait.push({ slot, why: 'replacement-starting' })

      if (kept.specHash !== want.specHash) {
        outdated.push({ slot, task: kept })
      } else if (!eligible(kept.peer)) {
        // Draining, or no longer matching the constraints: replace first, then stop (via the conflict rule).
        place.push({ slot, service: spec.name, reason: 'migrate', replaces: kept, ...(peer ? { peer } : {}) })
        inFlight++
      } else if (isSettled(kept, spec, input.now)) {
        settled++
      } else {
        inFlight++
      }
    }

    // Rolling update: move old-version slots in slot order, `parallelism` at a time.
    let budget = Math.max(0, spec.update.parallelism - inFlight)
    let waiting = 0
    for (const { slot, task } of outdated) {
      if (budget === 0) {
        waiting++
        wait.push({ slot, why: 'update-wave' })
        continue
      }
      budget--
      inFlight++
      const fixedPeer = spec.mode === 'global' ? task.peer : undefined
      if (spec.update.order === 'stop-first') stop.push({ task, reason: 'superseded' })
      place.push({ slot, service: spec.name, reason: 'update', replaces: task, ...(fixedPeer ? { peer: fixedPeer } : {}) })
    }
    rollouts.push({ service: spec.name, specHash: want.specHash, settled, inFlight, waiting })
  }

  sortBySlot(place, (a) => a.slot)
  sortBySlot(stop, (a) => a.task.slot, (a, b) => compareStrings(a.task.peer, b.task.peer))
  sortBySlot(keep, (a) => a.slot, (a, b) => compareStrings(a.peer, b.peer))
  sortBySlot(wait, (a) => a.slot)
  return { place, stop, keep, wait, rollouts }
}

/** The slots a service wants now. Global services get one per peer that may hold it. */
function desiredSlotsOf(
  spec: ServiceSpec,
  peers: readonly PeerView[],
  want: PlacementRequest,
  tasksBySlot: ReadonlyMap<SlotId, readonly TaskView[]>,
): Array<{ slot: SlotId; peer?: PeerId }> {
  if (spec.mode !== 'global') {
    // Already in slot order.
    return Array.from({ length: spec.replicas }, (_, i) => ({ slot: replicaSlot(spec.name, i) }))
  }
  const slots: Array<{ slot: SlotId; peer: PeerId }> = []
  for (const peer of peers) {
    const slot = globalSlot(spec.name, peer.id)
    // A cordoned peer keeps a global task it already runs but does not start one.
    const acceptsNew = peer.state === 'alive' || peer.state === 'suspect'
    const holds = peer.state === 'cordoned' && tasksBySlot.has(slot)
    if ((acceptsNew || holds) && matches(peer, want)) slots.push({ slot, peer: peer.id })
  }
  return sortBySlot(slots, (s) => s.slot)
}

/** Whether an existing task of `want` may stay on `peer` (resources are not re-checked: it holds them). */
function mayHold(peer: PeerView | undefined, want: PlacementRequest): boolean {
  return peer !== undefined && HOLDS_TASKS.has(peer.state) && matches(peer, want)
}

function matches(peer: PeerView, want: PlacementRequest): boolean {
  return peer.drivers.includes(want.driver) && want.constraints.every((c) => c.test(peer.labels))
}

/** On the desired version, up (healthy when the spec has a health check), and up for `update.delay`. */
function isSettled(task: TaskView, spec: ServiceSpec, now: number): boolean {
  const up = spec.healthcheck === null ? isUp(task.state) : task.state === 'healthy'
  return up && now - task.since >= spec.update.delayMs
}
