// The members an agent knew, on disk (node/agent/known-members.ts): written and read back sorted,
// without this peer; a missing file means nobody; a damaged file or entry is skipped with a problem.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readKnownMembers, writeKnownMembers } from '../../../node/agent/known-members.js'
import { peerId } from '../../../core/index.js'

const SELF = peerId('peer-self')
const Known = suite('known members on disk')

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peer-members-'))
  try {
    await run(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

Known('what is written is read back, sorted, private to the owner', () => withDir(async (dir) => {
  const path = join(dir, 'members.json')
  await writeKnownMembers(path, [peerId('peer-c'), peerId('peer-a')])
  assert.equal(await readKnownMembers(path, SELF), { members: ['peer-a', 'peer-c'], problems: [] })
  assert.is((await stat(path)).mode & 0o777, 0o600)
}))

Known('a missing file means the peer knew nobody', () => withDir(async (dir) => {
  assert.equal(await readKnownMembers(join(dir, 'members.json'), SELF), { members: [], problems: [] })
}))

Known('a damaged file is nobody, with a problem; a damaged entry is skipped; this peer and repeats are dropped', () => withDir(async (dir) => {
  const path = join(dir, 'members.json')
  await writeFile(path, '{not json')
  const damaged = await readKnownMembers(path, SELF)
  assert.equal(damaged.members, [])
  assert.match(damaged.problems[0]!, /is not JSON/)
  await writeFile(path, JSON.stringify({ format: 1, members: ['peer-a', 7, 'peer-self', 'peer-a', 'bad id!'] }))
  const partly = await readKnownMembers(path, SELF)
  assert.equal(partly.members, ['peer-a'])
  assert.equal(partly.problems.length, 2)
  await writeFile(path, JSON.stringify({ format: 2, members: [] }))
  assert.match((await readKnownMembers(path, SELF)).problems[0]!, /not a member list of format 1/)
}))

Known.run()
