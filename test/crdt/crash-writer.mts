// A child process for the kill -9 test: applies an edit, persists it, and only then prints
// "ack <service>", in a loop until it is killed. The small compaction threshold makes the kill land
// inside compactions as well as appends. The .mts extension keeps uvu from running it as a suite.
//
// usage: node --import tsx crash-writer.mts <dir> <prefix>

import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { peerId } from '../../core/placement/ids.js'
import { apply, newProcessNonce, openStore, peerActor } from '../../crdt/index.js'
import { spec } from './support.mjs'

// Imported rather than run (a test runner given a pattern that matches this file): do nothing.
const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
const [dir, prefix] = process.argv.slice(2)
if (isMain && (dir === undefined || prefix === undefined)) throw new Error('usage: crash-writer.mts <dir> <prefix>')
if (isMain && dir !== undefined && prefix !== undefined) await writeUntilKilled(dir, prefix)

async function writeUntilKilled(dir: string, prefix: string): Promise<never> {
  const peer = peerId('crash-writer')
  const opened = await openStore(dir, { actor: peerActor(peer, newProcessNonce()), compactAfterLogBytes: 4 * 1024 })
  process.stdout.write(`warnings ${JSON.stringify(opened.warnings)}\n`)
  let doc = opened.doc
  for (let i = 0; ; i++) {
    const name = `${prefix}-${i}`
    const result = apply(doc, [spec({ name, image: `image:${i}`, env: { PAD: 'x'.repeat(i % 200) } })], peer, i)
    if (!result.ok) throw new Error(JSON.stringify(result.error))
    doc = result.doc
    await opened.store.persist(doc)
    process.stdout.write(`ack ${name}\n`)
    if (opened.store.needsCompaction()) await opened.store.compact(doc)
  }
}
