// The CLI's side of the control API: one request and its JSON answer, or a stream of NDJSON values.
// Every failure becomes a ControlClientError whose message is one line a person can act on, so the
// CLI can print it as it is: no agent running, a socket of another user, the agent's own refusal.

import { request as httpRequest, type IncomingMessage } from 'node:http'
import { dirname } from 'node:path'
import type { ControlMethod } from './server.js'
import { messageOf } from '../../core/index.js'

/**
 * Long enough for any answer an agent computes locally (a plan, a status over thousands of tasks),
 * short enough that a hung agent does not hang the terminal.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/**
 * `code` is the agent's error code for a refusal (`not-found`, `too-large`, …), or one of the
 * client's own: `no-agent`, `permission`, `timeout`, `bad-response`, `disconnected`, `connection-failed`.
 */
export class ControlClientError extends Error {
  override readonly name = 'ControlClientError'

  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, when the agent answered. */
    readonly status?: number,
  ) {
    super(message)
  }
}

export interface ControlRequestOptions {
  /** Default DEFAULT_REQUEST_TIMEOUT_MS; covers connecting, the agent's work and reading its answer. */
  readonly timeoutMs?: number
}

export interface ControlStreamOptions {
  /** Ends the stream: the iteration then simply finishes, and the agent sees the client leave. */
  readonly signal?: AbortSignal
}

/** Sends one request; resolves with the parsed JSON answer of a 2xx, rejects with a ControlClientError. */
export async function controlRequest(socketPath: string, method: ControlMethod, path: string, body?: unknown, options: ControlRequestOptions = {}): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const deadline = AbortSignal.timeout(timeoutMs)
  const timedOut = (): ControlClientError => new ControlClientError('timeout', `the agent on ${socketPath} did not answer within ${formatSeconds(timeoutMs)}`)
  let response: IncomingMessage
  let text: string
  try {
    response = await send(socketPath, method, path, body, deadline)
    text = await readAll(response)
  } catch (error) {
    if (deadline.aborted) throw timedOut()
    throw error
  }
  const status = response.statusCode ?? 0
  if (status < 200 || status > 299) throw refusal(socketPath, status, text)
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new ControlClientError('bad-response', `the agent on ${socketPath} answered with something that is not JSON`, status)
  }
}

/**
 * GETs `path` and yields each NDJSON line of the answer, parsed, as it arrives. An `{"error":…}` line
 * (the agent's stream failed) is thrown as a ControlClientError. Values shaped exactly like such a
 * line, `{ error: { code, message } }`, cannot be streamed.
 */
export async function* controlStream(socketPath: string, path: string, options: ControlStreamOptions = {}): AsyncGenerator<unknown, void, undefined> {
  const { signal } = options
  if (signal?.aborted) return
  let response: IncomingMessage
  try {
    response = await send(socketPath, 'GET', path, undefined, signal)
  } catch (error) {
    if (signal?.aborted) return
    throw error
  }
  try {
    const status = response.statusCode ?? 0
    if (status < 200 || status > 299) throw refusal(socketPath, status, await readAll(response))
    response.setEncoding('utf8')
    let partial = ''
    try {
      for await (const chunk of response as AsyncIterable<string>) {
        const lines = (partial + chunk).split('\n')
        partial = lines.pop()!
        for (const line of lines) {
          if (line.trim() !== '') yield parseLine(socketPath, line, status)
        }
      }
    } catch (error) {
      if (error instanceof ControlClientError) throw error // a line the agent sent: its error, or not JSON
      if (signal?.aborted) return
      throw new ControlClientError('disconnected', `the agent on ${socketPath} closed the connection in the middle of the stream (${messageOf(error)})`)
    }
    if (partial.trim() !== '') yield parseLine(socketPath, partial, status)
  } finally {
    response.destroy()
  }
}

/** Opens the connection, sends the request and resolves once the answer's headers are in. */
function send(socketPath: string, method: ControlMethod, path: string, body: unknown, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  const headers: Record<string, string | number> = { accept: 'application/json, application/x-ndjson' }
  if (payload !== undefined) {
    headers['content-type'] = 'application/json'
    headers['content-length'] = Buffer.byteLength(payload)
  }
  return new Promise((resolve, reject) => {
    // agent: false: one connection per request, closed after it, so the CLI exits when it is done.
    const request = httpRequest({ socketPath, method, path, headers, agent: false, ...(signal === undefined ? {} : { signal }) })
    request.once('response', resolve)
    // An error after the answer arrived (the agent closed while we were still writing a body it
    // had already refused) changes nothing: the answer is what counts.
    request.on('error', (error) => reject(connectionError(socketPath, error)))
    request.end(payload)
  })
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    response.on('data', (chunk: Buffer) => chunks.push(chunk))
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    response.once('error', reject)
  })
}

function parseLine(socketPath: string, line: string, status: number): unknown {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new ControlClientError('bad-response', `the agent on ${socketPath} streamed a line that is not JSON`, status)
  }
  const failure = errorOf(value)
  if (failure !== undefined) throw new ControlClientError(failure.code, failure.message, status)
  return value
}

/** The agent's refusal of a request, from its `{"error":{code,message}}` body. */
function refusal(socketPath: string, status: number, text: string): ControlClientError {
  let failure: { code: string; message: string } | undefined
  try {
    failure = errorOf(JSON.parse(text))
  } catch {
    failure = undefined
  }
  if (failure === undefined) return new ControlClientError('bad-response', `the agent on ${socketPath} answered ${status} without a readable error`, status)
  return new ControlClientError(failure.code, failure.message, status)
}

/** `{ error: { code, message } }` and nothing else, or undefined. */
function errorOf(value: unknown): { code: string; message: string } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const keys = Object.keys(value)
  if (keys.length !== 1 || keys[0] !== 'error') return undefined
  const error = (value as { error: unknown }).error
  if (typeof error !== 'object' || error === null) return undefined
  const { code, message } = error as { code?: unknown; message?: unknown }
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined
}

function connectionError(socketPath: string, error: unknown): Error {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ECONNREFUSED':
      return new ControlClientError('no-agent', `no agent is listening on ${socketPath} (start one with \`peer agent --data ${dirname(socketPath)}\`)`)
    case 'EACCES':
    case 'EPERM':
      return new ControlClientError('permission', `permission denied on ${socketPath}: the socket belongs to another user (run the command as that user)`)
    case 'ABORT_ERR':
      // Our own timeout or the caller's signal; the callers say which.
      return error as Error
    default:
      return new ControlClientError('connection-failed', `cannot talk to the agent on ${socketPath}: ${messageOf(error)}`)
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

