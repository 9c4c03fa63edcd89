// Services that list secrets, as the desired state materialises them: each name resolved to the
// secret's current version, so a new version of a secret changes the specHash of exactly the services
// that use it (and every peer holding the same document computes the same hash); a name with no
// secret resolves to version 0, which leaves the service valid but pending, with the reason.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import { plan, REJECTION_TEXT, type PeerView } from '../../core/index.js'
import { peerId } from '../../core/placement/ids.js'
import {
  apply, desiredState, history, lastVersionOtherThan, removeSecret, scale, serviceState, setSecret, type DesiredDoc,
} from '../../crdt/index.js'
import { ok, replica, spec } from './support.mjs'

const key = Buffer.alloc(32, 7)
const reader = spec({ name: 'reader', command: ['cat'], secrets: ['db-password', 'api-token'] })
const plain = spec({ name: 'plain', command: ['true'] })

function withSecrets(): { peer: ReturnType<typeof replica>['peer']; doc: DesiredDoc } {
  const { peer, doc } = replica('peer-a')
  let next = ok(setSecret(doc, 'db-password', 'v1', key, peer, 1_000)).doc
  next = ok(setSecret(next, 'api-token', 't1', key, peer, 1_000)).doc
  next = ok(apply(next, [reader, plain], peer, 2_000)).doc
  return { peer, doc: next }
}

const hashOf = (doc: DesiredDoc, name: string): string => serviceState(doc, name)!.specHash

const Versions = suite('secret versions in the desired state')

Versions('the materialised spec carries each secret\'s current version; the document stores names only', () => {
  const { doc } = withSecrets()
  assert.equal(serviceState(doc, 'reader')!.spec.secrets, [{ name: 'api-token', version: 1 }, { name: 'db-password', version: 1 }])
  const stored = String(Automerge.toJS(doc).services['reader']!.spec['secrets'])
  assert.is(stored, '[{"name":"api-token","version":0},{"name":"db-password","version":0}]')
})

Versions('a new version of a secret changes the hash of the services using it, and of no other', () => {
  const { peer, doc } = withSecrets()
  const before = { reader: hashOf(doc, 'reader'), plain: hashOf(doc, 'plain') }
  const updated = ok(setSecret(doc, 'db-password', 'v2', key, peer, 3_000)).doc
  assert.is.not(hashOf(updated, 'reader'), before.reader)
  assert.is(hashOf(updated, 'plain'), before.plain)
  assert.equal(serviceState(updated, 'reader')!.spec.secrets, [{ name: 'api-token', version: 1 }, { name: 'db-password', version: 2 }])
  // A secret nobody lists changes nothing.
  const unrelated = ok(setSecret(updated, 'unused', 'x', key, peer, 4_000)).doc
  assert.is(hashOf(unrelated, 'reader'), hashOf(updated, 'reader'))
  assert.is(desiredState(unrelated).services.find((s) => s.spec.name === 'reader'), desiredState(updated).services.find((s) => s.spec.name === 'reader'),
    'unchanged versions give the very same materialised service')
})

Versions('two peers holding the same document compute the same hash', () => {
  const { peer, doc } = withSecrets()
  const updated = ok(setSecret(doc, 'db-password', 'v2', key, peer, 3_000)).doc
  const other = Automerge.load<typeof updated>(Automerge.save(updated))
  assert.is(hashOf(other, 'reader'), hashOf(updated, 'reader'))
})

Versions('applying the materialised spec (versions and all) changes nothing: the stored spec is by name', () => {
  const { peer, doc } = withSecrets()
  const materialised = serviceState(doc, 'reader')!.spec
  const again = ok(apply(doc, [materialised], peer, 3_000))
  assert.equal(again.services.map((o) => o.outcome), ['unchanged'])
  assert.is(again.change, null)
})

Versions('a spec that stops listing secrets loses the field, in the document too', () => {
  const { peer, doc } = withSecrets()
  const { secrets: _listed, ...without } = reader
  const applied = ok(apply(doc, [without], peer, 3_000))
  assert.equal(applied.services.map((o) => [o.outcome, o.changed]), [['updated', ['secrets']]])
  assert.is('secrets' in Automerge.toJS(applied.doc).services['reader']!.spec, false)
  assert.is(serviceState(applied.doc, 'reader')!.spec.secrets, undefined)
  assert.equal(desiredState(applied.doc).invalid, [])
})

Versions('scaling keeps the secrets and their versions', () => {
  const { peer, doc } = withSecrets()
  const scaled = ok(scale(doc, 'reader', 3, peer, 3_000)).doc
  assert.is(hashOf(scaled, 'reader'), hashOf(doc, 'reader'))
})

const Missing = suite('a secret that does not exist')
const peers: PeerView[] = ['a', 'b', 'c'].map((id) => ({
  id: peerId(id), state: 'alive', labels: {}, drivers: ['process'],
  capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} }, allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, tasks: [],
}))

Missing('the service is valid but pending everywhere, the reason naming the secret', () => {
  const { peer, doc } = replica('peer-a')
  const applied = ok(apply(ok(setSecret(doc, 'api-token', 't1', key, peer, 1_000)).doc, [reader], peer, 2_000)).doc
  const state = desiredState(applied)
  assert.equal(state.invalid, [])
  const service = state.services.find((s) => s.spec.name === 'reader')!
  assert.equal(service.spec.secrets, [{ name: 'api-token', version: 1 }, { name: 'db-password', version: 0 }])
  const result = plan({ services: state.services.map((s) => s.spec), peers, now: 0 })
  assert.equal(result.placements, [])
  assert.equal(result.pending.map((p) => p.slot), ['reader/0'])
  assert.equal(result.pending[0]!.rejections, [{ reason: 'secret', detail: 'db-password', peers: 3 }])
  assert.match(REJECTION_TEXT.secret, 'secret does not exist')
})

Missing('creating the secret gives the service a new hash, which places', () => {
  const { peer, doc } = replica('peer-a')
  const waiting = ok(apply(ok(setSecret(doc, 'api-token', 't1', key, peer, 1_000)).doc, [reader], peer, 2_000)).doc
  const created = ok(setSecret(waiting, 'db-password', 'v1', key, peer, 3_000)).doc
  assert.is.not(hashOf(created, 'reader'), hashOf(waiting, 'reader'))
  const result = plan({ services: desiredState(created).services.map((s) => s.spec), peers, now: 0 })
  assert.equal(result.pending, [])
  assert.is(result.placements.length, 1)
})

Missing('removing a secret a service lists takes its version back to 0 (the agent refuses this while the service lives)', () => {
  const { peer, doc } = withSecrets()
  const removed = ok(removeSecret(doc, 'api-token', peer, 3_000)).doc
  assert.equal(serviceState(removed, 'reader')!.spec.secrets![0], { name: 'api-token', version: 0 })
})

const Rollback = suite('rollback target with secrets')

Rollback('the version to go back to is judged with secrets at their current versions', () => {
  const { peer, doc } = withSecrets()
  // Version 1 of reader, then version 2 with another command; then the secret changes.
  const v2 = ok(apply(doc, [{ ...reader, command: ['cat', '-n'] }], peer, 3_000)).doc
  const updated = ok(setSecret(v2, 'db-password', 'v2', key, peer, 4_000)).doc
  const failing = hashOf(updated, 'reader')
  // The stored hashes are of specs by name: none equals the running hash...
  assert.ok(history(updated, 'reader').ok)
  // ...yet the current spec (version 2) is recognised as the failing one, and version 1 is chosen.
  assert.is(lastVersionOtherThan(updated, 'reader', failing)?.version, 1)
  // A service without secrets compares as before.
  assert.is(lastVersionOtherThan(updated, 'plain', hashOf(updated, 'plain')), undefined)
})

Versions.run()
Missing.run()
Rollback.run()
