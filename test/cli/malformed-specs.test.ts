// Specs as a hostile or careless user writes them: a valid spec (test/core/service-spec/arbitraries.ts)
// with one field broken — a wrong type, a number out of range, an unknown field at any level, an
// overlong string, a bad key, a bad duration. validateServices must refuse each, and every error it
// gives must name the broken field (its path is that field or lies under it). A sample goes through
// the real `peer plan`: exit 2, one line per problem naming the file and the field, no stack trace.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { availableParallelism } from 'node:os'
import { DURATION_RANGES, RESOURCE_LIMITS, SPEC_LIMITS, toWrittenForm, validateServices, type SpecError } from '../../core/index.js'
import { specArb } from '../core/service-spec/arbitraries.js'
import { concurrencyLimit, runCli, suiteFolder } from './run-cli.js'

type Body = Record<string, unknown>
type Document = { services: Record<string, Body> } & Record<string, unknown>

/** One broken field: `apply` breaks it in a written spec and answers the path every error must name. */
interface Mutation {
  readonly what: string
  readonly apply: (document: Document, name: string) => string
}

/**
 * A field of the service, or of a policy / list item under it, set to `value`. The errors must name
 * that field — or, for a broken key (which paths show quoted), the map holding it: `reportedAt` levels up.
 */
function field(what: string, path: readonly (string | number)[], value: unknown, prepare?: (body: Body) => void, reportedAt = path.length): Mutation {
  return {
    what,
    apply: (document, name) => {
      const body = document.services[name]!
      prepare?.(body)
      let target: Record<string | number, unknown> = body
      for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>
      target[path.at(-1)!] = value
      return `services.${name}.${path.slice(0, reportedAt).map(String).join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')}`
    },
  }
}

const withHealthcheck = (body: Body): void => {
  if (body.healthcheck === null || typeof body.healthcheck !== 'object') body.healthcheck = { command: ['true'] }
}
const withConstraint = (body: Body): void => {
  body.constraints = [{ label: 'zone', op: '==', value: 'eu' }]
}
const withPort = (body: Body): void => {
  body.ports = [{ host: 8080, container: 80 }]
}
/** A docker service, for fields only a container has: a process spec refuses them at the field itself. */
const asContainer = (body: Body): void => {
  body.driver = 'docker'
  if (typeof body.image !== 'string' || body.image === '') body.image = 'app'
}
const withMount = (body: Body): void => {
  asContainer(body)
  // Its target must not be a secret's too.
  delete body.secrets
  body.mounts = [{ type: 'bind', source: '/srv/data', target: '/data' }]
}
const withSecret = (body: Body): void => {
  delete body.mounts
  body.secrets = [{ name: 'db', target: 'db.txt' }]
}

// --- the broken values --------------------------------------------------------------------------

const long = (length: number): string => 'x'.repeat(length)
const { maxCpuMilli, maxMemoryMiB, maxExtended } = RESOURCE_LIMITS
const NOT_A_MAP = fc.constantFrom<unknown>('text', 5, true, ['a'])
const NOT_A_WHOLE_NUMBER = fc.constantFrom<unknown>('3', true, [], {}, 1.5, null, -1)

const wrongType: fc.Arbitrary<Mutation> = fc.oneof(
  NOT_A_WHOLE_NUMBER.map((v) => field(`replicas: ${JSON.stringify(v)}`, ['replicas'], v)),
  NOT_A_WHOLE_NUMBER.map((v) => field(`maxPerNode: ${JSON.stringify(v)}`, ['maxPerNode'], v)),
  fc.constantFrom<unknown>(5, 'daemonset', []).map((v) => field(`mode: ${JSON.stringify(v)}`, ['mode'], v)),
  fc.constantFrom<unknown>(5, 'random', {}).map((v) => field(`strategy: ${JSON.stringify(v)}`, ['strategy'], v)),
  fc.constantFrom<unknown>('dokcer', 5, null).map((v) => field(`driver: ${JSON.stringify(v)}`, ['driver'], v)),
  fc.constantFrom<unknown>(5, [], {}, true).map((v) => field(`image: ${JSON.stringify(v)}`, ['image'], v)),
  fc.constantFrom<unknown>(5, { run: 'x' }, [[]], [null], true).map((v) => field(`command: ${JSON.stringify(v)}`, ['command'], v)),
  NOT_A_MAP.map((v) => field(`env: ${JSON.stringify(v)}`, ['env'], v === 'text' ? 5 : v)),
  fc.constantFrom<unknown>({ A: {} }, { A: [1] }, { A: null }).map((v) => field(`env: ${JSON.stringify(v)}`, ['env'], v)),
  NOT_A_MAP.map((v) => field(`labels: ${JSON.stringify(v)}`, ['labels'], v)),
  NOT_A_MAP.map((v) => field(`resources: ${JSON.stringify(v)}`, ['resources'], v)),
  fc.constantFrom<unknown>('lots', true, -1, {}).map((v) => field(`resources.cpu: ${JSON.stringify(v)}`, ['resources', 'cpu'], v)),
  fc.constantFrom<unknown>('lots', true, -5, [], '1Pi').map((v) => field(`resources.memory: ${JSON.stringify(v)}`, ['resources', 'memory'], v)),
  fc.constantFrom<unknown>('zone == eu', 5, {}).map((v) => field(`constraints: ${JSON.stringify(v)}`, ['constraints'], v)),
  fc.constantFrom<unknown>(5, [], null, true).map((v) => field(`constraints[0]: ${JSON.stringify(v)}`, ['constraints', 0], v, withConstraint)),
  fc.constantFrom<unknown>(5, 'eu', ['a', 5]).map((v) => field(`constraints[0].values: ${JSON.stringify(v)}`, ['constraints', 0, 'values'], v, (b) => {
    b.constraints = [{ label: 'zone', op: 'in' }]
  })),
  fc.constantFrom<unknown>(5, true, ['eu']).map((v) => field(`constraints[0].value: ${JSON.stringify(v)}`, ['constraints', 0, 'value'], v, withConstraint)),
  fc.constantFrom<unknown>('80', 5, {}).map((v) => field(`ports: ${JSON.stringify(v)}`, ['ports'], v)),
  fc.constantFrom<unknown>(true, 'abc', null, []).map((v) => field(`ports[0]: ${JSON.stringify(v)}`, ['ports', 0], v, withPort)),
  fc.constantFrom<unknown>('80', null, 1.5).map((v) => field(`ports[0].host: ${JSON.stringify(v)}`, ['ports', 0, 'host'], v, withPort)),
  fc.constantFrom<unknown>('curl', 5, []).map((v) => field(`healthcheck: ${JSON.stringify(v)}`, ['healthcheck'], v)),
  fc.constantFrom<unknown>(5, {}, [[]]).map((v) => field(`healthcheck.command: ${JSON.stringify(v)}`, ['healthcheck', 'command'], v, withHealthcheck)),
  fc.constantFrom<unknown>('3', 1.5, null).map((v) => field(`healthcheck.retries: ${JSON.stringify(v)}`, ['healthcheck', 'retries'], v, withHealthcheck)),
  fc.constantFrom<unknown>('always', 5, []).map((v) => field(`restart: ${JSON.stringify(v)}`, ['restart'], v)),
  fc.constantFrom<unknown>('sometimes', 5).map((v) => field(`restart.condition: ${JSON.stringify(v)}`, ['restart', 'condition'], v)),
  fc.constantFrom<unknown>('5', 1.5).map((v) => field(`restart.maxAttempts: ${JSON.stringify(v)}`, ['restart', 'maxAttempts'], v)),
  fc.constantFrom<unknown>('rolling', 5, []).map((v) => field(`update: ${JSON.stringify(v)}`, ['update'], v)),
  fc.constantFrom<unknown>('random', 5).map((v) => field(`update.order: ${JSON.stringify(v)}`, ['update', 'order'], v)),
  fc.constantFrom<unknown>('yes', 1, null).map((v) => field(`update.autoRollback: ${JSON.stringify(v)}`, ['update', 'autoRollback'], v)),
  fc.constantFrom<unknown>(5, ['zone'], {}).map((v) => field(`spreadBy: ${JSON.stringify(v)}`, ['spreadBy'], v)),
  fc.constantFrom<unknown>(5, {}, [[]], [null], true, '', [], null).map((v) => field(`entrypoint: ${JSON.stringify(v)}`, ['entrypoint'], v)),
  fc.constantFrom<unknown>(1.5, -1, {}, [], true, '', 'a b', 'a:b:c', null).map((v) => field(`user: ${JSON.stringify(v)}`, ['user'], v)),
  fc.constantFrom<unknown>(5, 'data', '', '/a/../b', '/a/', '//a', null, ['/a']).map((v) => field(`workdir: ${JSON.stringify(v)}`, ['workdir'], v)),
  fc.constantFrom<unknown>('/data', 5, {}, true).map((v) => field(`mounts: ${JSON.stringify(v)}`, ['mounts'], v)),
  fc.constantFrom<unknown>(5, 'bind', null, []).map((v) => field(`mounts[0]: ${JSON.stringify(v)}`, ['mounts', 0], v, withMount)),
  fc.constantFrom<unknown>('nfs', 5, null, 'BIND').map((v) => field(`mounts[0].type: ${JSON.stringify(v)}`, ['mounts', 0, 'type'], v, withMount)),
  fc.constantFrom<unknown>('srv/data', 5, '', '/srv/../data').map((v) => field(`mounts[0].source: ${JSON.stringify(v)}`, ['mounts', 0, 'source'], v, withMount)),
  fc.constantFrom<unknown>('/', '/run/secrets', '/run/secrets/x', 'data', 5, null).map((v) => field(`mounts[0].target: ${JSON.stringify(v)}`, ['mounts', 0, 'target'], v, withMount)),
  fc.constantFrom<unknown>('yes', 1, null).map((v) => field(`mounts[0].readOnly: ${JSON.stringify(v)}`, ['mounts', 0, 'readOnly'], v, withMount)),
  fc.constantFrom<unknown>('NET_ADMIN', 5, {}, true).map((v) => field(`capAdd: ${JSON.stringify(v)}`, ['capAdd'], v)),
  fc.constantFrom<unknown>('NET_ADMINN', 5, '', 'CAP_', null).map((v) => field(`capDrop[0]: ${JSON.stringify(v)}`, ['capDrop', 0], v, (b) => {
    asContainer(b)
    b.capDrop = ['CHOWN']
  })),
  fc.constantFrom<unknown>(5, null, ['x']).map((v) => field(`secrets[0]: { target: ${JSON.stringify(v)} }`, ['secrets', 0], { name: 'db', target: v }, withSecret)),
  fc.constantFrom<unknown>('', '../x', 'a/b', '/run/secrets/db', '/run/secrets', '/', '/a/./b').map((v) => field(`secrets[0].target: ${JSON.stringify(v)}`, ['secrets', 0, 'target'], v, withSecret)),
)

const outOfRange: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(-1, SPEC_LIMITS.maxReplicas + 1, 1e308).map((v) => field(`replicas: ${v}`, ['replicas'], v)),
  fc.constantFrom(-1, SPEC_LIMITS.maxReplicas + 1).map((v) => field(`maxPerNode: ${v}`, ['maxPerNode'], v)),
  fc.constantFrom<unknown>(maxMemoryMiB + 1, 1e308, '1025Ti').map((v) => field(`resources.memory: ${JSON.stringify(v)}`, ['resources', 'memory'], v)),
  fc.constantFrom<unknown>(`${maxCpuMilli + 1}m`, 1e308, `1${'0'.repeat(30)}m`).map((v) => field(`resources.cpu: ${JSON.stringify(v)}`, ['resources', 'cpu'], v)),
  fc.constantFrom(maxExtended + 1, 1e30, -1, 0.5).map((v) => field(`resources.disk: ${v}`, ['resources', 'disk'], v)),
  fc.constantFrom<unknown>('70000:80', '0:80', 65_536).map((v) => field(`ports[0]: ${JSON.stringify(v)}`, ['ports', 0], v, withPort)),
  fc.constantFrom(0, 65_536).map((v) => field(`ports[0].host: ${v}`, ['ports', 0, 'host'], v, withPort)),
  fc.constantFrom(0, SPEC_LIMITS.maxHealthcheckRetries + 1).map((v) => field(`healthcheck.retries: ${v}`, ['healthcheck', 'retries'], v, withHealthcheck)),
  fc.constantFrom(-1, 1_000_001).map((v) => field(`restart.maxAttempts: ${v}`, ['restart', 'maxAttempts'], v)),
  fc.constantFrom(0, SPEC_LIMITS.maxReplicas + 1).map((v) => field(`update.parallelism: ${v}`, ['update', 'parallelism'], v)),
  fc.integer({ min: 1, max: 10 }).map((n) => field(`${SPEC_LIMITS.maxMounts + n} mounts`, ['mounts'], Array.from({ length: SPEC_LIMITS.maxMounts + n }, (_, i) => ({ type: 'tmpfs', target: `/t${i}` })), withMount)),
  fc.integer({ min: 1, max: 10 }).map((n) => field(`${SPEC_LIMITS.maxCapabilities + n} capabilities`, ['capAdd'], Array.from({ length: SPEC_LIMITS.maxCapabilities + n }, () => 'NET_ADMIN'), asContainer)),
)

/** Field names no level has: typos and strangers. */
const unknownName = fc.oneof(
  fc.constantFrom('replica', 'bogus', 'intervall', 'timeOut', 'extra', 'Image', 'networks', 'build'),
  fc.stringMatching(/^[a-z][a-zA-Z]{0,10}[A-Z]$/),
)
const fieldsOf = {
  service: [
    'name', 'driver', 'image', 'command', 'env', 'mode', 'replicas', 'resources', 'constraints', 'maxPerNode', 'strategy', 'spreadBy', 'ports',
    'healthcheck', 'restart', 'update', 'labels', 'secrets', 'entrypoint', 'user', 'workdir', 'mounts', 'capAdd', 'capDrop', 'stopGrace',
  ],
  healthcheck: ['command', 'interval', 'timeout', 'retries', 'startPeriod'],
  restart: ['condition', 'delay', 'maxDelay', 'maxAttempts', 'window'],
  update: ['parallelism', 'delay', 'order', 'autoRollback', 'healthDeadline'],
}
const unknownField: fc.Arbitrary<Mutation> = fc.oneof(
  unknownName.filter((k) => k !== 'services' && k !== 'version').map((key): Mutation => ({
    what: `a top-level field ${key}`,
    apply: (document) => {
      document[key] = 1
      return key
    },
  })),
  unknownName.filter((k) => !fieldsOf.service.includes(k)).map((k) => field(`a service field ${k}`, [k], 1)),
  unknownName.filter((k) => !fieldsOf.healthcheck.includes(k)).map((k) => field(`healthcheck.${k}`, ['healthcheck', k], 1, withHealthcheck)),
  unknownName.filter((k) => !fieldsOf.restart.includes(k)).map((k) => field(`restart.${k}`, ['restart', k], '1s')),
  unknownName.filter((k) => !fieldsOf.update.includes(k)).map((k) => field(`update.${k}`, ['update', k], true)),
  unknownName.map((k) => field(`constraints[0].${k}`, ['constraints', 0, k], 'x', withConstraint)),
  unknownName.map((k) => field(`ports[0].${k}`, ['ports', 0, k], 'x', withPort)),
  unknownName.filter((k) => !['type', 'source', 'target', 'readOnly'].includes(k)).map((k) => field(`mounts[0].${k}`, ['mounts', 0, k], 'x', withMount)),
  // In resources any lowercase name is an extended resource; these are not names.
  fc.constantFrom('GPU', 'Disk', '1gpu', 'nvidia gpu').map((k) => field(`resources.${k}`, ['resources', k], 1, undefined, 1)),
)

const overlong: fc.Arbitrary<Mutation> = fc.oneof(
  fc.integer({ min: 1, max: 100_000 }).map((n) => field(`a ${SPEC_LIMITS.maxImageLength + n}-character image`, ['image'], long(SPEC_LIMITS.maxImageLength + n))),
  fc.integer({ min: 1, max: 100_000 }).map((n) => field(`a ${SPEC_LIMITS.maxStringLength + n}-character env value`, ['env', 'LONG'], long(SPEC_LIMITS.maxStringLength + n))),
  fc.integer({ min: 1, max: 1000 }).map((n) => field(`a ${SPEC_LIMITS.maxKeyLength + n}-character env name`, ['env', `E${long(SPEC_LIMITS.maxKeyLength + n - 1)}`], '1', undefined, 1)),
  fc.integer({ min: 1, max: 100_000 }).map((n) => field(`a ${SPEC_LIMITS.maxStringLength + n}-character label value`, ['labels', 'tier'], long(SPEC_LIMITS.maxStringLength + n))),
  fc.integer({ min: 1, max: 1000 }).map((n) => field(`a ${SPEC_LIMITS.maxKeyLength + n}-character label key`, ['labels', long(SPEC_LIMITS.maxKeyLength + n)], 'x', undefined, 1)),
  fc.integer({ min: 1, max: 100_000 }).map((n) => field(`a ${SPEC_LIMITS.maxStringLength + n}-character command argument`, ['command'], ['run', long(SPEC_LIMITS.maxStringLength + n)])),
  fc.integer({ min: 1, max: 100_000 }).map((n) => field(`a ${SPEC_LIMITS.maxStringLength + n}-character healthcheck argument`, ['healthcheck', 'command'], ['check', long(SPEC_LIMITS.maxStringLength + n)], withHealthcheck)),
  fc.integer({ min: 1, max: 1000 }).map((n) => field(`a ${SPEC_LIMITS.maxKeyLength + n}-character spreadBy`, ['spreadBy'], long(SPEC_LIMITS.maxKeyLength + n))),
  fc.integer({ min: 1, max: 1000 }).map((n) => field(`a ${SPEC_LIMITS.maxPathLength + n}-character workdir`, ['workdir'], `/${long(SPEC_LIMITS.maxPathLength + n - 1)}`)),
  fc.integer({ min: 1, max: 1000 }).map((n) => field(`a ${SPEC_LIMITS.maxPathLength + n}-character mount target`, ['mounts', 0, 'target'], `/${long(SPEC_LIMITS.maxPathLength + n - 1)}`, withMount)),
  fc.integer({ min: 1, max: 1000 }).map((n) => field(`a ${SPEC_LIMITS.maxUserLength + n}-character user`, ['user'], long(SPEC_LIMITS.maxUserLength + n), asContainer)),
  fc.integer({ min: 1, max: 100_000 }).map((n) => field(`a ${SPEC_LIMITS.maxConstraintValueLength + n}-character constraint value`, ['constraints', 0], `zone == ${long(SPEC_LIMITS.maxConstraintValueLength + n)}`, withConstraint)),
  fc.integer({ min: 1, max: 100_000 }).map((n) => field(`a ${SPEC_LIMITS.maxConstraintValueLength + n}-character constraint pattern`, ['constraints', 0, 'value'], long(SPEC_LIMITS.maxConstraintValueLength + n), (b) => {
    b.constraints = [{ label: 'host', op: 'matches', value: '.' }]
  })),
)

const badKey: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom('A B', '1A', '', 'A=B', 'A/B', 'Ä', 'A\nB', '__proto__').map((k) => field(`env name ${JSON.stringify(k)}`, ['env'], JSON.parse(`{${JSON.stringify(k)}: "1"}`))),
  fc.constantFrom('A B=1', '1A=1', '=1').map((entry) => field(`env entry ${JSON.stringify(entry)}`, ['env'], [entry])),
  fc.constantFrom('', ' a', 'a!', 'a b', '-a', '_a', 'a\nb', 'a'.repeat(254)).map((k) => field(`label key ${JSON.stringify(k)}`, ['labels'], { [k]: 'x' })),
  fc.constantFrom(' zone', 'zone!', 'a b', '-x', '_x', 'zone\n').map((k) => field(`spreadBy ${JSON.stringify(k)}`, ['spreadBy'], k)),
  fc.constantFrom('!zone', 'a b', '', 'zo ne').map((k) => field(`constraint label ${JSON.stringify(k)}`, ['constraints', 0, 'label'], k, withConstraint)),
  fc.constantFrom('zone ===', 'zone !== eu', 'zone == a, arch == b', 'zone = eu', 'zone ~ eu').map((c) => field(`constraint ${JSON.stringify(c)}`, ['constraints', 0], c, withConstraint)),
)

const durationFields = Object.entries(DURATION_RANGES).flatMap(([policy, fields]) => Object.entries(fields).map(([name, range]) => ({ policy, name, range })))
const badDuration: fc.Arbitrary<Mutation> = fc.constantFrom(...durationFields).chain(({ policy, name, range }) => {
  const outside: unknown[] = ['99999999h', 1e308, range.maxMs + 1, `${range.maxMs / 3_600_000 + 1}h`, 'soon', '10', -5, '1d', '', null, true]
  if (range.minMs > 0) outside.push(range.minMs - 1, `${range.minMs - 1}ms`)
  // `service` holds the durations written at the service's top level (stopGrace).
  const path = policy === 'service' ? [name] : [policy, name]
  return fc.constantFrom(...outside).map((v) => field(`${path.join('.')}: ${JSON.stringify(v)}`, path, v, policy === 'healthcheck' ? withHealthcheck : undefined))
})

const mutationArb = fc.oneof(wrongType, outOfRange, unknownField, overlong, badKey, badDuration)

/** A valid spec in the form a user writes, under its name, with one field broken. */
const brokenArb = fc.tuple(specArb, mutationArb).map(([spec, mutation]) => {
  const body = structuredClone(toWrittenForm(spec)) as Body
  const document: Document = { services: { [spec.name]: body } }
  const path = mutation.apply(document, spec.name)
  return { document, path, what: mutation.what }
})

/** `path` is `field`, or lies under it. */
const under = (path: string, fieldPath: string): boolean =>
  path === fieldPath || path.startsWith(`${fieldPath}.`) || path.startsWith(`${fieldPath}[`)

function errorsOf(document: unknown): SpecError[] {
  const result = validateServices(document)
  return result.ok ? [] : result.errors
}

// --- validation ---------------------------------------------------------------------------------

const validation = suite('malformed specs: validateServices')

validation('refuses every broken spec, and every error names the broken field, on one short line', () => {
  fc.assert(fc.property(brokenArb, ({ document, path, what }) => {
    const errors = errorsOf(document)
    assert.ok(errors.length > 0, `${what} was accepted`)
    for (const error of errors) {
      assert.ok(under(error.path, path), `${what}: error at ${error.path}, not under ${path}: ${error.message}`)
      assert.ok(error.message.length > 10, `${what}: ${JSON.stringify(error)}`)
      assert.ok(error.path.length + error.message.length < 400, `${what}: ${error.path.slice(0, 200)}: ${error.message.slice(0, 200)}`)
      assert.not.match(`${error.path} ${error.message}`, /[\n\r\u2028\u2029]/, what)
    }
  }), { numRuns: 2000 })
})

validation('the same broken spec, sent through JSON as a file would be, gives the same errors', () => {
  fc.assert(fc.property(brokenArb, ({ document, what }) => {
    assert.equal(errorsOf(JSON.parse(JSON.stringify(document))), errorsOf(document), what)
  }), { numRuns: 300 })
})

validation.run()

// --- the real CLI -------------------------------------------------------------------------------

const cli = suite('malformed specs: peer plan')
const { write } = suiteFolder(cli, 'peer-malformed-')

/** JSON in ASCII: every other character escaped, so the file reads back exactly, whatever it holds. */
const asciiJson = (value: unknown): string =>
  JSON.stringify(value, null, 1).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

const SAMPLE = 20
const seed = Date.now() ^ (Math.random() * 0x7fffffff)

cli(`${SAMPLE} broken specs: exit 2, one line per problem naming the file and the field, no stack trace (seed ${seed})`, async () => {
  const limited = concurrencyLimit(Math.min(6, Math.max(2, availableParallelism())))
  const cases = fc.sample(brokenArb, { numRuns: SAMPLE, seed })
  await Promise.all(cases.map(async ({ document, path, what }, i) => {
    const file = write(`broken-${i}.json`, asciiJson(document))
    const expected = errorsOf(JSON.parse(JSON.stringify(document)))
    const result = await limited(() => runCli(['plan', '-f', file, '--inventory', 'examples/inventory.yaml']))
    const context = `${what} (seed ${seed}, case ${i}):\n${result.stderr.slice(0, 2000)}`
    assert.is(result.code, 2, context)
    assert.is(result.stdout, '', context)
    const lines = result.stderr.trimEnd().split('\n')
    assert.is(lines.length, expected.length, context)
    lines.forEach((line, n) => {
      const shown = n === 0 ? line.replace(/^peer: /, '') : line
      assert.ok(shown.startsWith(`${file}: ${path}`), `line ${n + 1} does not name ${file}: ${path}; ${context}`)
      assert.is(shown, `${file}: ${expected[n]!.path}: ${expected[n]!.message}`, context)
    })
    assert.not.match(result.stderr, /^\s+at |internal error|Error:/m, context)
  }))
})

cli.run()
