// Safety of the whole scheme, stated plainly: however edits interleave and however broadcasts are
// reordered, dropped or duplicated, once anti-entropy has run every replica holds the same changes
// and shows the same desired state.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { canonicalJson } from '../../core/hash.js'
import { peerId, type PeerId } from '../../core/placement/ids.js'
import {
  apply, cordon, decodeBroadcast, desiredState, drain, encodeBroadcast, generateSync, heads, newDocument, newSyncState,
  peerActor, receiveChanges, receiveSync, remove, removeSecret, revert, scale, setPeerLabels, setSecret, uncordon,
  type DesiredDoc, type EditResult,
} from '../../crdt/index.js'
import { rematerialised } from '../../crdt/view-repair.js'
import { nonce, spec } from './support.mjs'

const KEY = Buffer.alloc(32, 5)

type Operation =
  | { kind: 'apply'; replica: number; name: string; image: string; replicas: number; env: string }
  | { kind: 'scale'; replica: number; name: string; replicas: number }
  | { kind: 'remove'; replica: number; name: string }
  | { kind: 'revert'; replica: number; name: string; version: number }
  | { kind: 'drain' | 'cordon' | 'uncordon'; replica: number; peer: string }
  | { kind: 'label'; replica: number; peer: string; label: string; value: string | null }
  | { kind: 'secret'; replica: number; name: string; value: string }
  | { kind: 'unsecret'; replica: number; name: string }
  | { kind: 'deliver' | 'duplicate' | 'drop'; index: number }

const replicaIndex = fc.nat(6)
const serviceName = fc.constantFrom('web', 'api', 'db')
const peerName = fc.constantFrom('node-1', 'node-2')
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('apply' as const), replica: replicaIndex, name: serviceName, image: fc.constantFrom('v1', 'v2', 'v3'), replicas: fc.integer({ min: 0, max: 5 }), env: fc.constantFrom('A', 'B', 'C') }),
  fc.record({ kind: fc.constant('scale' as const), replica: replicaIndex, name: serviceName, replicas: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('remove' as const), replica: replicaIndex, name: serviceName }),
  fc.record({ kind: fc.constant('revert' as const), replica: replicaIndex, name: serviceName, version: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constantFrom('drain' as const, 'cordon' as const, 'uncordon' as const), replica: replicaIndex, peer: peerName }),
  fc.record({ kind: fc.constant('label' as const), replica: replicaIndex, peer: peerName, label: fc.constantFrom('zone', 'disk'), value: fc.option(fc.constantFrom('a', 'b'), { nil: null }) }),
  fc.record({ kind: fc.constant('secret' as const), replica: replicaIndex, name: fc.constantFrom('s1', 's2'), value: fc.string({ maxLength: 6 }) }),
  fc.record({ kind: fc.constant('unsecret' as const), replica: replicaIndex, name: fc.constantFrom('s1', 's2') }),
  fc.record({ kind: fc.constantFrom('deliver' as const, 'duplicate' as const, 'drop' as const), index: fc.nat() }),
)

interface Message {
  readonly to: number
  readonly payload: Uint8Array
}

function edit(doc: DesiredDoc, op: Exclude<Operation, { index: number }>, author: PeerId, nowMs: number): EditResult<object> {
  switch (op.kind) {
    case 'apply':
      return apply(doc, [spec({ name: op.name, image: `${op.name}:${op.image}`, replicas: op.replicas, env: { [op.env]: String(nowMs) } })], author, nowMs)
    case 'scale':
      return scale(doc, op.name, op.replicas, author, nowMs)
    case 'remove':
      return remove(doc, [op.name], author, nowMs)
    case 'revert':
      return revert(doc, op.name, op.version, author, nowMs)
    case 'drain':
      return drain(doc, op.peer, author, nowMs)
    case 'cordon':
      return cordon(doc, op.peer, author, nowMs)
    case 'uncordon':
      return uncordon(doc, op.peer, author, nowMs)
    case 'label':
      return setPeerLabels(doc, op.peer, { [op.label]: op.value }, author, nowMs)
    case 'secret':
      return setSecret(doc, op.name, op.value, KEY, author, nowMs)
    case 'unsecret':
      return removeSecret(doc, op.name, author, nowMs)
  }
}

/** Anti-entropy between two replicas until neither has anything to send. */
function syncPair(docs: DesiredDoc[], i: number, j: number): void {
  let stateI = newSyncState()
  let stateJ = newSyncState()
  for (let round = 0; round < 20; round++) {
    const fromI = generateSync(docs[i]!, stateI)
    stateI = fromI.state
    if (fromI.payload !== null) {
      const got = receiveSync(docs[j]!, stateJ, fromI.payload)
      if (!got.ok) throw new Error(`sync refused: ${JSON.stringify(got.error)}`)
      docs[j] = got.doc
      stateJ = got.state
    }
    const fromJ = generateSync(docs[j]!, stateJ)
    stateJ = fromJ.state
    if (fromJ.payload !== null) {
      const got = receiveSync(docs[i]!, stateI, fromJ.payload)
      if (!got.ok) throw new Error(`sync refused: ${JSON.stringify(got.error)}`)
      docs[i] = got.doc
      stateI = got.state
    }
    if (fromI.payload === null && fromJ.payload === null) return
  }
  throw new Error('sync did not settle in 20 rounds')
}

test('replicas converge to identical heads and desired state under reordering, loss and duplication', () => {
  fc.assert(fc.property(
    fc.integer({ min: 3, max: 7 }),
    fc.array(operation, { minLength: 1, maxLength: 60 }),
    fc.array(fc.nat(), { minLength: 0, maxLength: 12 }),
    (count, operations, syncOrder) => {
      const peers = Array.from({ length: count }, (_, i) => peerId(`peer-${i}`))
      const docs = peers.map((peer, i) => newDocument(peerActor(peer, nonce(i))))
      const inFlight: Message[] = []
      operations.forEach((op, step) => {
        if ('index' in op) {
          if (inFlight.length === 0) return
          const at = op.index % inFlight.length
          const message = inFlight[at]!
          if (op.kind !== 'duplicate') inFlight.splice(at, 1)
          if (op.kind === 'drop') return
          const decoded = decodeBroadcast(message.payload)
          assert.ok(decoded.ok)
          if (decoded.ok) {
            const received = receiveChanges(docs[message.to]!, decoded.value)
            assert.equal(received.rejected, [])
            docs[message.to] = received.doc
          }
          return
        }
        const from = op.replica % count
        const result = edit(docs[from]!, op, peers[from]!, (step + 1) * 1_000)
        if (!result.ok || result.change === null) return
        docs[from] = result.doc
        const encoded = encodeBroadcast([result.change])
        assert.ok(encoded.ok)
        if (!encoded.ok) return
        for (let to = 0; to < count; to++) if (to !== from) inFlight.push({ to, payload: encoded.payload })
      })
      // Some pairwise anti-entropy in a random order first, then a star through replica 0 and back,
      // which is enough for everyone to hold everything.
      for (const pick of syncOrder) {
        const [i, j] = [pick % count, (pick >> 3) % count]
        if (i !== j) syncPair(docs, i, j)
      }
      for (let i = 1; i < count; i++) syncPair(docs, 0, i)
      for (let i = 1; i < count; i++) syncPair(docs, 0, i)

      const expectedHeads = heads(docs[0]!)
      const expectedState = canonicalJson(desiredState(docs[0]!))
      // What every replica shows is also what its operations say, not only what the others show.
      assert.is(canonicalJson(desiredState(rematerialised(docs[0]!))), expectedState, 'replica 0 shows its operations')
      for (let i = 1; i < count; i++) {
        assert.equal(heads(docs[i]!), expectedHeads, `replica ${i} heads`)
        assert.is(canonicalJson(desiredState(docs[i]!)), expectedState, `replica ${i} desired state`)
      }
    },
  ), { numRuns: 50 })
})

test.run()
