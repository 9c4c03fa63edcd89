// Where each slot ran and why it moved, as this agent saw it: soft state derived from what it already
// learns (every peer's advert, merged with membership into PeerViews), kept in memory and lost on
// restart. A slot's holder is the live peer whose advert lists an active task of it; a new entry is
// written when the holder changes (or the holder's version does), with the reason read from what had
// become of the last holder at that moment. Bounded: the last PER_SLOT placements of each slot, only
// slots of desired services, and at most MAX_SLOTS slots (the longest unchanged go first).
//
// Pure: fed views and a membership lookup, it does no I/O and reads no clock.

import { isActive, type MemberStatus, type PeerId, type PeerView, type ServiceName, type SlotId, type TaskView } from '../../core/index.js'
import type { MoveReason, SlotPlacement } from '../control/index.js'

export const SLOT_HISTORY_LIMITS = { perSlot: 20, slots: 10_000 } as const

/** Each reason in words, for `peer why <slot>` and the web view. */
export const MOVE_TEXT: Readonly<Record<MoveReason, string>> = {
  'first-seen': 'first seen',
  'peer-dead': 'peer dead',
  'peer-left': 'peer left',
  drained: 'drained',
  updated: 'rolling update',
  conflict: 'conflict resolved for this copy',
  'task-failed': 'its task ended',
  unknown: 'reason unknown',
}

interface Placement {
  at: number
  peer: PeerId
  specHash: string
  state: string
  reason: MoveReason
  from: PeerId | null
}

interface SlotRecord {
  readonly service: ServiceName
  readonly placements: Placement[]
  /** Live peers holding the slot now, with their task. */
  readonly holders: Map<PeerId, TaskView>
  /** Peers seen holding the slot at the same time since the last move (a conflict being resolved). */
  contenders: Set<PeerId>
  /** When this record last changed, for dropping the stalest first. */
  touched: number
}

export class SlotHistory {
  private readonly slots = new Map<SlotId, SlotRecord>()
  /** The view each peer had when last taken in: an unchanged view object is skipped. */
  private readonly seen = new Map<PeerId, PeerView>()
  private desired: ReadonlySet<ServiceName> | undefined

  constructor(private readonly limits: { perSlot: number; slots: number } = SLOT_HISTORY_LIMITS) {}

  /** Keeps the slots of these services only (all until first called). */
  keepServices(services: ReadonlySet<ServiceName>): void {
    this.desired = services
    for (const [slot, record] of this.slots) if (!services.has(record.service)) this.slots.delete(slot)
  }

  /**
   * Takes in the cluster as this agent sees it now. Only peers whose view changed since the last call
   * cost anything. `statusOf` tells a dead peer from one that left.
   */
  observe(views: Iterable<PeerView>, statusOf: (peer: PeerId) => MemberStatus | undefined, at: number): void {
    const changed = new Set<SlotId>()
    for (const view of views) {
      const before = this.seen.get(view.id)
      if (before === view) continue
      this.seen.set(view.id, view)
      for (const task of before?.tasks ?? []) {
        this.slots.get(task.slot)?.holders.delete(view.id)
        changed.add(task.slot)
      }
      if (view.state === 'dead') continue
      for (const task of view.tasks) {
        if (this.desired !== undefined && !this.desired.has(task.service)) continue
        const record = this.record(task, at)
        // A task that ended still says how its placement ended: its state is kept for the reason.
        if (isActive(task.state)) record.holders.set(view.id, task)
        else this.noteEnd(record, task)
        changed.add(task.slot)
      }
    }
    for (const slot of changed) {
      const record = this.slots.get(slot)
      if (record !== undefined) this.settle(record, statusOf, at)
    }
    this.bound()
  }

  /** The slot's placements, oldest first. */
  of(slot: SlotId): SlotPlacement[] {
    return (this.slots.get(slot)?.placements ?? []).map((placement) => ({ ...placement, text: MOVE_TEXT[placement.reason] }))
  }

  get size(): number {
    return this.slots.size
  }

  private record(task: TaskView, at: number): SlotRecord {
    let record = this.slots.get(task.slot)
    if (record === undefined) {
      record = { service: task.service, placements: [], holders: new Map(), contenders: new Set(), touched: at }
      this.slots.set(task.slot, record)
    }
    return record
  }

  private noteEnd(record: SlotRecord, task: TaskView): void {
    const last = record.placements.at(-1)
    if (last !== undefined && last.peer === task.peer && last.specHash === task.specHash) last.state = task.state
  }

  private settle(record: SlotRecord, statusOf: (peer: PeerId) => MemberStatus | undefined, at: number): void {
    const { holders } = record
    if (holders.size > 1) for (const peer of holders.keys()) record.contenders.add(peer)
    const last = record.placements.at(-1)
    // A copy placed after its holder's death that reached this agent before the verdict did looked
    // like a conflict: the verdict, once here, is the reason.
    if (last?.reason === 'conflict' && last.from !== null) {
      const status = statusOf(last.from)
      if (status === 'dead' || status === 'left') last.reason = status === 'dead' ? 'peer-dead' : 'peer-left'
    }
    const kept = last === undefined ? undefined : holders.get(last.peer)
    if (last !== undefined && kept !== undefined) {
      if (kept.specHash !== last.specHash) this.push(record, kept, 'updated', last.peer, at)
      else last.state = kept.state
      if (holders.size === 1) record.contenders.clear()
      return
    }
    const next = newest(holders)
    if (next === undefined) return
    const reason = last === undefined ? 'first-seen' : moveReason(last, next, record.contenders, statusOf, this.seen.get(last.peer)?.state)
    this.push(record, next, reason, last?.peer ?? null, at)
    if (holders.size === 1) record.contenders.clear()
  }

  private push(record: SlotRecord, task: TaskView, reason: MoveReason, from: PeerId | null, at: number): void {
    record.placements.push({ at, peer: task.peer, specHash: task.specHash, state: task.state, reason, from })
    if (record.placements.length > this.limits.perSlot) record.placements.splice(0, record.placements.length - this.limits.perSlot)
    record.touched = at
  }

  private bound(): void {
    if (this.slots.size <= this.limits.slots) return
    const stalest = [...this.slots].sort(([, a], [, b]) => a.touched - b.touched)
    for (const [slot] of stalest.slice(0, this.slots.size - this.limits.slots)) this.slots.delete(slot)
  }
}

/**
 * Why the slot left `last` for `next`. A dead or departed holder explains it first; then a drain and
 * a new version (both run the old and new copies side by side for a moment, which is no conflict);
 * then a conflict both were part of; then the last task's end.
 */
export function moveReason(
  last: Pick<SlotPlacement, 'peer' | 'specHash' | 'state'>,
  next: Pick<TaskView, 'peer' | 'specHash'>,
  contenders: ReadonlySet<string>,
  statusOf: (peer: PeerId) => MemberStatus | undefined,
  lastPeerState: PeerView['state'] | undefined,
): MoveReason {
  const status = statusOf(last.peer as PeerId)
  if (status === 'dead') return 'peer-dead'
  if (status === 'left') return 'peer-left'
  if (lastPeerState === 'draining') return 'drained'
  if (next.specHash !== last.specHash) return 'updated'
  if (contenders.has(last.peer) && contenders.has(next.peer)) return 'conflict'
  if (!isActive(last.state as TaskView['state'])) return 'task-failed'
  return 'unknown'
}

/** The live holder with the latest placement (highest epoch, then the latest start). */
function newest(holders: ReadonlyMap<PeerId, TaskView>): TaskView | undefined {
  let best: TaskView | undefined
  for (const task of holders.values()) {
    if (best === undefined || (task.epoch ?? 0) > (best.epoch ?? 0) || ((task.epoch ?? 0) === (best.epoch ?? 0) && task.since > best.since)) best = task
  }
  return best
}
