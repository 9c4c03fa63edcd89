// Shared by the runtime driver tests: specs and tasks, an event recorder with bounded waits, and
// the hunt for processes a test left behind (every spec these tests make carries RUN_MARKER in its
// environment, which children and grandchildren inherit).

import { readdirSync, readFileSync } from 'node:fs'
import { makeSpec, makeTask } from '../../core/placement/fixtures.js'
import { replicaSlot, type ServiceSpec, type SlotId, type TaskView } from '../../../core/index.js'
import type { RuntimeDriver, TaskEvent } from '../../../node/runtime/index.js'
import { isAlive } from '../../../node/runtime/proc.js'

/** `RUN_MARKER=<this test process's pid>` is in the environment of every task the tests start. */
export const RUN_MARKER = 'PEER_RUNTIME_TEST_RUN'
const RUN_VALUE = String(process.pid)

/** A process-driver spec (validated, defaults filled in) that marks its processes as this run's. */
export function spec(overrides: Record<string, unknown> = {}): ServiceSpec {
  const env = { ...((overrides.env as Record<string, string> | undefined) ?? {}), [RUN_MARKER]: RUN_VALUE }
  return makeSpec({ name: 'web', command: ['sleep', '30'], ...overrides, env })
}

/** The task a machine would hand over with start-task: in state `starting`. */
export function task(of: ServiceSpec, slot: number | string = 0, overrides: Partial<TaskView> = {}): TaskView {
  return makeTask(of, slot, 'peer-a', { state: 'starting', ...overrides })
}

export const slotOf = (of: ServiceSpec, index: number): SlotId => replicaSlot(of.name, index)

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns something other than undefined/false, or fails naming `what`. */
export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await delay(10)
  }
}

/** Records a driver's events. */
export class Recorder {
  readonly events: TaskEvent[] = []
  readonly unsubscribe: () => void

  constructor(driver: RuntimeDriver) {
    this.unsubscribe = driver.onEvent((event) => this.events.push(event))
  }

  of(slot: SlotId): TaskEvent[] {
    return this.events.filter((event) => event.slot === slot)
  }

  states(slot: SlotId): string[] {
    return this.of(slot).map((event) => event.state)
  }

  /** Waits for the slot's n-th event (counting from 1) in `state`, and returns it. */
  async waitFor(slot: SlotId, state: TaskEvent['state'], timeoutMs = 3000, nth = 1): Promise<TaskEvent> {
    return eventually(`${slot} to report ${state}${nth > 1 ? ` (#${nth})` : ''}; saw ${JSON.stringify(this.states(slot))}`, () => {
      const matching = this.of(slot).filter((event) => event.state === state)
      return matching[nth - 1]
    }, timeoutMs)
  }
}

/** Collects an async iterable into an array, failing if it does not end in time. */
export async function collect(lines: AsyncIterable<string>, timeoutMs = 3000): Promise<string[]> {
  const out: string[] = []
  const reading = (async () => {
    for await (const line of lines) out.push(line)
  })()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`log iteration did not end within ${timeoutMs} ms; got ${JSON.stringify(out)}`)), timeoutMs)
  })
  try {
    await Promise.race([reading, timeout])
  } finally {
    clearTimeout(timer)
  }
  return out
}

/** Live (non-zombie) processes that carry this run's marker: what the tests started and did not end. */
export function markedProcesses(): number[] {
  const needle = `${RUN_MARKER}=${RUN_VALUE}\0`
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    let environ: string
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1')
    } catch {
      continue
    }
    if ((environ + '\0').includes(needle) && isAlive(pid)) found.push(pid)
  }
  return found
}

/** Kills (by pid) every process this run left behind and waits until they are gone; returns their pids. */
export async function killMarkedProcesses(): Promise<number[]> {
  const pids = markedProcesses()
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  // kill() returns before the process is dead; the next test (or the final check) must not see it.
  await eventually('killed processes to die', () => pids.every((pid) => !isAlive(pid)), 2000)
  return pids
}

/** A process's command line, for a message a person can act on. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
  } catch {
    return '(gone)'
  }
}

/** Whether a pid (as a driver's handle) names a live process (zombies count as gone). */
export const processAlive = (pid: number): boolean => isAlive(pid)

/** Asserts that `run` rejects (uvu has no async `throws`), with a message matching `pattern` when given. */
export async function rejects(run: () => Promise<unknown>, pattern?: RegExp): Promise<void> {
  let failure: unknown
  try {
    await run()
  } catch (error) {
    failure = error
  }
  if (failure === undefined) throw new Error('expected a rejection, but the promise resolved')
  const message = failure instanceof Error ? failure.message : String(failure)
  if (pattern !== undefined && !pattern.test(message)) throw new Error(`expected a rejection matching ${pattern}, got ${JSON.stringify(message)}`)
}
