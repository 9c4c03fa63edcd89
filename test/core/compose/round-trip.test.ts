// Two properties of the translation as a whole:
//   - a native spec written as a compose service (toCompose) and translated back validates to the
//     same spec, with no warnings: everything peer can say has a compose (or x-peer) spelling;
//   - translation never throws, whatever the document: a bad file gives errors, not a crash.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { canonicalJson, composeDeclarations, toCompose, translateCompose, validateServices, type ServiceSpec } from '../../../core/index.js'
import { specArb } from '../service-spec/arbitraries.js'

const options = { environment: {}, profiles: [], readText: () => undefined }

/** The spec as a compose file: the service, and the volumes and secrets it refers to, declared. */
const composeFile = (spec: ServiceSpec) => ({ services: { [spec.name]: toCompose(spec) }, ...composeDeclarations([spec]) })

const RoundTrip = suite('toCompose then translateCompose')

RoundTrip('gives back any valid spec, with no warnings', () => {
  fc.assert(fc.property(specArb, (spec) => {
    const result = translateCompose([{ file: 'compose.yaml', directory: '/project', document: composeFile(spec) }], options)
    if (!result.ok) assert.unreachable(`translation failed: ${JSON.stringify(result.errors)}`)
    else {
      assert.equal(result.warnings, [])
      const validated = validateServices(result.services)
      if (!validated.ok) assert.unreachable(`validation failed: ${JSON.stringify(validated.errors)} for ${JSON.stringify(result.services)}`)
      else assert.is(canonicalJson(validated.services[0]), canonicalJson(spec))
    }
  }), { numRuns: 500 })
})

RoundTrip('survives JSON, as a file written out and read back would', () => {
  fc.assert(fc.property(specArb, (spec) => {
    const document = JSON.parse(JSON.stringify(composeFile(spec))) as unknown
    const result = translateCompose([{ file: 'compose.yaml', directory: '/project', document }], options)
    assert.ok(result.ok)
    if (result.ok) {
      assert.equal(result.warnings, [])
      const validated = validateServices(result.services)
      assert.ok(validated.ok)
      if (validated.ok) assert.is(canonicalJson(validated.services[0]), canonicalJson(spec))
    }
  }), { numRuns: 500 })
})

const Robust = suite('translateCompose on any input')

/** JSON-ish values, biased toward compose's own field names so the mappers, not just the top, are reached. */
const fieldNames = fc.constantFrom(
  'services', 'version', 'volumes', 'secrets', 'configs', 'networks', 'image', 'command', 'environment', 'deploy', 'ports',
  'healthcheck', 'resources', 'limits', 'reservations', 'cpus', 'memory', 'placement', 'constraints', 'labels', 'restart',
  'restart_policy', 'update_config', 'volumes', 'env_file', 'extends', 'profiles', 'x-peer', 'test', 'target', 'published',
  'mode', 'replicas', 'file', 'external', 'source', 'type', 'tmpfs', 'cap_add', 'user', 'working_dir', 'stop_grace_period',
)
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('${A}', '$$', '${B:?no}', '80:80', '512M', '0.5', '10s', 'a=b', '/x', './y:/z'))
const { value: composeish } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.oneof(fieldNames, fc.string({ maxLength: 6 })), tie('value'), { maxKeys: 5 })),
}))

Robust('never throws, for any JSON-ish document and options', () => {
  fc.assert(fc.property(composeish, fc.array(composeish, { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 4 })), (first, more, environment) => {
    const sources = [first, ...more].map((document, i) => ({ file: `f${i}.yaml`, directory: '/p', document }))
    const result = translateCompose(sources, { environment, profiles: ['a'], readText: () => 'A=1\n' })
    assert.ok(result.ok ? Array.isArray(result.services) : result.errors.length > 0)
  }), { numRuns: 2000 })
})

Robust('never throws for documents shaped like compose files with random values', () => {
  const service = fc.dictionary(fieldNames, composeish, { maxKeys: 8 })
  fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 5 }), service, { maxKeys: 3 }), composeish, (services, volumes) => {
    const result = translateCompose([{ file: 'c.yaml', directory: '/p', document: { services, volumes } }], { environment: { A: '1' }, profiles: [], readText: () => undefined })
    assert.ok(result.ok || result.errors.length > 0)
  }), { numRuns: 2000 })
})

Robust('a document nested beyond reason is an error, not a stack overflow', () => {
  let deep: unknown = 'x'
  for (let i = 0; i < 100_000; i++) deep = [deep]
  const result = translateCompose([{ file: 'c.yaml', directory: '/p', document: { services: { web: { image: 'a', command: deep } } } }], options)
  assert.not.ok(result.ok)
  if (!result.ok) assert.ok(result.errors.some((error) => error.message.includes('nested deeper than 64 levels')))
})

RoundTrip.run()
Robust.run()
