// The drivers of one agent seen as one: a start goes to the driver its spec names, everything else
// (stop, list, logs, events) spans them all. An agent whose host has no Docker engine simply holds
// no docker driver, advertises only `process`, and so is never asked to run a container.
//
// The drivers share one data directory for logs (`<dir>/logs/<slot>.log`), so a slot's output reads
// the same whichever driver ran it last.

import { compareSlots, type SlotId } from '../../core/index.js'
import type { Driver, ServiceSpec } from '../../core/index.js'
import type { TaskView } from '../../core/index.js'
import type { LogOptions, RunningTaskInfo, RuntimeDriver, StartOptions, StartResult, TaskListener } from './driver.js'
import type { ExecResult } from './docker-exec.js'

/** A driver that can run a command inside a running task (the Docker driver). */
export interface ExecCapable {
  exec(slot: SlotId, command: readonly string[], options: { timeoutMs: number; signal?: AbortSignal; onLine?: (line: string) => void }): Promise<ExecResult | undefined>
}

export class DriverSet {
  private readonly byName: ReadonlyMap<Driver, RuntimeDriver>

  constructor(readonly drivers: readonly RuntimeDriver[]) {
    if (drivers.length === 0) throw new Error('an agent needs at least one runtime driver')
    this.byName = new Map(drivers.map((driver) => [driver.name, driver]))
  }

  /** The drivers this host offers, as its adverts say. */
  get names(): Driver[] {
    return [...this.byName.keys()].sort()
  }

  get(name: Driver): RuntimeDriver | undefined {
    return this.byName.get(name)
  }

  start(task: TaskView, spec: ServiceSpec, options?: StartOptions): Promise<StartResult> {
    const driver = this.byName.get(spec.driver)
    if (driver === undefined) {
      return Promise.resolve({ ok: false, error: 'wrong-driver', detail: `service ${spec.name} wants the ${spec.driver} driver, which this host does not offer` })
    }
    return driver.start(task, spec, options)
  }

  /** Stops the slot wherever it runs (a driver that does not run it does nothing). */
  async stop(slot: SlotId, graceMs: number): Promise<void> {
    await Promise.all(this.drivers.map((driver) => driver.stop(slot, graceMs)))
  }

  async list(): Promise<RunningTaskInfo[]> {
    const all = (await Promise.all(this.drivers.map((driver) => driver.list()))).flat()
    return all.sort((a, b) => compareSlots(a.slot, b.slot))
  }

  /** The slot's output from the driver that runs it now, else from the shared log file. */
  async *logs(slot: SlotId, options: LogOptions): AsyncGenerator<string> {
    const owner = await this.runnerOf(slot)
    yield* (owner ?? this.drivers[0]!).logs(slot, options)
  }

  /** Runs a command in the slot's task; undefined when no driver here runs it. */
  async exec(slot: SlotId, command: readonly string[], options: Parameters<ExecCapable['exec']>[2]): Promise<ExecResult | { unsupported: Driver } | undefined> {
    const owner = await this.runnerOf(slot)
    if (owner === undefined) return undefined
    if (!('exec' in owner)) return { unsupported: owner.name }
    return (owner as RuntimeDriver & ExecCapable).exec(slot, command, options)
  }

  onEvent(listener: TaskListener): () => void {
    const detach = this.drivers.map((driver) => driver.onEvent(listener))
    return () => detach.forEach((each) => each())
  }

  async close(): Promise<void> {
    await Promise.all(this.drivers.map((driver) => driver.close()))
  }

  private async runnerOf(slot: SlotId): Promise<RuntimeDriver | undefined> {
    for (const driver of this.drivers) {
      if ((await driver.list()).some((info) => info.slot === slot)) return driver
    }
    return undefined
  }
}
