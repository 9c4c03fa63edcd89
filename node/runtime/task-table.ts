// What every real driver does alike with its table of tasks (one entry per slot, from `starting` to
// its terminal event): the refusals start() makes as values, resuming a slot that already has a task
// (wait out its stop, then refuse another version or adopt the same one), and the events it emits.
// The drivers differ only in how a task is launched, watched, probed and stopped.

import { parseSlot, type SlotId } from '../../core/index.js'
import type { Driver, ServiceSpec } from '../../core/index.js'
import type { TaskState, TaskView } from '../../core/index.js'
import type { StartResult, TaskEvent } from './driver.js'
import type { Deferred } from './deferred.js'
import type { EventHub } from './events.js'

/** The part of a driver's task entry that the shared steps read. */
export interface TrackedTask {
  readonly slot: SlotId
  readonly specHash: string
  state: TaskState
  /** Resolves when `running` or `failed` has been emitted. */
  readonly launched: Deferred<void>
  /** Resolves after the terminal event was delivered (or dropped by close). */
  readonly finished: Deferred<void>
  stop?: Promise<void>
}

export type EventExtra = { exitCode?: number; detail?: string; stopRequested?: true }

/** A malformed slot or a spec for another driver: refused as values, with no event. */
export function startRefusal(task: TaskView, spec: ServiceSpec, driver: Driver): StartResult | undefined {
  if (parseSlot(task.slot) === undefined) return { ok: false, error: 'malformed-slot', detail: `malformed slot id ${JSON.stringify(task.slot)}` }
  if (spec.driver !== driver) return { ok: false, error: 'wrong-driver', detail: `service ${spec.name} wants the ${spec.driver} driver` }
  return undefined
}

/**
 * How many times stop() was called for each slot. A start reads the count when it is called, before
 * any await; a stop() called after it comes after it in the caller's order, so when that start had to
 * wait for the slot's previous task to end, the stop is its last word: it is cancelled and nothing is
 * launched — launching would leave a task the caller believes it stopped. One number per slot the
 * driver was ever asked to stop.
 */
export class SlotStops {
  private readonly counts = new Map<SlotId, number>()

  /** Called first thing in stop(). */
  stopped(slot: SlotId): void {
    this.counts.set(slot, (this.counts.get(slot) ?? 0) + 1)
  }

  /** The count as a start() of `slot` is called. */
  seen(slot: SlotId): number {
    return this.counts.get(slot) ?? 0
  }

  /** Whether stop() was called for `slot` since `seen`. */
  since(slot: SlotId, seen: number): boolean {
    return this.seen(slot) !== seen
  }
}

/** What a start cancelled by a later stop() resolves with. */
export function cancelledStart(slot: SlotId): StartResult {
  return { ok: false, error: 'cancelled', detail: `slot ${slot} was stopped while this start waited for its previous task to end` }
}

/**
 * The slot's current task, if any: a task being stopped is waited out first (then the slot is looked
 * at again, since another start may have taken it), and a stop() called after this start meanwhile
 * cancels it (SlotStops); a task at another version is refused as `slot-busy`; one at the same
 * version is adopted and its state emitted again. Undefined when the slot is free to start.
 */
export async function resumeExisting<I extends TrackedTask>(
  tasks: ReadonlyMap<SlotId, I>, task: TaskView, hub: EventHub, emit: (instance: I, state: TaskState) => void,
  stops: SlotStops, stopsSeen: number,
): Promise<StartResult | undefined> {
  let existing = tasks.get(task.slot)
  let waited = false
  while (existing?.stop !== undefined) {
    waited = true
    await existing.finished.promise
    existing = tasks.get(task.slot)
  }
  if (waited && stops.since(task.slot, stopsSeen)) return cancelledStart(task.slot)
  if (existing === undefined) return undefined
  if (existing.specHash !== task.specHash) {
    return { ok: false, error: 'slot-busy', detail: `slot ${task.slot} runs spec ${existing.specHash}, not ${task.specHash}` }
  }
  await existing.launched.promise
  if (tasks.get(task.slot) === existing && existing.state !== 'starting') {
    emit(existing, existing.state)
    await hub.delivered()
  }
  return { ok: true, adopted: true }
}

/** Marks a terminal event of a task stop() was called for; read when the event is emitted, not at exit. */
export function requested(instance: TrackedTask): { stopRequested?: true } {
  return instance.stop !== undefined ? { stopRequested: true } : {}
}

export function taskEvent(instance: TrackedTask, state: TaskState, atMs: number, extra: EventExtra = {}): TaskEvent {
  return { slot: instance.slot, state, atMs, ...extra }
}
