// What the multi-agent tests share: bounded polling waits, the CLI's JSON answers, and the check that
// a service's slots each run exactly once.

import { readFile } from 'node:fs/promises'
import { ask } from '../../../cli/agent-client.js'
import type { LocalAgent } from '../../../cli/local-cluster.js'
import type { NodeRow, ServiceRow, TaskRow } from '../../../node/control/index.js'
import { runCli } from '../../cli/run-cli.js'

/**
 * Polls `probe` until it returns a value or `timeoutMs` passes. The probe may call `note` to say what
 * it saw (the last note is in the timeout error); a probe that throws is retried, its error noted.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: (note: (seen: string) => void) => Promise<T | undefined> | T | undefined, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last = 'nothing yet'
  const note = (seen: string): void => void (last = seen)
  for (;;) {
    try {
      const value = await probe(note)
      if (value !== undefined) return value
    } catch (error) {
      last = `error: ${error instanceof Error ? error.message : String(error)}`
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen: ${last}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

export async function cliJson<T>(args: readonly string[]): Promise<T> {
  const result = await runCli(args)
  if (result.code !== 0) throw new Error(`peer ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`)
  return JSON.parse(result.stdout) as T
}

export const ps = async (agent: LocalAgent): Promise<TaskRow[]> => (await cliJson<{ tasks: TaskRow[] }>(['ps', '--json', '--data', agent.dir])).tasks
/** The answer `peer ps --json` prints, straight from the socket: cheap enough to poll every 100 ms. */
export const tasksOf = async (agent: LocalAgent): Promise<TaskRow[]> => (await ask({ peer: agent.socket, timeoutMs: 3_000 }, 'GET /v1/tasks')).tasks
export const nodes = async (agent: LocalAgent): Promise<NodeRow[]> => (await cliJson<{ nodes: NodeRow[] }>(['nodes', '--json', '--data', agent.dir])).nodes
export const status = (agent: LocalAgent) => cliJson<{ peer: string; desiredDigest: string; services: ServiceRow[] }>(['status', '--json', '--data', agent.dir])

export interface Placement {
  /** Tasks per peer, over every peer that holds some. */
  readonly byPeer: Map<string, number>
  readonly slotPeer: Map<string, string>
}

/**
 * Whether the tasks of `service` are exactly slots service/0 … service/(replicas-1), each once and
 * running, none on `excluded`. Returns the placement, or a sentence saying what is wrong.
 */
export function exactlyOnce(tasks: readonly TaskRow[], service: string, replicas: number, excluded?: string): Placement | string {
  const own = tasks.filter((task) => task.service === service)
  const bySlot = new Map<string, TaskRow[]>()
  for (const task of own) bySlot.set(task.slot, [...(bySlot.get(task.slot) ?? []), task])
  const problems: string[] = []
  for (let index = 0; index < replicas; index++) {
    const rows = bySlot.get(`${service}/${index}`) ?? []
    if (rows.length === 0) problems.push(`${service}/${index} missing`)
    else if (rows.length > 1) problems.push(`${service}/${index} on ${rows.length} peers (${rows.map((r) => `${r.peer.slice(-6)}:${r.state}`).join(', ')})`)
    else if (rows[0]!.state !== 'running') problems.push(`${service}/${index} ${rows[0]!.state}`)
    else if (rows[0]!.peer === excluded) problems.push(`${service}/${index} on the excluded peer`)
  }
  const extra = [...bySlot.keys()].filter((slot) => !/\/(\d+)$/.test(slot) || Number(/\/(\d+)$/.exec(slot)![1]) >= replicas)
  if (extra.length > 0) problems.push(`extra slots ${extra.join(', ')}`)
  if (problems.length > 0) return `${own.length} task rows; ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; … ${problems.length - 8} more` : ''}`
  const byPeer = new Map<string, number>()
  for (const task of own) byPeer.set(task.peer, (byPeer.get(task.peer) ?? 0) + 1)
  return { byPeer, slotPeer: new Map(own.map((task) => [task.slot, task.peer])) }
}

export function distribution(byPeer: ReadonlyMap<string, number>, names: ReadonlyMap<string, string>): string {
  return [...byPeer].map(([peer, count]) => `${names.get(peer) ?? peer.slice(-6)}=${count}`).sort().join(' ')
}

/**
 * Polls agent's tasks on its socket until `check` accepts them, then runs the real `peer ps --json`
 * until it agrees too. Polling through the socket keeps the test from starting a CLI process (about a
 * second of CPU on this 2-core machine) every few hundred ms while the agents are bidding. `ms` is
 * when the socket first showed the condition, measured from the call.
 */
export async function waitForTasks(what: string, agent: LocalAgent, timeoutMs: number, check: (tasks: readonly TaskRow[]) => Placement | string): Promise<{ placement: Placement; ms: number }> {
  const from = Date.now()
  await waitFor(`${what} (agent ${agent.index}'s socket)`, timeoutMs, async (note) => {
    const result = check(await tasksOf(agent))
    if (typeof result === 'string') return void note(result)
    return result
  }, 100)
  const ms = Date.now() - from
  const placement = await waitFor(`${what} (peer ps --json --data <agent ${agent.index}>)`, 15_000, async (note) => {
    const result = check(await ps(agent))
    if (typeof result === 'string') return void note(result)
    return result
  })
  return { placement, ms }
}

const LOG_TAIL_LINES = 15

/** `error` with the last lines of each agent log appended: the evidence, before `finally` deletes it. */
export async function withLogTails(error: unknown, logs: readonly string[]): Promise<unknown> {
  if (!(error instanceof Error)) return error
  const tails: string[] = []
  for (const log of logs) {
    const text = await readFile(log, 'utf8').catch(() => '(no log)')
    tails.push(`--- ${log} (last ${LOG_TAIL_LINES} lines)\n${text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n')}`)
  }
  error.message = `${error.message}\n${tails.join('\n')}`
  return error
}
