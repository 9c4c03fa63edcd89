// The written form is the inverse of validation: for any valid spec, validating what toWrittenForm
// gives back yields the same spec, field for field, defaults and all. The generator below builds
// valid specs directly from the model (types.ts) within the limits validate.ts enforces, over every
// field and the whole range each may take.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {
  CONSTRAINT_OPS, MODES, RESTART_CONDITIONS, SECRET_LIMITS, SECRET_NAME_PATTERN, SPEC_LIMITS, STRATEGIES, UPDATE_ORDERS, canonicalJson,
  toWrittenForm, validateService,
  type Constraint, type ConstraintOp, type HealthcheckSpec, type PortSpec, type Resources, type RestartPolicy, type ServiceName,
  type ServiceSpec, type SpecError, type UpdatePolicy,
} from '../../../core/index.js'
import { SERVICE_NAME_PATTERN } from '../../../core/placement/ids.js'

/** fc.record with ordinary prototypes, as parsed documents have. */
const objectOf = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true })

/** Any text, including control characters, quotes, '=', spaces and lone surrogates. */
const textArb = fc.string({ unit: 'binary', maxLength: 16 })
const nonEmptyTextArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 16 })
/** Validation reads maps by assignment, which drops a "__proto__" key: no valid spec holds one. */
const keyArb = textArb.filter((key) => key !== '__proto__')
const mapArb = fc.dictionary(keyArb, textArb, { maxKeys: 4, noNullPrototype: true })

/**
 * Every whole number validation can produce for an unbounded quantity (millicores, MiB, ms, counts):
 * small ones, the safe integers, and the larger doubles (all whole) up to the largest finite one.
 */
const wholeArb = fc.oneof(fc.nat(10_000), fc.maxSafeNat(), fc.double({ min: 2 ** 53, max: Number.MAX_VALUE, noNaN: true }))
const positiveWholeArb = wholeArb.map((n) => Math.max(1, n))
const boundedArb = (min: number, max: number) => fc.integer({ min, max })

const resourcesArb: fc.Arbitrary<Resources> = objectOf({
  cpuMilli: wholeArb,
  memoryMiB: wholeArb,
  // Extended resources are lowercase names other than cpu and memory, with counts above zero.
  extended: fc.dictionary(
    fc.stringMatching(/^[a-z][a-z0-9_.-]{0,62}$/).filter((name) => name !== 'cpu' && name !== 'memory'),
    positiveWholeArb,
    { maxKeys: 3, noNullPrototype: true },
  ),
})

const labelKeyArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,30}$/)
const regexArb = fc.oneof(
  fc.constantFrom('^edge-', 'a|b', '[0-9]+$', '(x)?y*', '.'),
  nonEmptyTextArb.filter((source) => {
    try {
      new RegExp(source)
      return true
    } catch {
      return false
    }
  }),
)
const valuesArb = (op: ConstraintOp): fc.Arbitrary<string[]> => {
  switch (op) {
    case 'exists':
      return fc.constant([])
    case '==':
    case '!=':
      return fc.tuple(nonEmptyTextArb)
    case 'matches':
      return fc.tuple(regexArb)
    case 'in':
    case 'notin':
      return fc.array(textArb, { minLength: 1, maxLength: 4 })
  }
}
const constraintArb: fc.Arbitrary<Constraint> = fc.constantFrom(...CONSTRAINT_OPS).chain((op) =>
  objectOf({ label: labelKeyArb, op: fc.constant(op), values: valuesArb(op) }))

const portArb: fc.Arbitrary<PortSpec> = objectOf({
  host: boundedArb(1, 65_535),
  container: boundedArb(1, 65_535),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const),
})

const commandArb = fc.array(textArb, { minLength: 1, maxLength: 4 })

const healthcheckArb: fc.Arbitrary<HealthcheckSpec> = objectOf({
  command: commandArb,
  intervalMs: positiveWholeArb,
  timeoutMs: positiveWholeArb,
  retries: boundedArb(1, 100),
  startPeriodMs: wholeArb,
})

const restartArb: fc.Arbitrary<RestartPolicy> = fc.tuple(wholeArb, wholeArb).chain(([a, b]) => objectOf({
  condition: fc.constantFrom(...RESTART_CONDITIONS),
  delayMs: fc.constant(Math.min(a, b)),
  maxDelayMs: fc.constant(Math.max(a, b)),
  maxAttempts: boundedArb(0, 1_000_000),
  windowMs: wholeArb,
}))

const updateArb: fc.Arbitrary<UpdatePolicy> = objectOf({
  parallelism: boundedArb(1, SPEC_LIMITS.maxReplicas),
  delayMs: wholeArb,
  order: fc.constantFrom(...UPDATE_ORDERS),
  autoRollback: fc.boolean(),
  healthDeadlineMs: wholeArb,
})

/**
 * Secrets: absent (never empty), or distinct names sorted by name, each at version 0 (as written) or
 * resolved to a version, as the cluster shows a spec.
 */
const secretsArb = fc.option(
  fc.uniqueArray(objectOf({ name: fc.stringMatching(SECRET_NAME_PATTERN), version: fc.oneof(fc.constant(0), fc.maxSafeNat()) }), {
    minLength: 1, maxLength: Math.min(4, SECRET_LIMITS.perService), selector: (ref) => ref.name,
  }).map((refs) => refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))),
  { nil: undefined },
)

/** The driver decides what image and command may be: docker needs an image, process a command and no image. */
const runArb = fc.oneof(
  objectOf({ driver: fc.constant('docker' as const), image: nonEmptyTextArb, command: fc.array(textArb, { maxLength: 4 }) }),
  objectOf({ driver: fc.constant('process' as const), image: fc.constant(''), command: commandArb }),
)

const specArb: fc.Arbitrary<ServiceSpec> = fc.tuple(runArb, objectOf({
  name: fc.stringMatching(SERVICE_NAME_PATTERN).map((name) => name as ServiceName),
  env: mapArb,
  mode: fc.constantFrom(...MODES),
  replicas: boundedArb(0, SPEC_LIMITS.maxReplicas),
  resources: resourcesArb,
  constraints: fc.array(constraintArb, { maxLength: 4 }),
  maxPerNode: boundedArb(0, SPEC_LIMITS.maxReplicas),
  strategy: fc.constantFrom(...STRATEGIES),
  spreadBy: textArb,
  // Two ports may not bind the same host port and protocol.
  ports: fc.uniqueArray(portArb, { maxLength: 4, selector: (port) => `${port.host}/${port.protocol}` }),
  healthcheck: fc.option(healthcheckArb, { nil: null }),
  restart: restartArb,
  update: updateArb,
  labels: mapArb,
}), secretsArb).map(([run, rest, secrets]) => ({ ...rest, ...run, ...(secrets === undefined ? {} : { secrets }) }))

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

WrittenForm('millicores of 1e21 and more are written in full digits, which validation reads back', () => {
  // `${1e21}m` is "1e+21m", which is not a cpu quantity: found by the round-trip property above.
  const { spec } = validated({ name: 'web', image: 'nginx', resources: { cpu: '1000000000000000000000m' } })
  assert.is(spec!.resources.cpuMilli, 1e21)
  assert.equal(toWrittenForm(spec!).resources, { cpu: '1000000000000000000000m', memory: 64 })
  assert.is(validated(toWrittenForm(spec!)).spec!.resources.cpuMilli, 1e21)
})

WrittenForm.run()
