// The optional fields a container service needs beyond the first spec model — entrypoint, user,
// workdir, mounts, capAdd/capDrop, stopGrace: each is absent unless written, so specs written before
// they existed keep their shape, specDigest and specHash; each, when present, is part of specHash.
// Mounts, capabilities and secret targets have their own tables (mounts.test.ts, capabilities.test.ts,
// secrets.test.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  canonicalJson, specDigest, specHash, toWrittenForm, validateService, type ServiceSpec, type SpecError,
} from '../../../core/index.js'

function validated(body: Record<string, unknown>): { spec?: ServiceSpec; errors: SpecError[] } {
  const errors: SpecError[] = []
  const spec = validateService('web', { name: 'web', ...body }, '', errors)
  return { spec, errors }
}

function valid(body: Record<string, unknown>): ServiceSpec {
  const { spec, errors } = validated(body)
  assert.equal(errors, [], JSON.stringify(body))
  return spec!
}

/** The paths of the errors, and the first message. */
function refused(body: Record<string, unknown>): { paths: string[]; message: string } {
  const { spec, errors } = validated(body)
  assert.is(spec, undefined, `accepted ${JSON.stringify(body)}`)
  return { paths: errors.map((e) => e.path), message: errors[0]!.message }
}

const DOCKER = { image: 'app:1' }
const PROCESS = { command: ['run'] }
const NEW_FIELDS = ['entrypoint', 'user', 'workdir', 'mounts', 'capAdd', 'capDrop', 'stopGraceMs']

// ---------------------------------------------------------------------------------------------------

const Absent = suite('optional fields: absent unless written')

Absent('a spec that writes none of them has none of them, for either driver', () => {
  for (const body of [DOCKER, PROCESS]) {
    const spec = valid(body)
    for (const field of NEW_FIELDS) assert.is(field in spec, false, field)
  }
})

Absent('empty lists of mounts and capabilities are the same as none', () => {
  const spec = valid({ ...DOCKER, mounts: [], capAdd: [], capDrop: [] })
  for (const field of ['mounts', 'capAdd', 'capDrop']) assert.is(field in spec, false, field)
})

Absent('specs without them keep the hashes they had before the fields existed', () => {
  // Pinned: the values these specs had before the fields existed. If they moved, every running task
  // would be replaced on upgrade and every apply would report every service as changed.
  const docker = valid({
    image: 'nginx:1.27', command: ['nginx', '-g', 'daemon off;'], env: { A: '1' }, ports: ['8080:80'], labels: { tier: 'front' },
    healthcheck: { command: 'true' }, resources: { cpu: '250m', memory: '128Mi' }, replicas: 3, secrets: ['db'],
  })
  assert.is(specHash(docker), '1da48923d651c24d')
  assert.is(specDigest(docker), '6375ba6f02a6af41')
  const process = validateService('job', { name: 'job', command: 'sleep 1' }, '', [])!
  assert.is(specHash(process), '5c2d3b07418c7df7')
  assert.is(specDigest(process), '239b20a1249ade70')
})

const Hash = suite('optional fields: specHash')

Hash('each one, when written, changes specHash: the task it makes is a different one', () => {
  const base = valid(DOCKER)
  const variants: Record<string, unknown>[] = [
    { entrypoint: ['/bin/sh', '-c'] },
    { user: '1000' },
    { workdir: '/srv' },
    { mounts: [{ type: 'tmpfs', target: '/tmp' }] },
    { capAdd: ['NET_ADMIN'] },
    { capDrop: ['ALL'] },
    { stopGrace: '10s' },
  ]
  const hashes = new Set([specHash(base)])
  for (const variant of variants) {
    const spec = valid({ ...DOCKER, ...variant })
    assert.is.not(specHash(spec), specHash(base), JSON.stringify(variant))
    hashes.add(specHash(spec))
  }
  assert.is(hashes.size, variants.length + 1, 'every variant hashes apart from the others')
})

Hash('equal intent written differently hashes the same', () => {
  const a = valid({ ...DOCKER, capAdd: ['net_admin', 'CAP_SYS_TIME'], mounts: [{ type: 'tmpfs', target: '/b' }, { type: 'volume', source: 'data', target: '/a' }] })
  const b = valid({ ...DOCKER, capAdd: ['SYS_TIME', 'NET_ADMIN', 'NET_ADMIN'], mounts: [{ type: 'volume', source: 'data', target: '/a', readOnly: false }, { type: 'tmpfs', source: '', target: '/b' }] })
  assert.is(specHash(a), specHash(b))
  assert.is(specDigest(a), specDigest(b))
})

// ---------------------------------------------------------------------------------------------------

const Entrypoint = suite('entrypoint')

Entrypoint('a list is kept as written; a string is split on spaces, like command', () => {
  assert.equal(valid({ ...DOCKER, entrypoint: ['/bin/sh', '-c'] }).entrypoint, ['/bin/sh', '-c'])
  assert.equal(valid({ ...DOCKER, entrypoint: ' /docker-entrypoint.sh  --verbose ' }).entrypoint, ['/docker-entrypoint.sh', '--verbose'])
  assert.equal(valid({ ...DOCKER, entrypoint: ['tini', 5] }).entrypoint, ['tini', '5'])
})

Entrypoint('refused when empty, malformed, or on a process', () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ ...DOCKER, entrypoint: [] }, 'entrypoint', /leave entrypoint out to keep the image's/],
    [{ ...DOCKER, entrypoint: '  ' }, 'entrypoint', /leave entrypoint out/],
    [{ ...DOCKER, entrypoint: 5 }, 'entrypoint', /list of strings/],
    [{ ...DOCKER, entrypoint: ['a', 'b\u0000'] }, 'entrypoint[1]', /NUL/],
    [{ ...PROCESS, entrypoint: ['sh'] }, 'entrypoint', /is for containers \(driver: docker\): a process runs its command/],
  ]
  for (const [body, path, message] of cases) {
    const got = refused(body)
    assert.equal(got.paths, [path], JSON.stringify(body))
    assert.match(got.message, message)
  }
})

const User = suite('user')

User('a name or id, with a group or without; a number is read as an id', () => {
  for (const user of ['1000', '1000:1000', 'nobody', 'www-data:www-data', '_apt']) assert.is(valid({ ...DOCKER, user }).user, user)
  assert.is(valid({ ...DOCKER, user: 1000 }).user, '1000')
})

User('refused when not one, and on a process, naming the field', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...DOCKER, user: '' }, /user name or id/],
    [{ ...DOCKER, user: 'a b' }, /user name or id/],
    [{ ...DOCKER, user: '1000:1000:1000' }, /user name or id/],
    [{ ...DOCKER, user: -1 }, /user name or id/],
    [{ ...DOCKER, user: 'x'.repeat(257) }, /at most 256 characters/],
    [{ ...PROCESS, user: '1000' }, /is for containers \(driver: docker\): a process runs as the agent's user/],
  ]
  for (const [body, message] of cases) {
    const got = refused(body)
    assert.equal(got.paths, ['user'], JSON.stringify(body))
    assert.match(got.message, message)
  }
})

const Workdir = suite('workdir')

Workdir('an absolute path, for either driver', () => {
  assert.is(valid({ ...DOCKER, workdir: '/srv/app' }).workdir, '/srv/app')
  assert.is(valid({ ...PROCESS, workdir: '/' }).workdir, '/')
})

Workdir('a relative or unclean path is refused, naming the rule', () => {
  for (const workdir of ['srv', '', '/srv/', '/srv/../etc', '/srv/./app', '//srv', 5, null, `/${'x'.repeat(4096)}`]) {
    const got = refused({ ...PROCESS, workdir })
    assert.equal(got.paths, ['workdir'], JSON.stringify(workdir))
    assert.match(got.message, typeof workdir === 'string' && workdir.length > 4096 ? /at most 4096 characters/ : /absolute path such as \/var\/lib\/data/)
  }
})

const StopGrace = suite('stopGrace')

StopGrace('a duration from 0s to 1h, kept in ms, for either driver', () => {
  assert.is(valid({ ...DOCKER, stopGrace: '10s' }).stopGraceMs, 10_000)
  assert.is(valid({ ...PROCESS, stopGrace: 0 }).stopGraceMs, 0)
  assert.is(valid({ ...PROCESS, stopGrace: '1h' }).stopGraceMs, 3_600_000)
  assert.is(valid({ ...PROCESS, stopGrace: '5s' }).stopGraceMs, 5_000, 'written, it is kept even at the agent\'s default')
})

StopGrace('longer than an hour, or not a duration, is refused', () => {
  assert.equal(refused({ ...PROCESS, stopGrace: '61m' }), { paths: ['stopGrace'], message: 'expected a duration from 0s to 1h, not 61m' })
  assert.equal(refused({ ...PROCESS, stopGrace: 'soon' }).paths, ['stopGrace'])
  assert.equal(refused({ ...PROCESS, stopGraceMs: 1000 }).paths, ['stopGraceMs'], 'the stored name is not a written one')
})

// ---------------------------------------------------------------------------------------------------

const Written = suite('optional fields: written form')

Written('the written form names them as a user does and validates back to the same spec', () => {
  const spec = valid({
    ...DOCKER, entrypoint: 'tini --', user: '1000:1000', workdir: '/srv', stopGrace: '1m30s', capAdd: ['cap_net_admin'], capDrop: ['ALL'],
    mounts: [{ type: 'tmpfs', target: '/tmp' }, { type: 'bind', source: '/srv/site', target: '/usr/share/nginx/html', readOnly: true }],
    secrets: [{ name: 'prom', target: '/etc/prometheus/prometheus.yml' }, { name: 'tls', target: 'key.pem', version: 2 }],
  })
  const written = toWrittenForm(spec)
  assert.is(written.stopGrace, 90_000)
  assert.is('stopGraceMs' in written, false)
  assert.equal(written.mounts, [{ type: 'tmpfs', target: '/tmp' }, { type: 'bind', source: '/srv/site', target: '/usr/share/nginx/html', readOnly: true }])
  assert.equal(written.secrets, [{ name: 'prom', target: '/etc/prometheus/prometheus.yml' }, { name: 'tls', version: 2, target: 'key.pem' }])
  assert.equal(written.capAdd, ['NET_ADMIN'])
  const again = valid(JSON.parse(JSON.stringify(written)) as Record<string, unknown>)
  assert.is(canonicalJson(again), canonicalJson(spec))
})

Absent.run()
Hash.run()
Entrypoint.run()
User.run()
Workdir.run()
StopGrace.run()
Written.run()
