// Where tasks' secret files live: only on a memory file system (read from /proc/mounts), under
// owner-only directories, written whole with the modes their reader needs, and swept away.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { replicaSlot, serviceName } from '../../../core/index.js'
import { fileSystemOf, findSecretsRoot, SecretFiles } from '../../../node/agent/secret-files.js'

const MOUNTS = [
  'proc /proc proc rw 0 0',
  'overlay / overlay rw 0 0',
  'tmpfs /dev/shm tmpfs rw 0 0',
  'tmpfs /run/user/1000 tmpfs rw 0 0',
  '/dev/sda1 /mnt/with\\040space ext4 rw 0 0',
  'tmpfs /mnt/over tmpfs rw 0 0',
  '/dev/sdb1 /mnt/over ext4 rw 0 0',
].join('\n')

const root = suite('secret files: where')

root('the file system of a path is its longest mount point\'s; the last of equal ones wins', () => {
  assert.is(fileSystemOf('/dev/shm', MOUNTS), 'tmpfs')
  assert.is(fileSystemOf('/dev/shm/peer-0/x', MOUNTS), 'tmpfs')
  assert.is(fileSystemOf('/dev/shmother', MOUNTS), 'overlay')
  assert.is(fileSystemOf('/run/user/1000', MOUNTS), 'tmpfs')
  assert.is(fileSystemOf('/mnt/with space/a', MOUNTS), 'ext4')
  assert.is(fileSystemOf('/mnt/over/a', MOUNTS), 'ext4')
  assert.is(fileSystemOf('/home/me', MOUNTS), 'overlay')
})

root('/dev/shm when it is a tmpfs; else $XDG_RUNTIME_DIR when it is one; else a reason, and never a disk', async () => {
  const temp = await mkdtemp(join(tmpdir(), 'peer-secret-mounts-'))
  try {
    const write = async (lines: string): Promise<string> => {
      const path = join(temp, `mounts-${Math.random()}`)
      await writeFile(path, lines)
      return path
    }
    // This host's /dev/shm is a tmpfs (the other cases are read from made-up mount tables).
    assert.equal(await findSecretsRoot({}, await write('overlay / overlay rw 0 0\ntmpfs /dev/shm tmpfs rw 0 0\n')), { ok: true, dir: '/dev/shm' })
    const onDisk = await write(`overlay / overlay rw 0 0\n/dev/sda1 ${temp} ext4 rw 0 0\n`)
    const none = await findSecretsRoot({}, onDisk)
    assert.is(none.ok, false)
    assert.match(!none.ok ? none.reason : '', '/dev/shm is on overlay, not tmpfs; XDG_RUNTIME_DIR is not set')
    const xdgOnDisk = await findSecretsRoot({ XDG_RUNTIME_DIR: temp }, onDisk)
    assert.match(!xdgOnDisk.ok ? xdgOnDisk.reason : '', `${temp} is on ext4, not tmpfs`)
    const xdg = await findSecretsRoot({ XDG_RUNTIME_DIR: temp }, await write(`overlay / overlay rw 0 0\ntmpfs ${temp} tmpfs rw 0 0\n`))
    assert.equal(xdg, { ok: true, dir: temp })
    const unreadable = await findSecretsRoot({}, join(temp, 'no-such-file'))
    assert.match(!unreadable.ok ? unreadable.reason : '', 'cannot read')
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
})

const files = suite('secret files: writing and sweeping')

async function withFiles(body: (files: SecretFiles, dir: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join('/dev/shm', 'peer-secret-files-test-'))
  try {
    await body(new SecretFiles({ ok: true, dir: base }, `agent-${process.pid}`), base)
  } finally {
    await rm(base, { recursive: true, force: true })
  }
}

const web0 = replicaSlot(serviceName('web'), 0)

files('a process task\'s files are 0600 in a 0700 directory under owner-only directories', () => withFiles(async (secretFiles, base) => {
  const written = await secretFiles.write(web0, 'abc123', [{ name: 'db', value: Buffer.from('one') }, { name: 'api.token', value: Buffer.from('two') }], 'owner')
  assert.ok(written.ok)
  if (!written.ok) return
  assert.is(written.dir, join(base, `peer-${process.getuid!()}`, `agent-${process.pid}`, 'web_0.abc123'))
  assert.is(await readFile(join(written.dir, 'db'), 'utf8'), 'one')
  assert.is((await stat(join(written.dir, 'db'))).mode & 0o777, 0o600)
  assert.is((await stat(written.dir)).mode & 0o777, 0o700)
  assert.is((await stat(join(written.dir, '..'))).mode & 0o777, 0o700)
  assert.is((await stat(join(written.dir, '..', '..'))).mode & 0o777, 0o700)
  assert.equal((await readdir(written.dir)).sort(), ['api.token', 'db'])
}))

files('a container\'s are readable by any user inside it: 0444 in a 0755 directory, still under owner-only ones', () => withFiles(async (secretFiles) => {
  const written = await secretFiles.write(web0, 'abc123', [{ name: 'db', value: Buffer.from('one') }], 'container')
  assert.ok(written.ok)
  if (!written.ok) return
  assert.is((await stat(join(written.dir, 'db'))).mode & 0o777, 0o444)
  assert.is((await stat(written.dir)).mode & 0o777, 0o755)
  assert.is((await stat(join(written.dir, '..'))).mode & 0o777, 0o700)
}))

files('writing again replaces the values and drops files no longer listed', () => withFiles(async (secretFiles) => {
  await secretFiles.write(web0, 'h', [{ name: 'a', value: Buffer.from('1') }, { name: 'b', value: Buffer.from('2') }], 'owner')
  const again = await secretFiles.write(web0, 'h', [{ name: 'a', value: Buffer.from('3') }], 'owner')
  assert.ok(again.ok)
  if (!again.ok) return
  assert.equal(await readdir(again.dir), ['a'])
  assert.is(await readFile(join(again.dir, 'a'), 'utf8'), '3')
}))

files('keepOnly removes every other task\'s directory', () => withFiles(async (secretFiles) => {
  await secretFiles.write(web0, 'old', [{ name: 'a', value: Buffer.from('1') }], 'owner')
  await secretFiles.write(web0, 'new', [{ name: 'a', value: Buffer.from('2') }], 'owner')
  await secretFiles.write(replicaSlot(serviceName('api'), 1), 'x', [{ name: 'a', value: Buffer.from('3') }], 'owner')
  await secretFiles.keepOnly(new Set([SecretFiles.taskDirName(web0, 'new')]))
  assert.equal(await secretFiles.present(), ['web_0.new'])
  await secretFiles.keepOnly(new Set())
  assert.equal(await secretFiles.present(), [])
}))

files('a name that is not a plain file name is refused, and nothing is written outside the task\'s directory', () => withFiles(async (secretFiles, base) => {
  for (const name of ['../escape', '/etc/passwd', '.hidden', '']) {
    const written = await secretFiles.write(web0, 'h', [{ name, value: Buffer.from('1') }], 'owner')
    assert.equal(written, { ok: false, reason: `cannot write the task's secret files: ${JSON.stringify(name)} is not a file name` })
  }
  assert.equal(await readdir(base), [])
}))

files('without a memory file system, writing is refused with the reason', async () => {
  const secretFiles = new SecretFiles({ ok: false, reason: 'no memory-only file system to hold secrets (…)' }, 'agent')
  const written = await secretFiles.write(web0, 'h', [{ name: 'a', value: Buffer.from('1') }], 'owner')
  assert.equal(written, { ok: false, reason: 'no memory-only file system to hold secrets (…)' })
  await secretFiles.keepOnly(new Set())
  assert.equal(await secretFiles.present(), [])
})

root.run()
files.run()
