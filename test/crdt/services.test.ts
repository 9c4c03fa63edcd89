import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { canonicalJson } from '../../core/hash.js'
import { peerId } from '../../core/placement/ids.js'
import { specDigest, specHash, unresolvedSecrets } from '../../core/service-spec/index.js'
import { apply, desiredState, history, remove, revert, scale, serviceState } from '../../crdt/index.js'
import { ok, replica, spec, specs } from './support.mjs'
import { specArb } from '../core/service-spec/arbitraries.js'

const web = spec({ name: 'web', image: 'nginx:1', replicas: 2, env: { LOG: 'info' } })
const api = spec({ name: 'api', command: 'server --port 80', replicas: 1 })
const agent = spec({ name: 'agent', image: 'agent:1', mode: 'global' })

const Apply = suite('apply')

Apply('creates services and reports each as created at version 1', () => {
  const { peer, doc } = replica('peer-a')
  const result = ok(apply(doc, [web, api], peer, 1_000))
  assert.equal(result.services.map((s) => [s.service, s.outcome, s.version]), [['web', 'created', 1], ['api', 'created', 1]])
  assert.ok(result.change instanceof Uint8Array)
  assert.equal(desiredState(result.doc).services.map((s) => s.spec.name), ['api', 'web'])
})

Apply('makes exactly one Automerge change per apply', () => {
  const { peer, doc } = replica('peer-a')
  const first = ok(apply(doc, [web, api], peer, 1_000))
  assert.is(Automerge.getAllChanges(first.doc).length, 2) // genesis + one
  const second = ok(apply(first.doc, [{ ...web, replicas: 3 }, { ...api, replicas: 4 }], peer, 2_000))
  assert.is(Automerge.getAllChanges(second.doc).length, 3)
})

Apply('reports unchanged services and makes no change when nothing differs', () => {
  const { peer, doc } = replica('peer-a')
  const first = ok(apply(doc, [web], peer, 1_000))
  const again = ok(apply(first.doc, [web], peer, 2_000))
  assert.equal(again.services, [{ service: 'web', outcome: 'unchanged', version: 1, changed: [] }])
  assert.is(again.change, null)
  assert.is(again.doc, first.doc)
})

Apply('writes only the fields that changed and names them', () => {
  const { peer, doc } = replica('peer-a')
  const first = ok(apply(doc, [web], peer, 1_000))
  const next = spec({ name: 'web', image: 'nginx:2', replicas: 2, env: { LOG: 'debug', EXTRA: '1' }, update: { parallelism: 2 } })
  const second = ok(apply(first.doc, [next], peer, 2_000))
  assert.equal(second.services[0], { service: 'web', outcome: 'updated', version: 2, changed: ['env.EXTRA', 'env.LOG', 'image', 'update.parallelism'] })
  const decoded = Automerge.decodeChange(second.change!)
  const keys = decoded.ops.filter((op) => typeof op.key === 'string').map((op) => op.key).sort()
  // env.EXTRA, env.LOG, image, update, plus the version bookkeeping: nothing else is rewritten.
  assert.ok(keys.includes('image') && keys.includes('update') && keys.includes('EXTRA') && keys.includes('LOG'))
  assert.not.ok(keys.includes('replicas') || keys.includes('command') || keys.includes('resources'))
})

Apply('leaves services that are not named alone', () => {
  const { peer, doc } = replica('peer-a')
  const first = ok(apply(doc, [web, api], peer, 1_000))
  const second = ok(apply(first.doc, [{ ...web, replicas: 5 }], peer, 2_000))
  assert.equal(desiredState(second.doc).services.map((s) => [s.spec.name, s.spec.replicas]), [['api', 1], ['web', 5]])
})

Apply('records version, digests, author and time of what it wrote', () => {
  const { peer, doc } = replica('peer-a')
  const state = serviceState(ok(apply(doc, [web], peer, 1_234)).doc, 'web')!
  assert.equal(canonicalJson(state.spec), canonicalJson(web))
  assert.is(state.version, 1)
  assert.is(state.specDigest, specDigest(web))
  assert.is(state.specHash, specHash(web))
  assert.is(state.author, 'peer-a')
  assert.is(state.timeMs, 1_234)
})

Apply('stamps the Automerge change with the caller time, not the wall clock', () => {
  const { peer, doc } = replica('peer-a')
  const result = ok(apply(doc, [web], peer, 5_000_000))
  assert.is(Automerge.decodeChange(result.change!).time, 5_000)
})

const applyErrors: Array<[string, () => unknown, unknown]> = [
  ['a service given twice', () => [web, { ...web, replicas: 9 }], { kind: 'duplicate-service', service: 'web' }],
  ['a spec that does not validate', () => [{ ...web, replicas: -1 }], 'invalid-spec'],
  ['a spec with a field validation would not produce', () => [{ ...web, surprise: true }], 'invalid-spec'],
  ['a spec missing a field', () => [{ ...web, labels: undefined }], 'invalid-spec'],
]
for (const [name, input, expected] of applyErrors) {
  Apply(`refuses ${name}, writing nothing`, () => {
    const { peer, doc } = replica('peer-a')
    const result = apply(doc, input() as never, peer, 1_000)
    assert.is(result.ok, false)
    if (result.ok) return
    if (typeof expected === 'string') assert.is(result.error.kind, expected)
    else assert.equal(result.error, expected)
    assert.is(desiredState(doc).services.length, 0)
  })
}

Apply.run()

const Scale = suite('scale')

function deployed() {
  const { peer, doc } = replica('peer-a')
  return { peer, doc: ok(apply(doc, [web, agent], peer, 1_000)).doc }
}

Scale('sets the replica count as a new version that changed only replicas', () => {
  const { peer, doc } = deployed()
  const result = ok(scale(doc, 'web', 7, peer, 2_000))
  assert.equal(result.outcome, { service: 'web', outcome: 'updated', version: 2, changed: ['replicas'] })
  const state = serviceState(result.doc, 'web')!
  assert.is(state.spec.replicas, 7)
  assert.is(state.specHash, specHash(web), 'scaling keeps the task template, so tasks are not replaced')
})

Scale('to the current count is unchanged and makes no change', () => {
  const { peer, doc } = deployed()
  const result = ok(scale(doc, 'web', 2, peer, 2_000))
  assert.is(result.outcome.outcome, 'unchanged')
  assert.is(result.change, null)
})

const scaleErrors: Array<[string, string, number, unknown]> = [
  ['an unknown service', 'nope', 3, { kind: 'unknown-service', service: 'nope' }],
  ['a global service', 'agent', 3, { kind: 'not-scalable', service: 'agent', mode: 'global' }],
  ['a negative count', 'web', -1, { kind: 'invalid-replicas', service: 'web', replicas: -1 }],
  ['a fractional count', 'web', 1.5, { kind: 'invalid-replicas', service: 'web', replicas: 1.5 }],
  ['a count over the limit', 'web', 2_000_000, { kind: 'invalid-replicas', service: 'web', replicas: 2_000_000 }],
  ['NaN', 'web', Number.NaN, { kind: 'invalid-replicas', service: 'web', replicas: Number.NaN }],
]
for (const [name, service, replicas, expected] of scaleErrors) {
  Scale(`refuses ${name}`, () => {
    const { peer, doc } = deployed()
    const result = scale(doc, service, replicas, peer, 2_000)
    assert.is(result.ok, false)
    if (!result.ok) assert.equal(result.error, expected)
  })
}

Scale('refuses a removed service as unknown', () => {
  const { peer, doc } = deployed()
  const removed = ok(remove(doc, ['web'], peer, 2_000)).doc
  const result = scale(removed, 'web', 3, peer, 3_000)
  assert.equal(result.ok ? undefined : result.error, { kind: 'unknown-service', service: 'web' })
})

Scale.run()

const Remove = suite('remove')

Remove('removes services from the desired state and records it in history', () => {
  const { peer, doc } = deployed()
  const result = ok(remove(doc, ['web'], peer, 2_000))
  assert.equal(result.services, [{ service: 'web', outcome: 'removed', version: 2, changed: [] }])
  assert.equal(desiredState(result.doc).services.map((s) => s.spec.name), ['agent'])
  const entries = history(result.doc, 'web')
  assert.equal(entries.ok && entries.entries.map((e) => [e.version, e.action]), [[1, 'create'], [2, 'remove']])
})

Remove('removes nothing when any name is unknown, and names it', () => {
  const { peer, doc } = deployed()
  const result = remove(doc, ['web', 'ghost'], peer, 2_000)
  assert.equal(result.ok ? undefined : result.error, { kind: 'unknown-service', service: 'ghost' })
  assert.is(desiredState(doc).services.length, 2)
})

Remove('refuses a service removed already', () => {
  const { peer, doc } = deployed()
  const once = ok(remove(doc, ['web'], peer, 2_000)).doc
  const twice = remove(once, ['web'], peer, 3_000)
  assert.equal(twice.ok ? undefined : twice.error, { kind: 'unknown-service', service: 'web' })
})

Remove('then apply brings the service back with the next version number', () => {
  const { peer, doc } = deployed()
  const removed = ok(remove(doc, ['web'], peer, 2_000)).doc
  const back = ok(apply(removed, [web], peer, 3_000))
  assert.equal(back.services[0], { service: 'web', outcome: 'created', version: 3, changed: [] })
  assert.is(serviceState(back.doc, 'web')?.version, 3)
})

Remove.run()

const History = suite('history and revert')

function threeVersions() {
  const { peer, doc } = replica('peer-a')
  const v1 = ok(apply(doc, [web], peer, 1_000)).doc
  const v2 = ok(apply(v1, [{ ...web, image: 'nginx:2' }], peerId('peer-b'), 2_000)).doc
  const v3 = ok(scale(v2, 'web', 5, peerId('peer-c'), 3_000)).doc
  return { peer, doc: v3 }
}

History('lists versions with author, time and changed fields, oldest first', () => {
  const { doc } = threeVersions()
  const result = history(doc, 'web')
  assert.ok(result.ok)
  if (!result.ok) return
  assert.equal(result.entries.map((e) => [e.version, e.action, e.author, e.timeMs, e.changed]), [
    [1, 'create', 'peer-a', 1_000, []],
    [2, 'update', 'peer-b', 2_000, ['image']],
    [3, 'scale', 'peer-c', 3_000, ['replicas']],
  ])
  assert.is(result.entries[0]!.specDigest, specDigest(web))
})

History('of every service lists them by name', () => {
  const { peer, doc } = threeVersions()
  const both = ok(apply(doc, [api], peer, 4_000)).doc
  const result = history(both)
  assert.equal(result.ok && result.entries.map((e) => `${e.service}@${e.version}`), ['api@1', 'web@1', 'web@2', 'web@3'])
})

History('of an unknown service is an error naming it', () => {
  const { doc } = threeVersions()
  assert.equal(history(doc, 'ghost'), { ok: false, error: { kind: 'unknown-service', service: 'ghost' } })
})

History('revert writes the old spec back as a new version', () => {
  const { peer, doc } = threeVersions()
  const result = ok(revert(doc, 'web', 1, peer, 4_000))
  assert.equal(result.outcome, { service: 'web', outcome: 'updated', version: 4, changed: ['image', 'replicas'] })
  assert.is(result.revertedTo.version, 1)
  assert.equal(canonicalJson(serviceState(result.doc, 'web')!.spec), canonicalJson(web))
  const entries = history(result.doc, 'web')
  assert.equal(entries.ok && entries.entries.map((e) => [e.version, e.action, e.revertedFrom]), [
    [1, 'create', undefined], [2, 'update', undefined], [3, 'scale', undefined], [4, 'revert', 1],
  ])
})

History('revert to the current spec is unchanged', () => {
  const { peer, doc } = threeVersions()
  const result = ok(revert(doc, 'web', 3, peer, 4_000))
  assert.is(result.outcome.outcome, 'unchanged')
  assert.is(result.change, null)
})

History('revert brings a removed service back', () => {
  const { peer, doc } = threeVersions()
  const removed = ok(remove(doc, ['web'], peer, 4_000)).doc
  const result = ok(revert(removed, 'web', 2, peer, 5_000))
  assert.is(result.outcome.outcome, 'created')
  assert.is(serviceState(result.doc, 'web')?.spec.image, 'nginx:2')
})

const revertErrors: Array<[string, string, number, string]> = [
  ['an unknown service', 'ghost', 1, 'unknown-service'],
  ['a version never written', 'web', 9, 'unknown-version'],
  ['a removal', 'web', 4, 'version-has-no-spec'],
]
for (const [name, service, version, kind] of revertErrors) {
  History(`revert refuses ${name}`, () => {
    const { peer, doc } = threeVersions()
    const removed = ok(remove(doc, ['web'], peer, 4_000)).doc
    const result = revert(removed, service, version, peer, 5_000)
    assert.is(result.ok ? undefined : result.error.kind, kind)
  })
}

History.run()

const Specs = suite('specs round-trip')

Specs('every field of a rich spec comes back equal, as plain JavaScript', () => {
  const rich = specs({
    services: {
      shop: {
        image: 'shop:3', command: ['run', '--flag', 'with space'], env: { A: '1', _Mixed_case_2: 'x' }, replicas: 4,
        resources: { cpu: '250m', memory: '1Gi', gpu: 2 }, constraints: ['zone in (eu, us)', 'disk exists', 'host matches ^edge-'],
        maxPerNode: 2, strategy: 'binpack', spreadBy: 'zone', ports: ['8080:80', '53:53/udp'],
        healthcheck: { command: ['curl', '-f', 'http://localhost'], interval: '5s', retries: 2 },
        restart: { condition: 'on-failure', delay: '2s', maxDelay: '1m' },
        update: { parallelism: 2, delay: '10s', order: 'start-first', autoRollback: true },
        labels: { 'app.kubernetes.io/name': 'shop', tier: 'front' },
      },
    },
  })
  const { peer, doc } = replica('peer-a')
  const state = desiredState(ok(apply(doc, rich, peer, 1_000)).doc)
  const back = state.services[0]!.spec
  assert.equal(canonicalJson(back), canonicalJson(rich[0]))
  assert.equal(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(rich[0])))
  assert.ok(Array.isArray(back.command) && typeof back.command[0] === 'string')
  assert.is(Object.getPrototypeOf(back.env), Object.prototype)
  assert.is(typeof back.image, 'string')
})

Specs('the container fields are stored when written, and deleted when no longer written', () => {
  const container = spec({
    name: 'prom', image: 'prom:2', entrypoint: ['/bin/prometheus'], user: '65534', workdir: '/prometheus', stopGrace: '30s',
    mounts: [{ type: 'volume', source: 'prom-data', target: '/prometheus' }, { type: 'tmpfs', target: '/tmp' }],
    capAdd: ['NET_BIND_SERVICE'], capDrop: ['ALL'], secrets: [{ name: 'prom-config', target: '/etc/prometheus/prometheus.yml' }],
  })
  const { peer, doc } = replica('peer-a')
  const first = ok(apply(doc, [container], peer, 1_000))
  assert.is(canonicalJson(desiredState(first.doc).services[0]!.spec), canonicalJson(container))
  const plain = spec({ name: 'prom', image: 'prom:2' })
  const second = ok(apply(first.doc, [plain], peer, 2_000))
  assert.equal(second.services[0]!.changed, ['capAdd', 'capDrop', 'entrypoint', 'mounts', 'secrets', 'stopGraceMs', 'user', 'workdir'])
  const stored = (second.doc as unknown as { services: Record<string, { spec: Record<string, unknown> }> }).services.prom!.spec
  for (const field of ['entrypoint', 'user', 'workdir', 'mounts', 'capAdd', 'capDrop', 'stopGraceMs', 'secrets']) assert.not.ok(field in stored, field)
  assert.is(canonicalJson(desiredState(second.doc).services[0]!.spec), canonicalJson(plain))
})

Specs('any valid spec comes back from the document as it went in (its secrets resolved: here none exists)', () => {
  fc.assert(fc.property(specArb, (generated) => {
    const { peer, doc } = replica('peer-a')
    const state = desiredState(ok(apply(doc, [generated], peer, 1_000)).doc)
    assert.equal(state.invalid, [])
    assert.is(canonicalJson(state.services[0]!.spec), canonicalJson(unresolvedSecrets(generated)))
  }), { numRuns: 100 })
})

Specs.run()
