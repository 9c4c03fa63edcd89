import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import { clusterKeyId, desiredState, readSecret, removeSecret, secretHolds, setSecret, type DesiredStateDocument } from '../../crdt/index.js'
import { ok, replica } from './support.mjs'

const Secrets = suite('secrets')
const key = Buffer.alloc(32, 9)
const otherKey = Buffer.alloc(32, 8)

Secrets('open with the cluster key, as bytes', () => {
  const { peer, doc } = replica('peer-a')
  const result = ok(setSecret(doc, 'db.password', 'hunter2', key, peer, 1_000))
  assert.is(result.version, 1)
  const opened = readSecret(result.doc, 'db.password', key)
  assert.ok(opened.ok && opened.value.toString('utf8') === 'hunter2')
  const binary = ok(setSecret(result.doc, 'blob', Uint8Array.from([0, 255, 1]), key, peer, 2_000)).doc
  const back = readSecret(binary, 'blob', key)
  assert.equal(back.ok && [...back.value], [0, 255, 1])
})

Secrets('are stored sealed: the value appears nowhere in the saved document', () => {
  const { peer, doc } = replica('peer-a')
  const sealed = ok(setSecret(doc, 'token', 'very-secret-value', key, peer, 1_000)).doc
  assert.not.ok(Buffer.from(Automerge.save(sealed)).includes('very-secret-value'))
  const stored = (sealed as DesiredStateDocument).secrets.token!
  assert.is(stored.iv.length, 12)
  assert.is(stored.tag.length, 16)
})

Secrets('show name, version, size and author without the key', () => {
  const { peer, doc } = replica('peer-a')
  const one = ok(setSecret(doc, 'token', 'abc', key, peer, 1_000)).doc
  const two = ok(setSecret(one, 'token', 'abcdef', key, peer, 2_000))
  assert.is(two.version, 2)
  assert.equal(desiredState(two.doc).secrets, [{ name: 'token', version: 2, sizeBytes: 6, author: 'peer-a', timeMs: 2_000 }])
})

Secrets('a different key is reported as the wrong key', () => {
  const { peer, doc } = replica('peer-a')
  const sealed = ok(setSecret(doc, 'token', 'abc', key, peer, 1_000)).doc
  assert.equal(readSecret(sealed, 'token', otherKey), { ok: false, error: { kind: 'wrong-key', secret: 'token' } })
  assert.is.not(clusterKeyId(key), clusterKeyId(otherKey))
})

Secrets('a sealed value moved to another name does not open', () => {
  const { peer, doc } = replica('peer-a')
  const sealed = ok(setSecret(doc, 'a', 'value-of-a', key, peer, 1_000)).doc
  const moved = Automerge.change(sealed, { time: 0 }, (root) => {
    const original = root.secrets.a!
    root.secrets.b = { ciphertext: original.ciphertext, iv: original.iv, tag: original.tag, keyId: original.keyId, version: 1, author: original.author, timeMs: 0 }
  })
  assert.equal(readSecret(moved, 'b', key), { ok: false, error: { kind: 'corrupt-secret', secret: 'b' } })
})

Secrets('remove deletes the secret', () => {
  const { peer, doc } = replica('peer-a')
  const sealed = ok(setSecret(doc, 'token', 'abc', key, peer, 1_000)).doc
  const removed = ok(removeSecret(sealed, 'token', peer, 2_000)).doc
  assert.equal(desiredState(removed).secrets, [])
  assert.equal(readSecret(removed, 'token', key), { ok: false, error: { kind: 'unknown-secret', secret: 'token' } })
})

const errors: Array<[string, () => { ok: boolean; error?: unknown }, unknown]> = [
  ['a bad name', () => setSecret(replica('p').doc, '../etc', 'x', key, replica('p').peer, 1), { kind: 'invalid-secret-name', secret: '../etc' }],
  ['a short key', () => setSecret(replica('p').doc, 'x', 'x', Buffer.alloc(16), replica('p').peer, 1), { kind: 'invalid-key', lengthBytes: 16 }],
  ['a value over the limit', () => setSecret(replica('p').doc, 'x', Buffer.alloc(40_000), key, replica('p').peer, 1), { kind: 'secret-too-large', secret: 'x', sizeBytes: 40_000, limitBytes: 32_768 }],
  ['removing an unknown secret', () => removeSecret(replica('p').doc, 'ghost', replica('p').peer, 1), { kind: 'unknown-secret', secret: 'ghost' }],
  ['reading an unknown secret', () => readSecret(replica('p').doc, 'ghost', key), { kind: 'unknown-secret', secret: 'ghost' }],
  ['reading with a short key', () => readSecret(replica('p').doc, 'ghost', Buffer.alloc(3)), { kind: 'invalid-key', lengthBytes: 3 }],
]
for (const [name, run, expected] of errors) {
  Secrets(`refuses ${name}`, () => {
    const result = run()
    assert.is(result.ok, false)
    assert.equal(result.error, expected)
  })
}

Secrets('secretHolds: only the exact bytes under the right key', () => {
  const { peer, doc } = replica('peer-a')
  const sealed = ok(setSecret(doc, 'token', 'abc', key, peer, 1_000)).doc
  assert.is(secretHolds(sealed, 'token', Buffer.from('abc'), key), true)
  assert.is(secretHolds(sealed, 'token', Buffer.from('abcd'), key), false)
  assert.is(secretHolds(sealed, 'token', Buffer.from('ab'), key), false)
  assert.is(secretHolds(sealed, 'token', Buffer.from('abc'), otherKey), false, 'a value that does not open is not held')
  assert.is(secretHolds(sealed, 'other', Buffer.from('abc'), key), false)
})

Secrets.run()
