// The bin as npm installs it: run through its own shebang line, not through `node file`.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import { PEER_COMMAND } from '../peer-command.js'
import { repoRoot } from './run-cli.js'

const bin = suite('installed bin')
const binPath = PEER_COMMAND[PEER_COMMAND.length - 1]!

bin('runs through its shebang, and Node 20 leaves a --env-file to peer', () => {
  // npm makes the bin executable when it installs it; tsc does not.
  chmodSync(binPath, 0o755)
  const compose = join(repoRoot, 'test', 'fixtures', 'compose', 'airflow', 'docker-compose.yaml')
  const run = spawnSync(binPath, ['plan', '--show-specs', '-f', compose, '--env-file', '/nonexistent/peer.env'], { encoding: 'utf8' })
  // Without `--` in the shebang, node itself exits with "node: /nonexistent/peer.env: not found".
  assert.is(run.stderr.trim(), 'peer: /nonexistent/peer.env: no such file (given with --env-file)')
  assert.is(run.status, 2)
})

bin.run()
