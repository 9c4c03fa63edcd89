// `peer logs [-f] <slot>` from any peer: a task's output lives on the peer that runs it, so a peer
// asked for a slot it does not run fetches the lines over a direct libp2p request. Following a remote
// task polls (each answer carries where the next one starts); local follows read the file as it grows.

import type { PeerId, PeerMachine, SlotId } from '../../core/index.js'
import { LOGS_PROTOCOL, type P2pTransport } from '../../p2p/index.js'
import type { LogLine } from '../control/index.js'
import type { RuntimeDriver } from '../runtime/index.js'
import { LOGS_DEFAULTS } from './config.js'
import { taskRows } from './views.js'

/** What reading and serving logs needs of the agent: who runs which task, the local driver, the transport. */
export interface LogsContext {
  readonly self: PeerId
  readonly machine: Pick<PeerMachine, 'peerViews' | 'localTasks'>
  readonly driver: Pick<RuntimeDriver, 'logs'>
  readonly transport: Pick<P2pTransport, 'request' | 'handle'>
}

interface LogsRequest {
  readonly slot: string
  readonly tailLines?: number
  /** Lines already read: answer from this line on. */
  readonly after?: number
}

interface LogsAnswer {
  readonly lines: string[]
  /** Where the next request starts. */
  readonly next: number
  /** The task no longer runs here: no more lines will come. */
  readonly ended: boolean
}

export async function* readLogs(agent: LogsContext, slot: SlotId, options: { follow: boolean; tailLines?: number; signal: AbortSignal }): AsyncGenerator<LogLine> {
  const owner = ownerOf(agent, slot)
  if (owner === agent.self) {
    for await (const line of agent.driver.logs(slot, options)) yield { peer: agent.self, line }
    return
  }
  let request: LogsRequest = { slot, ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }) }
  while (!options.signal.aborted) {
    const body = new TextEncoder().encode(JSON.stringify(request))
    const answer = JSON.parse(new TextDecoder().decode(await agent.transport.request(owner, LOGS_PROTOCOL, body, { signal: options.signal }))) as LogsAnswer
    for (const line of answer.lines) yield { peer: owner, line }
    request = { slot, after: answer.next }
    if (!options.follow && answer.lines.length < LOGS_DEFAULTS.pageLines) return
    if (options.follow && answer.ended) return
    if (answer.lines.length < LOGS_DEFAULTS.pageLines) await sleep(LOGS_DEFAULTS.remotePollMs, options.signal)
  }
}

/** Serves other peers' log requests for tasks that run (or ran) here. */
export function serveLogs(agent: LogsContext): Promise<void> {
  return agent.transport.handle(LOGS_PROTOCOL, async (_from, body, signal) => {
    const request = parseRequest(body)
    const lines: string[] = []
    for await (const line of agent.driver.logs(request.slot as SlotId, { follow: false, signal })) lines.push(line)
    const running = agent.machine.localTasks().some((task) => task.slot === request.slot)
    const start = request.after ?? (request.tailLines === undefined ? 0 : Math.max(0, lines.length - request.tailLines))
    const page = lines.slice(start, start + LOGS_DEFAULTS.pageLines)
    const answer: LogsAnswer = { lines: page, next: start + page.length, ended: !running && start + page.length >= lines.length }
    return new TextEncoder().encode(JSON.stringify(answer))
  })
}

/** The peer whose log to read: the one running the slot (this one first), else this one (logs outlive tasks). */
function ownerOf(agent: LogsContext, slot: SlotId): PeerId {
  const rows = taskRows(agent.machine.peerViews()).filter((row) => row.slot === slot)
  if (rows.length === 0 || rows.some((row) => row.peer === agent.self)) return agent.self
  return rows[0]!.peer as PeerId
}

function parseRequest(body: Uint8Array): LogsRequest {
  const value = JSON.parse(new TextDecoder().decode(body)) as Partial<LogsRequest>
  const whole = (n: unknown) => n === undefined || (Number.isSafeInteger(n) && (n as number) >= 0)
  if (typeof value !== 'object' || value === null || typeof value.slot !== 'string' || !whole(value.tailLines) || !whole(value.after)) {
    throw new Error('a logs request is {"slot": string, "tailLines"?: n, "after"?: n}')
  }
  return value as LogsRequest
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
