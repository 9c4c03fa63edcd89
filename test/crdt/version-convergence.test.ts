// Safety of version history under concurrency, stated plainly: however edits on 2–3 replicas
// interleave and whatever order their changes are merged in, every replica ends with the same history,
// every version in it has an id of its own, and the newest version holds the spec the service has.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { canonicalJson } from '../../core/hash.js'
import { peerId, type PeerId } from '../../core/placement/ids.js'
import { apply, history, newDocument, peerActor, remove, revert, scale, serviceState, type DesiredDoc, type DesiredStateDocument, type EditResult } from '../../crdt/index.js'
import { nonce, spec } from './support.mjs'

type Operation =
  | { kind: 'apply'; replica: number; name: string; image: string; env: string }
  | { kind: 'scale'; replica: number; name: string; replicas: number }
  | { kind: 'remove'; replica: number; name: string }
  | { kind: 'revert'; replica: number; name: string; pick: number; byNumber: boolean }
  | { kind: 'merge'; replica: number; from: number }

const replica = fc.nat(2)
// Mostly one service, so that edits on different replicas are concurrent edits of it.
const serviceName = fc.constantFrom('web', 'web', 'web', 'api')
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('apply' as const), replica, name: serviceName, image: fc.constantFrom('v1', 'v2'), env: fc.constantFrom('A', 'B', 'C') }),
  fc.record({ kind: fc.constant('scale' as const), replica, name: serviceName, replicas: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('remove' as const), replica, name: serviceName }),
  fc.record({ kind: fc.constant('revert' as const), replica, name: serviceName, pick: fc.nat(), byNumber: fc.boolean() }),
  fc.record({ kind: fc.constant('merge' as const), replica, from: replica }),
)

function edit(doc: DesiredDoc, op: Exclude<Operation, { kind: 'merge' }>, author: PeerId, nowMs: number): EditResult<object> {
  switch (op.kind) {
    case 'apply':
      return apply(doc, [spec({ name: op.name, image: `${op.name}:${op.image}`, replicas: 1, env: { [op.env]: String(nowMs) } })], author, nowMs)
    case 'scale':
      return scale(doc, op.name, op.replicas, author, nowMs)
    case 'remove':
      return remove(doc, [op.name], author, nowMs)
    case 'revert': {
      const listed = history(doc, op.name)
      if (!listed.ok || listed.entries.length === 0) return { ok: false, error: { kind: 'unknown-service', service: op.name } }
      const target = listed.entries[op.pick % listed.entries.length]!
      // A bare number may be shared by concurrent versions; then revert refuses it, which is fine here.
      return revert(doc, op.name, op.byNumber ? target.version : target.id, author, nowMs)
    }
  }
}

/** The invariants one replica must hold on its own, at any time. */
function checkReplica(doc: DesiredDoc, label: string): void {
  const services = Object.keys((doc as DesiredStateDocument).services)
  for (const name of services) {
    const listed = history(doc, name)
    assert.ok(listed.ok, label)
    if (!listed.ok) return
    const ids = listed.entries.map((e) => e.id)
    assert.is(new Set(ids).size, ids.length, `${label}: ids of ${name} are unique: ${ids.join(' ')}`)
    const newest = listed.entries.at(-1)!
    const state = serviceState(doc, name)
    if (state === undefined) {
      assert.is(newest.specDigest, '', `${label}: ${name} is removed, and so is its newest version`)
    } else {
      // specDigest covers the whole spec (specHash leaves out what does not restart a task, as replicas).
      assert.is(newest.specDigest, state.specDigest, `${label}: the newest version of ${name} (${newest.id}) holds its spec`)
      assert.is(newest.version, state.version, `${label}: ${name} is at its newest version`)
    }
    for (const entry of listed.entries) if (entry.action === 'merge') assert.ok(entry.parents.length >= 2, `${label}: merge ${entry.id} joins versions`)
  }
}

test('every replica ends with the same history, unique version ids and the newest version holding the current spec', () => {
  fc.assert(fc.property(
    fc.integer({ min: 2, max: 3 }),
    fc.array(operation, { minLength: 1, maxLength: 30 }),
    fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
    (count, operations, mergeOrderSeeds) => {
      const peers = Array.from({ length: count }, (_, i) => peerId(`peer-${i}`))
      // Every replica starts from the same deployed `web`; `api` is created concurrently, or not at all.
      const deployed = apply(newDocument(peerActor(peers[0]!, nonce(0))), [spec({ name: 'web', image: 'web:v1', replicas: 1 })], peers[0]!, 500)
      if (!deployed.ok) throw new Error('deploy failed')
      const docs = peers.map((peer, i) => (i === 0 ? deployed.doc : Automerge.merge(newDocument(peerActor(peer, nonce(i))), Automerge.clone(deployed.doc))))
      operations.forEach((op, step) => {
        const at = op.replica % count
        if (op.kind === 'merge') {
          const from = op.from % count
          if (from !== at) docs[at] = Automerge.merge(docs[at]!, Automerge.clone(docs[from]!))
        } else {
          const result = edit(docs[at]!, op, peers[at]!, (step + 1) * 1_000)
          if (result.ok) docs[at] = result.doc
        }
        checkReplica(docs[at]!, `step ${step}, replica ${at}`)
      })
      // Each replica takes in the others in an order of its own.
      const snapshot = docs.map((doc) => Automerge.clone(doc))
      for (let i = 0; i < count; i++) {
        const others = snapshot.map((_, j) => j).filter((j) => j !== i)
        const seed = mergeOrderSeeds[i]!
        if (seed % 2 === 1) others.reverse()
        for (const j of others) docs[i] = Automerge.merge(docs[i]!, Automerge.clone(snapshot[j]!))
      }
      const expected = canonicalJson(history(docs[0]!))
      for (let i = 0; i < count; i++) {
        checkReplica(docs[i]!, `merged replica ${i}`)
        assert.is(canonicalJson(history(docs[i]!)), expected, `replica ${i} lists the same history as replica 0`)
      }
    },
  ), { numRuns: 150 })
})

test.run()
