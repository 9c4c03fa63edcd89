// Versions of one service are unique, and the merge of concurrent writes is a version of its own:
// a scale on one peer and an env change on another used to both become "version 2", with no version
// holding the spec the cluster then ran, so `revert web 2` had to guess.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import { ImmutableString } from '@automerge/automerge'
import { canonicalJson } from '../../core/hash.js'
import { specDigest, specHash } from '../../core/service-spec/index.js'
import {
  apply, describeError, history, newDocument, parseVersionRef, revert, scale, serviceState, type DesiredDoc, type DesiredStateDocument, type HistoryEntry,
} from '../../crdt/index.js'
import { ok, spec } from './support.mjs'
import { A, ACTOR_A, ACTOR_B, B, forked, web } from './forked-replicas.js'


/** A scale on A and an env change on B, made concurrently, merged each way. */
function scaleAndEnv(): { ab: DesiredDoc; ba: DesiredDoc } {
  let { a, b } = forked()
  a = ok(scale(a, 'web', 5, A, 2_000)).doc
  b = ok(apply(b, [{ ...web, env: { LOG: 'debug' } }], B, 2_100)).doc
  return { ab: Automerge.merge(Automerge.clone(a), Automerge.clone(b)), ba: Automerge.merge(Automerge.clone(b), Automerge.clone(a)) }
}

function entries(doc: DesiredDoc, service = 'web'): HistoryEntry[] {
  const result = history(doc, service)
  if (!result.ok) throw new Error(describeError(result.error))
  return result.entries
}

const merged = { ...web, replicas: 5, env: { LOG: 'debug' } }

const Unique = suite('unique versions')

Unique('both merge orders list the same history: the two concurrent versions with ids of their own, then their merge', () => {
  const { ab, ba } = scaleAndEnv()
  assert.is(canonicalJson(entries(ab)), canonicalJson(entries(ba)))
  const listed = entries(ab)
  assert.equal(listed.map((e) => [e.version, e.action, e.author]), [[1, 'create', 'peer-a'], [2, 'scale', 'peer-a'], [2, 'update', 'peer-b'], [3, 'merge', '']])
  const ids = listed.map((e) => e.id)
  assert.is(new Set(ids).size, ids.length, `ids are unique: ${ids.join(' ')}`)
  assert.is(ids[0], '1')
  assert.is(ids[3], '3')
  for (const id of ids.slice(1, 3)) assert.match(id, /^2·[0-9a-f]{4}$/)
  assert.equal(listed[3]!.parents, [ids[1], ids[2]])
  assert.is(listed[3]!.recorded, false)
})

Unique('the merge holds the merged spec, and the service is at the merge', () => {
  const { ab } = scaleAndEnv()
  const merge = entries(ab)[3]!
  assert.is(merge.specHash, specHash(merged))
  assert.is(merge.specDigest, specDigest(merged))
  assert.equal(merge.changed, ['env.LOG', 'replicas'])
  assert.is(merge.timeMs, 2_100, "the later parent's time")
  const state = serviceState(ab, 'web')!
  assert.is(canonicalJson(state.spec), canonicalJson(merged))
  assert.equal([state.version, state.author, state.timeMs], [3, '', 2_100])
})

Unique('revert goes to each concurrent version by its id, and to the merge', () => {
  const { ab } = scaleAndEnv()
  const [, scaled, env, merge] = entries(ab)
  // A document is linear (docs/desired-state.md): each revert starts from its own copy.
  const toScaled = ok(revert(Automerge.clone(ab), 'web', scaled!.id, A, 3_000))
  assert.is(canonicalJson(serviceState(toScaled.doc, 'web')!.spec), canonicalJson({ ...web, replicas: 5 }))
  assert.is(toScaled.revertedToId, scaled!.id)
  assert.equal(toScaled.outcome, { service: 'web', outcome: 'updated', version: 4, changed: ['env.LOG'] })
  // `.` types the same id on a keyboard without `·`.
  const toEnv = ok(revert(Automerge.clone(ab), 'web', env!.id.replace('·', '.'), A, 3_000))
  assert.is(canonicalJson(serviceState(toEnv.doc, 'web')!.spec), canonicalJson({ ...web, env: { LOG: 'debug' } }))
  const toMerge = ok(revert(ab, 'web', merge!.id, A, 3_000))
  assert.is(toMerge.outcome.outcome, 'unchanged')
  const toOne = ok(revert(Automerge.clone(ab), 'web', 1, A, 3_000))
  assert.is(canonicalJson(serviceState(toOne.doc, 'web')!.spec), canonicalJson(web))
})

Unique('a number two versions share is refused with both ids, never guessed', () => {
  const { ab } = scaleAndEnv()
  const [, scaled, env] = entries(ab)
  for (const ref of [2, '2']) {
    const result = revert(ab, 'web', ref, A, 3_000)
    assert.equal(result.ok ? undefined : result.error, { kind: 'ambiguous-version', service: 'web', version: ref, candidates: [scaled!.id, env!.id] })
  }
  const error = revert(ab, 'web', 2, A, 3_000)
  assert.ok(!error.ok && describeError(error.error).includes(`${scaled!.id}, ${env!.id}`))
  assert.equal((revert(ab, 'web', '2·ffffffff', A, 3_000) as { error: unknown }).error, { kind: 'unknown-version', service: 'web', version: '2·ffffffff' })
  assert.equal((revert(ab, 'web', 'two', A, 3_000) as { error: unknown }).error, { kind: 'unknown-version', service: 'web', version: 'two' })
})

Unique('the next write records the merge, which keeps its id, and replaces it', () => {
  const { ab } = scaleAndEnv()
  const before = entries(ab)
  const next = ok(apply(ab, [{ ...merged, image: 'nginx:2' }], A, 3_000))
  assert.equal(next.services[0]!.version, 4)
  const after = entries(next.doc)
  assert.equal(after.slice(0, 4).map((e) => ({ ...e, recorded: true })), before.map((e) => ({ ...e, recorded: true })))
  assert.equal(after.map((e) => [e.id, e.action, e.recorded]), [
    ['1', 'create', true], [before[1]!.id, 'scale', true], [before[2]!.id, 'update', true], ['3', 'merge', true], ['4', 'update', true],
  ])
  assert.equal(after[4]!.parents, ['3'])
  assert.equal(after[4]!.changed, ['image'])
})

Unique('two peers that record one merge concurrently store one version of it', () => {
  const { ab, ba } = scaleAndEnv()
  const a = ok(scale(Automerge.clone(ab, { actor: ACTOR_A }), 'web', 7, A, 3_000)).doc
  const b = ok(scale(Automerge.clone(ba, { actor: ACTOR_B }), 'web', 8, B, 3_000)).doc
  const both = Automerge.merge(Automerge.clone(a), Automerge.clone(b))
  const stored = (both as DesiredStateDocument).services.web!.versions.length
  const listed = entries(both)
  assert.is(stored, 7, 'each peer stored the merge')
  assert.equal(listed.map((e) => [e.version, e.action]), [[1, 'create'], [2, 'scale'], [2, 'update'], [3, 'merge'], [4, 'scale'], [4, 'scale'], [5, 'merge']])
  assert.is(new Set(listed.map((e) => e.id)).size, 7)
  assert.equal(listed[6]!.parents, [listed[4]!.id, listed[5]!.id])
  assert.is(canonicalJson(entries(Automerge.merge(Automerge.clone(b), Automerge.clone(a)))), canonicalJson(listed))
  assert.is(serviceState(both, 'web')!.version, 5)
})

Unique('a revert names the version it went back to by id', () => {
  const { ab } = scaleAndEnv()
  const env = entries(ab)[2]!
  const reverted = ok(revert(ab, 'web', env.id, A, 3_000)).doc
  const last = entries(reverted).at(-1)!
  assert.equal([last.action, last.revertedFrom, last.revertedFromId], ['revert', 2, env.id])
})

Unique('version references parse as numbers or ids', () => {
  assert.equal(parseVersionRef(3), { version: 3 })
  assert.equal(parseVersionRef('3'), { version: 3 })
  assert.equal(parseVersionRef('2·1A2b'), { version: 2, keyPrefix: '1a2b' })
  assert.equal(parseVersionRef('2.1a2b'), { version: 2, keyPrefix: '1a2b' })
  for (const bad of [0, -1, 1.5, '0', '', 'x', '2·', '2·xyz', '2 1a2b', '2·1a2b3c4d5e6f7a8b9']) assert.is(parseVersionRef(bad), undefined, String(bad))
})

Unique.run()

const Older = suite('documents written before versions had ids')

/** The records an older writer stored: no parents, and concurrent ones sharing a number. */
function olderDocument(): DesiredDoc {
  const { a, b } = forked()
  const record = (version: number, action: string, author: string, timeMs: number, written: typeof web, changed: string[]) => new ImmutableString(canonicalJson({
    version, action, author, timeMs, specDigest: specDigest(written), specHash: specHash(written), changed, spec: canonicalJson(written),
  }))
  // Rewrite the create as an older writer stored it, then let each side add an old-style version 2.
  const base = Automerge.change(a, (root) => {
    const entry = root.services.web!
    entry.versions.splice(0, 1, record(1, 'create', 'peer-a', 1_000, web, []))
  })
  const fromA = Automerge.change(base, (root) => {
    root.services.web!.spec.replicas = 5
    root.services.web!.version = 2
    root.services.web!.versions.push(record(2, 'scale', 'peer-a', 2_000, { ...web, replicas: 5 }, ['replicas']))
  })
  const fromB = Automerge.change(Automerge.merge(Automerge.clone(b), Automerge.clone(base)), (root) => {
    (root.services.web!.spec.env as Record<string, unknown>).LOG = new ImmutableString('debug')
    root.services.web!.version = 2
    root.services.web!.versions.push(record(2, 'update', 'peer-b', 2_100, { ...web, env: { LOG: 'debug' } }, ['env.LOG']))
  })
  return Automerge.merge(Automerge.clone(fromA), fromB)
}

Older('its versions get unique ids, and the concurrent ones a merge, with parents inferred from numbers', () => {
  const doc = olderDocument()
  const listed = entries(doc)
  assert.equal(listed.map((e) => [e.version, e.action]), [[1, 'create'], [2, 'scale'], [2, 'update'], [3, 'merge']])
  assert.is(new Set(listed.map((e) => e.id)).size, 4)
  assert.equal(listed.map((e) => e.parents.length), [0, 1, 1, 2])
  assert.is(listed[3]!.specHash, specHash(merged))
  assert.is(serviceState(doc, 'web')!.version, 3)
})

Older('the next write continues it: the merge is recorded and an old number is refused only where it is shared', () => {
  const doc = olderDocument()
  const next = ok(scale(doc, 'web', 6, A, 3_000))
  assert.is(next.outcome.version, 4)
  assert.equal(entries(next.doc).map((e) => [e.id.replace(/·.*/, '·'), e.action, e.recorded]), [
    ['1', 'create', true], ['2·', 'scale', true], ['2·', 'update', true], ['3', 'merge', true], ['4', 'scale', true],
  ])
  assert.ok(ok(revert(next.doc, 'web', 1, A, 4_000)).change !== null)
  assert.is(revert(next.doc, 'web', 2, A, 4_000).ok, false)
})

Older.run()
