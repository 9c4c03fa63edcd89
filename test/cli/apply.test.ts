// `peer apply` and the agent's body limit: a spec file can hold more than one request may carry once
// validated (defaults filled in, YAML aliases expanded). Either way the user reads one line naming the
// file, exit 2, as for any other problem with it — never the API's words alone.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_MAX_BODY_BYTES, startControlServer, type ControlServer } from '../../node/control/index.js'
import { requestTooLarge } from '../../cli/commands/apply.js'
import { runCli, suiteFolder } from './run-cli.js'

const apply = suite('peer apply and the body limit')
const { path, write } = suiteFolder(apply, 'peer-apply-')

apply('requestTooLarge names the files and the limit, and lets a body of exactly the limit through', () => {
  const body = { services: [{ name: 'web', blob: 'x'.repeat(100) }] }
  const size = Buffer.byteLength(JSON.stringify(body))
  assert.is(requestTooLarge(['a.yaml'], body, size), undefined)
  assert.is(requestTooLarge(['a.yaml', 'b.yaml'], body, size - 1),
    `a.yaml, b.yaml: the services come to ${size} bytes of JSON, more than the ${size - 1} bytes an agent takes in one request; apply them in parts`)
  assert.match(requestTooLarge(['a.yaml'], { blob: 'x'.repeat(DEFAULT_MAX_BODY_BYTES) })!, /more than the 32 MiB an agent takes/)
})

apply('a 400 KB file whose aliases expand past the 32 MiB limit is refused before anything is sent, naming the file', async () => {
  // Six documents, each one service whose 100 env values alias one 65,000-character value.
  const documents = Array.from({ length: 6 }, (_, d) => [
    `services:\n  s${d}:\n    image: x\n    env:\n      A0: &v "${'y'.repeat(65_000)}"`,
    ...Array.from({ length: 99 }, (_, i) => `      A${i + 1}: *v`),
  ].join('\n'))
  const file = write('aliases.yaml', `${documents.join('\n---\n')}\n`)
  // No agent listens there: the refusal must come first.
  const result = await runCli(['apply', '-f', file, '--peer', path('none.sock')])
  assert.is(result.code, 2, result.stderr)
  assert.is(result.stdout, '')
  const lines = result.stderr.trimEnd().split('\n')
  assert.is(lines.length, 1, result.stderr)
  assert.match(lines[0]!, new RegExp(`^peer: ${file}: the services come to \\d+ bytes of JSON, more than the 32 MiB an agent takes in one request; apply them in parts$`))
})

apply("an agent's own too-large refusal reaches the user as one line naming the file", async () => {
  const socket = path('small.sock')
  let called = false
  const server: ControlServer = await startControlServer(socket, [{ method: 'POST', path: '/v1/apply', handle: () => ((called = true), { body: { services: [] } }) }], { maxBodyBytes: 1024 })
  try {
    const file = write('big.yaml', `services:\n  web:\n    image: nginx\n    env: { BLOB: "${'z'.repeat(2000)}" }\n`)
    const result = await runCli(['apply', '-f', file, '--peer', socket])
    assert.is(result.code, 2, result.stderr)
    assert.is(result.stdout, '')
    assert.is(result.stderr, `peer: ${file}: the agent refused the services as too large (the request body is larger than the 1024 bytes this agent takes); apply them in parts\n`)
    assert.not.ok(called)
  } finally {
    await server.close()
  }
})

apply.run()
