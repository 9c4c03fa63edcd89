// This peer's own tasks and its restart policy. A failed task restarts here with exponential
// backoff; after `maxAttempts` failures within `window` the peer gives the slot up (and stays out of
// that service's auctions for a window) so another peer may try. A task of a rolling update with
// automatic rollback that is not healthy by its deadline asks for the rollback, once per version.

import type { PeerId, ServiceName, SlotId } from '../placement/ids.js'
import { placementRequest } from '../placement/request.js'
import type { PortSpec, ServiceSpec } from '../service-spec/types.js'
import { hostModePorts, isIngress, portKey, taskPorts } from '../service-spec/ports.js'
import { isActive, type TaskState, type TaskView } from '../placement/view.js'

export interface LocalTask {
  view: TaskView
  spec: ServiceSpec
  /** Times of recent failures, for the restart window. */
  failures: number[]
  /** When a task waiting in backoff is started again. */
  restartAt?: number
  /**
   * Restored from local state and not started yet: the peer first learns whether the slot is still
   * its own (rejoin.ts). Held tasks are advertised (as pending), so peers that had not replaced them
   * do not, but nothing runs for them and no deadline counts.
   */
  held?: boolean
}

export type ExitOutcome =
  | { kind: 'complete' }
  | { kind: 'failed-final' }
  | { kind: 'restart'; atMs: number }
  | { kind: 'give-up' }

/** What a task's exit means under its service's restart policy. */
export function exitOutcome(task: LocalTask, exitCode: number | undefined, now: number): ExitOutcome {
  const { restart, mode } = task.spec
  const clean = exitCode === 0
  if (clean && (mode === 'job' || restart.condition !== 'always')) return { kind: 'complete' }
  if (restart.condition === 'never') return { kind: 'failed-final' }
  task.failures = task.failures.filter((at) => now - at < restart.windowMs)
  task.failures.push(now)
  const attempts = task.failures.length
  if (restart.maxAttempts > 0 && attempts >= restart.maxAttempts) return { kind: 'give-up' }
  return { kind: 'restart', atMs: now + restartDelayMs(restart.delayMs, restart.maxDelayMs, attempts) }
}

/** Exponential backoff: delay, 2·delay, 4·delay, … capped at maxDelay. */
export function restartDelayMs(delayMs: number, maxDelayMs: number, attempt: number): number {
  return Math.min(maxDelayMs, delayMs * 2 ** Math.max(0, attempt - 1))
}

export function withState(view: TaskView, state: TaskState, now: number): TaskView {
  return { ...view, state, since: now }
}

/** When a task of a service with automatic rollback must be healthy, or undefined when that cannot fail. */
function healthDeadline(task: LocalTask): number | undefined {
  if (task.held === true) return undefined
  const spec = task.spec
  if (!spec.update.autoRollback || spec.healthcheck === null || task.view.state === 'healthy') return undefined
  if (task.view.specHash !== placementRequest(spec).specHash) return undefined
  return task.view.since + spec.update.healthDeadlineMs
}

/** What the task table needs from the machine around it. */
export interface LocalTasksDeps {
  readonly self: PeerId
  /** Asks the host to start a task. */
  startTask(task: TaskView, spec: ServiceSpec): void
  /** Asks the host to stop the task in `slot`. */
  stopTask(slot: SlotId, reason: string): void
  /** Asks the host to roll the service back from the version whose task missed its health deadline. */
  rollback(service: ServiceName, failedSpecHash: string): void
  /** The table changed in a way the other peers must hear of at once: republish this peer's advert. */
  changed(): void
  /** A slot of the service was given up: this peer offers nothing for the service until then. */
  gaveUp(service: ServiceName, until: number): void
}

export interface LocalTasksInit {
  /** This peer's tasks from local state: held until releaseHeld() says which still run. */
  readonly restored?: ReadonlyArray<{ readonly task: TaskView; readonly spec: ServiceSpec }>
}

/** What a task's reported state meant, for the machine to reconcile and announce. */
export interface TaskReport {
  readonly service: ServiceName
  /** The slot is no longer held here, or its task finished: other peers must hear of it at once. */
  readonly ownershipChanged: boolean
}

export class LocalTasks {
  private readonly tasks = new Map<SlotId, LocalTask>()
  /** Versions (`service#specHash`) this peer already asked to roll back, so it asks once. */
  private readonly rolledBack = new Set<string>()

  constructor(private readonly deps: LocalTasksDeps, init: LocalTasksInit) {
    for (const { task, spec } of init.restored ?? []) {
      if (task.peer !== deps.self) continue
      // Completed and finally failed tasks are records, not work: keep them so the slot stays done.
      if (task.state === 'complete' || task.state === 'failed') this.tasks.set(task.slot, { view: task, spec, failures: [] })
      else if (isActive(task.state)) this.tasks.set(task.slot, { view: { ...task, state: 'pending' }, spec, failures: [], held: true })
    }
  }

  get(slot: SlotId): LocalTask | undefined {
    return this.tasks.get(slot)
  }

  views(): TaskView[] {
    return [...this.tasks.values()].map((t) => t.view)
  }

  /** Whether this peer holds a task of the service, in any state. */
  holds(service: ServiceName): boolean {
    for (const task of this.tasks.values()) if (task.view.service === service) return true
    return false
  }

  /** Restored tasks not started yet. */
  held(): LocalTask[] {
    return [...this.tasks.values()].filter((task) => task.held === true)
  }

  /**
   * Starts the held restored tasks that `verdict` lets run (it answers undefined) and gives up the
   * others, with the reason it gives: the host stops whatever still runs in such a slot (an orphan
   * of the last life), since the slot now belongs elsewhere.
   */
  releaseHeld(now: number, verdict: (task: LocalTask) => string | undefined): void {
    for (const task of this.held()) {
      delete task.held
      const reason = verdict(task)
      if (reason === undefined) this.start(task, now)
      else this.stop(task.view.slot, reason)
    }
  }

  /**
   * The host ports a new task in `slot` binds: its host-mode ports, and for its ingress ports ports
   * no other task here holds (ports.ts). The range holds 12,001 ports per protocol; should it ever be
   * full, the task gets only its host-mode ports and takes no traffic through the mesh.
   */
  private portsFor(slot: SlotId, spec: ServiceSpec, hash: string): PortSpec[] {
    if (!spec.ports.some(isIngress)) return hostModePorts(spec)
    const taken = new Set<string>()
    for (const task of this.tasks.values()) {
      if (task.view.slot !== slot && isActive(task.view.state)) for (const port of task.view.ports) taken.add(portKey(port.host, port.protocol))
    }
    return taskPorts(spec, taken, `${slot}@${hash}`) ?? hostModePorts(spec)
  }

  /** Takes `slot` for a new task of `spec`, placement generation `epoch`, and asks the host to start it. */
  claim(slot: SlotId, spec: ServiceSpec, now: number, epoch = 0): void {
    const want = placementRequest(spec)
    const view: TaskView = {
      slot, service: spec.name, peer: this.deps.self, specHash: want.specHash, state: 'starting', since: now,
      resources: spec.resources, ports: this.portsFor(slot, spec, want.specHash), ...(epoch > 0 ? { epoch } : {}),
    }
    this.tasks.set(slot, { view, spec, failures: [] })
    this.deps.startTask(view, spec)
    this.deps.changed()
  }

  /**
   * Takes `slot` for a task of `spec` and announces it, without starting it yet: a `partition:
   * majority` claim starts only once no other claim turned up (majority-claims.ts).
   */
  hold(slot: SlotId, spec: ServiceSpec, now: number, epoch = 0): void {
    const want = placementRequest(spec)
    const view: TaskView = {
      slot, service: spec.name, peer: this.deps.self, specHash: want.specHash, state: 'pending', since: now,
      resources: spec.resources, ports: this.portsFor(slot, spec, want.specHash), ...(epoch > 0 ? { epoch } : {}),
    }
    this.tasks.set(slot, { view, spec, failures: [] })
    this.deps.changed()
  }

  /** Starts a task taken with hold(). */
  startHeld(slot: SlotId, now: number): void {
    const task = this.tasks.get(slot)
    if (task !== undefined && task.view.state === 'pending' && task.restartAt === undefined) this.start(task, now)
  }

  stop(slot: SlotId, reason: string): void {
    if (!this.tasks.delete(slot)) return
    this.deps.stopTask(slot, reason)
    this.deps.changed()
  }

  /** Stops every active task, or every active task of one service. */
  stopActive(reason: string, service?: ServiceName): void {
    for (const task of [...this.tasks.values()]) {
      if ((service === undefined || task.view.service === service) && isActive(task.view.state)) this.stop(task.view.slot, reason)
    }
  }

  /** The host reports a task's new state; undefined for a slot this peer does not hold. */
  report(slot: SlotId, state: TaskState, now: number, exitCode?: number): TaskReport | undefined {
    const task = this.tasks.get(slot)
    // A held task was not started in this life: what the host says of the slot is an orphan's news.
    if (task === undefined || task.held === true) return undefined
    if (state === 'exited' || state === 'failed') {
      const outcome = exitOutcome(task, exitCode, now)
      switch (outcome.kind) {
        case 'complete':
          task.view = withState(task.view, 'complete', now)
          break
        case 'failed-final':
          task.view = withState(task.view, 'failed', now)
          break
        case 'restart':
          // 'pending' keeps the slot held while the task waits out its backoff here.
          task.view = withState(task.view, 'pending', now)
          task.restartAt = outcome.atMs
          break
        case 'give-up':
          this.tasks.delete(slot)
          this.deps.gaveUp(task.view.service, now + task.spec.restart.windowMs)
          break
      }
    } else {
      task.view = withState(task.view, state, now)
    }
    const ownershipChanged = !this.tasks.has(slot) || task.view.state === 'complete' || task.view.state === 'failed'
    return { service: task.view.service, ownershipChanged }
  }

  /**
   * Gives up every task waiting out a restart backoff: the host said it cannot start tasks (its data
   * directory is full), so another peer should take the slot now rather than after the retries.
   */
  giveUpWaiting(reason: string): void {
    for (const task of [...this.tasks.values()]) if (task.restartAt !== undefined) this.stop(task.view.slot, reason)
  }

  /** Restarts tasks whose backoff is over and checks health deadlines that passed. */
  tick(now: number): void {
    for (const task of this.tasks.values()) {
      if (task.restartAt !== undefined && task.restartAt <= now) {
        // The failure may have been its port, held by something outside peer: a restart binds
        // another one (its advert says which), instead of failing on the same port until the slot moves.
        if (task.spec.ports.some(isIngress)) task.view = { ...task.view, ports: this.portsFor(task.view.slot, task.spec, `${task.view.specHash}#${task.failures.length}`) }
        this.start(task, now)
      }
      const deadline = healthDeadline(task)
      if (deadline !== undefined && deadline <= now) this.checkRollout(task.spec, now)
    }
  }

  /** A task of ours on the new version that misses its health deadline fails the update. */
  checkRollout(spec: ServiceSpec, now: number): void {
    if (!spec.update.autoRollback || spec.healthcheck === null) return
    const want = placementRequest(spec)
    for (const task of this.tasks.values()) {
      const view = task.view
      if (task.held === true || view.service !== spec.name || view.specHash !== want.specHash || view.state === 'healthy') continue
      const key = `${spec.name}#${want.specHash}`
      if (now - view.since >= spec.update.healthDeadlineMs && !this.rolledBack.has(key)) {
        this.rolledBack.add(key)
        this.deps.rollback(spec.name, want.specHash)
      }
    }
  }

  /** The earliest restart or health deadline still to come. */
  nextWakeAt(): number {
    let at = Infinity
    for (const task of this.tasks.values()) {
      if (task.restartAt !== undefined) at = Math.min(at, task.restartAt)
      const deadline = healthDeadline(task)
      if (deadline !== undefined && !this.rolledBack.has(`${task.view.service}#${task.view.specHash}`)) at = Math.min(at, deadline)
    }
    return at
  }

  /** Starts a task this peer already holds: restored at start, or due to restart after a failure. */
  private start(task: LocalTask, now: number): void {
    delete task.restartAt
    task.view = withState(task.view, 'starting', now)
    this.deps.startTask(task.view, task.spec)
    this.deps.changed()
  }
}
