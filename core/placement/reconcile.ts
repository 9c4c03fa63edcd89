// Level-based reconcile (controller-runtime style): it reads the whole desired state and the whole
// actual view every time and says what must change. A lost or duplicated message can delay it but
// never leave it wrong, because the next pass sees the world as it is. It decides *what* must change;
// *where* new tasks go is the auction's job (place actions carry no peer, except for global slots).
//
// Per desired slot:
//   no active task ............................ place (reason new, or failover if its peer died)
//   a slot whose task completed ............... nothing, ever again on this version
//   several tasks ............................. the conflict rule keeps one; the rest stop once it is up
//   one task on an old version ................ update, at most `parallelism` slots at a time, in slot
//                                               order, each wave after the previous is settled
//   one task on a peer it may no longer use ... place a replacement; the old one stops once the
//                                               replacement is up (the conflict rule prefers it)
// Tasks of services no longer desired, or past the replica count, stop.

import { compareStrings, globalSlot, sortBySlot, replicaSlot, type PeerId, type ServiceName, type SlotId } from './ids.js'
import { resolveClaims } from './conflict.js'
import { placementRequest, type PlacementRequest } from './request.js'
import type { ServiceSpec } from '../service-spec/types.js'
import { hostModePorts } from '../service-spec/ports.js'
import { isActive, isUp, type PeerView, type TaskState, type TaskView } from './view.js'

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

/** One service's tasks, indexed the way reconcile reads them. */
export interface ServiceTasks {
  /** Active tasks on peers that are not dead, by slot. */
  readonly bySlot: ReadonlyMap<SlotId, readonly TaskView[]>
  /** Slots whose active task was lost with a dead peer. */
  readonly lost: ReadonlySet<SlotId>
  /** Final states of ended tasks, keyed `${slot}#${specHash}`. */
  readonly ended: ReadonlyMap<string, TaskState>
}

export interface ServiceReconcile {
  /** The spec compiled for placement (placementRequest's), so a caller need not look it up again. */
  readonly request: PlacementRequest
  readonly place: PlaceAction[]
  readonly stop: StopAction[]
  readonly keep: TaskView[]
  readonly wait: WaitAction[]
  readonly rollout: Rollout
}

/** Peers as reconcile needs them: lookup by id and, for global services, the whole list. */
export interface PeerLookup {
  get(id: PeerId): PeerView | undefined
  values(): Iterable<PeerView>
}

export const endedKey = (slot: SlotId, specHash: string): string => `${slot}#${specHash}`

/** Groups every peer's tasks by service; tasks of services not in `desired` come back as orphans. */
export function indexTasks(peers: Iterable<PeerView>, desired: ReadonlySet<string>): {
  byService: Map<ServiceName, ServiceTasks>
  orphans: TaskView[]
} {
  const byService = new Map<ServiceName, { bySlot: Map<SlotId, TaskView[]>; lost: Set<SlotId>; ended: Map<string, TaskState> }>()
  const orphans: TaskView[] = []
  const entry = (service: ServiceName) => {
    let found = byService.get(service)
    if (found === undefined) byService.set(service, (found = { bySlot: new Map(), lost: new Set(), ended: new Map() }))
    return found
  }
  for (const peer of peers) {
    const tasks = peer.tasks
    for (let i = 0; i < tasks.length; i++) addTask(tasks[i]!, peer.state === 'dead', desired, entry, orphans)
  }
  return { byService, orphans }
}

/** Adds one task to a service index (shared by indexTasks and incremental indexes). */
export function addTask(
  task: TaskView,
  onDeadPeer: boolean,
  desired: ReadonlySet<string>,
  entry: (service: ServiceName) => { bySlot: Map<SlotId, TaskView[]>; lost: Set<SlotId>; ended: Map<string, TaskState> },
  orphans: TaskView[],
): void {
  if (!isActive(task.state)) {
    if (task.state === 'complete' || task.state === 'failed') {
      // A completion outranks a failed attempt of the same slot, whatever order peers are read in.
      const ended = entry(task.service).ended
      const key = endedKey(task.slot, task.specHash)
      if (task.state === 'complete' || ended.get(key) !== 'complete') ended.set(key, task.state)
    }
    return
  }
  if (onDeadPeer) {
    entry(task.service).lost.add(task.slot)
    return
  }
  // Slot ids were checked when the advert was decoded; here only their service must match.
  if (!desired.has(task.service) || !slotBelongsTo(task.slot, task.service)) {
    orphans.push(task)
    return
  }
  const slots = entry(task.service).bySlot
  const list = slots.get(task.slot)
  if (list === undefined) slots.set(task.slot, [task])
  else list.push(task)
}

export function reconcile(input: ReconcileInput): ReconcileResult {
  const each = reconcileEach(input)
  const place: PlaceAction[] = []
  for (const { result } of each.services) for (const action of result.place) place.push(action)
  sortBySlot(place, (a) => a.slot)
  return { place, ...mergeSettled(each) }
}

/** reconcile's work service by service, before the lists are merged (the planner reads each service's own). */
export interface ReconcileEach {
  /** Every desired service with its result, in reconcile's order (by name). */
  readonly services: ReadonlyArray<{ readonly spec: ServiceSpec; readonly result: ServiceReconcile }>
  /** Active tasks of services no longer desired. */
  readonly orphans: readonly TaskView[]
}

export function reconcileEach(input: ReconcileInput): ReconcileEach {
  const peersById = lazyLookup(input.peers)
  const { byService, orphans } = indexTasks(input.peers, new Set(input.services.map((s) => s.name)))
  const services = [...input.services].sort((a, b) => (a.name < b.name ? -1 : 1)).map((spec) => ({
    spec,
    result: reconcileService(spec, byService.get(spec.name) ?? NO_TASKS, peersById, input.now),
  }))
  return { services, orphans }
}

/** reconcile's lists other than place, merged and sorted as reconcile returns them. */
export function mergeSettled(each: ReconcileEach): Omit<ReconcileResult, 'place'> {
  const stop: StopAction[] = []
  const keep: TaskView[] = []
  const wait: WaitAction[] = []
  const rollouts: Rollout[] = []
  for (const task of each.orphans) stop.push({ task, reason: 'not-desired' })
  for (let s = 0; s < each.services.length; s++) {
    const result = each.services[s]!.result
    for (let i = 0; i < result.stop.length; i++) stop.push(result.stop[i]!)
    for (let i = 0; i < result.keep.length; i++) keep.push(result.keep[i]!)
    for (let i = 0; i < result.wait.length; i++) wait.push(result.wait[i]!)
    rollouts.push(result.rollout)
  }
  sortBySlot(stop, (a) => a.task.slot, (a, b) => compareStrings(a.task.peer, b.task.peer))
  sortBySlot(keep, (a) => a.slot, (a, b) => compareStrings(a.peer, b.peer))
  sortBySlot(wait, (a) => a.slot)
  return { stop, keep, wait, rollouts }
}

/**
 * Peers by id, the map built on the first lookup: a service asks only when it has tasks to judge,
 * and a pass over a cluster that runs nothing yet (a capacity plan) would build a 100k-entry map a
 * pass for no lookup at all.
 */
function lazyLookup(peers: readonly PeerView[]): PeerLookup {
  let byId: Map<PeerId, PeerView> | undefined
  return {
    get: (id) => (byId ??= new Map(peers.map((peer) => [peer.id, peer]))).get(id),
    values: () => peers,
  }
}

const NO_TASKS: ServiceTasks = { bySlot: new Map(), lost: new Set(), ended: new Map() }
const NO_SLOT_TASKS: readonly TaskView[] = []

/** Reconciles one service; actions come back in slot order. */
export function reconcileService(spec: ServiceSpec, tasks: ServiceTasks, peers: PeerLookup, now: number): ServiceReconcile {
  const place: PlaceAction[] = []
  const stop: StopAction[] = []
  const keep: TaskView[] = []
  const wait: WaitAction[] = []
  const want = placementRequest(spec)
  const tasksBySlot = tasks.bySlot
  const eligible = (peer: PeerId): boolean => mayHold(peers.get(peer), want)
  const desiredSlots = desiredSlotsOf(spec, peers.values(), want, tasksBySlot)
  if (tasksBySlot.size > 0) {
    const desiredSet = new Set(desiredSlots.map((d) => d.slot))
    for (const [slot, slotTasks] of tasksBySlot) {
      if (desiredSet.has(slot)) continue
      for (const task of slotTasks) stop.push({ task, reason: spec.mode === 'global' ? 'ineligible' : 'scaled-down' })
    }
  }

  // First pass: settle each slot's ownership; collect old-version slots for the rolling update.
  const outdated: Array<{ slot: SlotId; task: TaskView }> = []
  let settled = 0
  let inFlight = 0
  for (const { slot, peer, newPlace } of desiredSlots) {
    // A service nothing runs yet (the common case of a capacity plan) skips two lookups a slot.
    const slotTasks = tasksBySlot.size === 0 ? NO_SLOT_TASKS : (tasksBySlot.get(slot) ?? NO_SLOT_TASKS)
    if (slotTasks.length === 0 && tasks.ended.size > 0 && isDone(tasks.ended.get(endedKey(slot, want.specHash)), spec)) continue
    if (slotTasks.length === 0) {
      const reason = tasks.lost.size > 0 && tasks.lost.has(slot) ? 'failover' : 'new'
      if (reason === 'new' && newPlace !== undefined) place.push(newPlace)
      else place.push(peer ? { slot, service: spec.name, reason, peer } : { slot, service: spec.name, reason })
      inFlight++
      continue
    }
    const { keep: kept, losers, mayStopLosers } = resolveClaims(slotTasks, want.specHash, eligible)
    keep.push(kept)
    for (const loser of losers) {
      if (mayStopLosers) stop.push({ task: loser, reason: loser.specHash !== want.specHash ? 'superseded' : eligible(loser.peer) ? 'duplicate' : 'ineligible' })
      else keep.push(loser)
    }
    if (losers.length > 0 && !mayStopLosers) wait.push({ slot, why: 'replacement-starting' })

    if (kept.specHash !== want.specHash) {
      outdated.push({ slot, task: kept })
    } else if (!eligible(kept.peer)) {
      // Draining, or no longer matching the constraints: replace first, then stop (via the conflict rule).
      place.push({ slot, service: spec.name, reason: 'migrate', replaces: kept, ...(peer ? { peer } : {}) })
      inFlight++
    } else if (isSettled(kept, spec, now) && losers.length === 0) {
      settled++
    } else {
      // Not yet settled, or settled while an old copy still runs (start-first): still in flight.
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
    if (effectiveUpdateOrder(spec) === 'stop-first') {
      stop.push({ task, reason: 'superseded' })
      keep.splice(keep.indexOf(task), 1)
    }
    place.push({ slot, service: spec.name, reason: 'update', replaces: task, ...(fixedPeer ? { peer: fixedPeer } : {}) })
  }
  return { request: want, place, stop, keep, wait, rollout: { service: spec.name, specHash: want.specHash, settled, inFlight, waiting } }
}

/**
 * A slot is done, and not placed again on this version, when its task completed (jobs; and services
 * whose restart condition let a clean exit stand) or failed for good under restart condition `never`.
 */
function isDone(ended: TaskState | undefined, spec: ServiceSpec): boolean {
  if (ended === 'complete') return spec.mode === 'job' || spec.restart.condition !== 'always'
  return ended === 'failed' && spec.restart.condition === 'never'
}

/**
 * The update order in force. A global task with host ports cannot start beside its predecessor on the
 * same peer (the port is taken), so such services update stop-first whatever the spec says.
 */
export function effectiveUpdateOrder(spec: ServiceSpec): ServiceSpec['update']['order'] {
  return spec.mode === 'global' && hostModePorts(spec).length > 0 ? 'stop-first' : spec.update.order
}

/** The slots a service wants now. Global services get one per peer that may hold it. */
function desiredSlotsOf(
  spec: ServiceSpec,
  peers: Iterable<PeerView>,
  want: PlacementRequest,
  tasksBySlot: ReadonlyMap<SlotId, readonly TaskView[]>,
): readonly DesiredSlot[] {
  if (spec.mode !== 'global') {
    // Already in slot order; cached per spec, since reconcile runs on every change.
    let slots = replicaSlots.get(spec)
    if (slots === undefined) {
      slots = Array.from({ length: spec.replicas }, (_, i) => {
        const slot = replicaSlot(spec.name, i)
        return { slot, newPlace: { slot, service: spec.name, reason: 'new' as const } }
      })
      replicaSlots.set(spec, slots)
    }
    return slots
  }
  const slots: Array<{ slot: SlotId; peer: PeerId }> = []
  for (const peer of peers) {
    const slot = globalSlot(spec.name, peer.id)
    // Cordoned and suspect peers keep a global task they already run but start none.
    const acceptsNew = peer.state === 'alive'
    const holds = (peer.state === 'cordoned' || peer.state === 'suspect') && tasksBySlot.has(slot)
    if ((acceptsNew || holds) && matches(peer, want)) slots.push({ slot, peer: peer.id })
  }
  return sortBySlot(slots, (s) => s.slot)
}

interface DesiredSlot {
  readonly slot: SlotId
  /** Set for global slots. */
  readonly peer?: PeerId
  /**
   * A replica slot's action when nothing holds it yet (reason new), made once with the slot and
   * handed out by every reconcile of the spec: actions are read-only values, and a planning pass at
   * 100k peers otherwise made half a million of them, all kept to the pass's end, so every scavenge
   * copied them.
   */
  readonly newPlace?: PlaceAction
}

const replicaSlots = new WeakMap<ServiceSpec, readonly DesiredSlot[]>()

/** `web/3` and `web@peer` belong to `web`. */
function slotBelongsTo(slot: SlotId, service: ServiceName): boolean {
  const next = slot.charCodeAt(service.length)
  return slot.startsWith(service) && (next === 47 /* / */ || next === 64 /* @ */)
}

/** Whether an existing task of `want` may stay on `peer` (resources are not re-checked: it holds them). */
export function mayHold(peer: PeerView | undefined, want: PlacementRequest): boolean {
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
