// The plain process driver: a task is a child process running `spec.command` (argv, no shell), for
// hosts without Docker and for tests. The contract is driver.ts's; what is particular to processes:
//
// - Environment: `baseEnv` (default: only the agent's PATH, so tasks do not inherit the agent's
//   secrets), then the spec's `env`, then PEER_SLOT, PEER_SERVICE and PEER_SPEC_HASH, and
//   PEER_SECRETS_DIR when the start carries the task's secret files.
// - Working directory: the spec's `workdir`, else `cwd` (default: the agent's); a workdir that is not a
//   directory on this host fails the start, naming it. Each task runs in its own session and process
//   group (detached), whose id is its pid: stop() signals the whole group, so children and
//   grandchildren go with it. A process that leaves the group on purpose (setsid, double fork into a
//   new session) escapes; only cgroups would catch it, and this driver does not use them.
// - When the task's main process ends by itself, whatever it left in its group is killed (SIGKILL)
//   before `exited` is reported, as Docker does when a container's init exits.
// - Logs: stdout and stderr are the file `<dataDir>/logs/<slot>.log` itself (opened for appending
//   and handed to the child), so output survives an agent restart and needs no pipe the agent could
//   stall. The file is appended to across restarts of the slot; when it is larger than `maxLogBytes`
//   at a start it is renamed to `<slot>.log.1` first (the only rotation there is).
// - Resources are not enforced: cpu, memory and extended resources count for placement only.
//   Ports are not mapped: the process binds what it binds, and `ports` only reserve the host port
//   numbers during placement so two tasks that bind one port never share a peer.
// - Healthchecks run the spec's healthcheck command as a separate process with the task's
//   environment (see health.ts for the timing rules, probe.ts for one probe).
//
// Agent restarts and orphans. Each running task has a record in `<dataDir>/tasks/` (records.ts),
// written before `running` is reported and removed after the terminal event. A new driver on the
// same data directory adopts every recorded task whose process is still alive (same pid and same
// start time, not a zombie): list() reports it, stop() stops it, its healthcheck resumes, and its end
// is noticed by polling every `adoptedPollMs`; an adopted task is not the agent's child, so its exit
// status is lost and `exited` comes without an exitCode (the machine counts that as a failure).
// Records whose process has died are deleted without an event: the machine restores its own tasks
// and restarts them. Nothing is stopped automatically: a recorded task the agent no longer wants (an
// orphan of its previous life) keeps running until the agent stops it, so the agent should compare
// list() with what its machine restored and stop the rest. A process started in the short window
// between spawn and its record's rename, when the agent crashed right there, is not recorded and
// not found; it carries PEER_SLOT in its environment for an operator to find.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, open, stat } from 'node:fs/promises'
import { constants as osConstants } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { compareSlots, parseSlot, type ServiceName, type SlotId } from '../../core/index.js'
import type { ServiceSpec } from '../../core/index.js'
import type { TaskState, TaskView } from '../../core/index.js'
import {
  DNS_VARIABLE,
  peerEnvironment,
  portEnvironment,
  SECRETS_DIR_VARIABLE,
  type DriverComponents, type LogOptions, type RunningTaskInfo, type RuntimeDriver, type StartOptions, type StartResult, type TaskListener,
  type ProbeObserver,
} from './driver.js'
import { deferred, type Deferred } from './deferred.js'
import { EventHub } from './events.js'
import { requested, resumeExisting, startRefusal, taskEvent, SlotStops, type EventExtra } from './task-table.js'
import { HealthLoop } from './health.js'
import { readLogLines, rotateLogFile } from './log-file.js'
import { describeSpawnError, runProbe } from './probe.js'
import { groupMembers, isAlive, signalGroup, startTicksOf } from './proc.js'
import { slotFileName, TaskRecords, taskRecordsDir, type TaskRecord } from './records.js'

export interface ProcessDriverInit {
  /** Holds `logs/` and `tasks/`. Two agents must not share one. */
  readonly dataDir: string
  /** Environment under every task's own. Default: `{ PATH }` from the agent (or the usual system path). */
  readonly baseEnv?: Readonly<Record<string, string>>
  /** Working directory of tasks and their healthchecks. Default: the agent's. */
  readonly cwd?: string
  /** How often an adopted task is checked for exit. It is not our child, so nothing tells us. Default 1000. */
  readonly adoptedPollMs?: number
  /** How often a stopping task's process group is checked for members left. Default 20. */
  readonly groupPollMs?: number
  /** How often a following log reader looks for new output. Default 200. */
  readonly logPollMs?: number
  /** A log file larger than this at a task's start is rotated. Default 10 MiB. */
  readonly maxLogBytes?: number
  /** How long after SIGKILL to wait for a group to vanish before reporting the end anyway. Default 5000. */
  readonly killWaitMs?: number
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

interface ExitStatus {
  /** Null for an adopted task, whose status nobody can read. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** One start of one slot, from `starting` to its terminal event. */
interface Instance {
  readonly slot: SlotId
  readonly service: ServiceName
  readonly specHash: string
  readonly spec: ServiceSpec
  readonly env: Record<string, string>
  readonly adopted: boolean
  readonly secretsDir?: string
  state: TaskState
  startedAtMs: number
  pid?: number
  startTicks?: number
  child?: ChildProcess
  /** Resolves when `running` or `failed` has been emitted. */
  readonly launched: Deferred<void>
  /** Resolves when the task's main process has ended. */
  readonly exit: Deferred<ExitStatus>
  /** Resolves after the terminal event was delivered (or dropped by close). */
  readonly finished: Deferred<void>
  stop?: Promise<void>
  /** Real-time (Date.now) limit for the group to vanish, set by stop(). */
  groupDeadline?: number
  killTimer?: NodeJS.Timeout
  /** Its group was found empty (or given up on): never signal that group id again, it may be reused. */
  gone?: true
  pollTimer?: NodeJS.Timeout
  health?: HealthLoop
}

export class ProcessDriver implements RuntimeDriver {
  readonly name = 'process' as const
  private readonly now: () => number
  private readonly onProbe: ProbeObserver | undefined
  private readonly dataDir: string
  private readonly baseEnv: Readonly<Record<string, string>>
  private readonly cwd: string
  private readonly adoptedPollMs: number
  private readonly groupPollMs: number
  private readonly logPollMs: number
  private readonly maxLogBytes: number
  private readonly killWaitMs: number
  private readonly records: TaskRecords
  private readonly hub = new EventHub()
  private readonly tasks = new Map<SlotId, Instance>()
  /** Calls of stop() per slot: one after a start that waits cancels it (task-table.ts). */
  private readonly stops = new SlotStops()
  private adoption: Promise<void> | undefined
  private closed = false
  /** Set once close() has let in-flight stops finish: from then on, instances are abandoned. */
  private detached = false

  constructor(components: DriverComponents, init: ProcessDriverInit) {
    this.now = components.now
    this.onProbe = components.onProbe
    this.dataDir = init.dataDir
    this.baseEnv = init.baseEnv ?? { PATH: process.env.PATH ?? DEFAULT_PATH }
    this.cwd = init.cwd ?? process.cwd()
    this.adoptedPollMs = init.adoptedPollMs ?? 1000
    this.groupPollMs = init.groupPollMs ?? 20
    this.logPollMs = init.logPollMs ?? 200
    this.maxLogBytes = init.maxLogBytes ?? 10 * 1024 * 1024
    this.killWaitMs = init.killWaitMs ?? 5000
    this.records = new TaskRecords(taskRecordsDir(this.dataDir))
  }

  /** Where a slot's output goes. */
  logPath(slot: SlotId): string {
    return join(this.dataDir, 'logs', `${slotFileName(slot)}.log`)
  }

  onEvent(listener: TaskListener): () => void {
    return this.hub.on(listener)
  }

  async start(task: TaskView, spec: ServiceSpec, options: StartOptions = {}): Promise<StartResult> {
    this.assertOpen()
    const stopsSeen = this.stops.seen(task.slot)
    const refused = startRefusal(task, spec, this.name)
    if (refused !== undefined) return refused
    await this.adopt()
    // Only a slot that has a task awaits here: a free slot must be taken in this same turn, so a
    // stop() made right after this start() finds the new task.
    if (this.tasks.has(task.slot)) {
      const resumed = await resumeExisting(this.tasks, task, this.hub, (instance, state) => this.emit(instance, state), this.stops, stopsSeen)
      if (resumed !== undefined) return resumed
    }
    const env = {
      ...this.baseEnv, ...spec.env, ...portEnvironment(task), ...peerEnvironment(task), ...secretsEnvironment(options.secretsDir),
      ...(options.dns === undefined ? {} : { [DNS_VARIABLE]: options.dns }),
    }
    const instance = this.newInstance(task.slot, spec, task.specHash, env, false, this.now(), options.secretsDir)
    this.tasks.set(task.slot, instance)
    this.emit(instance, 'starting')
    await this.launch(instance)
    await this.hub.delivered()
    return { ok: true, adopted: false }
  }

  async stop(slot: SlotId, graceMs: number): Promise<void> {
    this.assertOpen()
    this.stops.stopped(slot)
    await this.adopt()
    const instance = this.tasks.get(slot)
    if (instance === undefined) return
    instance.stop ??= this.stopInstance(instance, graceMs)
    return instance.stop
  }

  async list(): Promise<RunningTaskInfo[]> {
    this.assertOpen()
    await this.adopt()
    const running = [...this.tasks.values()].filter((instance) => instance.pid !== undefined)
    return running
      .sort((a, b) => compareSlots(a.slot, b.slot))
      .map((instance) => ({
        slot: instance.slot,
        service: instance.service,
        specHash: instance.specHash,
        spec: instance.spec,
        state: instance.state,
        startedAtMs: instance.startedAtMs,
        handle: String(instance.pid),
        stopping: instance.stop !== undefined,
      }))
  }

  async *logs(slot: SlotId, options: LogOptions): AsyncGenerator<string> {
    this.assertOpen()
    if (parseSlot(slot) === undefined) return
    await this.adopt()
    const instance = this.tasks.get(slot)
    yield* readLogLines(this.logPath(slot), {
      ...options,
      isLive: () => instance !== undefined && this.tasks.get(slot) === instance && !this.closed,
      pollMs: this.logPollMs,
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.hub.close()
    await this.adoption?.catch(() => {})
    const stopping = [...this.tasks.values()].flatMap((instance) => (instance.stop ? [instance.stop] : []))
    await Promise.allSettled(stopping)
    this.detached = true
    for (const instance of this.tasks.values()) this.abandon(instance)
    this.tasks.clear()
  }

  // --- launching ------------------------------------------------------------------------------

  private newInstance(
    slot: SlotId, spec: ServiceSpec, specHash: string, env: Record<string, string>, adopted: boolean, startedAtMs: number, secretsDir: string | undefined,
  ): Instance {
    return {
      slot, service: spec.name, specHash, spec, env, adopted, state: 'starting', startedAtMs,
      ...(secretsDir === undefined ? {} : { secretsDir }),
      launched: deferred(), exit: deferred(), finished: deferred(),
    }
  }

  private async launch(instance: Instance): Promise<void> {
    const [file, ...args] = instance.spec.command
    if (file === undefined) return this.failLaunch(instance, `service ${instance.service} has no command to run`)
    const cwd = this.cwdOf(instance.spec)
    // Checked first: spawn reports a missing cwd as ENOENT, which would read as a missing command.
    const isDirectory = await stat(cwd).then((info) => info.isDirectory(), () => false)
    if (!isDirectory) return this.failLaunch(instance, `working directory ${cwd} does not exist on this host (or is not a directory)`)
    const logPath = this.logPath(instance.slot)
    let log
    try {
      await mkdir(join(this.dataDir, 'logs'), { recursive: true })
      await rotateLogFile(logPath, this.maxLogBytes)
      log = await open(logPath, 'a')
    } catch (error) {
      return this.failLaunch(instance, `cannot open log file ${logPath}: ${(error as Error).message}`)
    }
    let child: ChildProcess
    try {
      // detached: a new session and process group (id = pid), so stop() can signal all of it and the
      // task outlives the agent. The log file is the child's stdout and stderr.
      child = spawn(file, args, { env: instance.env, cwd, detached: true, stdio: ['ignore', log.fd, log.fd] })
    } catch (error) {
      await log.close()
      return this.failLaunch(instance, `cannot start ${JSON.stringify(file)}: ${(error as Error).message}`)
    }
    // Listen before the first await: a short task can exit (and be reaped) before the next turn.
    child.once('exit', (code, signal) => instance.exit.resolve({ code, signal }))
    const startTicks = child.pid === undefined ? undefined : startTicksOf(child.pid)
    const spawnError = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined))
      child.once('error', resolve)
    })
    await log.close()
    if (spawnError !== undefined) {
      return this.failLaunch(instance, `cannot start ${JSON.stringify(file)}: ${describeSpawnError(spawnError)}`)
    }
    child.on('error', () => {}) // later errors (a failed kill) are seen through the group checks
    instance.child = child
    instance.pid = child.pid!
    if (startTicks !== undefined) instance.startTicks = startTicks
    // The task runs from here: list() and the healthcheck's start period count from this moment.
    instance.startedAtMs = this.now()
    try {
      await this.records.write(this.recordOf(instance))
    } catch (error) {
      // Unrecorded, it would be invisible after an agent restart: better not to run it at all.
      this.signal(instance.pid, 'SIGKILL')
      await instance.exit.promise
      delete instance.pid
      return this.failLaunch(instance, `cannot write task record: ${(error as Error).message}`)
    }
    this.becomeRunning(instance)
  }

  private becomeRunning(instance: Instance): void {
    instance.state = 'running'
    this.emit(instance, 'running')
    instance.launched.resolve()
    // Closed while it launched: it runs on without us, like the others close() left running.
    if (this.detached) return this.abandon(instance)
    void this.watch(instance)
    if (instance.stop === undefined) this.startHealth(instance)
  }

  private failLaunch(instance: Instance, detail: string): void {
    if (this.tasks.get(instance.slot) === instance) this.tasks.delete(instance.slot)
    this.emit(instance, 'failed', { detail, ...requested(instance) })
    instance.launched.resolve()
    void this.hub.delivered().then(() => instance.finished.resolve())
  }

  /** Where a task of `spec` and its healthcheck run. */
  private cwdOf(spec: ServiceSpec): string {
    return spec.workdir ?? this.cwd
  }

  private recordOf(instance: Instance): TaskRecord {
    return {
      version: 1, slot: instance.slot, service: instance.service, specHash: instance.specHash, spec: instance.spec,
      pid: instance.pid!, startTicks: instance.startTicks ?? null, startedAtMs: instance.startedAtMs,
      ...(instance.secretsDir === undefined ? {} : { secretsDir: instance.secretsDir }),
    }
  }

  // --- running and ending ---------------------------------------------------------------------

  /** Waits for the main process to end, clears the rest of its group, then reports the end. */
  private async watch(instance: Instance): Promise<void> {
    const status = await instance.exit.promise
    if (this.detached) return
    const stopped = instance.stop !== undefined
    this.stopHealth(instance)
    clearInterval(instance.pollTimer)
    const group = instance.pid!
    // Ending by itself, the task takes what it left behind with it; a stopping task's group instead
    // gets the rest of its grace period (stopInstance's timer sends SIGKILL when it runs out).
    if (!stopped) this.signal(group, 'SIGKILL')
    const deadline = instance.groupDeadline ?? Date.now() + this.killWaitMs
    let left = groupMembers(group)
    while (left.length > 0 && Date.now() < deadline && !this.detached) {
      await sleep(this.groupPollMs)
      left = groupMembers(group)
    }
    clearTimeout(instance.killTimer)
    instance.gone = true
    if (this.detached) return
    await this.records.remove(instance.slot).catch(() => {})
    if (this.tasks.get(instance.slot) === instance) this.tasks.delete(instance.slot)
    const { exitCode, detail } = describeExit(status, stopped)
    const leftover = left.length > 0 ? `; processes ${left.join(', ')} of its group did not die` : ''
    this.emit(instance, 'exited', { ...(exitCode === undefined ? {} : { exitCode }), detail: detail + leftover, ...requested(instance) })
    await this.hub.delivered()
    instance.finished.resolve()
  }

  private async stopInstance(instance: Instance, graceMs: number): Promise<void> {
    await instance.launched.promise
    if (instance.pid === undefined) return instance.finished.promise // it never ran
    this.stopHealth(instance)
    if (instance.gone) return instance.finished.promise // ended by itself; its end is being reported
    const group = instance.pid
    instance.groupDeadline = Date.now() + Math.max(0, graceMs) + this.killWaitMs
    this.signal(group, 'SIGTERM')
    instance.killTimer = setTimeout(() => {
      if (!instance.gone) this.signal(group, 'SIGKILL')
    }, Math.max(0, graceMs))
    // An adopted task's end is only seen by polling: poll as fast as a group during the stop.
    if (instance.adopted) this.pollAdopted(instance, this.groupPollMs)
    return instance.finished.promise
  }

  private signal(group: number, signal: NodeJS.Signals): void {
    try {
      signalGroup(group, signal)
    } catch {
      // EPERM: the group now belongs to someone else (pid reuse); nothing of ours is left to signal.
    }
  }

  private abandon(instance: Instance): void {
    this.stopHealth(instance)
    clearInterval(instance.pollTimer)
    clearTimeout(instance.killTimer)
    // The task keeps running; the agent process must not wait for it to exit.
    instance.child?.removeAllListeners('exit')
    instance.child?.unref()
    instance.finished.resolve()
  }

  // --- adoption after an agent restart ---------------------------------------------------------

  private adopt(): Promise<void> {
    this.adoption ??= this.adoptRecorded()
    return this.adoption
  }

  private async adoptRecorded(): Promise<void> {
    const { records } = await this.records.readAll()
    for (const record of records) {
      if (this.tasks.has(record.slot)) continue
      if (!isAlive(record.pid, record.startTicks ?? undefined)) {
        await this.records.remove(record.slot)
        continue
      }
      const env = {
        ...this.baseEnv, ...record.spec.env, PEER_SLOT: record.slot, PEER_SERVICE: record.service, PEER_SPEC_HASH: record.specHash,
        ...secretsEnvironment(record.secretsDir),
      }
      const instance = this.newInstance(record.slot, record.spec, record.specHash, env, true, record.startedAtMs, record.secretsDir)
      instance.pid = record.pid
      if (record.startTicks !== null) instance.startTicks = record.startTicks
      instance.state = 'running'
      instance.launched.resolve()
      this.tasks.set(record.slot, instance)
      this.pollAdopted(instance, this.adoptedPollMs)
      void this.watch(instance)
      this.startHealth(instance)
    }
  }

  private pollAdopted(instance: Instance, everyMs: number): void {
    clearInterval(instance.pollTimer)
    instance.pollTimer = setInterval(() => {
      if (!isAlive(instance.pid!, instance.startTicks)) {
        clearInterval(instance.pollTimer)
        instance.exit.resolve({ code: null, signal: null })
      }
    }, everyMs)
  }

  // --- healthchecks ---------------------------------------------------------------------------

  private startHealth(instance: Instance): void {
    const check = instance.spec.healthcheck
    if (check === null || this.detached) return
    instance.health = new HealthLoop(check, instance.startedAtMs, this.now, (signal) => {
      const probe = runProbe(check.command, instance.env, this.cwdOf(instance.spec), check.timeoutMs)
      signal.addEventListener('abort', () => probe.cancel(), { once: true })
      return probe.result
    }, (state, detail) => {
      instance.state = state
      this.emit(instance, state, detail === '' ? {} : { detail })
    }, (passed, durationMs) => this.onProbe?.({ service: instance.spec.name, passed, durationMs }))
    instance.health.start()
  }

  private stopHealth(instance: Instance): void {
    instance.health?.stop()
    delete instance.health
  }

  // --- plumbing ---------------------------------------------------------------------------------

  private emit(instance: Instance, state: TaskState, extra: EventExtra = {}): void {
    this.hub.emit(taskEvent(instance, state, this.now(), extra))
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the process driver is closed')
  }
}

function secretsEnvironment(secretsDir: string | undefined): Record<string, string> {
  return secretsDir === undefined ? {} : { [SECRETS_DIR_VARIABLE]: secretsDir }
}

function describeExit(status: ExitStatus, stopped: boolean): { exitCode?: number; detail: string } {
  const prefix = stopped ? 'stopped; ' : ''
  if (status.signal !== null) {
    const number = osConstants.signals[status.signal]
    return { exitCode: 128 + number, detail: `${prefix}killed by ${status.signal}` }
  }
  if (status.code !== null) return { exitCode: status.code, detail: `${prefix}exited with code ${status.code}` }
  return { detail: `${prefix}ended while adopted from an earlier agent; its exit status is unknown` }
}
