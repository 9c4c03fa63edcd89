// `peer secret create|ls|rm`, run as a user would (the real CLI in a child process) against the
// agent's real control routes, with a real desired-state document behind a fake agent: values from a
// file and from stdin, sealed with the cluster key and never printed; listing; removal, refused while
// a service lists the secret; and the input errors, which exit 2 before any agent is asked.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apply, DOCUMENT_LIMITS, newDocument, peerActor, readSecret, type DesiredDoc } from '../../crdt/index.js'
import { peerId, validateServices } from '../../core/index.js'
import { controlRoutes, type AgentContext } from '../../node/agent/api.js'
import { EventLog } from '../../node/agent/event-log.js'
import type { SecretInfo } from '../../crdt/index.js'
import { secretsText } from '../../cli/commands/secret.js'
import { withServer } from '../node/control/helpers.js'
import { ask } from '../../cli/agent-client.js'
import { runCli } from './run-cli.js'
import { SlotHistory } from '../../node/agent/slot-history.js'

const SELF = peerId('12D3KooWSecretTestPeer000000000000000000000000000001')
const KEY = Buffer.alloc(32, 3)

/** An agent with nothing but a desired-state document: enough for the secret routes. */
function agentWith(holder: { doc: DesiredDoc }): AgentContext {
  const unused = (): never => {
    throw new Error('not used by this test')
  }
  return {
    self: SELF,
    machine: { peerViews: () => [], localTasks: () => [], pendingServices: () => [], memberRecords: () => [], currentIncarnation: () => 1, advertisedUsage: () => new Map() },
    replica: {
      get doc() {
        return holder.doc
      },
      digest: unused,
      stats: unused,
      warnings: () => [],
      edit: async (operation) => {
        const result = operation(holder.doc)
        if (result.ok) holder.doc = result.doc
        return result
      },
    },
    space: { warnings: () => [] },
    transport: { peers: () => [], stats: unused, request: unused, handle: unused },
    host: { addresses: () => [], connectionFaults: () => 0, crossingConnectionsClosed: () => 0, connectionsOpened: () => 0, joinFailures: () => [], reachability: () => 'unknown', reachabilityOf: () => 'unknown', linkTo: () => undefined },
    driver: { logs: unused, exec: unused },
    events: new EventLog(),
    lastHeard: new Map(),
    peerConnects: 0,
    engine: { state: 'off', detail: 'containers are turned off' },
    slotHistory: new SlotHistory(),
    clusterKey: KEY,
    discovery: undefined,
    ownPorts: () => [],
  }
}

async function withAgent(body: (socket: string, holder: { doc: DesiredDoc }, dir: string) => Promise<void>): Promise<void> {
  const holder = { doc: newDocument(peerActor(SELF, new Uint8Array(8))) }
  const dir = await mkdtemp(join(tmpdir(), 'peer-secret-cli-'))
  try {
    await withServer(controlRoutes(agentWith(holder)), (socket) => body(socket, holder, dir))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const opened = (doc: DesiredDoc, name: string): string | undefined => {
  const result = readSecret(doc, name, KEY)
  return result.ok ? result.value.toString('utf8') : undefined
}

const cli = suite('peer secret')

cli('create from a file and from stdin, list, update, remove: the value is sealed and never printed', () => withAgent(async (socket, holder, dir) => {
  const file = join(dir, 'db-password')
  await writeFile(file, 'file-value-4d1f\n')
  const [created, fromStdin] = await Promise.all([
    runCli(['secret', 'create', 'db-password', '-f', file, '--peer', socket]),
    runCli(['secret', 'create', 'api.token', '-f', '-', '--peer', socket, '--json'], 30_000, 'stdin-value-9c2e'),
  ])
  assert.is(created.code, 0, created.stderr)
  assert.is(created.stdout, 'created secret db-password: version 1, 16 bytes\n')
  assert.is(opened(holder.doc, 'db-password'), 'file-value-4d1f\n', 'the bytes exactly, trailing newline and all')

  assert.is(fromStdin.code, 0, fromStdin.stderr)
  const answer = JSON.parse(fromStdin.stdout) as { secret: SecretInfo; outcome: string }
  assert.equal([answer.outcome, answer.secret.name, answer.secret.version, answer.secret.sizeBytes, answer.secret.author], ['created', 'api.token', 1, 16, SELF])
  assert.is(opened(holder.doc, 'api.token'), 'stdin-value-9c2e')

  const updated = await runCli(['secret', 'create', 'db-password', '-f', '-', '--peer', socket], 30_000, 'file-value-v2')
  assert.is(updated.stdout, 'updated secret db-password: version 2, 13 bytes\n')

  const [listed, json] = await Promise.all([runCli(['secret', 'ls', '--peer', socket]), runCli(['secret', 'ls', '--json', '--peer', socket])])
  assert.is(listed.code, 0, listed.stderr)
  const lines = listed.stdout.trimEnd().split('\n')
  assert.equal(lines[0]!.split(/\s+/), ['NAME', 'VERSION', 'SIZE', 'AUTHOR', 'UPDATED'])
  assert.equal(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 4)), [['api.token', '1', '16B', SELF.slice(-12)], ['db-password', '2', '13B', SELF.slice(-12)]])
  assert.equal((JSON.parse(json.stdout) as { secrets: SecretInfo[] }).secrets.map((s) => [s.name, s.version, s.author]), [['api.token', 1, SELF], ['db-password', 2, SELF]])

  for (const output of [created, fromStdin, updated, listed, json]) {
    for (const value of ['file-value-4d1f', 'stdin-value-9c2e', 'file-value-v2']) assert.not.ok(output.stdout.includes(value) || output.stderr.includes(value), value)
  }

  const removed = await runCli(['secret', 'rm', 'api.token', '--peer', socket])
  assert.is(removed.code, 0, removed.stderr)
  assert.is(removed.stdout, 'removed secret api.token\n')
  assert.is(opened(holder.doc, 'api.token'), undefined)
  const again = await runCli(['secret', 'rm', 'api.token', '--peer', socket])
  assert.is(again.code, 1)
  assert.match(again.stderr, 'no secret named "api.token"')
}))

cli('--if-changed leaves a secret that holds the value as it is: outcome unchanged, same version, no change to the document', () => withAgent(async (socket, holder) => {
  assert.is((await runCli(['secret', 'create', 'cert', '-f', '-', '--if-changed', '--peer', socket], 30_000, 'v1')).stdout, 'created secret cert: version 1, 2 bytes\n')
  const before = holder.doc
  const same = await runCli(['secret', 'create', 'cert', '-f', '-', '--if-changed', '--peer', socket], 30_000, 'v1')
  assert.is(same.code, 0, same.stderr)
  assert.is(same.stdout, 'secret cert unchanged (same value): version 1, 2 bytes\n')
  assert.is(holder.doc, before, 'nothing was written')
  const json = await runCli(['secret', 'create', 'cert', '-f', '-', '--if-changed', '--json', '--peer', socket], 30_000, 'v1')
  const answer = JSON.parse(json.stdout) as { secret: SecretInfo; outcome: string }
  assert.equal([answer.outcome, answer.secret.version], ['unchanged', 1])

  // A different value is a new version; without --if-changed the same value is one too.
  assert.is((await runCli(['secret', 'create', 'cert', '-f', '-', '--if-changed', '--peer', socket], 30_000, 'v2')).stdout, 'updated secret cert: version 2, 2 bytes\n')
  assert.is(opened(holder.doc, 'cert'), 'v2')
  assert.is((await runCli(['secret', 'create', 'cert', '-f', '-', '--peer', socket], 30_000, 'v2')).stdout, 'updated secret cert: version 3, 2 bytes\n')
  // A prefix of the value is not the value.
  assert.is((await runCli(['secret', 'create', 'cert', '-f', '-', '--if-changed', '--peer', socket], 30_000, 'v')).stdout, 'updated secret cert: version 4, 1 bytes\n')
}))

cli('ifChanged must be a boolean', () => withAgent(async (socket) => {
  try {
    await ask({ peer: socket }, 'POST /v1/secrets', { body: { name: 'db', valueBase64: 'eA==', ifChanged: 'yes' as unknown as boolean } })
    assert.unreachable('a string ifChanged was accepted')
  } catch (error) {
    assert.match((error as Error).message, 'the request body\'s "ifChanged" must be true or false')
  }
}))

cli('rm is refused while a service lists the secret, naming the service', () => withAgent(async (socket, holder) => {
  await runCli(['secret', 'create', 'db', '-f', '-', '--peer', socket], 30_000, 'x')
  const specs = validateServices({ services: { reader: { command: ['cat'], secrets: ['db'] } } })
  assert.ok(specs.ok)
  if (!specs.ok) return
  const applied = apply(holder.doc, specs.services, SELF, 1)
  assert.ok(applied.ok)
  if (applied.ok) holder.doc = applied.doc
  const refused = await runCli(['secret', 'rm', 'db', '--peer', socket])
  assert.is(refused.code, 1)
  assert.match(refused.stderr, 'secret "db" is used by reader')
  assert.is(opened(holder.doc, 'db'), 'x')
}))

cli('input errors exit 2 naming the problem, before any agent is asked', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peer-secret-cli-'))
  try {
    const empty = join(dir, 'empty')
    await writeFile(empty, '')
    const large = join(dir, 'large')
    await writeFile(large, Buffer.alloc(DOCUMENT_LIMITS.secretValueBytes + 1, 'a'))
    const exact = join(dir, 'exact')
    await writeFile(exact, Buffer.alloc(DOCUMENT_LIMITS.secretValueBytes, 'a'))
    const socket = join(dir, 'nobody.sock')
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [['secret', 'create', 'db', '-f', empty], undefined, /value from .*empty is empty/],
      [['secret', 'create', 'db', '-f', '-'], '', /value from stdin is empty/],
      [['secret', 'create', 'db', '-f', large], undefined, /over the limit of 32768 bytes/],
      [['secret', 'create', 'db', '-f', '-'], 'a'.repeat(DOCUMENT_LIMITS.secretValueBytes + 10), /stdin is over the limit of 32768 bytes/],
      [['secret', 'create', 'db', '-f', join(dir, 'missing')], undefined, /cannot read the secret's value from .*missing: ENOENT/],
      [['secret', 'create', '../db', '-f', exact], undefined, /"..\/db" is not a secret name/],
      [['secret', 'rm', 'bad/name'], undefined, /"bad\/name" is not a secret name/],
      [['secret', 'create', 'db'], undefined, /required option '-f, --file <path>'/],
    ]
    // Independent runs, so all at once: each CLI start costs a second or two.
    const [noAgent, ...results] = await Promise.all([
      // A value at the limit is fine: the next problem is that no agent answers (exit 1).
      runCli(['secret', 'create', 'db', '-f', exact, '--peer', socket], 60_000),
      ...cases.map(([args, input]) => runCli([...args, '--peer', socket], 60_000, input)),
    ])
    for (const [i, [args, , message]] of cases.entries()) {
      const result = results[i]!
      assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message)
      assert.is(result.stdout, '')
    }
    assert.is(noAgent!.code, 1, noAgent!.stderr)
    assert.match(noAgent!.stderr, socket)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

cli('the table says when there are none, and shortens authors', () => {
  assert.is(secretsText([], 0), 'No secrets.\n')
  const text = secretsText([{ name: 'db', version: 3, sizeBytes: 12, author: SELF, timeMs: 0 }], 5_000)
  assert.match(text, /db\s+3\s+12B\s+000000000001\s+\S+ \S+ \(5\.0s ago\)/)
})

cli.run()
