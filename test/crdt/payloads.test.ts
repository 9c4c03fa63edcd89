import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { peerId } from '../../core/placement/ids.js'
import {
  apply, BROADCAST_LIMIT_BYTES, decodeBroadcast, desiredState, encodeBroadcast, generateSync, headsDigest, newDocument,
  newSyncState, payloadKind, receiveChanges, receiveSync, scale, type DesiredDoc, type SyncState,
} from '../../crdt/index.js'
import { ok, replica, spec } from './support.mjs'

const web = spec({ name: 'web', image: 'nginx:1' })

const Broadcast = suite('broadcast payloads')

Broadcast('round-trip changes, and a receiver applies them', () => {
  const { peer, doc } = replica('peer-a')
  const one = ok(apply(doc, [web], peer, 1_000))
  const two = ok(scale(one.doc, 'web', 3, peer, 2_000))
  const encoded = encodeBroadcast([one.change!, two.change!])
  assert.ok(encoded.ok)
  if (!encoded.ok) return
  assert.is(payloadKind(encoded.payload), 'changes')
  const decoded = decodeBroadcast(encoded.payload)
  assert.ok(decoded.ok)
  if (!decoded.ok) return
  const received = receiveChanges(replica('peer-b', 1).doc, decoded.value)
  assert.ok(received.headsChanged)
  assert.equal(received.missingDeps, [])
  assert.equal(received.rejected, [])
  assert.is(headsDigest(received.doc), headsDigest(two.doc))
})

Broadcast('over the size limit, encoding asks for the sync protocol instead', () => {
  const big = new Uint8Array(BROADCAST_LIMIT_BYTES)
  assert.equal(encodeBroadcast([big]), { ok: false, error: { kind: 'too-large', sizeBytes: BROADCAST_LIMIT_BYTES + 8, limitBytes: BROADCAST_LIMIT_BYTES } })
  const decoded = decodeBroadcast(new Uint8Array(BROADCAST_LIMIT_BYTES + 1))
  assert.equal(decoded.ok ? undefined : decoded.error.kind, 'too-large')
})

Broadcast('out-of-order delivery is held until the missing change arrives; duplicates do nothing', () => {
  const { peer, doc } = replica('peer-a')
  const one = ok(apply(doc, [web], peer, 1_000))
  const two = ok(scale(one.doc, 'web', 3, peer, 2_000))
  const early = receiveChanges(replica('peer-b', 1).doc, [two.change!])
  assert.is(early.headsChanged, false)
  assert.equal(early.missingDeps.length, 1)
  const late = receiveChanges(early.doc, [one.change!, one.change!, two.change!])
  assert.equal(late.missingDeps, [])
  assert.is(desiredState(late.doc).services[0]!.spec.replicas, 3)
})

Broadcast('a change reusing an actor sequence number is refused as a value; the rest still apply', () => {
  const peer = peerId('peer-a')
  const first = ok(apply(newDocument(peerActor('x')), [web], peer, 1_000))
  const clash = ok(apply(newDocument(peerActor('x')), [spec({ name: 'api', image: 'api' })], peer, 1_000))
  const other = ok(apply(newDocument(peerActor('y')), [spec({ name: 'db', image: 'db' })], peerId('peer-y'), 1_000))
  const received = receiveChanges(receiveChanges(replica('peer-b', 1).doc, [first.change!]).doc, [clash.change!, other.change!])
  assert.equal(received.rejected.map((r) => [r.index, r.error.kind]), [[0, 'rejected']])
  assert.equal(desiredState(received.doc).services.map((s) => s.spec.name), ['db', 'web'])
})

function peerActor(tag: string): string {
  return Buffer.from(tag.padEnd(16, '-')).toString('hex')
}

const malformed: Array<[string, number[], string]> = [
  ['empty bytes', [], 'truncated'],
  ['a future format', [2, 1, 0, 0], 'unknown-format'],
  ['a sync payload', [1, 2, 0, 0], 'wrong-kind'],
  ['no changes', [1, 1, 0, 0], 'malformed'],
  ['a length past the end', [1, 1, 0, 1, 0, 0, 0, 9, 1, 2], 'truncated'],
  ['garbage as a change', [1, 1, 0, 1, 0, 0, 0, 3, 1, 2, 3], 'bad-change'],
  ['bytes after the last change', [1, 1, 0, 1, 0, 0, 0, 1, 1, 9], 'bad-change'],
]
for (const [name, bytes, kind] of malformed) {
  Broadcast(`decoding ${name} is an error value: ${kind}`, () => {
    const decoded = decodeBroadcast(Uint8Array.from(bytes))
    assert.is(decoded.ok ? undefined : decoded.error.kind, kind)
  })
}

Broadcast('decoding never throws on random or mangled bytes', () => {
  const { peer, doc } = replica('peer-a')
  const encoded = encodeBroadcast([ok(apply(doc, [web], peer, 1_000)).change!])
  const valid = encoded.ok ? encoded.payload : new Uint8Array()
  fc.assert(fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => { const copy = Uint8Array.from(valid); copy[at] = byte; return copy }),
      fc.nat(valid.length).map((length) => valid.slice(0, length)),
    ),
    (bytes) => {
      const decoded = decodeBroadcast(bytes)
      if (decoded.ok) quietly(() => receiveChanges(replica('peer-b', 1).doc, decoded.value))
    },
  ), { numRuns: 400 })
})

/** Automerge's wasm logs some internal oddities of forged changes with console.log; keep test output clean. */
function quietly<T>(run: () => T): T {
  const log = console.log
  console.log = () => undefined
  try {
    return run()
  } finally {
    console.log = log
  }
}

Broadcast.run()

const Sync = suite('sync protocol')

/** Runs the protocol between two documents until both are quiet; returns them and the round trips. */
function syncPair(a: DesiredDoc, b: DesiredDoc): { a: DesiredDoc; b: DesiredDoc; roundTrips: number } {
  let stateA: SyncState = newSyncState()
  let stateB: SyncState = newSyncState()
  let roundTrips = 0
  for (;;) {
    const fromA = generateSync(a, stateA)
    stateA = fromA.state
    if (fromA.payload !== null) {
      const got = receiveSync(b, stateB, fromA.payload)
      if (!got.ok) throw new Error(JSON.stringify(got.error))
      ;({ doc: b, state: stateB } = got)
    }
    const fromB = generateSync(b, stateB)
    stateB = fromB.state
    if (fromB.payload !== null) {
      const got = receiveSync(a, stateA, fromB.payload)
      if (!got.ok) throw new Error(JSON.stringify(got.error))
      ;({ doc: a, state: stateA } = got)
    }
    if (fromA.payload === null && fromB.payload === null) return { a, b, roundTrips }
    roundTrips++
    if (roundTrips > 20) throw new Error('sync did not settle')
  }
}

Sync('brings two diverged replicas to the same heads and the same state', () => {
  const { peer: pa, doc: da } = replica('peer-a')
  const { peer: pb, doc: db } = replica('peer-b', 1)
  const a = ok(apply(da, [web], pa, 1_000)).doc
  const b = ok(apply(db, [spec({ name: 'api', image: 'api' })], pb, 1_000)).doc
  assert.is.not(headsDigest(a), headsDigest(b))
  const synced = syncPair(a, b)
  assert.is(headsDigest(synced.a), headsDigest(synced.b))
  assert.equal(desiredState(synced.a), desiredState(synced.b))
  assert.ok(synced.roundTrips <= 4)
})

Sync('payloads carry their envelope and are checked before Automerge sees them', () => {
  const { doc } = replica('peer-a')
  const first = generateSync(doc, newSyncState())
  assert.ok(first.payload !== null && payloadKind(first.payload) === 'sync')
  const garbage: Array<[Uint8Array, string]> = [
    [Uint8Array.from([1, 2, 0x42, 9, 9]), 'malformed'],
    [Uint8Array.from([1, 1, 0, 0]), 'wrong-kind'],
    [Uint8Array.from([7, 2]), 'unknown-format'],
    [Uint8Array.from([1]), 'truncated'],
  ]
  for (const [bytes, kind] of garbage) {
    const got = receiveSync(doc, newSyncState(), bytes)
    assert.is(got.ok ? undefined : got.error.kind, kind)
    assert.is(got.doc, doc)
  }
  const tooBig = receiveSync(doc, newSyncState(), new Uint8Array(100), 64)
  assert.is(tooBig.ok ? undefined : tooBig.error.kind, 'too-large')
})

Sync('receiving never throws on random bytes after a valid header', () => {
  const { doc } = replica('peer-a')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
    const payload = new Uint8Array(body.length + 2)
    payload.set([1, 2])
    payload.set(body, 2)
    receiveSync(doc, newSyncState(), payload)
  }), { numRuns: 300 })
  // The document is still usable afterwards.
  ok(apply(doc, [web], peerId('peer-a'), 1_000))
})

Sync('an actor that reused sequence numbers is refused as a value, and the document stays usable', () => {
  const peer = peerId('peer-a')
  const clashA = ok(apply(newDocument(peerActor('same')), [web], peer, 1_000)).doc
  const clashB = ok(apply(newDocument(peerActor('same')), [spec({ name: 'api', image: 'api' })], peer, 1_000)).doc
  let stateA = newSyncState()
  let stateB = newSyncState()
  let a: DesiredDoc = clashA
  let b: DesiredDoc = clashB
  let refused = false
  for (let i = 0; i < 6 && !refused; i++) {
    const fromA = generateSync(a, stateA)
    stateA = fromA.state
    if (fromA.payload !== null) {
      const got = receiveSync(b, stateB, fromA.payload)
      if (!got.ok) { refused = got.error.kind === 'rejected'; b = got.doc; break }
      ;({ doc: b, state: stateB } = got)
    }
    const fromB = generateSync(b, stateB)
    stateB = fromB.state
    if (fromB.payload !== null) {
      const got = receiveSync(a, stateA, fromB.payload)
      if (!got.ok) { refused = got.error.kind === 'rejected'; a = got.doc; break }
      ;({ doc: a, state: stateA } = got)
    }
  }
  assert.ok(refused)
  ok(scale(a, 'web', 2, peer, 2_000))
})

Sync.run()

const Heads = suite('heads digest')

Heads('is equal exactly when the heads are', () => {
  const { peer, doc } = replica('peer-a')
  const other = replica('peer-b', 1).doc
  assert.is(headsDigest(doc), headsDigest(other))
  assert.match(headsDigest(doc), /^[0-9a-f]{16}$/)
  const changed = ok(apply(doc, [web], peer, 1_000)).doc
  assert.is.not(headsDigest(changed), headsDigest(other))
  const [caughtUp] = Automerge.applyChanges(other, [Automerge.getLastLocalChange(changed)!])
  assert.is(headsDigest(caughtUp), headsDigest(changed))
})

Heads.run()
