import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import { canonicalJson } from '../../core/hash.js'
import { peerId } from '../../core/placement/ids.js'
import {
  apply, conflicts, cordon, desiredState, drain, history, newDocument, readPeerSettings, readSecret, remove, removeSecret, scale,
  serviceState, setPeerLabels, setSecret, type DesiredDoc,
} from '../../crdt/index.js'
import { ok, spec } from './support.mjs'
import { A, ACTOR_A, ACTOR_B, B, forked, web } from './forked-replicas.js'

const Concurrent = suite('concurrent edits')


/** Both merge orders, checked to agree exactly; returns one. */
function merged(a: DesiredDoc, b: DesiredDoc): DesiredDoc {
  const ab = Automerge.merge(Automerge.clone(a), Automerge.clone(b))
  const ba = Automerge.merge(Automerge.clone(b), Automerge.clone(a))
  assert.equal(Automerge.getHeads(ab).sort(), Automerge.getHeads(ba).sort())
  assert.is(canonicalJson(desiredState(ab)), canonicalJson(desiredState(ba)))
  return ab
}

Concurrent('edits to different fields of one service both survive', () => {
  let { a, b } = forked()
  a = ok(apply(a, [{ ...web, image: 'nginx:2' }], A, 2_000)).doc
  b = ok(scale(b, 'web', 9, B, 2_000)).doc
  const state = serviceState(merged(a, b), 'web')!
  assert.is(state.spec.image, 'nginx:2')
  assert.is(state.spec.replicas, 9)
})

Concurrent('edits to different env keys both survive', () => {
  let { a, b } = forked()
  a = ok(apply(a, [{ ...web, env: { LOG: 'info', FROM_A: '1' } }], A, 2_000)).doc
  b = ok(apply(b, [{ ...web, env: { LOG: 'info', FROM_B: '1' } }], B, 2_000)).doc
  assert.equal(serviceState(merged(a, b), 'web')!.spec.env, { FROM_A: '1', FROM_B: '1', LOG: 'info' })
})

Concurrent('edits to one field: every replica shows the same value, and conflicts() shows both', () => {
  let { a, b } = forked()
  a = ok(apply(a, [{ ...web, image: 'nginx:a' }], A, 2_000)).doc
  b = ok(apply(b, [{ ...web, image: 'nginx:b' }], B, 2_000)).doc
  const doc = merged(a, b)
  const image = serviceState(doc, 'web')!.spec.image
  assert.ok(image === 'nginx:a' || image === 'nginx:b')
  assert.equal(conflicts(doc), [{
    path: 'services.web.spec.image', keys: ['services', 'web', 'spec', 'image'], winner: image, values: ['nginx:a', 'nginx:b'],
  }])
})

Concurrent('the rule: the write made after more operations wins; equal counts go to the larger actor id', () => {
  // Equal counts: both wrote right after the same state, so the larger actor (B) wins.
  let { a, b } = forked()
  a = ok(apply(a, [{ ...web, image: 'nginx:a' }], A, 2_000)).doc
  b = ok(apply(b, [{ ...web, image: 'nginx:b' }], B, 2_000)).doc
  assert.is(serviceState(merged(a, b), 'web')!.spec.image, 'nginx:b')
  // A did more first (its counter is higher), so A wins although its actor id is smaller. Wall-clock
  // time plays no part: A's write is even stamped earlier.
  ;({ a, b } = forked())
  a = ok(scale(a, 'web', 3, A, 1_500)).doc
  a = ok(apply(a, [{ ...web, replicas: 3, image: 'nginx:a' }], A, 1_600)).doc
  b = ok(apply(b, [{ ...web, image: 'nginx:b' }], B, 9_000)).doc
  assert.is(serviceState(merged(a, b), 'web')!.spec.image, 'nginx:a')
})

Concurrent('both versions appear in history with ids of their own, then their merge, and the next edit numbers past it', () => {
  let { a, b } = forked()
  a = ok(apply(a, [{ ...web, image: 'nginx:a' }], A, 2_000)).doc
  b = ok(apply(b, [{ ...web, image: 'nginx:b' }], B, 2_000)).doc
  const doc = merged(a, b)
  const entries = history(doc, 'web')
  assert.equal(entries.ok && entries.entries.map((e) => [e.version, e.author]), [[1, 'peer-a'], [2, 'peer-a'], [2, 'peer-b'], [3, '']])
  const ids = entries.ok ? entries.entries.map((e) => e.id) : []
  assert.is(new Set(ids).size, 4, ids.join(' '))
  assert.equal(entries.ok && entries.entries[3]!.parents, ids.slice(1, 3))
  const next = ok(scale(doc, 'web', 4, A, 3_000))
  assert.is(next.outcome.version, 4)
})

Concurrent('remove and a concurrent scale: the service stays removed', () => {
  let { a, b } = forked()
  a = ok(remove(a, ['web'], A, 2_000)).doc
  b = ok(scale(b, 'web', 9, B, 2_000)).doc
  const doc = merged(a, b)
  assert.is(serviceState(doc, 'web'), undefined)
  const entries = history(doc, 'web')
  assert.equal(entries.ok && entries.entries.map((e) => e.action), ['create', 'remove', 'scale', 'merge'])
  // The merge left the service removed: it has no spec.
  assert.is(entries.ok && entries.entries[3]!.specHash, '')
})

Concurrent('two peers creating one service: one whole spec wins, never a mix', () => {
  const base = newDocument('01'.repeat(16))
  let a = Automerge.clone(base, { actor: ACTOR_A })
  let b = Automerge.clone(base, { actor: ACTOR_B })
  const fromA = spec({ name: 'web', image: 'a:1', replicas: 1, env: { ONLY_A: '1' } })
  const fromB = spec({ name: 'web', image: 'b:1', replicas: 5, labels: { only: 'b' } })
  a = ok(apply(a, [fromA], A, 2_000)).doc
  b = ok(apply(b, [fromB], B, 2_000)).doc
  const shown = canonicalJson(serviceState(merged(a, b), 'web')!.spec)
  assert.ok(shown === canonicalJson(fromA) || shown === canonicalJson(fromB))
})

Concurrent('edits that are each valid can merge into an invalid spec, which is reported, not scheduled', () => {
  let { a, b } = forked()
  // A turns web into a process service (clearing its image); B, concurrently, scales and then changes
  // the image, so B's image write carries the higher counter and wins over A's empty image.
  a = ok(apply(a, [spec({ name: 'web', command: 'serve', replicas: 2, env: { LOG: 'info' } })], A, 2_000)).doc
  b = ok(scale(b, 'web', 3, B, 2_000)).doc
  b = ok(apply(b, [{ ...web, replicas: 3, image: 'nginx:2' }], B, 2_100)).doc
  const state = desiredState(merged(a, b))
  assert.equal(state.services, [])
  assert.equal(state.invalid.map((entry) => [entry.service, entry.errors.map((e) => e.path)]), [['web', ['services.web.image']]])
})

Concurrent('drain on one peer and cordon on another, for a peer never configured, both take effect', () => {
  let { a, b } = forked()
  a = ok(drain(a, 'node-9', A, 2_000)).doc
  b = ok(cordon(b, 'node-9', B, 2_000)).doc
  b = ok(setPeerLabels(b, 'node-9', { zone: 'eu' }, B, 2_000)).doc
  const settings = readPeerSettings(merged(a, b), peerId('node-9'))
  assert.is(settings.drain, true)
  assert.is(settings.cordon, true)
  assert.equal(settings.labels, { zone: 'eu' })
})

Concurrent('two peers setting one secret: one whole value wins and still opens', () => {
  const key = Buffer.alloc(32, 3)
  let { a, b } = forked()
  a = ok(setSecret(a, 'token', 'from-a', key, A, 2_000)).doc
  b = ok(setSecret(b, 'token', 'from-b-longer', key, B, 2_000)).doc
  const opened = readSecret(merged(a, b), 'token', key)
  assert.ok(opened.ok)
  assert.ok(opened.ok && ['from-a', 'from-b-longer'].includes(opened.value.toString()))
})

Concurrent('a label removed on one peer and set on another: the set wins', () => {
  let { a, b } = forked()
  a = ok(setPeerLabels(a, 'node-9', { zone: 'eu' }, A, 1_500)).doc
  b = Automerge.merge(b, Automerge.clone(a))
  a = ok(setPeerLabels(a, 'node-9', { zone: null }, A, 2_000)).doc
  b = ok(setPeerLabels(b, 'node-9', { zone: 'us' }, B, 2_000)).doc
  assert.equal(readPeerSettings(merged(a, b), peerId('node-9')).labels, { zone: 'us' })
})

Concurrent('a secret removed on one peer and set on another: the set wins', () => {
  const key = Buffer.alloc(32, 3)
  let { a, b } = forked()
  a = ok(setSecret(a, 'token', 'first', key, A, 1_500)).doc
  b = Automerge.merge(b, Automerge.clone(a))
  a = ok(removeSecret(a, 'token', A, 2_000)).doc
  b = ok(setSecret(b, 'token', 'second', key, B, 2_000)).doc
  const opened = readSecret(merged(a, b), 'token', key)
  assert.ok(opened.ok && opened.value.toString() === 'second')
})

Concurrent.run()
