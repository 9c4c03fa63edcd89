// The in-memory twin of a runtime driver, for agent tests and simulator-style runs: the contract of
// driver.ts with nothing real behind it. A task "runs" from start() until it is stopped or the test
// ends it (exit, fail); its health and output are whatever the test says (setHealth, print). No
// timers and no I/O, so a test that controls the clock controls everything.
//
// A MemoryHost stands for the machine the tasks run on. Tasks belong to the host, not to the driver:
// a driver closed and replaced by a new one on the same host (an agent restart) finds the tasks with
// list(), as the process driver finds its processes. Unlike a real process adopted after a restart,
// a twin task still reports its exit code.

import { compareSlots, parseSlot, type ServiceName, type SlotId } from '../../core/index.js'
import type { Driver, ServiceSpec } from '../../core/index.js'
import type { TaskState, TaskView } from '../../core/index.js'
import type {
  DriverComponents, LogOptions, RunningTaskInfo, RuntimeDriver, StartResult, TaskEvent, TaskListener,
} from './driver.js'
import { EventHub } from './events.js'
import { cancelledStart, SlotStops } from './task-table.js'

/** Exit status of a task stopped by SIGTERM, as the process driver reports it (128 + 15). */
export const STOPPED_EXIT_CODE = 143

interface HostTask {
  readonly slot: SlotId
  readonly service: ServiceName
  readonly specHash: string
  readonly spec: ServiceSpec
  readonly handle: number
  readonly startedAtMs: number
  state: TaskState
  stop?: Promise<void>
}

/** The tasks and logs of one simulated machine; share it between driver instances to model a restart. */
export class MemoryHost {
  readonly tasks = new Map<SlotId, HostTask>()
  readonly logs = new Map<SlotId, string[]>()
  /** Every stop() that reached a task, in order, for tests that check the grace an agent passed. */
  readonly stops: Array<{ slot: SlotId; graceMs: number }> = []
  nextHandle = 1
  /** Wakes followers of a slot's log when a line arrives or the task ends. */
  readonly logWaiters = new Map<SlotId, Set<() => void>>()

  wake(slot: SlotId): void {
    const waiters = this.logWaiters.get(slot)
    if (waiters === undefined) return
    this.logWaiters.delete(slot)
    for (const wake of waiters) wake()
  }
}

export interface MemoryDriverInit {
  /** Which driver this twin stands in for (specs must name it). Default 'process'. */
  readonly name?: Driver
  /** Share a host between driver instances to model an agent restart. Default: a new host. */
  readonly host?: MemoryHost
  /**
   * 'auto': a task with a healthcheck reports healthy right after running (so rollouts proceed
   * without a test driving every task); 'manual': only setHealth() changes health. Default 'auto'.
   */
  readonly health?: 'auto' | 'manual'
  /**
   * Which starts cannot launch, and why (a missing image, a bad command): the start then ends in
   * `failed` with this detail. Default: a spec with neither command nor image fails.
   */
  readonly failStart?: (spec: ServiceSpec) => string | undefined
}

const defaultFailStart = (spec: ServiceSpec): string | undefined =>
  spec.command.length === 0 && spec.image === '' ? `service ${spec.name} has no command to run` : undefined

export class MemoryDriver implements RuntimeDriver {
  readonly name: Driver
  readonly host: MemoryHost
  private readonly now: () => number
  private readonly autoHealthy: boolean
  private readonly failStart: (spec: ServiceSpec) => string | undefined
  private readonly hub = new EventHub()
  /** Calls of stop() per slot: one after a start that waits cancels it (task-table.ts). */
  private readonly slotStops = new SlotStops()
  private closed = false

  constructor(components: DriverComponents, init: MemoryDriverInit = {}) {
    this.now = components.now
    this.name = init.name ?? 'process'
    this.host = init.host ?? new MemoryHost()
    this.autoHealthy = (init.health ?? 'auto') === 'auto'
    this.failStart = init.failStart ?? defaultFailStart
  }

  onEvent(listener: TaskListener): () => void {
    return this.hub.on(listener)
  }

  async start(task: TaskView, spec: ServiceSpec): Promise<StartResult> {
    this.assertOpen()
    if (parseSlot(task.slot) === undefined) return { ok: false, error: 'malformed-slot', detail: `malformed slot id ${JSON.stringify(task.slot)}` }
    if (spec.driver !== this.name) return { ok: false, error: 'wrong-driver', detail: `service ${spec.name} wants the ${spec.driver} driver` }
    const stopsSeen = this.slotStops.seen(task.slot)
    let existing = this.host.tasks.get(task.slot)
    let waited = false
    while (existing?.stop !== undefined) {
      waited = true
      await existing.stop
      existing = this.host.tasks.get(task.slot)
    }
    if (waited && this.slotStops.since(task.slot, stopsSeen)) return cancelledStart(task.slot)
    if (existing !== undefined) {
      if (existing.specHash !== task.specHash) {
        return { ok: false, error: 'slot-busy', detail: `slot ${task.slot} runs spec ${existing.specHash}, not ${task.specHash}` }
      }
      this.emit(existing.slot, existing.state)
      await this.hub.delivered()
      return { ok: true, adopted: true }
    }
    this.emit(task.slot, 'starting')
    const failure = this.failStart(spec)
    if (failure !== undefined) {
      this.emit(task.slot, 'failed', { detail: failure })
      await this.hub.delivered()
      return { ok: true, adopted: false }
    }
    const hosted: HostTask = {
      slot: task.slot, service: spec.name, specHash: task.specHash, spec, handle: this.host.nextHandle++,
      startedAtMs: this.now(), state: 'running',
    }
    this.host.tasks.set(task.slot, hosted)
    this.emit(task.slot, 'running')
    if (this.autoHealthy && spec.healthcheck !== null) {
      hosted.state = 'healthy'
      this.emit(task.slot, 'healthy')
    }
    await this.hub.delivered()
    return { ok: true, adopted: false }
  }

  async stop(slot: SlotId, graceMs: number): Promise<void> {
    this.assertOpen()
    this.slotStops.stopped(slot)
    const task = this.host.tasks.get(slot)
    if (task === undefined) return
    if (task.stop === undefined) {
      this.host.stops.push({ slot, graceMs })
      task.stop = this.end(task, { exitCode: STOPPED_EXIT_CODE, detail: 'stopped; killed by SIGTERM', stopRequested: true }, 'exited')
    }
    return task.stop
  }

  async list(): Promise<RunningTaskInfo[]> {
    this.assertOpen()
    return [...this.host.tasks.values()]
      .sort((a, b) => compareSlots(a.slot, b.slot))
      .map((task) => ({
        slot: task.slot, service: task.service, specHash: task.specHash, spec: task.spec, state: task.state,
        startedAtMs: task.startedAtMs, handle: String(task.handle), stopping: task.stop !== undefined,
      }))
  }

  async *logs(slot: SlotId, options: LogOptions): AsyncGenerator<string> {
    this.assertOpen()
    const lines = this.host.logs.get(slot) ?? []
    let index = options.tailLines === undefined ? 0 : Math.max(0, lines.length - Math.max(0, options.tailLines))
    const task = this.host.tasks.get(slot)
    const live = (): boolean => options.follow && task !== undefined && this.host.tasks.get(slot) === task && !this.closed
    for (;;) {
      const current = this.host.logs.get(slot) ?? []
      while (index < current.length) {
        if (options.signal?.aborted) return
        yield current[index++]!
      }
      if (!live() || options.signal?.aborted) return
      await this.nextLine(slot, options.signal)
    }
  }

  async close(): Promise<void> {
    this.closed = true
    this.hub.close()
    // Followers of any log wake up and see the driver closed.
    for (const slot of [...this.host.logWaiters.keys()]) this.host.wake(slot)
  }

  // --- what a test does to the tasks -----------------------------------------------------------

  /** The task's process ends with `code`: `exited` with that code. */
  async exit(slot: SlotId, code: number): Promise<void> {
    const task = this.running(slot)
    task.stop = this.end(task, { exitCode: code, detail: `exited with code ${code}` }, 'exited')
    return task.stop
  }

  /** The driver loses the task (the container vanished, the process cannot be traced): `failed`. */
  async fail(slot: SlotId, detail: string): Promise<void> {
    const task = this.running(slot)
    task.stop = this.end(task, { detail }, 'failed')
    return task.stop
  }

  /** The task's healthcheck starts passing or failing; emits only a change, as a real probe would. */
  async setHealth(slot: SlotId, healthy: boolean): Promise<void> {
    const task = this.running(slot)
    if (task.spec.healthcheck === null) throw new Error(`task ${slot} has no healthcheck`)
    const next: TaskState = healthy ? 'healthy' : 'unhealthy'
    if (task.state === next) return
    task.state = next
    this.emit(slot, next)
    await this.hub.delivered()
  }

  /** The task writes lines of output. */
  print(slot: SlotId, ...lines: string[]): void {
    this.running(slot)
    const log = this.host.logs.get(slot) ?? []
    log.push(...lines)
    this.host.logs.set(slot, log)
    this.host.wake(slot)
  }

  // --- plumbing ---------------------------------------------------------------------------------

  private async end(task: HostTask, outcome: { exitCode?: number; detail: string; stopRequested?: true }, state: 'exited' | 'failed'): Promise<void> {
    // One turn later, as a real task ends some time after it is told to: a start() or stop() made
    // meanwhile sees the task as stopping.
    await Promise.resolve()
    if (this.host.tasks.get(task.slot) === task) this.host.tasks.delete(task.slot)
    this.host.wake(task.slot)
    this.emit(task.slot, state, outcome)
    await this.hub.delivered()
  }

  private nextLine(slot: SlotId, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.host.logWaiters.get(slot)
      if (waiters === undefined) this.host.logWaiters.set(slot, (waiters = new Set()))
      const wake = (): void => {
        signal?.removeEventListener('abort', wake)
        waiters.delete(wake)
        resolve()
      }
      waiters.add(wake)
      signal?.addEventListener('abort', wake, { once: true })
    })
  }

  private running(slot: SlotId): HostTask {
    const task = this.host.tasks.get(slot)
    if (task === undefined || task.stop !== undefined) throw new Error(`task ${slot} is not running`)
    return task
  }

  private emit(slot: SlotId, state: TaskState, extra: { exitCode?: number; detail?: string; stopRequested?: true } = {}): void {
    const event: TaskEvent = { slot, state, atMs: this.now(), ...extra }
    this.hub.emit(event)
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the memory driver is closed')
  }
}
