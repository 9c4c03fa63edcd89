// The process driver's files: slot file names, task records, and reading log files backwards and forwards.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { appendFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceName, SlotId } from '../../../core/index.js'
import { readLogLines } from '../../../node/runtime/log-file.js'
import { slotFileName, TaskRecords, type TaskRecord } from '../../../node/runtime/records.js'
import { collect, spec } from './helpers.js'

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peer-runtime-files-'))
  try {
    await body(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const names = suite('slotFileName')

names('replica and global slots get distinct, readable names', () => {
  assert.is(slotFileName('web/3' as SlotId), 'web_3')
  assert.is(slotFileName('web@host-a.lan' as SlotId), 'web+host-a.lan')
  // Look-alikes stay apart: web-1/0 vs web/10, and a peer named like a replica index.
  const slots = ['web-1/0', 'web/10', 'web/1', 'web@1', 'web@1_0', 'web-1@0'] as SlotId[]
  assert.is(new Set(slots.map(slotFileName)).size, slots.length)
})

names('a malformed slot (which could climb out of the directory) is refused', () => {
  for (const bad of ['../../etc/passwd', 'web', '/0', 'Web/0', 'web/0/1', '']) {
    assert.throws(() => slotFileName(bad as SlotId), /malformed slot/, bad)
  }
})

const records = suite('TaskRecords')

const record = (slot: string, pid = 4242): TaskRecord => ({
  version: 1, slot: slot as SlotId, service: 'web' as ServiceName, specHash: 'h1', spec: spec(), pid, startTicks: 99, startedAtMs: 1,
})

records('write, read back, remove', () => withDir(async (dir) => {
  const store = new TaskRecords(join(dir, 'tasks'))
  await store.write(record('web/0'))
  await store.write(record('web/1'))
  await store.write(record('web/0', 4343)) // replaces
  const { records: read } = await store.readAll()
  assert.equal(read.map((r) => [r.slot, r.pid]), [['web/0', 4343], ['web/1', 4242]])
  await store.remove('web/0' as SlotId)
  await store.remove('web/0' as SlotId) // removing twice is fine
  assert.equal((await store.readAll()).records.map((r) => r.slot), ['web/1'])
  assert.equal(await readdir(join(dir, 'tasks')), ['web_1.json'])
}))

records('a missing directory is no records; torn temporary files are deleted; damaged records are reported, not trusted', () => withDir(async (dir) => {
  assert.equal(await new TaskRecords(join(dir, 'none')).readAll(), { records: [], unreadable: [] })
  const tasks = join(dir, 'tasks')
  await mkdir(tasks)
  await writeFile(join(tasks, '.web_0.json.123.1.tmp'), '{"version":1,')
  await writeFile(join(tasks, 'web_1.json'), 'not json')
  await writeFile(join(tasks, 'web_2.json'), JSON.stringify({ ...record('web/2'), pid: 1 })) // pid 1 would signal init
  await writeFile(join(tasks, 'web_3.json'), JSON.stringify(record('web/4'))) // file and slot disagree
  const { records: read, unreadable } = await new TaskRecords(tasks).readAll()
  assert.equal(read, [])
  assert.equal(unreadable.map((path) => path.slice(tasks.length + 1)), ['web_1.json', 'web_2.json', 'web_3.json'])
  assert.not.ok((await readdir(tasks)).some((name) => name.endsWith('.tmp')))
}))

const logs = suite('readLogLines')

const read = (path: string, options: { tailLines?: number } = {}) =>
  collect(readLogLines(path, { follow: false, isLive: () => false, pollMs: 10, ...options }))

logs('reads lines, the last N of them, and a last line without its newline', () => withDir(async (dir) => {
  const path = join(dir, 'a.log')
  await writeFile(path, 'a\nb\n\nc\nd')
  assert.equal(await read(path), ['a', 'b', '', 'c', 'd'])
  assert.equal(await read(path, { tailLines: 2 }), ['c', 'd'])
  await appendFile(path, '\n')
  assert.equal(await read(path, { tailLines: 2 }), ['c', 'd'])
  assert.equal(await read(path, { tailLines: 3 }), ['', 'c', 'd'])
  assert.equal(await read(path, { tailLines: 100 }), ['a', 'b', '', 'c', 'd'])
  assert.equal(await read(join(dir, 'missing.log')), [])
}))

logs('tails across read chunks and keeps multi-byte characters whole', () => withDir(async (dir) => {
  const path = join(dir, 'big.log')
  const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ✓ ünïcødé`)
  await writeFile(path, lines.join('\n') + '\n')
  assert.equal(await read(path, { tailLines: 5 }), lines.slice(-5))
  const all = await read(path)
  assert.is(all.length, lines.length)
  assert.equal(all, lines)
}))

logs('a follow yields appended lines and ends when the writer is no longer live', () => withDir(async (dir) => {
  const path = join(dir, 'f.log')
  await writeFile(path, 'old\n')
  let live = true
  const seen: string[] = []
  // From the start of the file: with `tailLines: 0` the reader starts wherever the file ends when it
  // opens, and a first append made before that (a loaded machine) would be skipped by design.
  const following = (async () => {
    for await (const line of readLogLines(path, { follow: true, isLive: () => live, pollMs: 5 })) seen.push(line)
  })()
  await appendFile(path, 'new 1\nnew')
  await new Promise((resolve) => setTimeout(resolve, 30))
  await appendFile(path, ' 2\npartial')
  live = false
  await following
  assert.equal(seen, ['old', 'new 1', 'new 2', 'partial'])
}))

names.run()
records.run()
logs.run()
