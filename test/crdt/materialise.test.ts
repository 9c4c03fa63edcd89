import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import { ImmutableString } from '@automerge/automerge'
import { canonicalJson } from '../../core/hash.js'
import { apply, conflicts, desiredState, history, readSecret, scale, serviceState, type DesiredDoc } from '../../crdt/index.js'
import { ok, replica, spec } from './support.mjs'

const Materialise = suite('materialise')
const web = spec({ name: 'web', image: 'nginx:1', replicas: 2 })
const api = spec({ name: 'api', image: 'api:1' })

/** A change written straight through Automerge, as a faulty or hostile peer could. */
function tamper(doc: DesiredDoc, edit: (root: Record<string, any>) => void): DesiredDoc {
  return Automerge.change(doc, { time: 0 }, (root) => edit(root as unknown as Record<string, any>))
}

function deployed(): { peer: ReturnType<typeof replica>['peer']; doc: DesiredDoc } {
  const { peer, doc } = replica('peer-a')
  return { peer, doc: ok(apply(doc, [web, api], peer, 1_000)).doc }
}

Materialise('sorts services by name and returns plain, frozen data', () => {
  const state = desiredState(deployed().doc)
  assert.equal(state.services.map((s) => s.spec.name), ['api', 'web'])
  assert.ok(Object.isFrozen(state.services[0]!.spec))
  assert.ok(Object.isFrozen(state.services[0]!.spec.resources))
})

Materialise('reflects every edit, reusing nothing stale', () => {
  const { peer, doc } = deployed()
  const first = desiredState(doc)
  const scaled = ok(scale(doc, 'web', 6, peer, 2_000)).doc
  const second = desiredState(scaled)
  assert.is(second.services.find((s) => s.spec.name === 'web')!.spec.replicas, 6)
  assert.is(first.services.find((s) => s.spec.name === 'web')!.spec.replicas, 2)
  assert.is(second.services[0], first.services[0], 'the untouched service is the same object')
})

const garbage: Array<[string, (root: Record<string, any>) => void, Array<[string, string]>]> = [
  ['a number where a spec field belongs', (r) => { r.services.web.spec.replicas = new ImmutableString('many') }, [['web', 'services.web.replicas']]],
  ['a structured field that is not JSON', (r) => { r.services.web.spec.resources = new ImmutableString('{oops') }, [['web', 'services.web.resources']]],
  ['an unknown field', (r) => { r.services.web.spec.surprise = 1 }, [['web', 'services.web.surprise']]],
  ['a missing field', (r) => { delete r.services.web.spec.labels }, [['web', 'services.web.labels']]],
  ['a spec whose name is not its key', (r) => { r.services.web.spec.name = new ImmutableString('api') }, [['web', 'services.web.name']]],
  ['an entry that is not a map', (r) => { r.services.web = 42 }, [['web', 'services.web']]],
  ['a spec that is not a map', (r) => { r.services.web.spec = new ImmutableString('x') }, [['web', 'services.web']]],
  // Not garbage: collaborative text reads as a string, so a spec written by another program still works.
  ['a string as text instead of a scalar', (r) => { r.services.web.spec.image = 'nginx:text' }, []],
]
for (const [name, edit, expected] of garbage) {
  Materialise(`handles ${name} without throwing, listing what is invalid`, () => {
    const doc = tamper(deployed().doc, edit)
    const state = desiredState(doc)
    assert.equal(state.invalid.map((entry) => [entry.service, entry.errors[0]!.path]), expected)
    assert.ok(state.services.some((s) => s.spec.name === 'api'))
    assert.not.throws(() => conflicts(doc))
    assert.not.throws(() => history(doc))
  })
}

Materialise('survives a document whose top-level maps were replaced', () => {
  const doc = tamper(deployed().doc, (r) => { r.services = new ImmutableString('gone'); r.peers = 3; r.secrets = [] })
  assert.equal(desiredState(doc), { services: [], peers: [], secrets: [], invalid: [] })
  assert.equal(readSecret(doc, 'x', Buffer.alloc(32)).ok, false)
  // An apply restores a usable document.
  const { peer } = replica('peer-a')
  assert.equal(desiredState(ok(apply(doc, [web], peer, 2_000)).doc).services.map((s) => s.spec.name), ['web'])
})

Materialise('skips version records that are not records', () => {
  const doc = tamper(deployed().doc, (r) => { r.services.web.versions.push(new ImmutableString('{"version":"x"}'), 7, new ImmutableString('nope')) })
  const result = history(doc, 'web')
  assert.equal(result.ok && result.entries.map((e) => e.version), [1])
})

Materialise('an apply repairs a tampered spec, writing back only what differs', () => {
  const { peer, doc } = deployed()
  const broken = tamper(doc, (r) => { r.services.web.spec.replicas = new ImmutableString('many'); r.services.web.spec.surprise = 1 })
  const repaired = ok(apply(broken, [web], peer, 2_000))
  assert.equal(repaired.services[0]!.changed, ['replicas', 'surprise'])
  assert.is(canonicalJson(serviceState(repaired.doc, 'web')!.spec), canonicalJson(web))
})

Materialise.run()
