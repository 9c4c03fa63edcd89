// `mounts:` — what validation accepts and how it normalises it (sorted by target, source left empty
// for tmpfs, readOnly false unless written), every refusal with its path, and the written form.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { SPEC_LIMITS, toWrittenForm, validateService, type ServiceSpec, type SpecError } from '../../../core/index.js'

function validated(mounts: unknown, extra: Record<string, unknown> = {}): { spec?: ServiceSpec; errors: SpecError[] } {
  const errors: SpecError[] = []
  const spec = validateService('web', { name: 'web', image: 'app', mounts, ...extra }, '', errors)
  return { spec, errors }
}

const Accept = suite('mounts: accepted')

Accept('bind, volume and tmpfs mounts, sorted by target, with their defaults filled in', () => {
  const { spec, errors } = validated([
    { type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data' },
    { type: 'tmpfs', target: '/tmp' },
    { type: 'bind', source: '/srv/site', target: '/usr/share/nginx/html', readOnly: true },
  ])
  assert.equal(errors, [])
  assert.equal(spec!.mounts, [
    { type: 'tmpfs', source: '', target: '/tmp', readOnly: false },
    { type: 'bind', source: '/srv/site', target: '/usr/share/nginx/html', readOnly: true },
    { type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data', readOnly: false },
  ])
})

Accept('a mount inside another, and a target beside /run/secrets, are fine', () => {
  const { errors } = validated([{ type: 'volume', source: 'data', target: '/data' }, { type: 'tmpfs', target: '/data/cache' }, { type: 'tmpfs', target: '/run/secrets2' }])
  assert.equal(errors, [])
})

Accept('the written form leaves out an empty tmpfs source and a false readOnly, and reads back the same', () => {
  const { spec } = validated([{ type: 'tmpfs', target: '/tmp' }, { type: 'bind', source: '/srv', target: '/srv', readOnly: true }, { type: 'volume', source: 'v1', target: '/v', readOnly: false }])
  const written = toWrittenForm(spec!)
  assert.equal(written.mounts, [{ type: 'bind', source: '/srv', target: '/srv', readOnly: true }, { type: 'tmpfs', target: '/tmp' }, { type: 'volume', source: 'v1', target: '/v' }])
  assert.equal(validated(written.mounts).spec, spec)
})

const Refuse = suite('mounts: refused')

Refuse('each problem is named by the field it is in', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    ['/data', 'mounts', /list of \{ type, source, target, readOnly \}/],
    [['/srv:/data'], 'mounts[0]', /expected \{ type, source, target, readOnly \}/],
    [[{ type: 'nfs', source: 'x', target: '/x' }], 'mounts[0].type', /one of bind, volume, tmpfs/],
    [[{ source: '/x', target: '/x' }], 'mounts[0].type', /one of bind, volume, tmpfs/],
    [[{ type: 'bind', target: '/x' }], 'mounts[0].source', /needs the host path/],
    [[{ type: 'bind', source: './data', target: '/x' }], 'mounts[0].source', /absolute path/],
    [[{ type: 'bind', source: '/srv/', target: '/x' }], 'mounts[0].source', /absolute path/],
    [[{ type: 'volume', source: 'a', target: '/x' }], 'mounts[0].source', /volume name.*2 to 255 characters/],
    [[{ type: 'volume', source: '-data', target: '/x' }], 'mounts[0].source', /volume name/],
    [[{ type: 'volume', source: '/srv', target: '/x' }], 'mounts[0].source', /volume name/],
    [[{ type: 'volume', target: '/x' }], 'mounts[0].source', /volume name/],
    [[{ type: 'tmpfs', source: 'x', target: '/x' }], 'mounts[0].source', /tmpfs mount has no source/],
    [[{ type: 'tmpfs' }], 'mounts[0].target', /absolute path/],
    [[{ type: 'tmpfs', target: 'tmp' }], 'mounts[0].target', /absolute path/],
    [[{ type: 'tmpfs', target: '/' }], 'mounts[0].target', /root of the container/],
    [[{ type: 'tmpfs', target: '/run/secrets' }], 'mounts[0].target', /where the task's secrets are mounted/],
    [[{ type: 'tmpfs', target: '/run/secrets/x' }], 'mounts[0].target', /where the task's secrets are mounted/],
    [[{ type: 'tmpfs', target: '/x', readOnly: 'yes' }], 'mounts[0].readOnly', /true or false/],
    [[{ type: 'tmpfs', target: '/x', size: '64m' }], 'mounts[0].size', /unknown field; expected one of type, source, target, readOnly/],
    [[{ type: 'tmpfs', target: '/x' }, { type: 'volume', source: 'v1', target: '/x' }], 'mounts[1].target', /target of an earlier mount/],
    [Array.from({ length: SPEC_LIMITS.maxMounts + 1 }, (_, i) => ({ type: 'tmpfs', target: `/t${i}` })), 'mounts', /at most 64 mounts/],
  ]
  for (const [mounts, path, message] of cases) {
    const { spec, errors } = validated(mounts)
    assert.is(spec, undefined, JSON.stringify(mounts))
    assert.equal(errors.map((e) => e.path), [path], JSON.stringify(mounts))
    assert.match(errors[0]!.message, message)
  }
})

Refuse('a process has no mounts', () => {
  const errors: SpecError[] = []
  validateService('web', { name: 'web', command: 'run', mounts: [{ type: 'tmpfs', target: '/x' }] }, '', errors)
  assert.equal(errors, [{ path: 'mounts', message: 'is for containers (driver: docker): a process sees the host\'s file system as it is' }])
})

Refuse('a secret may not be mounted where a mount is', () => {
  const { errors } = validated([{ type: 'tmpfs', target: '/etc/app.yml' }], { secrets: [{ name: 'config', target: '/etc/app.yml' }] })
  assert.equal(errors.map((e) => e.path), ['secrets[0].target'])
  assert.match(errors[0]!.message, /is the target of a mount too/)
})

Accept.run()
Refuse.run()
