// The runtime driver: how an agent runs the tasks its protocol machine decided to run. The machine
// owns every decision (restart policy, backoff, giving a slot up); a driver only starts, reports and
// stops. One interface fits the plain process driver, the Docker driver (dockerode) and the in-memory
// twin used by tests, and test/node/runtime/conformance.ts holds every implementation to it.
//
// The contract, in the order an agent meets it:
//
// Events. For each start() a driver emits, for that slot, in this order:
//   starting → running → (healthy | unhealthy)* → exited | failed
// or, when the task could not be launched at all (bad command, missing image, log file not writable):
//   starting → failed
// - `starting` is emitted before anything is launched; `running` once the process (container) exists.
// - `healthy` / `unhealthy` come only from the spec's healthcheck, and only on a transition: never
//   twice the same in a row. A task without a healthcheck never reports either.
// - Exactly one terminal event ends each start: `exited` when the task ran and ended (by itself or by
//   stop()), with `exitCode` when it is known (a death by signal is reported as 128 + signal number,
//   like a shell, and `detail` names the signal); `failed` when it could not run or the driver lost
//   it, with a `detail` a person can act on. Nothing more is emitted for that start.
// - The terminal event is emitted only once nothing of the task is left: when a task's main process
//   ends by itself, whatever else it left in its process group (container) is killed first, as Docker
//   does when a container's init exits.
// - Events of one slot are emitted in order; events are delivered asynchronously, never from inside
//   a call to a driver method, so a listener may call back into the driver (or the machine) freely.
// - A listener that throws is a bug in the listener: the error is rethrown asynchronously.
//
// start(). Resolves once `starting` and then `running` or `failed` have been delivered.
// - Expected refusals are values, not events and not exceptions (errors you expect are values):
//   a malformed slot id, a spec for another driver, or a slot that already runs a task at a
//   *different* spec version (`slot-busy`: the agent and the driver disagree; stop it, then start).
// - A slot that already runs a task at the *same* spec version is adopted, not started twice: no new
//   process, `{ ok: true, adopted: true }`, and the task's current state (running / healthy /
//   unhealthy) is emitted again, so a machine that restored the task as `starting` learns it is up.
//   This is how an agent resumes its tasks after its own restart.
// - A slot whose previous task is still being stopped waits for that stop to finish, then starts: an
//   agent may pass the machine's stop-task and start-task outputs through without awaiting each one,
//   as long as it calls them in output order (the machine replaces a task in place as
//   [stop-task slot, start-task slot]). The old task's `exited` (marked `stopRequested`) then comes
//   before the new task's `starting`. After stop() is called, the only event left for that task is
//   its terminal one. A stop() of the slot made while such a start waits comes after it in output
//   order, so it cancels that start: nothing is launched, no event is emitted, and the start
//   resolves `{ ok: false, error: 'cancelled' }` (launching would leave a task the agent stopped).
// - A command that cannot run is `{ ok: true }` followed by a `failed` event, so the machine's restart
//   policy treats it like any other failure.
// - `options.secretsDir`, when given, is a directory holding one file per secret the spec lists,
//   named by the secret's target when that is a file name, else by the secret's name (core's
//   secretFileName). The agent writes it (on a memory-only file system, node/agent/secret-files.ts)
//   and removes it once the task has ended; the driver shows it to the task and never reads it: the
//   process driver puts its path in PEER_SECRETS_DIR, the Docker driver bind-mounts it read-only at
//   /run/secrets and sets PEER_SECRETS_DIR to that, and bind-mounts the file of each secret with an
//   absolute target read-only at that target. A start that adopts a running task keeps the
//   directory that task was started with.
//
// stop(). Sends the polite signal (SIGTERM), waits up to `graceMs`, then kills (SIGKILL). Resolves
// once the task is gone and its terminal event (`exited`; `failed` if it never launched) has been
// delivered, marked `stopRequested`. The exitCode is what the task returned (143 after SIGTERM,
// 137 after SIGKILL, or its own code if it handled the signal). Idempotent: stopping a slot that is
// being stopped returns the same promise; stopping a slot the driver does not run (never started,
// already ended, unknown) is a no-op.
//
// list(). What the driver runs now (from `running` on; a task still launching is not listed yet),
// in slot order, including tasks a previous agent process started that are still alive (after an
// agent restart). The driver resumes watching those (their exit and healthcheck are
// reported as for its own tasks); it never stops anything by itself. Tasks that list() reports and
// the agent does not want are the agent's to stop.
//
// logs(). The task's output lines (stdout and stderr interleaved as written, without the newline;
// Docker reads the two streams separately, so lines written to both within the same instant may
// come back in either order).
// `tailLines` keeps only the last N existing lines; `follow` keeps yielding new lines until the task
// ends or `signal` aborts. Logs outlive the task: after it ended they can still be read (follow then
// ends at once). A slot with no logs yields nothing.
//
// close(). Stops watching and emitting: no listener is called once close() has been called. It does
// NOT stop tasks: they keep running, so an agent upgrade or crash does not restart the workload, and
// the next driver instance finds them with list(). Stops already in progress are finished (silently)
// before close() resolves. start, stop, list and logs reject after close() (a bug in the caller);
// onEvent is accepted and its listener never called.
//
// Clock. Event times (`atMs`) and healthcheck start periods read the injected `now()`; waiting (grace
// periods, probe intervals) uses real timers in real drivers, since real processes run in real time.

import type { ServiceName, SlotId } from '../../core/index.js'
import type { Driver, ServiceSpec } from '../../core/index.js'
import type { TaskState, TaskView } from '../../core/index.js'

/** One observed change of a task. `state` is never `pending` or `complete`: those are the machine's. */
export interface TaskEvent {
  readonly slot: SlotId
  readonly state: TaskState
  /** With `exited`: the process's exit status (128 + n for death by signal n), when known. */
  readonly exitCode?: number
  readonly atMs: number
  /** Why, for a person: the failing command's error, the killing signal, the healthcheck's output. */
  readonly detail?: string
  /**
   * On a terminal event: stop() had been called for this task. The machine forgot the task when it
   * said stop-task, and may already hold a new task in the same slot (a replacement in place), so
   * the agent must not pass such an event on as that new task's end.
   */
  readonly stopRequested?: true
}

export type TaskListener = (event: TaskEvent) => void

/** A task the driver runs now, as list() reports it. */
export interface RunningTaskInfo {
  readonly slot: SlotId
  readonly service: ServiceName
  readonly specHash: string
  /** The spec it was started with, so an agent that lost its own state can still tell what runs. */
  readonly spec: ServiceSpec
  /** starting, running, healthy or unhealthy. */
  readonly state: TaskState
  readonly startedAtMs: number
  /** The driver's own handle: a pid (process driver), a container id (Docker), a counter (memory). */
  readonly handle: string
  /** stop() was called and the task has not ended yet. */
  readonly stopping: boolean
}

export type StartRefusal = 'malformed-slot' | 'wrong-driver' | 'slot-busy' | 'cancelled'

export type StartResult =
  | { readonly ok: true; readonly adopted: boolean }
  | { readonly ok: false; readonly error: StartRefusal; readonly detail: string }

export interface LogOptions {
  readonly follow: boolean
  /** Only the last N lines that exist when reading starts; all of them when absent. */
  readonly tailLines?: number
  /** Ends a follow (and any read) early; the iteration then simply finishes. */
  readonly signal?: AbortSignal
}

/** What a start may carry beside the task and its spec. */
export interface StartOptions {
  /** The task's secret files (see the contract above); absent when the spec lists no secrets. */
  readonly secretsDir?: string
  /**
   * The agent's DNS server for `<service>.peer` names (node/discovery), as `address:port`; absent
   * when it serves none. A process finds it in PEER_DNS; a container gets it as its resolver (port 53
   * only: the engine takes no port), with `peer` as its search domain so bare service names resolve.
   */
  readonly dns?: string
}

/** Where a task finds the agent's DNS server, in its environment. */
export const DNS_VARIABLE = 'PEER_DNS'

/** Where a task finds its secret files, in its environment. */
export const SECRETS_DIR_VARIABLE = 'PEER_SECRETS_DIR'

export interface RuntimeDriver {
  readonly name: Driver
  start(task: TaskView, spec: ServiceSpec, options?: StartOptions): Promise<StartResult>
  stop(slot: SlotId, graceMs: number): Promise<void>
  list(): Promise<RunningTaskInfo[]>
  logs(slot: SlotId, options: LogOptions): AsyncIterable<string>
  /** Registers a listener; the returned function unregisters it. */
  onEvent(listener: TaskListener): () => void
  close(): Promise<void>
}

/** What every driver takes from its host: the clock for event times. */
export interface DriverComponents {
  readonly now: () => number
  /** Told of every healthcheck probe's result and how long it ran, for metrics. */
  readonly onProbe?: ProbeObserver
}

export type ProbeObserver = (probe: { readonly service: ServiceName; readonly passed: boolean; readonly durationMs: number }) => void

/**
 * The environment a task sees on top of its spec's `env`. Set last, so a spec cannot forge them:
 * PEER_SLOT is how a replica learns its index, and how an operator finds a task's processes.
 */
export function peerEnvironment(task: TaskView): Record<string, string> {
  return { PEER_SLOT: task.slot, PEER_SERVICE: task.service, PEER_SPEC_HASH: task.specHash }
}

/**
 * The host ports a process must listen on, as Nomad's NOMAD_PORT_<label>: `PEER_PORT_<container>`
 * (`…_UDP` for udp) for every port, and `PORT` for the first tcp one — an ingress port's task binds
 * the port its peer picked, not the one written. A container listens on its container port instead.
 */
export function portEnvironment(task: TaskView): Record<string, string> {
  const env: Record<string, string> = {}
  for (const port of task.ports) {
    env[`PEER_PORT_${port.container}${port.protocol === 'udp' ? '_UDP' : ''}`] = String(port.host)
    if (port.protocol === 'tcp' && env.PORT === undefined) env.PORT = String(port.host)
  }
  return env
}
