// The agent's control API, server side: HTTP+JSON over a unix socket, and NDJSON for the replies that
// go on (`peer events -f`, `peer logs -f`). The socket is the whole of the access control: it is
// mode 0600, so only the user the agent runs as can connect, and whoever connects may do anything.
//
// This file is the plumbing; the routes come from the caller. What it promises them:
// - A handler gets its path parameters (URL-decoded), the query, the parsed JSON body, and a signal
//   that aborts when the client goes away or the server closes.
// - A handler that throws a ControlError chooses the status and code the client sees. Anything else
//   it throws is a bug: logged, answered 500 `internal`, and the server goes on serving.
// - A stream reply is written a line at a time as its iterator yields. When the client disconnects,
//   the signal aborts and the iterator's return() is called, so the producer can unsubscribe. An
//   async generator's return() waits for a pending next(): a producer that waits for something
//   (the next event) must also wait for the signal, or it is only told once that something comes.
// - Nothing a client sends can crash the agent: malformed HTTP is answered 400 and dropped, bodies
//   are bounded, and a client that vanishes mid-answer is simply forgotten.

import { chmod, lstat, unlink } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import type { Duplex } from 'node:stream'
import { messageOf } from '../../core/index.js'

/**
 * Request bodies are specs and small commands. A spec file may be 16 MiB (cli/files.ts
 * MAX_INPUT_FILE_BYTES), and its services as JSON, defaults filled in, are larger than the file: 32 MiB
 * takes any file written out by hand, while a runaway client is cut off before it costs much. What is
 * larger (a short file can expand past any limit through YAML aliases) the CLI refuses before sending,
 * naming the files (cli/commands/apply.ts).
 */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

/** After close(), how long open connections may take to finish before they are cut. */
const CLOSE_GRACE_MS = 1000

/** How long an existing socket file may take to accept a connection before we call it alive. */
const PROBE_TIMEOUT_MS = 1000

/** sockaddr_un holds 108 bytes including the terminating NUL; a longer path cannot be bound. */
const MAX_SOCKET_PATH_BYTES = 107

export type ControlMethod = 'GET' | 'POST' | 'DELETE'

export interface ControlRequest {
  /** The `:name` segments of the route's path, URL-decoded. */
  readonly params: Record<string, string>
  readonly query: URLSearchParams
  /** The parsed JSON body of a POST or DELETE that has one; undefined otherwise. */
  readonly body: unknown
  /** Aborts when the client disconnects or the server closes. */
  readonly signal: AbortSignal
}

export type ControlReply = { readonly status?: number; readonly body: unknown } | { readonly stream: AsyncIterable<unknown> }

/** When several routes fit a request, the first one listed wins: list `/v1/x/literal` before `/v1/x/:name`. */
export interface ControlRoute {
  readonly method: ControlMethod
  /** `/v1/services/:name`: a segment starting with `:` captures one non-empty segment. */
  readonly path: string
  readonly handle: (request: ControlRequest) => Promise<ControlReply> | ControlReply
}

export interface ControlServerOptions {
  /** Where internal errors (handler bugs) are reported. Default: standard error. */
  readonly log?: (line: string) => void
  readonly maxBodyBytes?: number
  /**
   * Told of every answered request when its response ends: the route it matched (its pattern, as
   * `/v1/services/:name`, so the set is bounded; `unmatched` for none), the method and the status.
   */
  readonly onRequest?: (request: { readonly route: string; readonly method: string; readonly status: number }) => void
}

/** The route pattern each response answered, for onRequest. */
const routeOfResponse = new WeakMap<ServerResponse, string>()

export interface ControlServer {
  readonly socketPath: string
  /** Stops accepting, ends open streams, cuts connections after at most 1 s, removes the socket file. */
  close(): Promise<void>
}

/** An error meant for the client: its status and code are what the client sees. */
export class ControlError extends Error {
  override readonly name = 'ControlError'

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Serves `routes` on a unix socket at `socketPath`. Rejects when another process answers on that
 * socket (an agent already runs there); a stale socket file left by a dead agent is replaced.
 */
export async function startControlServer(socketPath: string, routes: readonly ControlRoute[], options: ControlServerOptions = {}): Promise<ControlServer> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`))
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const table = routes.map(compileRoute)
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`the control socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, which a unix socket cannot have; use a shorter data directory`)
  }
  await claimSocketPath(socketPath)

  /** One per request being answered: aborted when its client goes away or the server closes. */
  const open = new Set<AbortController>()
  const server = createServer((request, response) => {
    const controller = new AbortController()
    open.add(controller)
    // A response that closes before it finished means the client went away (or was cut off).
    response.on('close', () => {
      open.delete(controller)
      options.onRequest?.({ route: routeOfResponse.get(response) ?? 'unmatched', method: request.method ?? '', status: response.statusCode })
      if (!response.writableFinished) controller.abort()
    })
    // Writing to a client that just vanished is not an error worth a crash.
    response.on('error', () => undefined)
    void answer(request, response, controller.signal, table, maxBodyBytes, log)
  })
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => refuseMalformed(error, socket))

  await listenPrivately(server, socketPath)

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const controller of open) controller.abort()
      server.closeIdleConnections()
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS)
      // Answers that finish during the grace period leave idle keep-alive connections behind.
      const sweep = setInterval(() => server.closeIdleConnections(), 50)
      try {
        await closed
      } finally {
        clearTimeout(cut)
        clearInterval(sweep)
      }
      await unlink(socketPath).catch(() => undefined)
    })()
    return closing
  }
  return { socketPath, close }
}

// --- the socket file ------------------------------------------------------------------------------

/** Makes `socketPath` free to bind: refuses a live socket, removes a stale one (or a stray file). */
async function claimSocketPath(socketPath: string): Promise<void> {
  let isSocket: boolean
  try {
    isSocket = (await lstat(socketPath)).isSocket()
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return
    throw error
  }
  if (isSocket) {
    const probe = await probeSocket(socketPath)
    if (probe === 'alive') throw new Error(`another agent is already serving the control socket ${socketPath}`)
    if (probe !== 'stale') throw new Error(`cannot tell whether another agent serves the control socket ${socketPath}: ${probe}`)
  }
  try {
    await unlink(socketPath)
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw new Error(`cannot remove the stale control socket ${socketPath}: ${messageOf(error)}`)
  }
}

/** 'alive' when something accepts a connection, 'stale' when nothing listens, else what went wrong. */
function probeSocket(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(socketPath)
    const settle = (outcome: string): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    // A listener too busy to accept is still a listener.
    const timer = setTimeout(() => settle('alive'), PROBE_TIMEOUT_MS)
    socket.once('connect', () => settle('alive'))
    socket.once('error', (error) => settle(codeOf(error) === 'ECONNREFUSED' ? 'stale' : messageOf(error)))
  })
}

/**
 * Binds with umask 0177 so the socket is born 0600: chmod alone leaves a moment in which anyone
 * could connect. The bind itself happens synchronously inside listen(), so nothing else runs while
 * the process-wide umask is changed. The chmod afterwards states the mode whatever the umask did.
 */
async function listenPrivately(server: ReturnType<typeof createServer>, socketPath: string): Promise<void> {
  const listening = new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const previousUmask = process.umask(0o177)
  try {
    server.listen(socketPath)
  } finally {
    process.umask(previousUmask)
  }
  try {
    await listening
    await chmod(socketPath, 0o600)
  } catch (error) {
    server.close()
    throw new Error(`cannot serve the control socket ${socketPath}: ${messageOf(error)}`)
  }
}

/** Bytes that are not HTTP: answer 400 when the client can still hear it, then drop the connection. */
function refuseMalformed(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const body = `${JSON.stringify({ error: { code: 'bad-request', message: `malformed HTTP request: ${error.message}` } })}\n`
  const head = `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`
  socket.end(head + body, () => socket.destroy())
}

// --- routing --------------------------------------------------------------------------------------

export interface CompiledRoute {
  readonly route: ControlRoute
  /** A literal segment, or a parameter name (without its colon). */
  readonly segments: readonly ({ literal: string } | { param: string })[]
}

export function compileRoute(route: ControlRoute): CompiledRoute {
  if (!route.path.startsWith('/')) throw new Error(`control route path ${JSON.stringify(route.path)} must start with /`)
  const segments = route.path
    .slice(1)
    .split('/')
    .map((segment) => (segment.startsWith(':') ? { param: segment.slice(1) } : { literal: segment }))
  return { route, segments }
}

/** The parameters when `segments` (still URL-encoded) fit the route, undefined when they do not. */
export function matchRoute(compiled: CompiledRoute, segments: readonly string[]): Record<string, string> | undefined {
  if (segments.length !== compiled.segments.length) return undefined
  const params: Record<string, string> = {}
  for (const [i, pattern] of compiled.segments.entries()) {
    const segment = segments[i]!
    if ('literal' in pattern) {
      if (decodeSegment(segment) !== pattern.literal) return undefined
    } else {
      if (segment === '') return undefined
      params[pattern.param] = decodeSegment(segment)
    }
  }
  return params
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new ControlError(400, 'bad-path', `the path segment ${JSON.stringify(segment)} is not valid URL encoding`)
  }
}

// --- answering ------------------------------------------------------------------------------------

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
  table: readonly CompiledRoute[],
  maxBodyBytes: number,
  log: (line: string) => void,
): Promise<void> {
  const target = request.url ?? '/'
  const queryStart = target.indexOf('?')
  const pathname = queryStart === -1 ? target : target.slice(0, queryStart)
  const what = `${request.method} ${pathname}`
  try {
    const segments = pathname.slice(1).split('/')
    const matching = table.flatMap((compiled) => {
      const params = matchRoute(compiled, segments)
      return params === undefined ? [] : [{ compiled, params }]
    })
    if (matching.length === 0) throw new ControlError(404, 'not-found', `no such endpoint: ${pathname}`)
    const chosen = matching.find(({ compiled }) => compiled.route.method === request.method)
    routeOfResponse.set(response, (chosen ?? matching[0]!).compiled.route.path)
    if (chosen === undefined) {
      const allowed = [...new Set(matching.map(({ compiled }) => compiled.route.method))].join(', ')
      response.setHeader('allow', allowed)
      throw new ControlError(405, 'method-not-allowed', `${pathname} accepts ${allowed}, not ${request.method}`)
    }
    const body = request.method === 'GET' ? undefined : await readJsonBody(request, response, maxBodyBytes)
    const query = new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1))
    const reply = await chosen.compiled.route.handle({ params: chosen.params, query, body, signal })
    if (typeof reply !== 'object' || reply === null) throw new Error(`the handler of ${what} returned no reply`)
    if ('stream' in reply) {
      await writeStream(reply.stream, response, signal, what, log)
      return
    }
    writeJson(response, reply.status ?? 200, reply.body)
  } catch (error) {
    if (error instanceof ControlError) {
      writeJson(response, error.status, errorBody(error.code, error.message))
      return
    }
    // A handler that gives up because its client left is not a bug.
    if (signal.aborted || error instanceof ClientGone) return
    log(`control: ${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    writeJson(response, 500, errorBody('internal', messageOf(error)))
  }
}

/**
 * Reads the body up to `maxBytes`. Past that it stops reading and marks the connection to be closed
 * after the 413: the rest of the body is never read, so it cannot be followed by another request.
 */
function readJsonBody(request: IncomingMessage, response: ServerResponse, maxBytes: number): Promise<unknown> {
  const tooLarge = (): ControlError => {
    response.setHeader('connection', 'close')
    return new ControlError(413, 'too-large', `the request body is larger than the ${formatBytes(maxBytes)} this agent takes`)
  }
  const declared = Number(request.headers['content-length'])
  if (declared > maxBytes) return Promise.reject(tooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = (): void => {
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= maxBytes) {
        chunks.push(chunk)
        return
      }
      stop()
      request.pause()
      reject(tooLarge())
    }
    const onEnd = (): void => {
      stop()
      const text = Buffer.concat(chunks).toString('utf8')
      if (text.trim() === '') return resolve(undefined)
      try {
        resolve(JSON.parse(text))
      } catch (error) {
        reject(new ControlError(400, 'bad-json', `the request body is not JSON: ${messageOf(error)}`))
      }
    }
    // Closed before the end: the client left mid-body. The request's signal is aborted by now.
    const onClose = (): void => {
      stop()
      reject(new ClientGone())
    }
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('close', onClose)
    request.on('error', () => undefined)
  })
}

/** The client disconnected before its request was read: nobody is left to answer. */
class ClientGone extends Error {
  constructor() {
    super('the client disconnected while sending the request body')
  }
}

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } }
}

function writeJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return
  let text: string
  try {
    text = `${JSON.stringify(body) ?? 'null'}\n`
  } catch (error) {
    status = 500
    text = `${JSON.stringify(errorBody('internal', `the reply is not JSON: ${messageOf(error)}`))}\n`
  }
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

/**
 * Writes each value the iterator yields as one line, as soon as it is yielded. Stops when the
 * iterator ends, fails (one last `{"error":…}` line), or the signal aborts (the iterator's return()
 * is then called at once, even while a next() is pending, so the producer hears of it).
 */
async function writeStream(stream: AsyncIterable<unknown>, response: ServerResponse, signal: AbortSignal, what: string, log: (line: string) => void): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]()
  /** Set once the iterator needs no return(): it ended, it failed, or return() was already called. */
  let settled = false
  const release = (): void => {
    if (settled) return
    settled = true
    Promise.resolve()
      .then(() => iterator.return?.())
      .catch((error: unknown) => log(`control: ${what}: ending the stream failed: ${messageOf(error)}`))
  }
  signal.addEventListener('abort', release, { once: true })
  try {
    if (signal.aborted) return release()
    response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
    // The client learns the stream is open before the first value, which may take a while.
    response.flushHeaders()
    // The answer ends when the signal aborts, even if the iterator never yields again.
    const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }))
    while (!signal.aborted) {
      const next = iterator.next()
      let step: IteratorResult<unknown> | 'aborted'
      try {
        step = await Promise.race([next, aborted])
      } catch (error) {
        settled = true
        throw error
      }
      if (step === 'aborted') {
        // Whatever that next() still brings is nobody's now; a late failure must not go unhandled.
        next.catch(() => undefined)
        break
      }
      if (step.done === true) {
        settled = true
        break
      }
      response.write(`${JSON.stringify(step.value) ?? 'null'}\n`)
      if (response.writableNeedDrain) await drained(response)
    }
  } catch (error) {
    release()
    if (signal.aborted) return
    let code = 'internal'
    if (error instanceof ControlError) code = error.code
    else log(`control: ${what} failed while streaming: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    response.write(`${JSON.stringify(errorBody(code, messageOf(error)))}\n`)
  } finally {
    signal.removeEventListener('abort', release)
    response.end()
  }
}

/** Waits until the client has taken what was written, or has gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done)
      response.off('close', done)
      resolve()
    }
    response.on('drain', done)
    response.on('close', done)
  })
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

/** `32 MiB`, or a number of bytes when not a whole number of MiB. */
export function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024)
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`
}
