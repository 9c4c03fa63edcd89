// A batch of remote changes that deletes the value a key shows here and brings a concurrent value for
// it must leave the document showing that other value, as every other replica does (view-repair.ts).
// X writes a secret; Y sees X's value and deletes it; Z writes its own value concurrently. X's actor
// is the largest, so before the batch X shows its own value; afterwards only Z's is left.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canonicalJson } from '../../core/hash.js'
import { peerId } from '../../core/placement/ids.js'
import {
  decodeBroadcast, desiredState, encodeBroadcast, generateSync, newDocument, newSyncState, openStore, readSecretInfo,
  receiveChanges, receiveSync, rebuildDocument, removeSecret, setPeerLabels, setSecret, type DesiredDoc,
} from '../../crdt/index.js'
import { rematerialised, watchConflicts } from '../../crdt/view-repair.js'
import { ok } from './support.mjs'

const KEY = Buffer.alloc(32, 7)
const [X, Y, Z] = [peerId('peer-x'), peerId('peer-y'), peerId('peer-z')]
const ACTORS = { x: '0c'.repeat(16), y: '0b'.repeat(16), z: '0a'.repeat(16) }

interface Story {
  x: DesiredDoc
  /** Y's delete of X's value. */
  deletion: Uint8Array
  /** Z's own value, and before it an unrelated change of Z's that Y had seen. */
  zBefore: Uint8Array
  zValue: Uint8Array
  z: DesiredDoc
}

function story(): Story {
  // X's value must win while both are present (larger op counter, then larger actor): X first makes
  // the same number of other changes as Z does.
  let x = ok(setPeerLabels(newDocument(ACTORS.x), 'node-8', { zone: 'b' }, X, 500)).doc
  x = ok(setSecret(x, 'token', 'from-x', KEY, X, 1_000)).doc
  let z = ok(setPeerLabels(newDocument(ACTORS.z), 'node-9', { zone: 'a' }, Z, 1_000)).doc
  const zBefore = Automerge.getLastLocalChange(z)!
  z = ok(setSecret(z, 'token', 'from-z-longer', KEY, Z, 2_000)).doc
  const zValue = Automerge.getLastLocalChange(z)!
  let y = receiveChanges(newDocument(ACTORS.y), [zBefore, ...Automerge.getAllChanges(x)]).doc
  y = ok(removeSecret(y, 'token', Y, 3_000)).doc
  const deletion = Automerge.getLastLocalChange(y)!
  z = receiveChanges(z, [deletion, ...Automerge.getAllChanges(x)]).doc
  return { x, deletion, zBefore, zValue, z }
}

/** What the document's operations say, whatever its patched object shows. */
function truth(doc: DesiredDoc): string {
  return canonicalJson(desiredState(rematerialised(doc)))
}

function assertShowsZ(doc: DesiredDoc): void {
  assert.is(readSecretInfo(doc, 'token')?.author, Z)
  assert.is(canonicalJson(desiredState(doc)), truth(doc))
}

test('the scenario is the one that needs the repair: one batch, a conflict patch', () => {
  const { x, deletion, zBefore, zValue } = story()
  assert.is(readSecretInfo(x, 'token')?.author, X)
  assert.is(readSecretInfo(receiveChanges(x, [zBefore, zValue]).doc, 'token')?.author, X, 'X’s value wins while both are present')
  const watch = watchConflicts()
  Automerge.applyChanges(Automerge.clone(x), [zBefore, deletion, zValue], watch.options)
  assert.ok(watch.conflicted())
})

test('a sync message carrying the deletion and the concurrent value', () => {
  const { x, z } = story()
  let doc = x
  let mine = newSyncState()
  let theirs = newSyncState()
  let other = z
  for (let round = 0; round < 10; round++) {
    const out = generateSync(other, theirs)
    theirs = out.state
    if (out.payload !== null) {
      const got = receiveSync(doc, mine, out.payload)
      if (!got.ok) throw new Error(JSON.stringify(got.error))
      doc = got.doc
      mine = got.state
    }
    const back = generateSync(doc, mine)
    mine = back.state
    if (back.payload !== null) {
      const got = receiveSync(other, theirs, back.payload)
      if (!got.ok) throw new Error(JSON.stringify(got.error))
      other = got.doc
      theirs = got.state
    }
    if (out.payload === null && back.payload === null) break
  }
  assert.equal(Automerge.getHeads(doc).sort(), Automerge.getHeads(other).sort())
  assertShowsZ(doc)
  assertShowsZ(other)
})

test('broadcasts that wait for a missing change and are released together', () => {
  const { x, deletion, zBefore, zValue } = story()
  const encoded = encodeBroadcast([deletion, zValue])
  assert.ok(encoded.ok)
  if (!encoded.ok) return
  const decoded = decodeBroadcast(encoded.payload)
  assert.ok(decoded.ok)
  if (!decoded.ok) return
  const waiting = receiveChanges(x, decoded.value)
  assert.is(waiting.missingDeps.length > 0, true, 'both wait for Z’s earlier change')
  assert.is(readSecretInfo(waiting.doc, 'token')?.author, X)
  const released = receiveChanges(waiting.doc, [zBefore])
  assert.equal(released.missingDeps, [])
  assertShowsZ(released.doc)
})

test('a store reopened with the deletion and the concurrent value in its log', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peer-view-repair-'))
  try {
    const { x, deletion, zBefore, zValue } = story()
    const first = await openStore(dir, { actor: ACTORS.x })
    const withX = receiveChanges(first.doc, Automerge.getAllChanges(x)).doc
    await first.store.persist(withX)
    await first.store.compact(withX)
    await first.store.persist(receiveChanges(withX, [zBefore, deletion, zValue]).doc)
    await first.store.close()
    const reopened = await openStore(dir, { actor: ACTORS.x })
    assertShowsZ(reopened.doc)
    await reopened.store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a rebuilt document shows what its operations say', () => {
  const { z } = story()
  const rebuilt = rebuildDocument(z, ACTORS.x)
  assertShowsZ(rebuilt)
})

test('a change waiting for a missing one stays queued through a repair and is released later', () => {
  const { x, deletion, zBefore, zValue } = story()
  let w = ok(setPeerLabels(newDocument('0d'.repeat(16)), 'node-7', { disk: 'ssd' }, Y, 100)).doc
  const wFirst = Automerge.getLastLocalChange(w)!
  w = ok(setPeerLabels(w, 'node-6', { disk: 'hdd' }, Y, 200)).doc
  const wSecond = Automerge.getLastLocalChange(w)!
  const waiting = receiveChanges(x, [wSecond, deletion, zValue])
  assert.is(waiting.missingDeps.length, 2)
  const repaired = receiveChanges(waiting.doc, [zBefore])
  assertShowsZ(repaired.doc)
  assert.is(repaired.missingDeps.length, 1, 'W’s second change still waits for its first')
  const released = receiveChanges(repaired.doc, [wFirst])
  assert.equal(released.missingDeps, [])
  assert.equal(desiredState(released.doc).peers.map((peer) => peer.peer), ['node-6', 'node-7', 'node-8', 'node-9'])
  assertShowsZ(released.doc)
})

test('a repaired document keeps its actor and takes further edits that others receive', () => {
  const { x, deletion, zBefore, zValue } = story()
  const repaired = receiveChanges(x, [deletion, zValue, zBefore]).doc
  assert.is(Automerge.getActorId(repaired), ACTORS.x)
  const edited = ok(setSecret(repaired, 'token', 'from-x-again', KEY, X, 9_000)).doc
  const elsewhere = receiveChanges(newDocument(ACTORS.y), Automerge.getAllChanges(edited)).doc
  assert.is(readSecretInfo(elsewhere, 'token')?.author, X)
  assert.is(readSecretInfo(elsewhere, 'token')?.version, 2)
})

test.run()
