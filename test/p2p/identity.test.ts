import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { chmod, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHost, generateSwarmKey, IDENTITY_FILE, identityFromSeed, loadOrCreateIdentity, SetupError, type Host } from '../../p2p/index.js'
import { stopAll, withTempDir } from './helpers.js'

const identity = suite('identity')

identity('a key is created once, mode 0600, and loaded again with the same peer id', () =>
  withTempDir(async (dir) => {
    const dataDir = join(dir, 'data')
    const first = await loadOrCreateIdentity(dataDir)
    assert.ok(first.created)
    assert.match(first.peerId, /^12D3KooW/)
    assert.is((await stat(join(dataDir, IDENTITY_FILE))).mode & 0o777, 0o600)
    assert.is((await stat(dataDir)).mode & 0o777, 0o700)
    const second = await loadOrCreateIdentity(dataDir)
    assert.not.ok(second.created)
    assert.is(second.peerId, first.peerId)
  }),
)

identity('a host restarted on the same data directory keeps its peer id', () =>
  withTempDir(async (dataDir) => {
    const swarmKey = generateSwarmKey()
    const ids: string[] = []
    for (let run = 0; run < 2; run++) {
      let host: Host | undefined
      try {
        host = await createHost({ dataDir, swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], join: [] })
        ids.push(host.peerId)
        assert.ok(host.addresses().every((address) => address.endsWith(`/p2p/${host!.peerId}`)))
      } finally {
        await stopAll([host])
      }
    }
    assert.is(ids[0], ids[1])
  }),
)

identity('seeds give deterministic, distinct identities', async () => {
  const a1 = await identityFromSeed('peer-a')
  const a2 = await identityFromSeed('peer-a')
  const b = await identityFromSeed('peer-b')
  assert.is(a1.peerId, a2.peerId)
  assert.is.not(a1.peerId, b.peerId)
  try {
    await identityFromSeed(new Uint8Array(5))
    assert.unreachable('accepted a 5-byte seed')
  } catch (error) {
    assert.instance(error, SetupError)
  }
})

identity('a corrupt or world-readable key file is refused with a message naming it', () =>
  withTempDir(async (dataDir) => {
    const path = join(dataDir, IDENTITY_FILE)
    await writeFile(path, 'not a key', { mode: 0o600 })
    await chmod(path, 0o600)
    try {
      await loadOrCreateIdentity(dataDir)
      assert.unreachable('loaded garbage')
    } catch (error) {
      assert.instance(error, SetupError)
      assert.is((error as SetupError).code, 'identity-corrupt')
      assert.match((error as Error).message, path)
    }
    await chmod(path, 0o644)
    try {
      await loadOrCreateIdentity(dataDir)
      assert.unreachable('loaded a world-readable key')
    } catch (error) {
      assert.is((error as SetupError).code, 'identity-too-open')
      assert.match((error as Error).message, /chmod 600/)
    }
  }),
)

identity.run()
