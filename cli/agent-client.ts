// What every command that talks to a running agent shares: finding its control socket (--peer,
// --data, $PEER_SOCKET, the default data directory), asking it, following its NDJSON streams until
// Ctrl-C, and the small cell formats their tables use (relative times, resources, short peer ids).

import type { Command } from 'commander'
import { join } from 'node:path'
import { CONTROL_SOCKET_FILE, defaultDataDir } from '../node/agent/client.js'
import {
  ControlClientError,
  controlRequest,
  controlStream,
  routeTarget,
  type AnswerOf,
  type AnswerRoute,
  type AskRequestOf,
  type RequestOf,
  type StreamItemOf,
  type StreamRequestOf,
  type StreamRoute,
} from '../node/control/index.js'
import { EXIT_FAILURE, UsageError } from './exit-codes.js'

export interface PeerOptions {
  /** --peer: the control socket itself. */
  peer?: string
  /** --data: the agent's data directory; its socket is <data>/control.sock. */
  data?: string
}

/** A route's request, left out where the route needs none (no path parameters, no body). */
type RequestArgs<T> = {} extends T ? [request?: T] : [request: T]

export function addPeerOption(command: Command): Command {
  return command
    .option('--peer <socket>', 'control socket of the agent to ask; default $PEER_SOCKET, else <data dir>/control.sock')
    .option('--data <dir>', "the agent's data directory, to find its socket; default $PEER_DATA or ~/.peer")
}

/** --peer, else --data's socket, else $PEER_SOCKET, else the default data directory's socket. */
export function socketPath(options: PeerOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (options.peer !== undefined && options.peer !== '') return options.peer
  if (options.data !== undefined && options.data !== '') return join(options.data, CONTROL_SOCKET_FILE)
  const fromEnv = env['PEER_SOCKET']
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  return join(defaultDataDir(env), CONTROL_SOCKET_FILE)
}

/**
 * Asks the agent one route of its control API (node/control/api-types.ts) and answers with what that
 * route declares. Its refusal or absence becomes a one-line UsageError with exit code 1. `timeoutMs`
 * bounds the whole exchange (default DEFAULT_REQUEST_TIMEOUT_MS).
 */
export async function ask<R extends AnswerRoute>(options: PeerOptions & { timeoutMs?: number }, route: R, ...[request]: RequestArgs<AskRequestOf<R>>): Promise<AnswerOf<R>> {
  const { method, path, body } = routeTarget(route, (request ?? {}) as RequestOf<R>)
  try {
    // The agent answers this route with its declared answer: the agent's side is typed against the same map.
    return (await controlRequest(socketPath(options), method, path, body, { timeoutMs: options.timeoutMs })) as AnswerOf<R>
  } catch (error) {
    throw asUsageError(error)
  }
}

/** The values a streaming route yields, until the agent ends the stream or `signal` aborts (then it just finishes). */
export async function* stream<R extends StreamRoute>(options: PeerOptions, route: R, request: StreamRequestOf<R>, signal: AbortSignal): AsyncGenerator<StreamItemOf<R>, void, undefined> {
  const { path } = routeTarget(route, request as RequestOf<R>)
  try {
    // As in ask: each line is the route's declared stream value.
    yield* controlStream(socketPath(options), path, { signal }) as AsyncGenerator<StreamItemOf<R>, void, undefined>
  } catch (error) {
    throw asUsageError(error)
  }
}

/**
 * Streams `route`, handing each value to `print`, until the agent ends the stream, the user presses
 * Ctrl-C or stdout goes away (`| head`). The last two are a normal end: the command exits 0.
 */
export async function followUntilInterrupted<R extends StreamRoute>(options: PeerOptions, route: R, request: StreamRequestOf<R>, print: (value: StreamItemOf<R>) => string): Promise<void> {
  const controller = new AbortController()
  const stop = (): void => controller.abort()
  let stdoutGone = false
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') throw error
    stdoutGone = true
    stop()
  }
  process.once('SIGINT', stop)
  process.stdout.on('error', onStdoutError)
  try {
    for await (const value of stream(options, route, request, controller.signal)) {
      if (controller.signal.aborted) break
      await write(print(value), controller.signal)
    }
  } finally {
    process.off('SIGINT', stop)
    // Once the reader has gone, later write errors are expected; keep swallowing them.
    if (!stdoutGone) process.stdout.off('error', onStdoutError)
  }
}

/** Writes to stdout, waiting for it to drain (a slow pipe must not make the stream pile up in memory). */
function write(text: string, signal: AbortSignal): Promise<void> {
  if (text === '' || process.stdout.write(text)) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    process.stdout.once('drain', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

function asUsageError(error: unknown): unknown {
  return error instanceof ControlClientError ? new UsageError(error.message, EXIT_FAILURE, { cause: error }) : error
}

/** `--json`: the agent's answer exactly as it was, pretty-printed. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

// --- Cell formats -------------------------------------------------------------------------------

/** Characters of a peer id shown in tables: ids are long and share a prefix (12D3KooW…), so the end. */
export const SHORT_PEER_CHARS = 12

/** The last 12 characters of a peer id (text output only; --json always has the full id). */
export function shortPeer(peer: string): string {
  return peer.length <= SHORT_PEER_CHARS ? peer : peer.slice(-SHORT_PEER_CHARS)
}

/**
 * How long ago `at` was, seen at `now` (both ms since the epoch): `0.3s ago`, `12s ago`, `4m ago`,
 * `3h ago`, `2d ago`; `-` for null. A time ahead of `now` (another peer's clock) reads `in 2s`.
 */
export function relativeTime(at: number | null, now: number): string {
  if (at === null || !Number.isFinite(at)) return '-'
  const diff = now - at
  // Up to a second ahead is clock noise between peers, not worth a different wording.
  if (diff < 0 && diff > -1_000) return `${seconds(0)} ago`
  return diff < 0 ? `in ${duration(-diff)}` : `${duration(diff)} ago`
}

/** A span of time as `relativeTime` words it: `4.2s`, `30s`, `5m`, `2h`, `3d`. */
export function duration(ms: number): string {
  if (ms < 10_000) return seconds(ms)
  if (ms < 60_000) return `${Math.floor(ms / 1_000)}s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h`
  return `${Math.floor(ms / 86_400_000)}d`
}

function seconds(ms: number): string {
  // Floor to a tenth, so 9.99 s is `9.9s` and never rounds up to `10.0s`.
  return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`
}

/** `1500/4000m`: CPU allocated of capacity, in millicores. */
export function cpuCell(allocatedMilli: number, capacityMilli: number): string {
  return `${allocatedMilli}/${capacityMilli}m`
}

/** `512/8192Mi`: memory allocated of capacity, in MiB. */
export function memoryCell(allocatedMiB: number, capacityMiB: number): string {
  return `${allocatedMiB}/${capacityMiB}Mi`
}

/** `zone=a,disk=ssd`, sorted by key; `-` when there are none. */
export function labelsCell(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return pairs.length === 0 ? '-' : pairs.map(([key, value]) => `${key}=${value}`).join(',')
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** `14:03:07.042`, local time: when an event happened. */
export function clockTime(at: number): string {
  const d = new Date(at)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** `2025-11-22 14:03:07`, local time: when a version was written. */
export function dateTime(at: number): string {
  const d = new Date(at)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}
