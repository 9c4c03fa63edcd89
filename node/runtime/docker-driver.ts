// The Docker driver: a task is a container on the local engine, created and watched through dockerode.
// The contract is driver.ts's; what is particular to containers:
//
// - Identity. Every container carries labels: peer.cluster, peer.owner (this peer's id), peer.slot,
//   peer.service, peer.spec-hash and peer.spec (the spec it runs, as JSON). A driver only ever sees
//   containers of its own owner and cluster, so two agents sharing one engine (tests, `peer up
//   --local`) never touch each other's containers. Names (`peer_<service>_<index>_<owner>`) are for
//   people reading `docker ps`; the driver finds its containers by label.
// - Resources are enforced: cpu → NanoCpus, memory → Memory with MemorySwap equal to it (no swap
//   beyond the limit). `HostConfig.Init` is set, so the task's PID 1 forwards SIGTERM (without it a
//   shell ignores it and every stop waits out the grace period).
// - Ports are published on the host (`ports: ["8080:80"]`), on the agent's own address when it
//   listens on one. A host port already taken makes the start fail with a reason naming the port,
//   so the machine's restart policy moves the slot.
// - Images are used when present; a missing one is pulled (progress in the event's detail). When the
//   pull fails (no registry reachable), the start fails with "image X not present on this host and
//   pull failed: …", which `peer why` shows once the slot has moved.
// - Secrets: a start's secret files (StartOptions.secretsDir) are bind-mounted read-only at
//   /run/secrets, as Swarm does, and PEER_SECRETS_DIR says so; a secret with an absolute target is
//   also bind-mounted on its own, read-only, at that path (docker-mounts.ts). The mounts must exist on
//   the engine's host: a Docker engine on another machine (DOCKER_HOST) cannot run tasks with secrets.
// - The spec's container fields: entrypoint → Entrypoint (which, as `docker run --entrypoint`, also
//   drops the image's CMD), user → User, workdir → WorkingDir, mounts → HostConfig.Mounts (a named
//   volume is made by the engine on first use and outlives the container: removal takes only
//   anonymous volumes), capAdd/capDrop → CapAdd/CapDrop, stopGrace → StopTimeout (so a `docker stop`
//   by hand waits as long as the agent would). A bind source missing on this host fails the start
//   with a detail naming the path.
// - Restarts belong to the machine: containers have no Docker restart policy.
// - Logs: while a container exists, logs() reads the engine's log of it (Docker's json-file driver,
//   capped at `logMaxBytes` × 2 files). When a task ends, its output is appended to
//   `<dataDir>/logs/<slot>.log` and the container is removed, so logs outlive the task and no
//   container is left behind.
// - Healthchecks run the spec's command inside the container (`docker exec`) with the timing rules of
//   health.ts, the same as the process driver's, so a spec means the same under either driver.
// - Agent restarts. A new driver lists the engine's containers of its owner: running ones are adopted
//   (their exit is awaited again, with its real exit code), ended ones are archived and removed
//   without an event (the machine restores its own tasks and restarts them).

import Docker from 'dockerode'
import { appendFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { compareSlots, CONTAINER_SECRETS_DIR, parseSlot, type ServiceName, type SlotId } from '../../core/index.js'
import type { PortSpec, ServiceSpec } from '../../core/index.js'
import type { TaskState, TaskView } from '../../core/index.js'
import {
  DNS_VARIABLE,
  peerEnvironment,
  SECRETS_DIR_VARIABLE,
  type DriverComponents, type LogOptions, type RunningTaskInfo, type RuntimeDriver, type StartOptions, type StartResult, type TaskListener,
  type ProbeObserver,
} from './driver.js'
import { engineMessage, engineStatus, execInContainer } from './docker-exec.js'
import { containerMounts, describeMountError } from './docker-mounts.js'
import { DockerLineDecoder, dockerLines } from './docker-stream.js'
import { deferred, type Deferred } from './deferred.js'
import { EventHub } from './events.js'
import { requested, resumeExisting, startRefusal, taskEvent, SlotStops, type EventExtra } from './task-table.js'
import { HealthLoop } from './health.js'
import { readLogLines, rotateLogFile } from './log-file.js'
import { slotFileName } from './records.js'

/** How long a just-started container's init may take to handle signals (see stopInstance). */
const INIT_SETTLE_MS = 250

export const LABEL = {
  cluster: 'peer.cluster',
  owner: 'peer.owner',
  slot: 'peer.slot',
  service: 'peer.service',
  specHash: 'peer.spec-hash',
  spec: 'peer.spec',
} as const

/** Reads of an ended container's log, LOG_SETTLE_MS apart, until two agree: a few tens of ms per task end. */
const LOG_SETTLE_MS = 25
const LOG_SETTLE_ATTEMPTS = 8

export interface DockerDriverInit {
  /** The engine. Default: the local socket (DOCKER_HOST is honoured by dockerode). */
  readonly docker?: Docker
  /** This peer's id: containers are labelled with it and only its own are seen. */
  readonly owner: string
  /** The cluster's id (the swarm key's fingerprint): a second cluster on the same engine is invisible. */
  readonly cluster: string
  /** Holds `logs/`, where ended tasks' output is kept. Two agents must not share one. */
  readonly dataDir: string
  /**
   * The host address published ports bind to; all addresses when absent. An agent that listens on one
   * address publishes there, so several agents on one machine (127.0.0.1, 127.0.0.2, …) can each
   * publish the same port.
   */
  readonly publishAddress?: string
  /** Bind mounts (`/host:/container[:ro]`) added to every container: host files all tasks need. */
  readonly binds?: readonly string[]
  /** How long a missing image may take to pull before the start fails. Default 5 minutes. */
  readonly pullTimeoutMs?: number
  /** Engine log cap per container (json-file max-size, two files). Default 10 MiB. */
  readonly logMaxBytes?: number
  /** Delay before asking the engine again when waiting on a container failed (engine restart). Default 1000. */
  readonly engineRetryMs?: number
}

/** One start of one slot, from `starting` to its terminal event. */
interface Instance {
  readonly slot: SlotId
  readonly service: ServiceName
  readonly specHash: string
  readonly spec: ServiceSpec
  readonly env: readonly string[]
  readonly adopted: boolean
  /** The host directory mounted at /run/secrets, when the start carried one. */
  readonly secretsDir?: string
  /** Host ports published for the container: the task's bound ports (ingress ones picked by its peer). */
  readonly publish: readonly PortSpec[]
  /** The agent's DNS server (`address:port`) the container resolves with, when it serves one. */
  readonly dns?: string
  state: TaskState
  startedAtMs: number
  container?: Docker.Container
  id?: string
  readonly launched: Deferred<void>
  readonly finished: Deferred<void>
  /** Aborts the long-poll `wait` on the container when the driver closes. */
  readonly watching: AbortController
  stop?: Promise<void>
  health?: HealthLoop
}

export class DockerDriver implements RuntimeDriver {
  readonly name = 'docker' as const
  private readonly now: () => number
  private readonly onProbe: ProbeObserver | undefined
  private readonly docker: Docker
  private readonly init: DockerDriverInit
  private readonly hub = new EventHub()
  private readonly tasks = new Map<SlotId, Instance>()
  /** Calls of stop() per slot: one after a start that waits cancels it (task-table.ts). */
  private readonly stops = new SlotStops()
  private adoption: Promise<void> | undefined
  private closed = false
  private detached = false

  constructor(components: DriverComponents, init: DockerDriverInit) {
    this.now = components.now
    this.onProbe = components.onProbe
    this.docker = init.docker ?? new Docker()
    this.init = init
  }

  /** Whether the engine answers; an agent without one offers no docker driver. */
  static async engineAnswers(docker: Docker = new Docker(), timeoutMs = 3000): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
    try {
      const version = await Promise.race([
        docker.version(),
        sleep(timeoutMs).then(() => {
          throw new Error(`no answer within ${timeoutMs} ms`)
        }),
      ])
      return { ok: true, version: version.Version }
    } catch (error) {
      return { ok: false, error: engineMessage(error) }
    }
  }

  /** Where a slot's ended output is kept. */
  logPath(slot: SlotId): string {
    return join(this.init.dataDir, 'logs', `${slotFileName(slot)}.log`)
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
    const secrets = options.secretsDir === undefined ? {} : { [SECRETS_DIR_VARIABLE]: CONTAINER_SECRETS_DIR }
    const dns = options.dns === undefined ? {} : { [DNS_VARIABLE]: options.dns }
    const env = Object.entries({ ...spec.env, ...peerEnvironment(task), ...secrets, ...dns }).map(([key, value]) => `${key}=${value}`)
    const instance = newInstance(task.slot, spec, task.specHash, env, false, this.now(), options.secretsDir, task.ports, options.dns)
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
    return [...this.tasks.values()]
      .filter((instance) => instance.id !== undefined && instance.state !== 'starting')
      .sort((a, b) => compareSlots(a.slot, b.slot))
      .map((instance) => ({
        slot: instance.slot,
        service: instance.service,
        specHash: instance.specHash,
        spec: instance.spec,
        state: instance.state,
        startedAtMs: instance.startedAtMs,
        handle: instance.id!,
        stopping: instance.stop !== undefined,
      }))
  }

  async *logs(slot: SlotId, options: LogOptions): AsyncGenerator<string> {
    this.assertOpen()
    if (parseSlot(slot) === undefined) return
    await this.adopt()
    const instance = this.tasks.get(slot)
    if (instance?.container !== undefined && instance.state !== 'starting') {
      yield* this.containerLogs(instance, options)
      return
    }
    yield* readLogLines(this.logPath(slot), { ...options, follow: false, isLive: () => false, pollMs: 200 })
  }

  /** Runs a command in the slot's container (`peer exec`); undefined when this driver runs no such task. */
  async exec(slot: SlotId, command: readonly string[], options: { timeoutMs: number; signal?: AbortSignal; onLine?: (line: string) => void }) {
    this.assertOpen()
    await this.adopt()
    const instance = this.tasks.get(slot)
    if (instance?.container === undefined || instance.stop !== undefined) return undefined
    return execInContainer(instance.container, command, { ...options, maxLines: 10_000 })
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

  private async launch(instance: Instance): Promise<void> {
    const image = instance.spec.image
    if (image === '') return this.failLaunch(instance, `service ${instance.service} names no image`)
    const present = await this.ensureImage(image)
    if (present !== undefined) return this.failLaunch(instance, present)
    let container: Docker.Container
    try {
      container = await this.create(instance)
    } catch (error) {
      const message = engineMessage(error)
      return this.failLaunch(instance, describeMountError(message) ?? `cannot create the container: ${message}`)
    }
    try {
      await container.start()
    } catch (error) {
      await container.remove({ force: true, v: true }).catch(() => {})
      return this.failLaunch(instance, describeStartError(instance.spec, error))
    }
    instance.container = container
    instance.id = container.id
    instance.startedAtMs = this.now()
    this.becomeRunning(instance)
  }

  /** undefined when the image is here (or was pulled); otherwise why the task cannot start. */
  private async ensureImage(image: string): Promise<string | undefined> {
    try {
      await this.docker.getImage(image).inspect()
      return undefined
    } catch (error) {
      if (engineStatus(error) !== 404) return `cannot inspect image ${image}: ${engineMessage(error)}`
    }
    const timeoutMs = this.init.pullTimeoutMs ?? 5 * 60_000
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), timeoutMs)
    try {
      const stream = await this.docker.pull(image, { abortSignal: abort.signal })
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
          const failed = output?.find((line) => typeof line.error === 'string')
          if (error) reject(error)
          else if (failed) reject(new Error(failed.error))
          else resolve()
        })
        abort.signal.addEventListener('abort', () => reject(new Error(`no result within ${timeoutMs} ms`)), { once: true })
      })
      return undefined
    } catch (error) {
      return `image ${image} not present on this host and pull failed: ${engineMessage(error)}`
    } finally {
      clearTimeout(timer)
    }
  }

  private async create(instance: Instance): Promise<Docker.Container> {
    const spec = instance.spec
    const exposed: Record<string, object> = {}
    const bindings: Record<string, Array<{ HostPort: string; HostIp?: string }>> = {}
    // The ports the task binds on this host: an ingress port's task gets the port its peer picked.
    for (const port of instance.publish) {
      const key = `${port.container}/${port.protocol}`
      exposed[key] = {}
      ;(bindings[key] ??= []).push({ HostPort: String(port.host), ...(this.init.publishAddress ? { HostIp: this.init.publishAddress } : {}) })
    }
    const memoryBytes = spec.resources.memoryMiB * 1024 * 1024
    const mounts = containerMounts(spec, instance.secretsDir)
    const options: Docker.ContainerCreateOptions = {
      name: containerName(instance.slot, this.init.owner),
      Image: spec.image,
      ...(spec.entrypoint === undefined ? {} : { Entrypoint: [...spec.entrypoint] }),
      ...(spec.command.length > 0 ? { Cmd: [...spec.command] } : {}),
      ...(spec.user === undefined ? {} : { User: spec.user }),
      ...(spec.workdir === undefined ? {} : { WorkingDir: spec.workdir }),
      // Whole seconds, rounded up, as stopInstance counts them.
      ...(spec.stopGraceMs === undefined ? {} : { StopTimeout: Math.ceil(spec.stopGraceMs / 1000) }),
      Env: [...instance.env],
      Labels: {
        ...spec.labels,
        [LABEL.cluster]: this.init.cluster,
        [LABEL.owner]: this.init.owner,
        [LABEL.slot]: instance.slot,
        [LABEL.service]: instance.service,
        [LABEL.specHash]: instance.specHash,
        [LABEL.spec]: JSON.stringify(spec),
      },
      ExposedPorts: exposed,
      HostConfig: {
        Init: true,
        ...(spec.resources.cpuMilli > 0 ? { NanoCpus: spec.resources.cpuMilli * 1_000_000 } : {}),
        ...(memoryBytes > 0 ? { Memory: memoryBytes, MemorySwap: memoryBytes } : {}),
        PortBindings: bindings,
        // The agent answers `<service>.peer` and forwards every other name; `peer` as the search
        // domain makes a bare service name (`redis`, as a compose file writes it) resolve too.
        ...containerResolver(instance.dns),
        RestartPolicy: { Name: 'no' },
        LogConfig: { Type: 'json-file', Config: { 'max-size': String(this.init.logMaxBytes ?? 10 * 1024 * 1024), 'max-file': '2' } },
        ...(this.init.binds && this.init.binds.length > 0 ? { Binds: [...this.init.binds] } : {}),
        ...(mounts.length === 0 ? {} : { Mounts: mounts }),
        ...(spec.capAdd === undefined ? {} : { CapAdd: [...spec.capAdd] }),
        ...(spec.capDrop === undefined ? {} : { CapDrop: [...spec.capDrop] }),
      },
    }
    try {
      return await this.docker.createContainer(options)
    } catch (error) {
      if (engineStatus(error) !== 409) throw error
      // A container of this name is left from an earlier life of this peer (a crash between its end
      // and its removal). Ours by label: remove it and try once more. Someone else's: refuse.
      const stale = this.docker.getContainer(options.name!)
      const labels = (await stale.inspect()).Config.Labels ?? {}
      if (labels[LABEL.owner] !== this.init.owner) throw error
      await stale.remove({ force: true, v: true })
      return this.docker.createContainer(options)
    }
  }

  private becomeRunning(instance: Instance): void {
    instance.state = 'running'
    this.emit(instance, 'running')
    instance.launched.resolve()
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

  // --- running and ending ---------------------------------------------------------------------

  /** Waits for the container to end, keeps its output, removes it, then reports the end. */
  private async watch(instance: Instance): Promise<void> {
    const container = instance.container!
    let exitCode: number | undefined
    let detail: string
    for (;;) {
      try {
        const result = await container.wait({ abortSignal: instance.watching.signal }) as { StatusCode?: number }
        if (typeof result.StatusCode === 'number') exitCode = result.StatusCode
        break
      } catch (error) {
        if (this.detached || instance.watching.signal.aborted) return
        if (engineStatus(error) === 404) break // removed behind our back: it ended
        // The engine restarted or the connection dropped: ask again shortly.
        await sleep(this.init.engineRetryMs ?? 1000)
        if (this.detached) return
      }
    }
    if (this.detached) return
    this.stopHealth(instance)
    const info = await container.inspect().catch(() => undefined)
    const oom = info?.State?.OOMKilled === true
    exitCode ??= info?.State?.ExitCode
    await this.archive(instance)
    await container.remove({ force: true, v: true }).catch(() => {})
    if (this.tasks.get(instance.slot) === instance) this.tasks.delete(instance.slot)
    const prefix = instance.stop !== undefined ? 'stopped; ' : ''
    if (oom) detail = `${prefix}killed: out of memory (limit ${instance.spec.resources.memoryMiB} MiB)`
    else if (exitCode === undefined) detail = `${prefix}the container is gone; its exit status is unknown`
    else detail = `${prefix}exited with code ${exitCode}`
    this.emit(instance, 'exited', { ...(exitCode === undefined ? {} : { exitCode }), detail, ...requested(instance) })
    await this.hub.delivered()
    instance.finished.resolve()
  }

  /** Appends the container's output to the slot's log file, so it outlives the container. */
  private async archive(instance: Instance): Promise<void> {
    try {
      const lines = await this.settledLogs(instance.container!)
      if (lines.length === 0) return
      const path = this.logPath(instance.slot)
      await mkdir(join(this.init.dataDir, 'logs'), { recursive: true })
      await rotateLogFile(path, this.init.logMaxBytes ?? 10 * 1024 * 1024)
      await appendFile(path, lines.join('\n') + '\n')
    } catch {
      // The output is lost, not the task's end: the end is still reported.
    }
  }

  /**
   * A container's whole output once the engine has written all of it: its copiers of stdout and
   * stderr can still be flushing the last lines when `wait` reports the exit, so read until two reads
   * a moment apart agree.
   */
  private async settledLogs(container: Docker.Container): Promise<string[]> {
    let lines = dockerLines(await container.logs({ stdout: true, stderr: true, follow: false }) as unknown as Buffer)
    for (let attempt = 0; attempt < LOG_SETTLE_ATTEMPTS; attempt++) {
      await sleep(LOG_SETTLE_MS)
      const again = dockerLines(await container.logs({ stdout: true, stderr: true, follow: false }) as unknown as Buffer)
      if (again.length === lines.length) return again
      lines = again
    }
    return lines
  }

  private async stopInstance(instance: Instance, graceMs: number): Promise<void> {
    await instance.launched.promise
    if (instance.container === undefined) return instance.finished.promise // it never ran
    this.stopHealth(instance)
    // A container's init takes a moment after the engine reports it started before it handles
    // signals; a SIGTERM sent in that moment is lost (PID 1 ignores signals it has no handler for)
    // and the stop ends in SIGKILL after the whole grace. A stop right after a start waits that out.
    const age = this.now() - instance.startedAtMs
    if (!instance.adopted && age >= 0 && age < INIT_SETTLE_MS) await sleep(INIT_SETTLE_MS - age)
    // Docker counts the grace in whole seconds; round up so a task gets at least what was asked.
    const seconds = Math.ceil(Math.max(0, graceMs) / 1000)
    await instance.container.stop({ t: seconds }).catch((error: unknown) => {
      // 304: it had already stopped; 404: it is gone. Either way watch() reports the end.
      if (engineStatus(error) !== 304 && engineStatus(error) !== 404) return instance.container!.kill().catch(() => {})
    })
    return instance.finished.promise
  }

  private abandon(instance: Instance): void {
    this.stopHealth(instance)
    instance.watching.abort()
    instance.finished.resolve()
  }

  private async *containerLogs(instance: Instance, options: LogOptions): AsyncGenerator<string> {
    const container = instance.container!
    if (options.tailLines === 0 && !options.follow) return
    const tail = options.tailLines === undefined ? {} : { tail: options.tailLines }
    if (!options.follow) {
      let data: Buffer
      try {
        data = await container.logs({ stdout: true, stderr: true, follow: false, ...tail }) as unknown as Buffer
      } catch (error) {
        if (engineStatus(error) === 404) return
        throw error
      }
      const lines = dockerLines(data)
      yield* options.tailLines === undefined ? lines : lines.slice(-options.tailLines)
      return
    }
    let stream: NodeJS.ReadableStream
    try {
      stream = await container.logs({ stdout: true, stderr: true, follow: true, ...tail }) as unknown as NodeJS.ReadableStream
    } catch (error) {
      if (engineStatus(error) === 404) return
      throw error
    }
    const destroy = (): void => (stream as unknown as { destroy(): void }).destroy()
    options.signal?.addEventListener('abort', destroy, { once: true })
    const decoder = new DockerLineDecoder()
    try {
      if (options.signal?.aborted) return
      // tail 0 on a follow means "only new lines"; the engine reads 0 as "none of the old ones" too.
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        for (const line of decoder.push(chunk)) yield line
        if (options.signal?.aborted) return
      }
      for (const line of decoder.end()) yield line
    } catch {
      // destroyed by abort or by the container's removal: the follow simply ends
    } finally {
      options.signal?.removeEventListener('abort', destroy)
      destroy()
    }
  }

  // --- adoption after an agent restart ---------------------------------------------------------

  private adopt(): Promise<void> {
    this.adoption ??= this.adoptExisting()
    return this.adoption
  }

  private async adoptExisting(): Promise<void> {
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL.owner}=${this.init.owner}`, `${LABEL.cluster}=${this.init.cluster}`] },
    })
    for (const summary of found) {
      const slot = summary.Labels[LABEL.slot] as SlotId | undefined
      const container = this.docker.getContainer(summary.Id)
      let spec: ServiceSpec | undefined
      try {
        spec = JSON.parse(summary.Labels[LABEL.spec] ?? '') as ServiceSpec
      } catch {
        spec = undefined
      }
      const specHash = summary.Labels[LABEL.specHash]
      const usable = slot !== undefined && parseSlot(slot) !== undefined && spec !== undefined && specHash !== undefined && !this.tasks.has(slot)
      if (!usable || summary.State !== 'running') {
        // Ended (or unreadable) containers of ours are leftovers: keep their output, then remove them.
        if (usable) await this.archive({ ...newInstance(slot!, spec!, specHash!, [], true, 0), container })
        await container.remove({ force: true, v: true }).catch(() => {})
        continue
      }
      const info = await container.inspect().catch(() => undefined)
      if (info === undefined || !info.State.Running) continue
      const started = Date.parse(info.State.StartedAt)
      const instance = newInstance(slot!, spec!, specHash!, info.Config.Env ?? [], true, Number.isFinite(started) ? started : this.now())
      instance.container = container
      instance.id = summary.Id
      instance.state = 'running'
      instance.launched.resolve()
      this.tasks.set(slot!, instance)
      void this.watch(instance)
      this.startHealth(instance)
    }
  }

  // --- healthchecks ---------------------------------------------------------------------------

  private startHealth(instance: Instance): void {
    const check = instance.spec.healthcheck
    if (check === null || this.detached) return
    instance.health = new HealthLoop(check, instance.startedAtMs, this.now, async (signal) => {
      const result = await execInContainer(instance.container!, check.command, { timeoutMs: check.timeoutMs, maxLines: 20, signal })
      const passed = result.exitCode === 0
      const output = result.lines.join('\n').trim().slice(-500)
      return { passed, detail: passed ? output : result.error ?? `healthcheck exited with ${result.exitCode}${output === '' ? '' : `: ${output}`}` }
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
    if (this.closed) throw new Error('the docker driver is closed')
  }
}

/** `peer_web_3_<owner>` or `peer_web_g_host-a_<owner>`: readable in `docker ps`, unique per owner and slot. */
export function containerName(slot: SlotId, owner: string): string {
  const parsed = parseSlot(slot)
  if (parsed === undefined) throw new Error(`malformed slot id ${JSON.stringify(slot)}`)
  const where = slot.includes('@') ? `g_${slot.slice(slot.indexOf('@') + 1)}` : slot.slice(slot.indexOf('/') + 1)
  return `peer_${slot.split(/[/@]/)[0]}_${where}_${owner.slice(-12)}`
}

/** A start error as a person would act on it: a taken host port is named as such. */
export function describeStartError(spec: ServiceSpec, error: unknown): string {
  const message = engineMessage(error)
  if (/port is already allocated|address already in use/i.test(message)) {
    const ports = spec.ports.map((port) => `${port.host}/${port.protocol}`).join(', ')
    return `host port ${ports} is already in use on this host (${message})`
  }
  return `cannot start the container: ${message}`
}

/**
 * The agent's DNS server as the container's resolver, when the container can use it: the engine
 * takes no port (so it must be 53), and a loopback address would be the container's own loopback,
 * where nothing answers — the container then keeps the engine's resolvers.
 */
export function containerResolver(dns: string | undefined): { Dns: string[]; DnsSearch: string[] } | Record<string, never> {
  const match = dns === undefined ? null : /^(\d+\.\d+\.\d+\.\d+):53$/.exec(dns)
  if (match === null || match[1]!.startsWith('127.')) return {}
  return { Dns: [match[1]!], DnsSearch: ['peer'] }
}

function newInstance(
  slot: SlotId, spec: ServiceSpec, specHash: string, env: readonly string[], adopted: boolean, startedAtMs: number, secretsDir?: string,
  publish: readonly PortSpec[] = spec.ports, dns?: string,
): Instance {
  return {
    slot, service: spec.name, specHash, spec, env, adopted, state: 'starting', startedAtMs, publish,
    ...(secretsDir === undefined ? {} : { secretsDir }),
    ...(dns === undefined ? {} : { dns }),
    launched: deferred(), finished: deferred(), watching: new AbortController(),
  }
}
