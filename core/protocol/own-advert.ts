// This peer's advert: what it offers (capacity, labels, drivers) and what it holds (its tasks and the
// resources they take), versioned so the newest wins on every peer. It is kept in the cluster view
// like any other peer's, and broadcast when due: at once when ownership changed, since other peers
// place around it, and advertDebounceMs later when only a task's state did, so a burst coalesces.

import type { PeerId } from '../placement/ids.js'
import { addResources, NO_RESOURCES } from '../service-spec/resources.js'
import type { Driver, Resources } from '../service-spec/types.js'
import { isActive, type TaskView } from '../placement/view.js'
import type { ClusterState } from './cluster.js'
import type { MachineConfig } from './config.js'
import type { Advert, TaskUsage } from './messages.js'
import { usageChanged } from './usage-change.js'

/** What the advert needs from the machine around it. */
export interface OwnAdvertDeps {
  readonly self: PeerId
  readonly config: MachineConfig
  /** Where every advert is kept, ours included. */
  readonly cluster: Pick<ClusterState, 'putAdvert' | 'advert'>
  incarnation(): number
  /** This peer's tasks, as the advert lists them. */
  tasks(): TaskView[]
}

export interface OwnAdvertInit {
  readonly capacity: Resources
  readonly labels: Readonly<Record<string, string>>
  readonly drivers: readonly Driver[]
}

export class OwnAdvert {
  private version = 0
  private changed = false
  /** When the pending advert must go out; now for ownership changes, later for state-only ones. */
  private dueAt = Infinity
  /** The tasks' last measured use (the agent measures; the simulator does not). */
  private usage: readonly TaskUsage[] | undefined
  private diskFull = false

  constructor(private readonly deps: OwnAdvertDeps, private readonly init: OwnAdvertInit) {}

  /**
   * Rebuilds the advert after a local change. It is due at once when ownership changed (`urgent`),
   * after advertDebounceMs when only a task's state did.
   */
  publish(now: number, urgent = true): void {
    this.dueAt = Math.min(this.dueAt, urgent ? now : now + this.deps.config.advertDebounceMs)
    const tasks = this.deps.tasks()
    let allocated: Resources = NO_RESOURCES
    for (const task of tasks) if (isActive(task.state)) allocated = addResources(allocated, task.resources)
    const advert: Advert = {
      peer: this.deps.self,
      incarnation: this.deps.incarnation(),
      version: ++this.version,
      capacity: this.init.capacity,
      allocated,
      labels: this.init.labels,
      drivers: this.init.drivers,
      tasks,
      ...(this.usage === undefined ? {} : { usage: this.usageOf(tasks) }),
      ...(this.diskFull ? { diskFull: true as const } : {}),
    }
    this.deps.cluster.putAdvert(advert)
    this.changed = true
  }

  /**
   * A new measurement of the tasks' use: advertised with the next advert, which it makes due after
   * the debounce — when it moved past usageChanged's band; otherwise kept out, and the advert keeps
   * the figures it last carried.
   */
  setUsage(usage: readonly TaskUsage[], now: number): void {
    if (this.usage !== undefined && !usageChanged(this.usage, usage)) return
    this.usage = usage
    this.publish(now, false)
  }

  /** The measurements of the tasks the advert lists (a task that ended since is left out). */
  private usageOf(tasks: readonly TaskView[]): TaskUsage[] {
    const listed = new Set(tasks.map((task) => task.slot))
    return (this.usage ?? []).filter((entry) => listed.has(entry.slot))
  }

  /** Whether the next adverts say the data directory is full; publish() after a change. */
  setDiskFull(full: boolean): void {
    this.diskFull = full
  }

  /** The advert to broadcast, when one is due by `now`; it is then no longer pending. */
  takeDue(now: number): Advert | undefined {
    if (!this.changed || now < this.dueAt) return undefined
    this.changed = false
    this.dueAt = Infinity
    return this.deps.cluster.advert(this.deps.self)
  }

  /** Drops the pending broadcast: the peer is leaving. */
  cancel(): void {
    this.changed = false
  }

  /** When the pending advert is due, or Infinity when none is pending. */
  nextWakeAt(): number {
    return this.changed ? this.dueAt : Infinity
  }
}
