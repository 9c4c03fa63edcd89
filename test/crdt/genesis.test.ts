import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import { peerId } from '../../core/placement/ids.js'
import { apply, desiredState, genesisDocumentBytes, genesisHeads, newDocument, newProcessNonce, peerActor } from '../../crdt/index.js'
import { nonce, ok, spec } from './support.mjs'

const Genesis = suite('genesis')

Genesis('is the same change on every peer, pinned so an Automerge upgrade that changes it is noticed', () => {
  assert.equal(genesisHeads(), ['b64f49d1dfebaf56eaaa9d2fa10ec9774c3420dd0db7641ec6ebd5d80213e7e1'])
  assert.equal(Automerge.getHeads(newDocument('aa'.repeat(16))), Automerge.getHeads(newDocument('bb'.repeat(16))))
  assert.ok(genesisDocumentBytes().length < 512)
})

Genesis('documents started on different peers merge without losing either side', () => {
  const a = peerId('peer-a')
  const b = peerId('peer-b')
  const onA = ok(apply(newDocument(peerActor(a, nonce(1))), [spec({ name: 'web', image: 'nginx' })], a, 1_000)).doc
  const onB = ok(apply(newDocument(peerActor(b, nonce(1))), [spec({ name: 'api', image: 'api' })], b, 1_000)).doc
  const merged = Automerge.merge(onA, onB)
  assert.equal(desiredState(merged).services.map((s) => s.spec.name), ['api', 'web'])
})

Genesis('is needed: documents from separate init() lose one side on merge', () => {
  let x = Automerge.change(Automerge.init<{ services: Record<string, number> }>({ actor: 'aa' }), (d) => { d.services = { web: 1 } })
  const y = Automerge.change(Automerge.init<{ services: Record<string, number> }>({ actor: 'bb' }), (d) => { d.services = { api: 1 } })
  x = Automerge.merge(x, y)
  assert.is(Object.keys(x.services).length, 1)
})

Genesis.run()

const Actors = suite('peer actors')

Actors('are the hash of the peer id followed by the process nonce', () => {
  const peer = peerId('12D3KooWExample')
  const one = peerActor(peer, nonce(1))
  const two = peerActor(peer, nonce(2))
  assert.match(one, /^[0-9a-f]{32}$/)
  assert.is(one.slice(0, 16), two.slice(0, 16))
  assert.is.not(one, two)
  assert.is(one, peerActor(peer, nonce(1)))
  assert.is.not(one.slice(0, 16), peerActor(peerId('other'), nonce(1)).slice(0, 16))
})

Actors('process nonces are 8 fresh bytes, and other lengths are refused', () => {
  assert.is(newProcessNonce().length, 8)
  assert.is.not(Buffer.from(newProcessNonce()).toString('hex'), Buffer.from(newProcessNonce()).toString('hex'))
  assert.throws(() => peerActor(peerId('p'), new Uint8Array(4)))
})

Actors('a restarted peer with a fresh nonce can never clash with changes it made before', () => {
  const peer = peerId('peer-a')
  const other = newDocument(peerActor(peerId('peer-b'), nonce(1)))
  // Before a crash: one change, already received by another peer.
  const before = ok(apply(newDocument(peerActor(peer, nonce(1))), [spec({ name: 'web', image: 'one' })], peer, 1_000))
  const [received] = Automerge.applyChanges(other, [before.change!])
  // After losing its disk the peer starts again from genesis; a new nonce gives a new actor.
  const after = ok(apply(newDocument(peerActor(peer, nonce(2))), [spec({ name: 'api', image: 'two' })], peer, 2_000))
  const [both] = Automerge.applyChanges(received, [after.change!])
  assert.equal(desiredState(both).services.map((s) => s.spec.name), ['api', 'web'])
})

Actors.run()
