// The agent's data directory (node/agent/data-dir.ts): `peer init` makes it owner-only with a peer key
// and a swarm key, running it again changes nothing, a --key-file must agree with the key already
// there, and `peer agent` refuses a directory that was never initialised or whose socket path is too
// long, each time with a message that says what to do.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import {
  CONTROL_SOCKET_FILE,
  dataDirLayout,
  defaultDataDir,
  initDataDir,
  openDataDir,
  SWARM_KEY_FILE,
} from '../../../node/agent/data-dir.js'
import { createSwarmKeyFile, IDENTITY_FILE, SetupError, type SetupErrorCode } from '../../../p2p/index.js'
import { UI_TOKEN_FILE } from '../../../node/web/index.js'

async function withTemp(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pd-'))
  try {
    await body(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false)

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

/** Runs `body`, which must throw a SetupError with `code`; returns its message. */
async function setupError(body: () => Promise<unknown>, code: SetupErrorCode): Promise<string> {
  try {
    await body()
  } catch (error) {
    assert.instance(error, SetupError)
    assert.is((error as SetupError).code, code, (error as Error).message)
    return (error as Error).message
  }
  assert.unreachable(`expected a SetupError ${code}`)
  return ''
}

/** A key file as an operator would copy it from the first host (0600). */
async function keyFile(dir: string, name: string): Promise<{ path: string; bytes: Uint8Array }> {
  const path = join(dir, name)
  const key = await createSwarmKeyFile(path)
  return { path, bytes: key.bytes }
}

/**
 * A root under `base` whose control socket path is exactly `bytes` bytes long, its last folder made of
 * `filler` characters. A multi-byte filler may not fit evenly; a folder of three bytes ('/bb') in
 * between changes the remainder.
 */
function rootWithSocketBytes(base: string, bytes: number, filler = 'x'): string {
  const fillerBytes = Buffer.byteLength(filler)
  for (const parent of [base, join(base, 'bb'), join(base, 'bb', 'bb')]) {
    const room = bytes - Buffer.byteLength(join(parent, CONTROL_SOCKET_FILE)) - 1 // the '/' before the filler
    if (room < fillerBytes || room % fillerBytes !== 0) continue
    const root = join(parent, filler.repeat(room / fillerBytes))
    assert.is(Buffer.byteLength(join(root, CONTROL_SOCKET_FILE)), bytes)
    return root
  }
  throw new Error(`cannot make a ${bytes}-byte socket path under ${base} from ${JSON.stringify(filler)}`)
}

// --- initDataDir ----------------------------------------------------------------------------------

const init = suite('initDataDir')

init('creates an owner-only directory with the peer key, the swarm key and the web view token, each 0600', async () => {
  await withTemp(async (temp) => {
    const root = join(temp, 'data')
    const result = await initDataDir(root)
    assert.is(result.layout.root, root)
    assert.ok(result.createdIdentity)
    assert.ok(result.createdSwarmKey)
    assert.match(result.peerId, /^12D3Koo/)
    assert.is(await modeOf(root), 0o700)
    assert.is(await modeOf(join(root, IDENTITY_FILE)), 0o600)
    assert.is(await modeOf(join(root, SWARM_KEY_FILE)), 0o600)
    assert.is(await modeOf(join(root, UI_TOKEN_FILE)), 0o600)
    assert.equal((await readdir(root)).sort(), [IDENTITY_FILE, SWARM_KEY_FILE, UI_TOKEN_FILE].sort())
  })
})

init('creates missing parent directories, and makes an existing open directory owner-only', async () => {
  await withTemp(async (temp) => {
    const nested = join(temp, 'a', 'b')
    await initDataDir(nested)
    assert.is(await modeOf(nested), 0o700)

    const open = join(temp, 'open')
    await mkdir(open, { mode: 0o755 })
    await chmod(open, 0o755)
    await initDataDir(open)
    assert.is(await modeOf(open), 0o700)
  })
})

init('running it again keeps the same peer id and key, and reports that nothing was created', async () => {
  await withTemp(async (temp) => {
    const root = join(temp, 'data')
    const first = await initDataDir(root)
    const keyBefore = await readFile(join(root, SWARM_KEY_FILE))
    const identityBefore = await readFile(join(root, IDENTITY_FILE))
    const second = await initDataDir(root)
    assert.is(second.peerId, first.peerId)
    assert.is(second.createdIdentity, false)
    assert.is(second.createdSwarmKey, false)
    assert.equal(await readFile(join(root, SWARM_KEY_FILE)), keyBefore)
    assert.equal(await readFile(join(root, IDENTITY_FILE)), identityBefore)
  })
})

init('--key-file: the given key becomes the swarm key', async () => {
  await withTemp(async (temp) => {
    const given = await keyFile(temp, 'given.key')
    const root = join(temp, 'data')
    const result = await initDataDir(root, { keyFile: given.path })
    assert.ok(result.createdSwarmKey)
    const opened = await openDataDir(root)
    assert.equal(opened.swarmKey.bytes, given.bytes)
    assert.equal(await readFile(join(root, SWARM_KEY_FILE)), await readFile(given.path))
  })
})

init('--key-file with the key already there is accepted and changes nothing', async () => {
  await withTemp(async (temp) => {
    const given = await keyFile(temp, 'given.key')
    const root = join(temp, 'data')
    const first = await initDataDir(root, { keyFile: given.path })
    const again = await initDataDir(root, { keyFile: given.path })
    assert.is(again.peerId, first.peerId)
    assert.is(again.createdSwarmKey, false)
    assert.equal((await openDataDir(root)).swarmKey.bytes, given.bytes)
  })
})

init('--key-file with a different key is refused, naming the swarm key path, and the key is kept', async () => {
  await withTemp(async (temp) => {
    const root = join(temp, 'data')
    await initDataDir(root)
    const before = await readFile(join(root, SWARM_KEY_FILE))
    const other = await keyFile(temp, 'other.key')
    const message = await setupError(() => initDataDir(root, { keyFile: other.path }), 'swarm-key-exists')
    assert.match(message, join(root, SWARM_KEY_FILE))
    assert.match(message, 'different swarm key')
    assert.equal(await readFile(join(root, SWARM_KEY_FILE)), before)
  })
})

init('a --key-file readable by others is refused, naming chmod, before anything is created', async () => {
  await withTemp(async (temp) => {
    const given = await keyFile(temp, 'open.key')
    await chmod(given.path, 0o644)
    const root = join(temp, 'data')
    const message = await setupError(() => initDataDir(root, { keyFile: given.path }), 'swarm-key-too-open')
    assert.match(message, given.path)
    assert.match(message, `chmod 600 ${given.path}`)
    assert.not.ok(await exists(root), 'the data directory was not created')
  })
})

const BAD_KEY_FILES: ReadonlyArray<{ name: string; write: (path: string) => Promise<void>; code: SetupErrorCode }> = [
  { name: 'missing', write: async () => undefined, code: 'swarm-key-missing' },
  {
    name: 'malformed',
    write: async (path) => {
      await writeFile(path, 'not a key\n', { mode: 0o600 })
      await chmod(path, 0o600)
    },
    code: 'swarm-key-invalid',
  },
]

for (const { name, write, code } of BAD_KEY_FILES) {
  init(`a --key-file that is ${name} is refused, naming it`, async () => {
    await withTemp(async (temp) => {
      const path = join(temp, 'given.key')
      await write(path)
      const message = await setupError(() => initDataDir(join(temp, 'data'), { keyFile: path }), code)
      assert.match(message, path)
    })
  })
}

init('a relative --key-file is resolved against the working directory', async () => {
  await withTemp(async (temp) => {
    const given = await keyFile(temp, 'rel.key')
    const result = await initDataDir(join(temp, 'data'), { keyFile: relative(process.cwd(), given.path) })
    assert.ok(result.createdSwarmKey)
    assert.equal((await openDataDir(join(temp, 'data'))).swarmKey.bytes, given.bytes)
  })
})

// --- openDataDir ----------------------------------------------------------------------------------

const open = suite('openDataDir')

open('opens an initialised directory: the layout and the swarm key', async () => {
  await withTemp(async (temp) => {
    const root = join(temp, 'data')
    await initDataDir(root)
    const opened = await openDataDir(root)
    assert.equal(opened.layout, dataDirLayout(root))
    assert.is(opened.swarmKey.bytes.length, 32)
  })
})

open('a missing directory is refused, naming it and the peer init command', async () => {
  await withTemp(async (temp) => {
    const root = join(temp, 'missing')
    const message = await setupError(() => openDataDir(root), 'swarm-key-missing')
    assert.match(message, root)
    assert.match(message, `peer init --data ${root}`)
  })
})

open('a directory without a swarm key is refused, naming it and the peer init command', async () => {
  await withTemp(async (temp) => {
    const root = join(temp, 'empty')
    await mkdir(root)
    const message = await setupError(() => openDataDir(root), 'swarm-key-missing')
    assert.match(message, root)
    assert.match(message, `peer init --data ${root}`)
    assert.match(message, '--key-file')
  })
})

open('a swarm key readable by others is refused, naming chmod', async () => {
  await withTemp(async (temp) => {
    const root = join(temp, 'data')
    await initDataDir(root)
    await chmod(join(root, SWARM_KEY_FILE), 0o644)
    const message = await setupError(() => openDataDir(root), 'swarm-key-too-open')
    assert.match(message, `chmod 600 ${join(root, SWARM_KEY_FILE)}`)
  })
})

open('assignments.json left readable by others is made 0600: it holds specs, env values and all', async () => {
  await withTemp(async (temp) => {
    const root = join(temp, 'data')
    await initDataDir(root)
    const { layout } = await openDataDir(root)
    await writeFile(layout.assignments, '{"format":1,"tasks":[]}\n', { mode: 0o644 })
    await chmod(layout.assignments, 0o644)
    await openDataDir(root)
    assert.is((await stat(layout.assignments)).mode & 0o777, 0o600)
  })
})

// --- The socket path limit --------------------------------------------------------------------------

const socket = suite('data directory socket path')

socket('a control socket path of 107 bytes is accepted', async () => {
  await withTemp(async (temp) => {
    const root = rootWithSocketBytes(temp, 107)
    await initDataDir(root)
    await openDataDir(root)
  })
})

const TOO_LONG: ReadonlyArray<{ name: string; bytes: number; filler: string }> = [
  { name: '108 bytes', bytes: 108, filler: 'x' },
  { name: 'far over', bytes: 300, filler: 'x' },
  // Counted in bytes, not characters: 'é' is two bytes in UTF-8.
  { name: 'over 107 bytes though under 107 characters', bytes: 108, filler: 'é' },
]

for (const { name, bytes, filler } of TOO_LONG) {
  socket(`a data directory whose socket path is ${name} is refused by init and open, with a clear message`, async () => {
    await withTemp(async (temp) => {
      const root = rootWithSocketBytes(temp, bytes, filler)
      if (filler !== 'x') assert.ok(root.length + 1 + CONTROL_SOCKET_FILE.length <= 107, 'fewer than 107 characters')
      for (const attempt of [() => initDataDir(root), () => openDataDir(root)]) {
        const message = await setupError(attempt, 'bad-address')
        assert.match(message, 'too long for a unix socket')
        assert.match(message, '107 bytes')
        assert.match(message, '--data')
      }
      assert.not.ok(await exists(root), 'init created nothing')
    })
  })
}

// --- defaultDataDir -------------------------------------------------------------------------------

const defaults = suite('defaultDataDir')

const DEFAULTS: ReadonlyArray<{ name: string; env: NodeJS.ProcessEnv; expected: string }> = [
  { name: 'PEER_DATA when set', env: { PEER_DATA: '/srv/peer' }, expected: '/srv/peer' },
  { name: 'PEER_DATA as given, even relative', env: { PEER_DATA: 'data' }, expected: 'data' },
  { name: '~/.peer when PEER_DATA is unset', env: {}, expected: join(homedir(), '.peer') },
  { name: '~/.peer when PEER_DATA is empty', env: { PEER_DATA: '' }, expected: join(homedir(), '.peer') },
]

for (const { name, env, expected } of DEFAULTS) {
  defaults(`is ${name}`, () => {
    assert.is(defaultDataDir(env), expected)
  })
}

init.run()
open.run()
socket.run()
defaults.run()
