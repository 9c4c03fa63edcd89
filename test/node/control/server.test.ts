// The control API's plumbing, over a real unix socket: routing, JSON and NDJSON replies, errors as
// status and code, limits, hostile bytes, the socket file's life, and what the CLI's client makes of it.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import {
  ControlClientError,
  ControlError,
  controlRequest,
  controlStream,
  startControlServer,
  type ControlRoute,
} from '../../../node/control/index.js'
import { withDir, withServer } from './helpers.js'

/** Rejects naming `what` when `promise` takes longer than `ms`: a broken stream fails instead of hanging. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function eventually(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** The ControlClientError `promise` rejects with (fails when it resolves or rejects otherwise). */
async function clientError(promise: Promise<unknown>): Promise<ControlClientError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ControlClientError) return error
    throw error
  }
  throw new Error('expected a ControlClientError, but the request succeeded')
}

/** A raw HTTP exchange, for requests the client would never send. */
function rawRequest(socketPath: string, method: string, path: string, body?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ socketPath, method, path, agent: false }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }))
    })
    request.on('error', reject)
    request.end(body)
  })
}

const echo: ControlRoute = {
  method: 'GET',
  path: '/v1/services/:name',
  handle: ({ params, query }) => ({ body: { name: params.name, verbose: query.get('verbose') } }),
}

// --- serving --------------------------------------------------------------------------------------

const serving = suite('control server')

serving('GET and POST round trip with decoded path parameters, the query and a JSON body', () =>
  withServer(
    [
      echo,
      { method: 'POST', path: '/v1/services/:name/scale', handle: ({ params, body }) => ({ status: 201, body: { name: params.name, got: body } }) },
      { method: 'DELETE', path: '/v1/services/:name', handle: ({ body }) => ({ body: { hadBody: body !== undefined } }) },
    ],
    async (socketPath) => {
      assert.equal(await controlRequest(socketPath, 'GET', '/v1/services/web%2Fapi?verbose=yes'), { name: 'web/api', verbose: 'yes' })
      assert.equal(await controlRequest(socketPath, 'POST', '/v1/services/web/scale', { replicas: 3 }), { name: 'web', got: { replicas: 3 } })
      assert.equal(await controlRequest(socketPath, 'DELETE', '/v1/services/web'), { hadBody: false })
    },
  ))

serving('the socket is private to its owner (mode 0600)', () =>
  withServer([echo], async (socketPath) => {
    assert.is(statSync(socketPath).mode & 0o777, 0o600)
    assert.ok(statSync(socketPath).isSocket())
  }))

serving('a stream reply reaches the client line by line, before the stream ends', () => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  async function* events(): AsyncGenerator<unknown> {
    yield { seq: 1 }
    await gate
    yield { seq: 2 }
    yield { seq: 3, text: 'é\nü' }
  }
  return withServer([{ method: 'GET', path: '/v1/events', handle: () => ({ stream: events() }) }], async (socketPath) => {
    const iterator = controlStream(socketPath, '/v1/events')[Symbol.asyncIterator]()
    const first = await within(2000, 'the first line, before the producer goes on', iterator.next())
    assert.equal(first, { done: false, value: { seq: 1 } })
    release()
    const rest: unknown[] = []
    for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) rest.push(step.value)
    assert.equal(rest, [{ seq: 2 }, { seq: 3, text: 'é\nü' }])
  })
})

serving('a client that leaves a stream aborts the handler signal and returns the iterator', () => {
  let signal: AbortSignal | undefined
  let returned = false
  async function* events(abort: AbortSignal): AsyncGenerator<unknown> {
    try {
      yield 'hello'
      // Waits for an event that never comes, but listens to the signal as a producer should.
      await new Promise((resolve) => abort.addEventListener('abort', resolve, { once: true }))
      yield 'never read'
    } finally {
      returned = true
    }
  }
  return withServer(
    [{ method: 'GET', path: '/v1/events', handle: (request) => ((signal = request.signal), { stream: events(request.signal) }) }],
    async (socketPath) => {
      for await (const value of controlStream(socketPath, '/v1/events')) {
        assert.is(value, 'hello')
        break
      }
      await eventually('the handler signal to abort', () => signal?.aborted === true)
      await eventually("the iterator's return() to run", () => returned)
    },
  )
})

serving('close() ends open streams, removes the socket file and may be called twice', () =>
  withDir(async (dir) => {
    let returned = false
    const forever: AsyncIterable<unknown> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<unknown>>(() => undefined),
        return: async () => ((returned = true), { done: true, value: undefined }),
      }),
    }
    const server = await startControlServer(join(dir, 'control.sock'), [{ method: 'GET', path: '/v1/events', handle: () => ({ stream: forever }) }])
    try {
      const reading = (async () => {
        const seen: unknown[] = []
        for await (const value of controlStream(server.socketPath, '/v1/events')) seen.push(value)
        return seen
      })()
      await new Promise((resolve) => setTimeout(resolve, 50))
      const started = Date.now()
      await Promise.all([server.close(), server.close()])
      assert.ok(Date.now() - started < 1500, 'closed within the grace period')
      assert.equal(await within(2000, 'the stream to end', reading), [])
      assert.ok(returned, "the iterator's return() was called")
      assert.not.ok(existsSync(server.socketPath), 'the socket file is gone')
    } finally {
      await server.close()
    }
  }))

// --- errors ---------------------------------------------------------------------------------------

const errors = suite('control server errors')

errors('a ControlError becomes its status and code', () =>
  withServer([{ method: 'GET', path: '/v1/services/:name', handle: ({ params }) => { throw new ControlError(409, 'conflict', `${params.name} is being changed`) } }], async (socketPath) => {
    assert.equal(await rawRequest(socketPath, 'GET', '/v1/services/web'), { status: 409, json: { error: { code: 'conflict', message: 'web is being changed' } } })
    const error = await clientError(controlRequest(socketPath, 'GET', '/v1/services/web'))
    assert.is(error.code, 'conflict')
    assert.is(error.status, 409)
    assert.is(error.message, 'web is being changed')
  }))

errors('any other throw is a logged 500 internal, and the server goes on serving', () => {
  const log: string[] = []
  return withServer(
    [echo, { method: 'POST', path: '/v1/broken', handle: async () => { throw new Error('the handler has a bug') } }],
    async (socketPath) => {
      assert.equal(await rawRequest(socketPath, 'POST', '/v1/broken'), { status: 500, json: { error: { code: 'internal', message: 'the handler has a bug' } } })
      assert.ok(log.some((line) => line.includes('POST /v1/broken') && line.includes('the handler has a bug')), log.join('\n'))
      assert.equal(await controlRequest(socketPath, 'GET', '/v1/services/web'), { name: 'web', verbose: null })
    },
    { log: (line) => log.push(line) },
  )
})

errors('an unknown path is 404 not-found; a known path with another method is 405 method-not-allowed', () =>
  withServer([echo], async (socketPath) => {
    const missing = await rawRequest(socketPath, 'GET', '/v1/nothing')
    assert.is(missing.status, 404)
    assert.is((missing.json as { error: { code: string } }).error.code, 'not-found')
    const wrong = await rawRequest(socketPath, 'POST', '/v1/services/web', '{}')
    assert.is(wrong.status, 405)
    assert.is((wrong.json as { error: { code: string } }).error.code, 'method-not-allowed')
  }))

errors('a body that is not JSON is 400 bad-json, naming the parse problem', () => {
  let called = false
  return withServer([{ method: 'POST', path: '/v1/apply', handle: () => ((called = true), { body: null }) }], async (socketPath) => {
    const { status, json } = await rawRequest(socketPath, 'POST', '/v1/apply', '{"replicas": 3,')
    assert.is(status, 400)
    const error = (json as { error: { code: string; message: string } }).error
    assert.is(error.code, 'bad-json')
    assert.match(error.message, /not JSON: .*JSON/)
    assert.not.ok(called)
  })
})

errors('a body over the limit is 413 too-large, declared or not, and the handler never runs', () => {
  let called = false
  return withServer(
    [{ method: 'POST', path: '/v1/apply', handle: () => ((called = true), { body: null }) }],
    async (socketPath) => {
      const declared = await clientError(controlRequest(socketPath, 'POST', '/v1/apply', { blob: 'x'.repeat(4 * 1024 * 1024) }))
      assert.is(declared.code, 'too-large')
      assert.is(declared.status, 413)
      assert.is(declared.message, 'the request body is larger than the 1024 bytes this agent takes')
      // Chunked, with no length up front: cut off while reading.
      const chunked = await new Promise<number>((resolve, reject) => {
        const request = httpRequest({ socketPath, method: 'POST', path: '/v1/apply', agent: false }, (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        })
        request.on('error', reject)
        request.write(`"${'x'.repeat(600)}`)
        request.write(`${'x'.repeat(600)}"`)
        request.end()
      })
      assert.is(chunked, 413)
      assert.not.ok(called)
      assert.equal(await controlRequest(socketPath, 'POST', '/v1/apply', { small: true }), null)
    },
    { maxBodyBytes: 1024 },
  )
})

errors('bytes that are not HTTP are answered 400 and dropped; the server keeps serving', () =>
  withServer([echo], async (socketPath) => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(socketPath)
      let received = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => (received += chunk))
      socket.on('close', () => resolve(received))
      socket.on('error', reject)
      socket.write(Buffer.from('\x00\xff garbage\r\n\r\n', 'latin1'))
    })
    assert.match(answer, /^HTTP\/1\.1 400 /)
    assert.equal(await controlRequest(socketPath, 'GET', '/v1/services/web'), { name: 'web', verbose: null })
  }))

// --- the socket file ------------------------------------------------------------------------------

const socketFile = suite('control socket file')

socketFile('a stale socket left by a dead process is replaced', () =>
  withDir(async (dir) => {
    const socketPath = join(dir, 'control.sock')
    // A process that exits without closing its server leaves the socket file behind, as a crash does.
    const child = spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => process.exit(0))`])
    assert.is(child.status, 0, child.stderr.toString())
    assert.ok(statSync(socketPath).isSocket())
    const server = await startControlServer(socketPath, [echo])
    try {
      assert.equal(await controlRequest(socketPath, 'GET', '/v1/services/web'), { name: 'web', verbose: null })
    } finally {
      await server.close()
    }
  }))

socketFile('a plain file in the way is replaced', () =>
  withDir(async (dir) => {
    const socketPath = join(dir, 'control.sock')
    await writeFile(socketPath, 'left over')
    const server = await startControlServer(socketPath, [echo])
    try {
      assert.ok(statSync(socketPath).isSocket())
    } finally {
      await server.close()
    }
  }))

socketFile('a second server on a live socket is refused, naming the path, and the first keeps serving', () =>
  withServer([echo], async (socketPath) => {
    try {
      const second = await startControlServer(socketPath, [])
      await second.close()
      assert.unreachable('the second server started')
    } catch (error) {
      assert.instance(error, Error)
      assert.match((error as Error).message, /already serving/)
      assert.ok((error as Error).message.includes(socketPath), (error as Error).message)
    }
    assert.equal(await controlRequest(socketPath, 'GET', '/v1/services/web'), { name: 'web', verbose: null })
  }))

// --- the client -----------------------------------------------------------------------------------

const client = suite('control client')

client('no socket: no-agent, naming the socket and how to start an agent', () =>
  withDir(async (dir) => {
    const socketPath = join(dir, 'control.sock')
    const error = await clientError(controlRequest(socketPath, 'GET', '/v1/status'))
    assert.is(error.code, 'no-agent')
    assert.is(error.message, `no agent is listening on ${socketPath} (start one with \`peer agent --data ${dir}\`)`)
    const streamed = await clientError((async () => { for await (const _ of controlStream(socketPath, '/v1/events')) break })())
    assert.is(streamed.code, 'no-agent')
  }))

client("the agent's refusal keeps its code and status: not-found", () =>
  withServer([echo], async (socketPath) => {
    const error = await clientError(controlRequest(socketPath, 'GET', '/v1/nothing'))
    assert.is(error.code, 'not-found')
    assert.is(error.status, 404)
    assert.match(error.message, /\/v1\/nothing/)
    const streamed = await clientError((async () => { for await (const _ of controlStream(socketPath, '/v1/nothing')) break })())
    assert.is(streamed.code, 'not-found')
  }))

client('a stream that fails midway: the values so far, then its error line thrown', () => {
  async function* failing(): AsyncGenerator<unknown> {
    yield 1
    yield 2
    throw new ControlError(410, 'gone', 'the service was removed')
  }
  return withServer([{ method: 'GET', path: '/v1/events', handle: () => ({ stream: failing() }) }], async (socketPath) => {
    const seen: unknown[] = []
    const error = await clientError((async () => { for await (const value of controlStream(socketPath, '/v1/events')) seen.push(value) })())
    assert.equal(seen, [1, 2])
    assert.is(error.code, 'gone')
    assert.is(error.message, 'the service was removed')
  })
})

client('a handler that outlives the timeout: timeout', () =>
  withServer([{ method: 'GET', path: '/v1/slow', handle: ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ body: null }))) }], async (socketPath) => {
    const error = await clientError(controlRequest(socketPath, 'GET', '/v1/slow', undefined, { timeoutMs: 100 }))
    assert.is(error.code, 'timeout')
    assert.ok(error.message.includes(socketPath), error.message)
  }))

client("the caller's signal ends a stream quietly", () =>
  withServer([{ method: 'GET', path: '/v1/events', handle: ({ signal }) => ({ stream: (async function* () { yield 'first'; await new Promise((resolve) => signal.addEventListener('abort', resolve)) })() }) }], async (socketPath) => {
    const controller = new AbortController()
    const seen: unknown[] = []
    await within(2000, 'the stream to end', (async () => {
      for await (const value of controlStream(socketPath, '/v1/events', { signal: controller.signal })) {
        seen.push(value)
        controller.abort()
      }
    })())
    assert.equal(seen, ['first'])
  }))

serving.run()
errors.run()
socketFile.run()
client.run()
