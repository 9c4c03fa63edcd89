import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHost, createSwarmKeyFile, generateSwarmKey, parseSwarmKey, readSwarmKeyFile, SetupError, type SwarmKeyProblem } from '../../p2p/index.js'
import { withTempDir } from './helpers.js'

const HEX = 'dffb7e3135399a8b1612b2aaca1c36a3a8ac2cd0cca51ceeb2ced87d308cac6d'
const VALID = `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}\n`

const parsing = suite('swarm key: parsing')

parsing('a standard key file parses to its 32 bytes', () => {
  const result = parseSwarmKey(VALID)
  assert.ok(result.ok)
  if (!result.ok) return
  assert.is(Buffer.from(result.key.bytes).toString('hex'), HEX)
  assert.is(new TextDecoder().decode(result.key.file), VALID)
  assert.match(result.key.fingerprint, /^[0-9a-f]{8}$/)
})

parsing('hand-edited variants (CRLF, uppercase hex, no final newline, blank space) parse to the same key', () => {
  for (const text of [VALID.replace(/\n/g, '\r\n'), VALID.toUpperCase().replace('/KEY/SWARM/PSK/1.0.0/', '/key/swarm/psk/1.0.0/').replace('/BASE16/', '/base16/'), VALID.trimEnd(), `\n  ${VALID}  \n`]) {
    const result = parseSwarmKey(text)
    assert.ok(result.ok, text)
    if (result.ok) assert.is(Buffer.from(result.key.bytes).toString('hex'), HEX)
  }
})

const BAD: Array<[string, string, SwarmKeyProblem, RegExp]> = [
  ['empty', '', 'empty', /empty/],
  ['whitespace only', ' \n\n', 'empty', /empty/],
  ['wrong tag', `/key/swarm/psk/2.0.0/\n/base16/\n${HEX}`, 'bad-tag', /line 1/],
  ['base64 encoding', `/key/swarm/psk/1.0.0/\n/base64/\n${HEX}`, 'bad-encoding', /line 2/],
  ['missing key line', '/key/swarm/psk/1.0.0/\n/base16/', 'bad-length', /missing/],
  ['short key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(2)}`, 'bad-length', /62/],
  ['long key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX}00`, 'bad-length', /66/],
  ['non-hex character', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(0, 10)}zz${HEX.slice(12)}`, 'bad-hex', /character 11/],
  ['extra lines', `${VALID}more\n`, 'extra-lines', /unexpected/],
  ['just the hex', HEX, 'bad-tag', /line 1/],
]

for (const [name, text, problem, message] of BAD) {
  parsing(`rejects ${name} as ${problem}, saying which line`, () => {
    const result = parseSwarmKey(text)
    assert.not.ok(result.ok)
    if (result.ok) return
    assert.is(result.problem, problem)
    assert.match(result.message, message)
    // Never echo the secret back into a log.
    assert.not.match(result.message, HEX.slice(12, 40))
  })
}

parsing('generated keys are distinct and parse back to themselves', () => {
  const a = generateSwarmKey()
  const b = generateSwarmKey()
  assert.is.not(Buffer.from(a.bytes).toString('hex'), Buffer.from(b.bytes).toString('hex'))
  const parsed = parseSwarmKey(a.file)
  assert.ok(parsed.ok)
  if (parsed.ok) assert.equal(parsed.key.bytes, a.bytes)
})

const files = suite('swarm key: files')

files('createSwarmKeyFile writes mode 0600 and refuses to overwrite', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'swarm.key')
    const key = await createSwarmKeyFile(path)
    assert.is((await stat(path)).mode & 0o777, 0o600)
    assert.equal((await readSwarmKeyFile(path)).bytes, key.bytes)
    const before = await readFile(path)
    try {
      await createSwarmKeyFile(path)
      assert.unreachable('overwrote an existing key')
    } catch (error) {
      assert.instance(error, SetupError)
      assert.is((error as SetupError).code, 'swarm-key-exists')
    }
    assert.equal(await readFile(path), before)
  }),
)

files('readSwarmKeyFile names the path and the problem: missing, too open, malformed', () =>
  withTempDir(async (dir) => {
    const expectError = async (path: string, code: string, pattern: RegExp): Promise<void> => {
      try {
        await readSwarmKeyFile(path)
        assert.unreachable(`read ${path}`)
      } catch (error) {
        assert.instance(error, SetupError)
        assert.is((error as SetupError).code, code)
        assert.match((error as Error).message, path)
        assert.match((error as Error).message, pattern)
      }
    }
    await expectError(join(dir, 'nope.key'), 'swarm-key-missing', /does not exist/)

    const open = join(dir, 'open.key')
    await writeFile(open, VALID)
    await chmod(open, 0o644)
    await expectError(open, 'swarm-key-too-open', /chmod 600/)

    const bad = join(dir, 'bad.key')
    await writeFile(bad, '/key/swarm/psk/1.0.0/\n/base16/\nabc\n', { mode: 0o600 })
    await expectError(bad, 'swarm-key-invalid', /line 3/)
  }),
)

files('createHost without a swarm key, or with a malformed one, fails with a SetupError before listening', async () => {
  for (const [swarmKey, code] of [
    [undefined, 'no-swarm-key'],
    ['/key/swarm/psk/1.0.0/\n/base16/\nnothex', 'swarm-key-invalid'],
  ] as const) {
    try {
      const host = await createHost({ swarmKey, privateKey: undefined, dataDir: '/nonexistent-never-created', listen: ['/ip4/127.0.0.1/tcp/0'], join: [] })
      await host.stop()
      assert.unreachable('created a host')
    } catch (error) {
      assert.instance(error, SetupError)
      assert.is((error as SetupError).code, code)
    }
  }
})

parsing.run()
files.run()
