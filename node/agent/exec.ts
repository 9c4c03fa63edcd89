// `peer exec <slot> -- cmd…` from any peer: the command runs inside the task's container on the peer
// that runs it (`docker exec`, no TTY, no stdin), and its output and exit status come back. A peer
// asked for a slot it does not run forwards the request over a direct libp2p request (EXEC_PROTOCOL),
// as `peer logs` does. Every key holder may ask, exactly as every key holder may `peer apply`.

import type { PeerId, SlotId } from '../../core/index.js'
import { EXEC_PROTOCOL } from '../../p2p/index.js'
import { ControlError, type ExecAnswer } from '../control/index.js'
import type { DriverSet } from '../runtime/index.js'
import { EXEC_DEFAULTS } from './config.js'
import type { LogsContext } from './logs.js'
import { taskRows } from './views.js'

export interface ExecContext extends Omit<LogsContext, 'driver'> {
  readonly driver: Pick<DriverSet, 'exec'>
}

/** A forwarded request the running peer refused: the control API's status and message. */
interface ExecRefusal {
  readonly status: number
  readonly error: string
}

export interface ExecRequest {
  readonly slot: string
  readonly command: readonly string[]
  readonly timeoutMs: number
}

/** Checks a request from the CLI or another peer; the message names what is wrong. */
export function parseExecRequest(value: unknown): ExecRequest | string {
  if (typeof value !== 'object' || value === null) return 'an exec request is {"slot", "command": [..], "timeoutMs"?}'
  const { slot, command, timeoutMs } = value as Record<string, unknown>
  if (typeof slot !== 'string') return 'slot must be a string'
  if (!Array.isArray(command) || command.length === 0 || command.length > EXEC_DEFAULTS.maxArguments) {
    return `command must be a list of 1 to ${EXEC_DEFAULTS.maxArguments} strings`
  }
  if (command.some((item) => typeof item !== 'string' || item.length > EXEC_DEFAULTS.maxArgumentChars)) {
    return `every command item must be a string of at most ${EXEC_DEFAULTS.maxArgumentChars} characters`
  }
  const timeout = timeoutMs ?? EXEC_DEFAULTS.defaultTimeoutMs
  if (!Number.isSafeInteger(timeout) || (timeout as number) < 1 || (timeout as number) > EXEC_DEFAULTS.maxTimeoutMs) {
    return `timeoutMs must be a whole number from 1 to ${EXEC_DEFAULTS.maxTimeoutMs}`
  }
  return { slot, command: command as string[], timeoutMs: timeout as number }
}

/** Runs the request where the slot runs: here, or on the peer that runs it. */
export async function runExec(agent: ExecContext, request: ExecRequest, signal: AbortSignal): Promise<ExecAnswer> {
  const owner = ownerOf(agent, request.slot as SlotId)
  if (owner === undefined) throw new ControlError(404, 'not-running', `no task of ${request.slot} runs in the cluster`)
  if (owner === agent.self) return execHere(agent, request, signal)
  const body = new TextEncoder().encode(JSON.stringify(request))
  const answer = await agent.transport.request(owner, EXEC_PROTOCOL, body, { signal: AbortSignal.any([signal, AbortSignal.timeout(request.timeoutMs + EXEC_DEFAULTS.forwardSlackMs)]) })
  const parsed = JSON.parse(new TextDecoder().decode(answer)) as ExecAnswer | ExecRefusal
  if ('status' in parsed) throw new ControlError(parsed.status, 'exec-failed', parsed.error)
  return parsed
}

/** Serves other peers' exec requests for tasks that run here. */
export function serveExec(agent: ExecContext): Promise<void> {
  return agent.transport.handle(EXEC_PROTOCOL, async (_from, body, signal) => {
    const request = parseExecRequest(JSON.parse(new TextDecoder().decode(body)))
    let answer: ExecAnswer | ExecRefusal
    if (typeof request === 'string') {
      answer = { error: request, status: 400 }
    } else {
      try {
        answer = await execHere(agent, request, signal)
      } catch (error) {
        answer = error instanceof ControlError ? { error: error.message, status: error.status } : { error: String(error), status: 500 }
      }
    }
    return new TextEncoder().encode(JSON.stringify(answer))
  })
}

async function execHere(agent: ExecContext, request: ExecRequest, signal: AbortSignal): Promise<ExecAnswer> {
  const result = await agent.driver.exec(request.slot as SlotId, request.command, { timeoutMs: request.timeoutMs, signal })
  if (result === undefined) throw new ControlError(404, 'not-running', `no task of ${request.slot} runs on ${agent.self}`)
  if ('unsupported' in result) throw new ControlError(400, 'not-a-container', `${request.slot} runs as a ${result.unsupported}; exec runs commands in containers`)
  const lines = lastLinesWithin(result.lines, EXEC_DEFAULTS.maxOutputBytes)
  return {
    peer: agent.self,
    exitCode: result.exitCode,
    lines,
    truncated: lines.length < result.lines.length,
    ...(result.error === undefined ? {} : { error: result.error }),
  }
}

/** The last lines whose total size stays within `maxBytes`, so an answer always fits one message. */
function lastLinesWithin(lines: readonly string[], maxBytes: number): string[] {
  let bytes = 0
  let first = lines.length
  while (first > 0) {
    const size = Buffer.byteLength(lines[first - 1]!) + 1
    if (bytes + size > maxBytes) break
    bytes += size
    first--
  }
  return lines.slice(first)
}

/** The peer that runs the slot (this one first), or undefined when none does. */
function ownerOf(agent: ExecContext, slot: SlotId): PeerId | undefined {
  const rows = taskRows(agent.machine.peerViews()).filter((row) => row.slot === slot && isRunning(row.state))
  if (rows.some((row) => row.peer === agent.self)) return agent.self
  return rows[0]?.peer as PeerId | undefined
}

function isRunning(state: string): boolean {
  return state === 'running' || state === 'healthy' || state === 'unhealthy'
}
