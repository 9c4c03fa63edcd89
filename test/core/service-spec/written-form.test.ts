// The written form is the inverse of validation: for any valid spec, validating what toWrittenForm
// gives back yields the same spec, field for field, defaults and all. The specs come from
// arbitraries.ts: built from the model within the limits validation enforces (limits.ts), over every
// field and the whole range each may take.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { RESOURCE_LIMITS, canonicalJson, toWrittenForm, validateService, type ServiceSpec, type SpecError } from '../../../core/index.js'
import { specArb } from './arbitraries.js'

function validated(written: Record<string, unknown>): { spec?: ServiceSpec; errors: SpecError[] } {
  const errors: SpecError[] = []
  const spec = validateService(written.name, written, '', errors)
  return { spec, errors }
}

const WrittenForm = suite('toWrittenForm')

WrittenForm('validating the written form of any valid spec gives the same spec back', () => {
  fc.assert(fc.property(specArb, (spec) => {
    const { spec: again, errors } = validated(toWrittenForm(spec))
    assert.equal(errors, [])
    assert.is(canonicalJson(again), canonicalJson(spec))
  }), { numRuns: 500 })
})

WrittenForm('the written form is plain data: it survives JSON as a document would', () => {
  fc.assert(fc.property(specArb, (spec) => {
    const { spec: again, errors } = validated(JSON.parse(JSON.stringify(toWrittenForm(spec))) as Record<string, unknown>)
    assert.equal(errors, [])
    assert.is(canonicalJson(again), canonicalJson(spec))
  }), { numRuns: 200 })
})

WrittenForm('durations, cpu and nested policies take the names a user writes', () => {
  const { spec } = validated({ name: 'web', image: 'nginx', resources: { cpu: '250m', memory: '1Gi', gpu: 1 }, healthcheck: { command: 'true' } })
  const written = toWrittenForm(spec!)
  assert.equal(written.resources, { gpu: 1, cpu: '250m', memory: 1024 })
  assert.equal(written.healthcheck, { command: ['true'], interval: 10_000, timeout: 5_000, retries: 3, startPeriod: 0 })
  assert.equal(Object.keys(written.restart as object), ['condition', 'delay', 'maxDelay', 'maxAttempts', 'window'])
  assert.equal(Object.keys(written.update as object), ['parallelism', 'delay', 'order', 'autoRollback', 'healthDeadline'])
})

WrittenForm('the largest cpu and memory a spec may ask for round-trip; one unit more is refused', () => {
  const { maxCpuMilli, maxMemoryMiB } = RESOURCE_LIMITS
  const { spec } = validated({ name: 'web', image: 'nginx', resources: { cpu: `${maxCpuMilli}m`, memory: maxMemoryMiB } })
  assert.equal(toWrittenForm(spec!).resources, { cpu: `${maxCpuMilli}m`, memory: maxMemoryMiB })
  assert.equal(validated(toWrittenForm(spec!)).spec, spec)
  assert.equal(validated({ ...toWrittenForm(spec!), resources: { cpu: `${maxCpuMilli + 1}m`, memory: maxMemoryMiB } }).errors.map((e) => e.path), ['resources.cpu'])
  assert.equal(validated({ ...toWrittenForm(spec!), resources: { cpu: `${maxCpuMilli}m`, memory: maxMemoryMiB + 1 } }).errors.map((e) => e.path), ['resources.memory'])
})

WrittenForm.run()
