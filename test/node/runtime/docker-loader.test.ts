// The Docker driver is loaded only where containers can run (node/runtime/docker-loader.ts): the
// agent's and the CLI's modules never load dockerode (with ssh2's 16 MiB WebAssembly memory) by
// being imported, a host without an engine socket is told so without loading it, and one with an
// engine still gets a driver.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dockerEngineAnswers, loadDockerDriver, missingDefaultSocket } from '../../../node/runtime/docker-loader.js'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const test = suite('docker loader')

/** Runs module code in a fresh node process (this one may have loaded dockerode for other tests) and returns what it printed. */
function inFreshProcess(lines: readonly string[]): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', lines.join('\n')], { cwd: REPO, encoding: 'utf8' })
  assert.is(run.status, 0, run.stderr)
  return run.stdout.trim()
}

test('importing the agent and every CLI command loads neither dockerode nor ssh2', () => {
  const printed = inFreshProcess([
    "import { readdirSync } from 'node:fs'",
    "import { createRequire } from 'node:module'",
    "await import('./node/agent/index.ts')",
    "for (const file of readdirSync('cli/commands')) await import(`./cli/commands/${file}`)",
    'const loaded = Object.keys(createRequire(import.meta.url).cache)',
    "console.log(JSON.stringify(loaded.filter((path) => /[\\\\/]node_modules[\\\\/](dockerode|ssh2|docker-modem)[\\\\/]/.test(path)).length))",
  ])
  assert.is(printed, '0')
})

test('without DOCKER_HOST and with no engine socket, the answer names the socket and needs no dockerode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pdl-'))
  try {
    const sockets = [join(dir, 'user.sock'), join(dir, 'system.sock')]
    assert.is(missingDefaultSocket({}, sockets), sockets[1])
    assert.is(missingDefaultSocket({ DOCKER_HOST: '' }, sockets), sockets[1])
    assert.is(missingDefaultSocket({ DOCKER_HOST: 'unix://' }, sockets), sockets[1])
    assert.equal(await dockerEngineAnswers({}, sockets), { ok: false, error: `connect ENOENT ${sockets[1]}` })
    // Either socket present: dockerode must be asked.
    await writeFile(sockets[0]!, '')
    assert.is(missingDefaultSocket({}, sockets), undefined)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('an engine named by DOCKER_HOST is always asked', () => {
  assert.is(missingDefaultSocket({ DOCKER_HOST: 'tcp://127.0.0.1:1' }, ['/nonexistent/a.sock']), undefined)
  assert.is(missingDefaultSocket({ DOCKER_HOST: 'unix:///nonexistent/b.sock' }, ['/nonexistent/a.sock']), undefined)
})

test('loading the driver defers ssh2 and gRPC until used, and the first use gets the real module', () => {
  // As in the agent: the driver loaded, then what dockerode would do with an ssh:// engine.
  const printed = inFreshProcess([
    "import { createRequire } from 'node:module'",
    "import { loadDockerDriver } from './node/runtime/docker-loader.ts'",
    'await loadDockerDriver()',
    'const require = createRequire(import.meta.url)',
    // Real modules only: the stand-ins sit in the cache under the real files' names.
    "const loaded = () => Object.entries(require.cache).filter(([path, module]) => /[\\/]node_modules[\\/](ssh2|@grpc)[\\/]/.test(path) && Array.isArray(module.children)).length",
    'const before = loaded()',
    "const modem = createRequire(require.resolve('dockerode')).resolve('docker-modem')",
    "const { Client } = createRequire(modem)('ssh2')",
    'const client = new Client()',
    "const { Client: RealClient } = createRequire(modem)('ssh2')",
    'console.log(JSON.stringify({ before, after: loaded(), real: client instanceof RealClient, same: RealClient !== Client }))',
  ])
  const figures = JSON.parse(printed) as { before: number; after: number; real: boolean; same: boolean }
  assert.is(figures.before, 0, 'ssh2 or gRPC loaded with the driver')
  assert.ok(figures.after > 0, 'ssh2 not loaded on first use')
  assert.ok(figures.real, 'the client made through the stand-in is not a real ssh2 Client')
  assert.ok(figures.same, 'later requires still get the stand-in')
})

test('the loaded driver asks the engine: an address where none listens is an error, not a driver', async () => {
  const DockerDriver = await loadDockerDriver()
  const Docker = (await import('dockerode')).default
  const answer = await DockerDriver.engineAnswers(new Docker({ socketPath: '/nonexistent/peer-test-docker.sock' }))
  assert.equal(answer, { ok: false, error: 'connect ENOENT /nonexistent/peer-test-docker.sock' })
})

test.run()
