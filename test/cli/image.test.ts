// `peer image load` against the real engine: an archive made by the engine loads; a damaged one is
// refused with the engine's reason (exit 1); a missing file is an input error (exit 2).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Docker from 'dockerode'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { dockerAvailable, TEST_IMAGE } from '../node/runtime/docker-support.js'
import { runCli } from './run-cli.js'

const images = suite('peer image load')
const docker = new Docker()

images('loads an archive the engine saved, and refuses damaged or missing files', async () => {
  const available = await dockerAvailable(docker)
  if (!available.ok) assert.unreachable(`no Docker engine or test image: ${available.error}`)
  const dir = await mkdtemp(join(tmpdir(), 'peer-image-'))
  try {
    const archive = join(dir, 'image.tar')
    await pipeline(await docker.getImage(TEST_IMAGE).get(), createWriteStream(archive))
    const loaded = await runCli(['image', 'load', archive])
    assert.is(loaded.code, 0, loaded.stderr)
    assert.match(loaded.stdout, `Loaded image: ${TEST_IMAGE}`)

    const damaged = join(dir, 'damaged.tar')
    await writeFile(damaged, 'not an archive\n')
    const refused = await runCli(['image', 'load', damaged])
    assert.is(refused.code, 1)
    assert.match(refused.stderr, /damaged\.tar: the engine refused it: /)

    const missing = await runCli(['image', 'load', join(dir, 'nope.tar')])
    assert.is(missing.code, 2)
    assert.match(missing.stderr, /nope\.tar: no such file/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

images.run()
