// The web view's pieces that need no agent: which bind addresses are loopback, how a request's token
// is found and compared, the token file, and the read-only API's filter (routes and env).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ControlError, type ControlRoute } from '../../../node/control/index.js'
import { ensureUiToken, isLoopbackHost, isLoopbackHostHeader, UI_TOKEN_FILE } from '../../../node/web/index.js'
import { readApi, withoutEnv } from '../../../node/web/read-api.js'
import { tokenMatches, tokenOfRequest } from '../../../node/web/token.js'
import { runCli } from '../../cli/run-cli.js'

const pure = suite('web view, pure parts')

pure('loopback is 127.0.0.0/8 and ::1; every other bind address asks for the token', () => {
  for (const host of ['127.0.0.1', '127.0.0.2', '127.255.0.9', '::1', '[::1]', 'localhost']) assert.ok(isLoopbackHost(host), host)
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.7', '128.0.0.1', '1.127.0.0', 'example.org', '::ffff:10.0.0.1']) assert.not.ok(isLoopbackHost(host), host)
})

pure('without a token, only requests naming a loopback host are answered (no DNS rebinding)', () => {
  for (const header of ['127.0.0.1:9465', '127.0.0.2', 'localhost:9465', '[::1]:9465']) assert.ok(isLoopbackHostHeader(header), header)
  for (const header of [undefined, '', 'evil.example:9465', 'evil.example', '10.0.0.1:9465', '[::]:9465', '127.0.0.1.evil.example']) assert.not.ok(isLoopbackHostHeader(header), String(header))
})

pure('a token comes from Authorization: Bearer, else the cookie; it matches only exactly', () => {
  assert.is(tokenOfRequest({ authorization: 'Bearer abc' }), 'abc')
  assert.is(tokenOfRequest({ authorization: 'bearer   abc ' }), 'abc')
  assert.is(tokenOfRequest({ cookie: 'theme=dark; peer_ui_token=xyz; other=1' }), 'xyz')
  assert.is(tokenOfRequest({ authorization: 'Basic abc', cookie: 'peer_ui_token_x=1' }), undefined)
  assert.is(tokenOfRequest({}), undefined)
  assert.ok(tokenMatches('a'.repeat(64), 'a'.repeat(64)))
  assert.not.ok(tokenMatches('a'.repeat(63), 'a'.repeat(64)))
  assert.not.ok(tokenMatches('b'.repeat(64), 'a'.repeat(64)))
  assert.not.ok(tokenMatches(undefined, 'a'.repeat(64)))
})

pure('the token file is made once (0600, 64 hex digits), kept after, and replaced when malformed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pwtok-'))
  try {
    const first = await ensureUiToken(dir)
    assert.match(first, /^[0-9a-f]{64}$/)
    assert.is((await stat(join(dir, UI_TOKEN_FILE))).mode & 0o777, 0o600)
    assert.is(await ensureUiToken(dir), first)
    await writeFile(join(dir, UI_TOKEN_FILE), 'short\n')
    const replaced = await ensureUiToken(dir)
    assert.match(replaced, /^[0-9a-f]{64}$/)
    assert.is.not(replaced, first)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

pure('peer init writes the token with the identity and the swarm key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pwinit-'))
  try {
    const result = await runCli(['init', '--data', join(dir, 'data')])
    assert.is(result.code, 0, result.stderr)
    const file = join(dir, 'data', UI_TOKEN_FILE)
    assert.match((await readFile(file, 'utf8')).trim(), /^[0-9a-f]{64}$/)
    assert.is((await stat(file)).mode & 0o777, 0o600)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

pure('withoutEnv drops every env property at any depth and keeps the rest', () => {
  assert.equal(withoutEnv({ spec: { name: 'a', env: { K: 'v' }, healthcheck: { env: { X: '1' }, command: ['x'] } }, list: [{ env: 1, n: 2 }] }), { spec: { name: 'a', healthcheck: { command: ['x'] } }, list: [{ n: 2 }] })
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const hasEnv = (v: unknown): boolean => (Array.isArray(v) ? v.some(hasEnv) : v !== null && typeof v === 'object' && Object.entries(v).some(([key, inner]) => key === 'env' || hasEnv(inner)))
      assert.not.ok(hasEnv(withoutEnv(value)))
    }),
  )
})

pure('the read-only API answers only the listed GET routes, env removed from answers and streams', async () => {
  const spec = { name: 'web', env: { SECRET: 'x' } }
  const routes: ControlRoute[] = [
    { method: 'GET', path: '/v1/services/:name', handle: ({ params }) => ({ body: { spec: { ...spec, name: params.name } } }) },
    { method: 'GET', path: '/v1/events', handle: () => ({ stream: (async function* () { yield { spec } })() }) },
    { method: 'GET', path: '/v1/secrets', handle: () => ({ body: { secrets: [] } }) },
    { method: 'POST', path: '/v1/apply', handle: () => ({ body: {} }) },
  ]
  const api = readApi(routes)
  const signal = new AbortController().signal
  const answer = await api.answer('/ui/api/v1/services/web', new URLSearchParams(), signal)
  assert.equal(answer, { body: { spec: { name: 'web' } } })
  const stream = await api.answer('/ui/api/v1/events', new URLSearchParams('follow=1'), signal)
  assert.ok('stream' in stream)
  const items: unknown[] = []
  for await (const item of stream.stream) items.push(item)
  assert.equal(items, [{ spec: { name: 'web' } }])
  for (const path of ['/ui/api/v1/secrets', '/ui/api/v1/apply', '/ui/api/v1/nothing']) {
    const refused = await api.answer(path, new URLSearchParams(), signal).then(() => undefined, (error: unknown) => error)
    assert.instance(refused, ControlError, path)
    assert.is((refused as ControlError).status, 404, path)
  }
})

pure.run()
