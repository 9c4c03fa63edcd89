// Two replicas of one deployed document, for tests of concurrent edits: peers A and B, whose actor
// ids are chosen so that B's is the larger (ties between equal counters go to B).

import * as Automerge from '@automerge/automerge'
import { peerId } from '../../core/placement/ids.js'
import { apply, newDocument, type DesiredDoc } from '../../crdt/index.js'
import { ok, spec } from './support.mjs'

export const A = peerId('peer-a')
export const B = peerId('peer-b')
export const ACTOR_A = '0a'.repeat(16)
export const ACTOR_B = '0b'.repeat(16)
export const web = spec({ name: 'web', image: 'nginx:1', replicas: 2, env: { LOG: 'info' } })

/** A deployed document, forked into two replicas that have both seen it. */
export function forked(): { a: DesiredDoc; b: DesiredDoc } {
  const base = ok(apply(newDocument('01'.repeat(16)), [web], A, 1_000)).doc
  return { a: Automerge.clone(base, { actor: ACTOR_A }), b: Automerge.clone(base, { actor: ACTOR_B }) }
}
