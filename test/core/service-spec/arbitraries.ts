// Valid specs, built directly from the model (types.ts) within the limits validation enforces
// (limits.ts), over every field and the whole range each may take. The written-form property uses
// them as they are; test/cli/malformed-specs.test.ts breaks them one field at a time.

import fc from 'fast-check'
import {
  ALL_CAPABILITIES, CONSTRAINT_OPS, CONTAINER_SECRETS_DIR, DURATION_RANGES, LINUX_CAPABILITIES, MODES, PARTITION_POLICIES, RESOURCE_LIMITS, RESTART_CONDITIONS,
  SECRET_LIMITS, SECRET_NAME_PATTERN, secretFileName, SPEC_LIMITS, STRATEGIES, UPDATE_ORDERS, VOLUME_NAME_PATTERN,
  type Constraint, type ConstraintOp, type DurationRange, type HealthcheckSpec, type MountSpec, type PortSpec, type Resources,
  type RestartPolicy, type SecretRef, type ServiceName, type ServiceSpec, type UpdatePolicy,
  TASK_PORT_RANGE,
} from '../../../core/index.js'
import { SERVICE_NAME_PATTERN } from '../../../core/placement/ids.js'
import { compileLabelPattern } from '../../../core/service-spec/label-pattern.js'

/** fc.record with ordinary prototypes, as parsed documents have. */
const objectOf = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true })

/** Any text, including control characters, quotes, '=', spaces and lone surrogates. */
const anyTextArb = fc.string({ unit: 'binary', maxLength: 16 })
const nonEmptyAnyTextArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 16 })
/** Text a command line, an environment or a container label can carry: anything but NUL. */
export const textArb = anyTextArb.filter((text) => !text.includes('\u0000'))
const nonEmptyTextArb = nonEmptyAnyTextArb.filter((text) => !text.includes('\u0000'))

/** Validation refuses "__proto__", which assignment to a plain object would drop. */
export const envNameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/).filter((key) => key !== '__proto__')
export const labelKeyArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,30}$/)
const mapArb = (keys: fc.Arbitrary<string>) => fc.dictionary(keys, textArb, { maxKeys: 4, noNullPrototype: true })

/** Every value of a range, its ends most of all. */
const boundedArb = (min: number, max: number) => fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }))
const durationArb = (range: DurationRange) => boundedArb(range.minMs, range.maxMs)

const resourcesArb: fc.Arbitrary<Resources> = objectOf({
  cpuMilli: boundedArb(0, RESOURCE_LIMITS.maxCpuMilli),
  memoryMiB: boundedArb(0, RESOURCE_LIMITS.maxMemoryMiB),
  // Extended resources are lowercase names other than cpu and memory, with counts above zero.
  extended: fc.dictionary(
    fc.stringMatching(/^[a-z][a-z0-9_.-]{0,62}$/).filter((name) => name !== 'cpu' && name !== 'memory'),
    boundedArb(1, RESOURCE_LIMITS.maxExtended),
    { maxKeys: 3, noNullPrototype: true },
  ),
})

const regexArb = fc.oneof(
  fc.constantFrom('^edge-', 'a|b', '[0-9]+$', '(x)?y*', '.'),
  // Only the patterns validation accepts (label-pattern.ts: a safe subset of JavaScript's, stricter
  // than `new RegExp`, e.g. "$" only at the end): any other is a broken spec, not a valid one.
  nonEmptyAnyTextArb.filter((source) => compileLabelPattern(source).ok),
)
const valuesArb = (op: ConstraintOp): fc.Arbitrary<string[]> => {
  switch (op) {
    case 'exists':
      return fc.constant([])
    case '==':
    case '!=':
      return fc.tuple(nonEmptyAnyTextArb)
    case 'matches':
      return fc.tuple(regexArb)
    case 'in':
    case 'notin':
      return fc.array(anyTextArb, { minLength: 1, maxLength: 4 })
  }
}
const constraintArb: fc.Arbitrary<Constraint> = fc.constantFrom(...CONSTRAINT_OPS).chain((op) =>
  objectOf({ label: labelKeyArb, op: fc.constant(op), values: valuesArb(op) }))

const protocolArb = fc.constantFrom('tcp' as const, 'udp' as const)
const portArb: fc.Arbitrary<PortSpec> = fc.oneof(
  objectOf({ host: boundedArb(1, 65_535), container: boundedArb(1, 65_535), protocol: protocolArb }),
  // Ingress: published on every peer (outside the range peers give tasks) or nowhere (0).
  objectOf({
    host: fc.oneof(fc.constant(0), boundedArb(1, TASK_PORT_RANGE.first - 1), boundedArb(TASK_PORT_RANGE.last + 1, 65_535)),
    container: boundedArb(1, 65_535),
    protocol: protocolArb,
    mode: fc.constant('ingress' as const),
  }),
)

const commandArb = fc.array(textArb, { minLength: 1, maxLength: 4 })

const healthcheckArb: fc.Arbitrary<HealthcheckSpec> = objectOf({
  command: commandArb,
  intervalMs: durationArb(DURATION_RANGES.healthcheck.interval),
  timeoutMs: durationArb(DURATION_RANGES.healthcheck.timeout),
  retries: boundedArb(1, SPEC_LIMITS.maxHealthcheckRetries),
  startPeriodMs: durationArb(DURATION_RANGES.healthcheck.startPeriod),
})

const restartRanges = DURATION_RANGES.restart
const restartArb: fc.Arbitrary<RestartPolicy> = fc.tuple(durationArb(restartRanges.delay), durationArb(restartRanges.maxDelay)).chain(([a, b]) => objectOf({
  condition: fc.constantFrom(...RESTART_CONDITIONS),
  delayMs: fc.constant(Math.min(a, b)),
  maxDelayMs: fc.constant(Math.max(a, b)),
  maxAttempts: boundedArb(0, 1_000_000),
  windowMs: durationArb(restartRanges.window),
}))

const updateArb: fc.Arbitrary<UpdatePolicy> = objectOf({
  parallelism: boundedArb(1, SPEC_LIMITS.maxReplicas),
  delayMs: durationArb(DURATION_RANGES.update.delay),
  order: fc.constantFrom(...UPDATE_ORDERS),
  autoRollback: fc.boolean(),
  healthDeadlineMs: durationArb(DURATION_RANGES.update.healthDeadline),
})

/** The driver decides what image and command may be: docker needs an image, process a command and no image. */
const runArb = fc.oneof(
  objectOf({ driver: fc.constant('docker' as const), image: nonEmptyTextArb, command: fc.array(textArb, { maxLength: 4 }) }),
  objectOf({ driver: fc.constant('process' as const), image: fc.constant(''), command: commandArb }),
)

/** Clean absolute paths: segments of any characters but "/" and NUL, never "." or "..". */
const segmentArb = nonEmptyTextArb.filter((segment) => !segment.includes('/') && segment !== '.' && segment !== '..')
export const pathArb = fc.oneof(
  fc.constantFrom('/data', '/etc/app/config.yml', '/var/lib/postgresql/data', '/run/secrets-not', '/tmp'),
  fc.array(segmentArb, { minLength: 1, maxLength: 3 }).map((segments) => `/${segments.join('/')}`),
)
const underSecrets = (path: string): boolean => path === CONTAINER_SECRETS_DIR || path.startsWith(`${CONTAINER_SECRETS_DIR}/`)
const targetArb = pathArb.filter((path) => !underSecrets(path))

const mountArb: fc.Arbitrary<MountSpec> = fc.oneof(
  objectOf({ type: fc.constant('bind' as const), source: pathArb, target: targetArb, readOnly: fc.boolean() }),
  objectOf({ type: fc.constant('volume' as const), source: fc.stringMatching(VOLUME_NAME_PATTERN), target: targetArb, readOnly: fc.boolean() }),
  objectOf({ type: fc.constant('tmpfs' as const), source: fc.constant(''), target: targetArb, readOnly: fc.boolean() }),
)
const byTarget = (a: MountSpec, b: MountSpec): number => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)
const capabilitiesArb = fc.uniqueArray(fc.constantFrom(...LINUX_CAPABILITIES, ALL_CAPABILITIES), { minLength: 1, maxLength: 4 }).map((names) => names.sort())

/** The container-only fields, each absent or set; capAdd and capDrop share no name. */
const containerArb = fc.record({
  entrypoint: fc.array(textArb, { minLength: 1, maxLength: 3 }),
  user: fc.oneof(fc.constantFrom('1000', '1000:1000', 'nobody', 'www-data:www-data'), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,20})?$/)),
  mounts: fc.uniqueArray(mountArb, { minLength: 1, maxLength: 3, selector: (mount) => mount.target }).map((mounts) => mounts.sort(byTarget)),
  capAdd: capabilitiesArb,
  capDrop: capabilitiesArb,
}, { requiredKeys: [], noNullPrototype: true }).map((fields) => {
  const capDrop = fields.capDrop?.filter((name) => !fields.capAdd?.includes(name))
  const { capDrop: _, ...rest } = fields
  return capDrop === undefined || capDrop.length === 0 ? rest : { ...rest, capDrop }
})

/** Fields of either driver, each absent or set. */
const taskFieldsArb = fc.record({
  workdir: pathArb,
  stopGraceMs: durationArb(DURATION_RANGES.service.stopGrace),
  partition: fc.constantFrom(...PARTITION_POLICIES),
}, { requiredKeys: [], noNullPrototype: true })

/**
 * Secrets: absent (never empty), or distinct names sorted by name, each at version 0 (as written) or
 * resolved to a version, as the cluster shows a spec; some with a target — a file name other than
 * their own, or (kept for containers) an absolute path.
 */
const secretRefArb: fc.Arbitrary<SecretRef> = fc.record({
  name: fc.stringMatching(SECRET_NAME_PATTERN),
  version: fc.oneof(fc.constant(0), fc.maxSafeNat()),
  target: fc.oneof(fc.stringMatching(SECRET_NAME_PATTERN), targetArb.filter((path) => path !== '/')),
}, { requiredKeys: ['name', 'version'], noNullPrototype: true }).map((ref) => (ref.target === ref.name ? { name: ref.name, version: ref.version } : ref))
const secretsArb = fc.option(
  fc.uniqueArray(secretRefArb, { minLength: 1, maxLength: Math.min(4, SECRET_LIMITS.perService), selector: (ref) => ref.name }),
  { nil: undefined },
)

/**
 * The refs a spec of this driver and these mounts may have: absolute targets only for containers,
 * and each file name and absolute target claimed once, by no mount either. Sorted by name.
 */
function fittingSecrets(refs: readonly SecretRef[], driver: ServiceSpec['driver'], mounts: readonly MountSpec[]): SecretRef[] | undefined {
  const claimed = new Set(mounts.map((mount) => mount.target))
  const kept: SecretRef[] = []
  for (const ref of refs) {
    const fitting = ref.target?.startsWith('/') && driver === 'process' ? { name: ref.name, version: ref.version } : ref
    const claims = fitting.target?.startsWith('/') ? [secretFileName(fitting), fitting.target] : [secretFileName(fitting)]
    if (claims.some((claim) => claimed.has(claim))) continue
    for (const claim of claims) claimed.add(claim)
    kept.push(fitting)
  }
  return kept.length === 0 ? undefined : kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

export const specArb: fc.Arbitrary<ServiceSpec> = fc.tuple(runArb, objectOf({
  name: fc.stringMatching(SERVICE_NAME_PATTERN).map((name) => name as ServiceName),
  env: mapArb(envNameArb),
  mode: fc.constantFrom(...MODES),
  replicas: boundedArb(0, SPEC_LIMITS.maxReplicas),
  resources: resourcesArb,
  constraints: fc.array(constraintArb, { maxLength: 4 }),
  maxPerNode: boundedArb(0, SPEC_LIMITS.maxReplicas),
  strategy: fc.constantFrom(...STRATEGIES),
  spreadBy: fc.oneof(fc.constant(''), labelKeyArb),
  // Two ports may not bind the same host port and protocol.
  // Two ports may not bind the same host port, nor name one container port published nowhere twice.
  // Validation lists published ports before those published nowhere.
  ports: fc.uniqueArray(portArb, { maxLength: 4, selector: (port) => (port.host === 0 ? `name ${port.container}/${port.protocol}` : `${port.host}/${port.protocol}`) })
    .map((ports) => {
      const published = ports.filter((port) => port.host > 0)
      const named = new Set(published.map((port) => `${port.container}/${port.protocol}`))
      return [...published, ...ports.filter((port) => port.host === 0 && !named.has(`${port.container}/${port.protocol}`))]
    }),
  healthcheck: fc.option(healthcheckArb, { nil: null }),
  restart: restartArb,
  update: updateArb,
  labels: mapArb(labelKeyArb),
}), secretsArb, containerArb, taskFieldsArb).map(([run, rest, refs, container, task]) => {
  const containerFields = run.driver === 'docker' ? container : {}
  const secrets = refs === undefined ? undefined : fittingSecrets(refs, run.driver, containerFields.mounts ?? [])
  return { ...rest, ...run, ...(secrets === undefined ? {} : { secrets }), ...containerFields, ...task }
})
