// The bucket summary behind anti-entropy (bucket-digest.ts) and the exchange built on it
// (anti-entropy.ts): tables keep their summaries current as records change, any difference in an
// entry shows in its bucket, two peers that agree exchange one fixed-size message, and one exchange
// between peers that differ leaves both holding the newer of every entry.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { AntiEntropy, type AntiEntropyDeps } from '../../../core/protocol/anti-entropy.js'
import {
  advertEntryHash, bucketOf, BucketSummary, DIGEST_BUCKETS, differingBuckets, encodeSummary, memberEntryHash, SUMMARY_LENGTH,
} from '../../../core/protocol/bucket-digest.js'
import {
  ClusterState, decodeMessage, defaultConfig, encodeMessage, MemberTable, seededRandom, supersedes,
  type Advert, type MemberRecord, type MemberStatus, type Message, type PeerId,
} from '../../../core/index.js'
import { DEFAULT_CAPACITY, p } from './harness.js'

/** Forty peers over 64 buckets: some buckets hold several, most differences share a bucket with an agreement. */
const PEERS = Array.from({ length: 40 }, (_, i) => p(`n${i}`))
const peerArb = fc.constantFrom(...PEERS)
/** Not `dead`: a dead record crosses as a suspicion (onState), so two tables that swapped one never become equal. */
const statusArb = fc.constantFrom<MemberStatus>('alive', 'suspect', 'left')
const recordArb: fc.Arbitrary<MemberRecord> = fc.record({ peer: peerArb, incarnation: fc.integer({ min: 0, max: 3 }), status: statusArb }, { noNullPrototype: true })
const advertArb: fc.Arbitrary<Advert> = fc.record({ peer: peerArb, incarnation: fc.integer({ min: 0, max: 3 }), version: fc.integer({ min: 0, max: 4 }) })
  .map(({ peer, incarnation, version }) => advert(peer, incarnation, version))

function advert(peer: PeerId, incarnation: number, version: number): Advert {
  return { peer, incarnation, version, capacity: DEFAULT_CAPACITY, allocated: DEFAULT_CAPACITY, labels: {}, drivers: ['process'], tasks: [] }
}

/** A summary computed from scratch, entry by entry. */
function recomputed(members: Iterable<MemberRecord>, adverts: Iterable<Advert>): string {
  const summary = new BucketSummary()
  for (const r of members) summary.toggle(r.peer, memberEntryHash(r.peer, r.incarnation, r.status))
  for (const a of adverts) summary.toggle(a.peer, advertEntryHash(a.peer, a.incarnation, a.version))
  return encodeSummary(summary)
}

const Summary = suite('bucket summary')

Summary('kept incrementally by the member and advert tables, it equals the summary recomputed from what they hold', () => {
  const change = fc.oneof(recordArb.map((record) => ({ record })), advertArb.map((advert) => ({ advert })))
  fc.assert(fc.property(fc.array(change, { maxLength: 60 }), (changes) => {
    const members = new MemberTable(p('self'))
    const cluster = new ClusterState()
    for (const c of changes) {
      if ('record' in c) members.apply(c.record, 0)
      else cluster.putAdvert(c.advert)
    }
    const held = [...members.all()]
    assert.is(encodeSummary(members.summary, cluster.summary), recomputed(held, cluster.allAdverts()))
  }), { numRuns: 300 })
})

Summary('two tables that differ in any one entry differ in that entry’s bucket, and only there', () => {
  const entryArb = fc.record({ status: statusArb, incarnation: fc.integer({ min: 0, max: 3 }), version: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }) })
  const tableArb = fc.dictionary(fc.constantFrom(...PEERS.map(String)), entryArb, { maxKeys: PEERS.length })
  const editArb = fc.constantFrom('incarnation', 'status', 'version', 'no advert', 'removed', 'added')
  fc.assert(fc.property(tableArb, peerArb, editArb, (table, peer, edit) => {
    const entries = new Map(Object.entries(table))
    const before = entries.get(peer)
    const after = new Map(entries)
    if (edit === 'added' || before === undefined) {
      if (before !== undefined) return
      after.set(peer, { status: 'alive', incarnation: 0, version: 0 })
    } else if (edit === 'removed') after.delete(peer)
    else if (edit === 'incarnation') after.set(peer, { ...before, incarnation: before.incarnation + 1 })
    else if (edit === 'status') after.set(peer, { ...before, status: before.status === 'alive' ? 'left' : 'alive' })
    else if (edit === 'version') after.set(peer, { ...before, version: (before.version ?? 0) + 1 })
    else {
      if (before.version === undefined) return
      after.set(peer, { ...before, version: undefined })
    }
    const summarise = (map: typeof entries) => recomputed(
      [...map].map(([id, e]) => ({ peer: p(id), incarnation: e.incarnation, status: e.status })),
      [...map].flatMap(([id, e]) => (e.version === undefined ? [] : [advert(p(id), e.incarnation, e.version)])),
    )
    assert.equal(differingBuckets(summarise(entries), summarise(after)), [bucketOf(peer)])
  }), { numRuns: 500 })
})

Summary('a summary has a fixed length, and an empty table’s buckets are all zero', () => {
  assert.is(encodeSummary().length, SUMMARY_LENGTH)
  assert.is(encodeSummary(), '0'.repeat(SUMMARY_LENGTH))
  const spread = new Set(Array.from({ length: 4096 }, (_, i) => bucketOf(p(`peer-${i}`))))
  assert.is(spread.size, DIGEST_BUCKETS, 'peers fall in every bucket')
})

Summary.run()

// --- the exchange ------------------------------------------------------------------------------

interface Side {
  readonly self: PeerId
  readonly antiEntropy: AntiEntropy
  readonly members: MemberTable
  readonly cluster: ClusterState
}

/** Two peers wired to each other: every message goes through the codec and arrives in the order `pick` chooses. */
function pair(pick: (pending: number) => number = () => 0) {
  const pending: Array<{ to: PeerId; from: PeerId; bytes: Uint8Array }> = []
  const sent: Array<{ from: PeerId; message: Message; bytes: number }> = []
  const side = (self: PeerId): Side => {
    const members = new MemberTable(self)
    const cluster = new ClusterState()
    const deps: AntiEntropyDeps = {
      self, config: defaultConfig(PEERS.length), random: seededRandom(1), members, cluster,
      desiredDigest: () => 'same',
      applyRecord: (record) => members.apply(record, 0),
      applyAdvert: (a) => cluster.putAdvert(a),
      send: (to, message) => {
        const bytes = encodeMessage(message)
        sent.push({ from: self, message, bytes: bytes.length })
        pending.push({ to, from: self, bytes })
      },
      syncDesired: () => undefined,
    }
    return { self, antiEntropy: new AntiEntropy(deps, { seeds: [] }), members, cluster }
  }
  const a = side(p('a'))
  const b = side(p('b'))
  /** Delivers until nothing is in flight. */
  const run = (): void => {
    for (let steps = 0; pending.length > 0; steps++) {
      if (steps > 1_000) throw new Error('the exchange does not end')
      const [next] = pending.splice(pick(pending.length) % pending.length, 1)
      const decoded = decodeMessage(next!.bytes)
      if (!decoded.ok) throw new Error(`rejected by the codec: ${JSON.stringify(decoded.error)}`)
      const to = next!.to === a.self ? a : b
      const message = decoded.message
      if (message.kind === 'digest') to.antiEntropy.onDigest(next!.from, message, 0)
      else if (message.kind === 'state') to.antiEntropy.onState(message)
    }
  }
  return { a, b, sent, run }
}

function fill(side: Side, records: readonly MemberRecord[], adverts: readonly Advert[]): void {
  for (const record of records) side.members.apply(record, 0)
  for (const a of adverts) side.cluster.putAdvert(a)
}

const records = (side: Side) => new Map([...side.members.all()].map((record) => [record.peer, record]))
const versions = (side: Side) => new Map([...side.cluster.allAdverts()].map((a) => [a.peer, [a.incarnation, a.version]]))

const Exchange = suite('bucket digest exchange')

/** At most one entry per peer, so the two sides often hold the same peer at the same incarnation. */
const tableArb = <T extends { peer: PeerId }>(entry: fc.Arbitrary<T>) => fc.uniqueArray(entry, { selector: (e) => e.peer, maxLength: PEERS.length })

Exchange('one exchange leaves both peers holding the newer of every record and advert, in any delivery order', () => {
  fc.assert(fc.property(
    tableArb(recordArb), tableArb(advertArb), tableArb(recordArb), tableArb(advertArb),
    fc.array(fc.nat(), { maxLength: 50 }),
    (recordsA, advertsA, recordsB, advertsB, order) => {
      let turn = 0
      const { a, b, run } = pair(() => order[turn++ % Math.max(1, order.length)] ?? 0)
      fill(a, recordsA, advertsA)
      fill(b, recordsB, advertsB)
      const expectedRecords = new Map<PeerId, MemberRecord>()
      for (const r of [...records(a).values(), ...records(b).values()]) {
        if (supersedes(r, expectedRecords.get(r.peer))) expectedRecords.set(r.peer, r)
      }
      const expectedVersions = new Map(versions(a))
      for (const [peer, v] of versions(b)) {
        const known = expectedVersions.get(peer)
        if (known === undefined || v[0]! > known[0]! || (v[0] === known[0] && v[1]! > known[1]!)) expectedVersions.set(peer, v)
      }
      a.antiEntropy.sendDigest(b.self)
      run()
      for (const side of [a, b]) {
        assert.equal(records(side), expectedRecords, `${side.self}'s records`)
        assert.equal(versions(side), expectedVersions, `${side.self}'s adverts`)
      }
      assert.is(encodeSummary(a.members.summary, a.cluster.summary), encodeSummary(b.members.summary, b.cluster.summary))
    },
  ), { numRuns: 300 })
})

Exchange('a suspicion held over there at the incarnation we hold alive comes back in the same exchange', () => {
  const { a, b, run } = pair()
  fill(a, [{ peer: p('n0'), incarnation: 1, status: 'alive' }], [])
  fill(b, [{ peer: p('n0'), incarnation: 1, status: 'suspect' }], [])
  a.antiEntropy.sendDigest(b.self)
  run()
  assert.is(a.members.status(p('n0')), 'suspect')
})

/** n peers with records and adverts, as both sides of a settled cluster hold them. */
function settled(n: number, from = 0): { records: MemberRecord[]; adverts: Advert[] } {
  const ids = Array.from({ length: n }, (_, i) => p(`12D3KooW${String(from + i).padStart(44, '0')}`))
  return { records: ids.map((peer) => ({ peer, incarnation: 1_700_000_000_000, status: 'alive' })), adverts: ids.map((peer) => advert(peer, 1_700_000_000_000, 12)) }
}

/** The form of an opening: a root, a summary, a digest of some buckets' entries, or a full digest. */
function form(message: Message): string {
  if (message.kind !== 'digest') return message.kind
  if (message.root !== undefined) return 'root'
  if (message.buckets !== undefined) return 'summary'
  return message.covers === undefined ? 'full' : 'entries'
}

Exchange('two peers that agree exchange one message, of the same size at 20 and at 2,000 peers', () => {
  const sizes = [20, 2_000].map((n) => {
    const { a, b, sent, run } = pair()
    const { records: r, adverts: v } = settled(n)
    fill(a, r, v)
    fill(b, r, v)
    a.antiEntropy.sendDigest(b.self)
    run()
    assert.equal(sent.map((s) => s.message.kind), ['digest'], `${n} peers: the opening alone`)
    return sent[0]!.bytes
  })
  assert.is(sizes[0], sizes[1])
  assert.ok(sizes[0]! < 200, `${sizes[0]} bytes`)
})

Exchange('one differing advert in a cluster of 2,000 costs the entries of its bucket, not of the cluster', () => {
  const { a, b, sent, run } = pair()
  const { records: r, adverts: v } = settled(2_000)
  fill(a, r, v)
  fill(b, r, v)
  const changed = v[1_234]!
  b.cluster.putAdvert({ ...changed, version: changed.version + 1 })
  a.antiEntropy.sendDigest(b.self)
  run()
  assert.is(a.cluster.advert(changed.peer)?.version, changed.version + 1, 'a learns the newer advert')
  const kinds = sent.map((s) => `${s.from}:${s.message.kind}`)
  assert.equal(kinds, ['a:digest', 'b:digest', 'a:digest', 'b:state'], 'root, summary, a’s entries of the bucket, the newer advert')
  const answer = sent[2]!.message as Extract<Message, { kind: 'digest' }>
  assert.equal(answer.covers, [bucketOf(changed.peer)])
  const inBucket = r.filter((record) => bucketOf(record.peer) === bucketOf(changed.peer)).length
  assert.is(answer.members.length, inBucket)
  const total = sent.reduce((sum, s) => sum + s.bytes, 0)
  assert.ok(total < 30_000, `${total} bytes for the whole exchange (a full digest of 2,000 peers is ≈ 300 KB)`)
})

Exchange('a peer that knows nobody learns the whole cluster through one exchange with a seed, and the seed learns it', () => {
  const { a, b, sent, run } = pair()
  const { records: r, adverts: v } = settled(300)
  fill(b, r, v)
  fill(a, [{ peer: a.self, incarnation: 5, status: 'alive' }], [advert(a.self, 5, 1)])
  a.antiEntropy.sendDigest(b.self)
  run()
  for (const record of r) assert.equal(a.members.record(record.peer), record)
  assert.is(a.cluster.advert(r[299]!.peer)?.version, 12)
  assert.equal(b.members.record(a.self), { peer: a.self, incarnation: 5, status: 'alive' })
  assert.is(b.cluster.advert(a.self)?.version, 1)
  // Its full digest is smaller than a summary: it opens with that, and the seed answers at once.
  assert.equal(sent.map((s) => `${s.from}:${form(s.message)}`), ['a:full', 'b:state', 'b:full', 'a:state'])
})

Exchange('an opening carries the opener’s record of the receiver, so a receiver held dead refutes on its first message', () => {
  const { a, b, sent } = pair()
  const { records: r, adverts: v } = settled(100)
  fill(a, [...r, { peer: b.self, incarnation: 4, status: 'dead' }], v)
  a.antiEntropy.sendDigest(b.self)
  const opening = sent[0]!.message as Extract<Message, { kind: 'digest' }>
  assert.equal(opening.members, [[b.self, 4, 'dead']])
  assert.equal(opening.adverts, [])
  assert.is(opening.root?.length, 16)
  assert.is(opening.buckets, undefined, 'the summary itself goes only to a peer whose root differs')
})

Exchange('after an exchange in which most buckets differed the next opening is a full digest; after that, a root again', () => {
  const { a, b, sent, run } = pair()
  const { records: r, adverts: v } = settled(300)
  fill(a, r, v)
  fill(b, r, v)
  // b changes most of what a holds, as a placement wave does.
  for (const advertOfB of v.filter((_, i) => i % 2 === 0)) b.cluster.putAdvert({ ...advertOfB, version: advertOfB.version + 1 })
  a.antiEntropy.sendDigest(b.self)
  run()
  assert.equal(sent.map((s) => form(s.message)), ['root', 'summary', 'entries', 'state'])
  sent.length = 0
  a.antiEntropy.sendDigest(b.self)
  const full = sent[0]!.message as Extract<Message, { kind: 'digest' }>
  assert.is(form(full), 'full', 'most buckets differed last time: every entry at once')
  assert.is(full.members.length, 300)
  run()
  assert.equal(sent.map((s) => form(s.message)), ['full'], 'the two agree: no answer')
  sent.length = 0
  a.antiEntropy.sendDigest(b.self)
  assert.is(form(sent[0]!.message), 'root', 'back to the root')
  run()
  assert.equal(sent.map((s) => form(s.message)), ['root'])
})

Exchange('a full opening repairs both sides in one exchange, in any delivery order', () => {
  // Two crowds, one on each side: the first exchange finds nearly every bucket differing, so a's next opening is full.
  const crowdA = settled(200)
  const crowdB = settled(200, 200)
  fc.assert(fc.property(
    tableArb(recordArb), tableArb(advertArb), tableArb(recordArb), tableArb(advertArb),
    fc.array(fc.nat(), { maxLength: 50 }),
    (recordsA, advertsA, recordsB, advertsB, order) => {
      let turn = 0
      const { a, b, sent, run } = pair(() => order[turn++ % Math.max(1, order.length)] ?? 0)
      fill(a, crowdA.records, crowdA.adverts)
      fill(b, crowdB.records, crowdB.adverts)
      a.antiEntropy.sendDigest(b.self)
      run()
      fill(a, recordsA, advertsA)
      fill(b, recordsB, advertsB)
      const expectedRecords = new Map<PeerId, MemberRecord>()
      for (const r of [...records(a).values(), ...records(b).values()]) if (supersedes(r, expectedRecords.get(r.peer))) expectedRecords.set(r.peer, r)
      const expectedVersions = new Map(versions(a))
      for (const [peer, v] of versions(b)) {
        const known = expectedVersions.get(peer)
        if (known === undefined || v[0]! > known[0]! || (v[0] === known[0] && v[1]! > known[1]!)) expectedVersions.set(peer, v)
      }
      sent.length = 0
      a.antiEntropy.sendDigest(b.self)
      assert.is(form(sent[0]!.message), 'full')
      run()
      for (const side of [a, b]) {
        assert.equal(records(side), expectedRecords, `${side.self}'s records`)
        assert.equal(versions(side), expectedVersions, `${side.self}'s adverts`)
      }
      assert.ok(sent.length <= 4, `${sent.length} messages: the opening, what a lacked, b’s reply, what b lacked`)
    },
  ), { numRuns: 200 })
})

Exchange.run()
