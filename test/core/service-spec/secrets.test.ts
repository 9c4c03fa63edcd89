// The secrets a spec lists: what validation accepts and how it normalises them, their written form,
// how their versions enter specHash, and placement's refusal of a spec whose secret does not exist.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  assumeSecretsExist, canonicalJson, couldHost, feasible, missingSecrets, peerId, placementRequest, plan, REJECTION_TEXT, resolveSecretVersions,
  SECRET_LIMITS, specHash, toWrittenForm, unresolvedSecrets, validateService, type PeerView, type ServiceSpec, type SpecError,
} from '../../../core/index.js'

function validated(body: Record<string, unknown>): { spec?: ServiceSpec; errors: SpecError[] } {
  const errors: SpecError[] = []
  const spec = validateService(body.name ?? 'web', { name: 'web', command: ['run'], ...body }, '', errors)
  return { spec, errors }
}

const Validate = suite('secrets: validation')

Validate('names become refs at version 0, sorted by name', () => {
  const { spec, errors } = validated({ secrets: ['db.password', 'api-token'] })
  assert.equal(errors, [])
  assert.equal(spec!.secrets, [{ name: 'api-token', version: 0 }, { name: 'db.password', version: 0 }])
})

Validate('no secrets, or an empty list, leave the field out: such specs are what they were before', () => {
  assert.is('secrets' in validated({}).spec!, false)
  assert.is('secrets' in validated({ secrets: [] }).spec!, false)
})

Validate('the resolved form { name, version } is read back as it is', () => {
  const { spec, errors } = validated({ secrets: [{ name: 'db', version: 3 }, 'api'] })
  assert.equal(errors, [])
  assert.equal(spec!.secrets, [{ name: 'api', version: 0 }, { name: 'db', version: 3 }])
})

Validate('bad names, duplicates, other shapes and too many are refused, each with its path', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    ['db-password', 'secrets', /list of secret names/],
    [['../etc/passwd'], 'secrets[0]', /secret name/],
    [['.hidden'], 'secrets[0]', /secret name/],
    [['a', 'a'], 'secrets[1]', /listed twice/],
    [[42], 'secrets[0]', /secret name, or \{ name, version \}/],
    [[{ name: 'a', version: -1 }], 'secrets[0]', /whole version/],
    [[{ name: 'a', extra: 1 }], 'secrets[0]', /secret name, or/],
    [Array.from({ length: SECRET_LIMITS.perService + 1 }, (_, i) => `s${i}`), 'secrets', /at most 32 secrets/],
  ]
  for (const [secrets, path, message] of cases) {
    const { spec, errors } = validated({ secrets })
    assert.is(spec, undefined, JSON.stringify(secrets))
    assert.is(errors[0]?.path, path, JSON.stringify(secrets))
    assert.match(errors[0]!.message, message)
  }
})

Validate('the written form gives the same spec back, resolved or not', () => {
  for (const secrets of [['b', 'a'], [{ name: 'a', version: 2 }, 'b']]) {
    const spec = validated({ secrets }).spec!
    const again = validated(toWrittenForm(spec)).spec!
    assert.is(canonicalJson(again), canonicalJson(spec))
  }
  assert.equal(toWrittenForm(validated({ secrets: [{ name: 'a', version: 2 }, 'b'] }).spec!).secrets, [{ name: 'a', version: 2 }, 'b'])
})

const Targets = suite('secrets: targets')

function docker(body: Record<string, unknown>): { spec?: ServiceSpec; errors: SpecError[] } {
  return validated({ command: undefined, image: 'app', ...body })
}

Targets('a file name or an absolute path is kept; a target equal to the name is left out, as the default', () => {
  const { spec, errors } = docker({ secrets: [{ name: 'prom', target: '/etc/prometheus/prometheus.yml' }, { name: 'tls', target: 'key.pem' }, { name: 'db', target: 'db' }] })
  assert.equal(errors, [])
  assert.equal(spec!.secrets, [
    { name: 'db', version: 0 },
    { name: 'prom', version: 0, target: '/etc/prometheus/prometheus.yml' },
    { name: 'tls', version: 0, target: 'key.pem' },
  ])
})

Targets('the written form is { name, target }, with the version only when resolved; it reads back the same', () => {
  const { spec } = docker({ secrets: [{ name: 'a', target: 'x.pem', version: 3 }, { name: 'b', target: '/etc/b' }, 'c'] })
  const written = toWrittenForm(spec!)
  assert.equal(written.secrets, [{ name: 'a', target: 'x.pem', version: 3 }, { name: 'b', target: '/etc/b' }, 'c'])
  assert.is(canonicalJson(docker(written).spec), canonicalJson(spec))
})

Targets('resolving versions keeps the targets', () => {
  const { spec } = docker({ secrets: [{ name: 'a', target: '/etc/a' }] })
  assert.equal(resolveSecretVersions(spec!, () => 4).secrets, [{ name: 'a', version: 4, target: '/etc/a' }])
})

Targets('a target changes specHash: the task sees its file elsewhere', () => {
  assert.is.not(specHash(docker({ secrets: [{ name: 'a', target: 'b' }] }).spec!), specHash(docker({ secrets: ['a'] }).spec!))
})

Targets('refused: bad targets, targets two secrets share, and absolute targets of a process', () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ secrets: [{ name: 'a', target: '../a' }] }, 'secrets[0].target', /a file name .* or an absolute path/],
    [{ secrets: [{ name: 'a', target: '' }] }, 'secrets[0].target', /a file name/],
    [{ secrets: [{ name: 'a', target: 'dir/a' }] }, 'secrets[0].target', /a file name/],
    [{ secrets: [{ name: 'a', target: '/etc/' }] }, 'secrets[0].target', /absolute path such as/],
    [{ secrets: [{ name: 'a', target: '/' }] }, 'secrets[0].target', /root of the container/],
    [{ secrets: [{ name: 'a', target: '/run/secrets/a' }] }, 'secrets[0].target', /under \/run\/secrets is named by a relative target/],
    [{ secrets: [{ name: 'a', target: 5 }] }, 'secrets[0]', /secret name, or \{ name, version \}/],
    [{ secrets: ['a', { name: 'b', target: 'a' }] }, 'secrets[1].target', /the file name "a" is taken by secret "a"/],
    [{ secrets: [{ name: 'b', target: 'a' }, 'a'] }, 'secrets[1]', /the file name "a" is taken by secret "b"/],
    [{ secrets: [{ name: 'a', target: '/etc/x' }, { name: 'b', target: '/etc/x' }] }, 'secrets[1].target', /the path "\/etc\/x" is taken by secret "a"/],
    [{ secrets: [{ name: 'a', target: '/etc/x' }, { name: 'b', target: 'a' }] }, 'secrets[1].target', /the file name "a" is taken by secret "a"/],
    [{ secrets: ['a', { name: 'a', target: 'b' }] }, 'secrets[1]', /listed twice/],
  ]
  for (const [body, path, message] of cases) {
    const { spec, errors } = docker(body)
    assert.is(spec, undefined, JSON.stringify(body))
    assert.equal(errors.map((e) => e.path), [path], JSON.stringify(body))
    assert.match(errors[0]!.message, message)
  }
  const process = validated({ secrets: [{ name: 'a', target: '/etc/a' }, { name: 'b', target: 'b.txt' }] })
  assert.equal(process.errors.map((e) => e.path), ['secrets[0].target'])
  assert.match(process.errors[0]!.message, /an absolute target is for containers \(driver: docker\); a process finds its secrets in \$PEER_SECRETS_DIR/)
})

const Versions = suite('secrets: versions and specHash')
const base = validated({}).spec!
const withSecrets = validated({ secrets: ['db', 'api'] }).spec!

Versions('a spec without secrets hashes as it did before secrets existed', () => {
  // Pinned (the value before secrets existed): if it moved, every running task would roll on upgrade.
  assert.is(specHash(base), 'f0d0da0e5d5a8c0b')
  assert.is(specHash({ ...base, secrets: [] }), 'f0d0da0e5d5a8c0b')
})

Versions('each resolved version is part of specHash; names alone are too', () => {
  const v1 = resolveSecretVersions(withSecrets, () => 1)
  const v2 = resolveSecretVersions(withSecrets, (name) => (name === 'db' ? 2 : 1))
  assert.is.not(specHash(withSecrets), specHash(base))
  assert.is.not(specHash(v1), specHash(withSecrets))
  assert.is.not(specHash(v2), specHash(v1))
  assert.is(specHash(resolveSecretVersions(withSecrets, () => 1)), specHash(v1), 'the same versions, the same hash')
})

Versions('resolving to what the spec already says gives the same object; unresolving drops versions', () => {
  const v1 = resolveSecretVersions(withSecrets, () => 1)
  assert.is(resolveSecretVersions(v1, () => 1), v1)
  assert.is(resolveSecretVersions(base, () => 7), base)
  assert.equal(unresolvedSecrets(v1), withSecrets)
  assert.equal(missingSecrets(resolveSecretVersions(withSecrets, (name) => (name === 'db' ? 4 : undefined))), ['api'])
  assert.equal(missingSecrets(assumeSecretsExist(withSecrets)), [])
})

const Placement = suite('secrets: placement')

const peer = (id: string): PeerView => ({
  id: peerId(id), state: 'alive', labels: {}, drivers: ['process', 'docker'],
  capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} }, allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, tasks: [],
})

Placement('a spec whose secret does not exist is feasible nowhere, and says which secret', () => {
  const missing = resolveSecretVersions(withSecrets, (name) => (name === 'db' ? 1 : undefined))
  const want = placementRequest(missing)
  assert.is(couldHost(want, ['process'], {}), false)
  const check = feasible(peer('a'), want)
  assert.equal(check, { ok: false, rejection: { peer: 'a', reason: 'secret', detail: 'api' } })
  assert.match(REJECTION_TEXT.secret, 'secret does not exist')
  const result = plan({ services: [missing], peers: [peer('a'), peer('b')], now: 0 })
  assert.equal(result.placements, [])
  assert.equal(result.pending.map((p) => [p.slot, p.rejections.map((r) => [r.reason, r.detail, r.peers])]), [['web/0', [['secret', 'api', 2]]]])
})

Placement('once every secret exists the spec places as any other', () => {
  const present = resolveSecretVersions(withSecrets, () => 1)
  assert.is(couldHost(placementRequest(present), ['process'], {}), true)
  const result = plan({ services: [present], peers: [peer('a')], now: 0 })
  assert.equal(result.pending, [])
  assert.is(result.placements.length, 1)
})

Validate.run()
Targets.run()
Versions.run()
Placement.run()
