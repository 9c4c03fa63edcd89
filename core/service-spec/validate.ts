// Validation at the boundary: an untyped document (parsed YAML or JSON) in, normalised ServiceSpecs
// out, or every problem found, each naming the field path and what was expected. Defaults are filled
// in here so that a spec written with or without them has the same shape and the same hash.

import { quoted } from '../error-message.js'
import { SERVICE_NAME_PATTERN, serviceName } from '../placement/ids.js'
import { validateCapabilities } from './capabilities.js'
import { checked, parseConstraint } from './constraints.js'
import { fitsText, join, unknownKeys, type SpecError } from './field-errors.js'
import { validateMounts } from './mounts.js'
import { TASK_PORT_RANGE } from './ports.js'
import { absolutePath } from './paths.js'
import { validateSecretRefs } from './secrets.js'
import {
  DURATION_RANGES, ENV_NAME, ENV_NAME_RULE, LABEL_KEY, LABEL_KEY_RULE, RESOURCE_LIMITS, SPEC_LIMITS, formatDurationMs, type DurationRange,
} from './limits.js'
import {
  CONSTRAINT_OPS, DRIVERS, MODES, PARTITION_POLICIES, RESTART_CONDITIONS, STRATEGIES, UPDATE_ORDERS,
  type Constraint, type ConstraintOp, type HealthcheckSpec, type Mode, type PortSpec, PORT_MODES, type Resources,
  type RestartPolicy, type ServiceSpec, type UpdatePolicy,
} from './types.js'
import { parseCpuMilli, parseDurationMs, parseMemoryMiB } from './units.js'

export type SpecResult = { ok: true; services: ServiceSpec[] } | { ok: false; errors: SpecError[] }


export const DEFAULT_RESOURCES: Resources = { cpuMilli: 100, memoryMiB: 64, extended: {} }

export const DEFAULT_HEALTHCHECK_TIMING = { intervalMs: 10_000, timeoutMs: 5_000, retries: 3, startPeriodMs: 0 } as const

export function defaultRestart(mode: Mode): RestartPolicy {
  return {
    condition: mode === 'job' ? 'on-failure' : 'always',
    delayMs: 1_000,
    maxDelayMs: 60_000,
    maxAttempts: 5,
    windowMs: 120_000,
  }
}

export const DEFAULT_UPDATE: UpdatePolicy = {
  parallelism: 1,
  delayMs: 0,
  order: 'stop-first',
  autoRollback: false,
  healthDeadlineMs: 60_000,
}

const SERVICE_FIELDS = [
  'name', 'driver', 'image', 'command', 'env', 'mode', 'replicas', 'resources', 'constraints', 'maxPerNode',
  'strategy', 'spreadBy', 'ports', 'healthcheck', 'restart', 'update', 'labels', 'secrets',
  'entrypoint', 'user', 'workdir', 'mounts', 'capAdd', 'capDrop', 'stopGrace',
  'partition',
]

/**
 * Fields only a container has, with what the process driver does instead: a process runs as the
 * agent's user, in the host's file system, with the agent's capabilities, and its argv is `command`.
 */
const CONTAINER_ONLY_FIELDS = {
  entrypoint: 'a process runs its command; put the program first in command',
  user: 'a process runs as the agent\'s user',
  mounts: 'a process sees the host\'s file system as it is',
  capAdd: 'a process has the agent\'s capabilities',
  capDrop: 'a process has the agent\'s capabilities',
} as const

/** A user name or id, optionally with a group name or id: `1000`, `1000:1000`, `www-data`, `nobody:nogroup`. */
const USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/

/**
 * Accepts any of: `{ services: { web: {...} } }`, `{ services: [{ name: web, ... }] }`, a single
 * service `{ name: web, ... }`, or a list of services.
 */
export function validateServices(document: unknown): SpecResult {
  const errors: SpecError[] = []
  const entries: Array<{ name: unknown; body: unknown; path: string }> = []

  if (Array.isArray(document)) {
    document.forEach((body, i) => entries.push({ name: field(body, 'name'), body, path: `[${i}]` }))
  } else if (isRecord(document) && 'services' in document) {
    const extra = Object.keys(document).filter((key) => key !== 'services' && key !== 'version')
    for (const key of extra) errors.push({ path: key, message: 'unknown top-level field; expected "services"' })
    const services = document.services
    if (Array.isArray(services)) {
      services.forEach((body, i) => entries.push({ name: field(body, 'name'), body, path: `services[${i}]` }))
    } else if (isRecord(services)) {
      for (const [name, body] of Object.entries(services)) {
        const declared = field(body, 'name')
        if (declared !== undefined && declared !== name) {
          errors.push({ path: join(join('services', name), 'name'), message: `does not match its key ${quoted(name)}` })
        }
        entries.push({ name, body, path: join('services', name) })
      }
    } else {
      errors.push({ path: 'services', message: 'expected a map of service name to service, or a list of services' })
    }
  } else if (isRecord(document)) {
    entries.push({ name: document.name, body: document, path: '' })
  } else {
    errors.push({ path: '', message: 'expected a service, a list of services, or a document with "services"' })
  }

  if (entries.length > SPEC_LIMITS.maxServices) {
    errors.push({ path: 'services', message: `at most ${SPEC_LIMITS.maxServices} services per document` })
    return { ok: false, errors }
  }

  const services: ServiceSpec[] = []
  const seen = new Map<string, string>()
  for (const entry of entries) {
    const spec = validateService(entry.name, entry.body, entry.path, errors)
    if (spec === undefined) continue
    const earlier = seen.get(spec.name)
    if (earlier !== undefined) {
      errors.push({ path: join(entry.path, 'name'), message: `service ${JSON.stringify(spec.name)} is already defined at ${earlier || '(root)'}` })
      continue
    }
    seen.set(spec.name, entry.path)
    services.push(spec)
  }
  if (errors.length === 0 && services.length === 0) errors.push({ path: 'services', message: 'no services defined' })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, services }
}

/** Validates one service body; pushes problems to `errors` and returns undefined when any were found. */
export function validateService(name: unknown, body: unknown, path: string, errors: SpecError[]): ServiceSpec | undefined {
  const before = errors.length
  const at = (key: string) => join(path, key)
  if (!isRecord(body)) {
    errors.push({ path: path || '(root)', message: 'expected a service (a map of fields)' })
    return undefined
  }
  for (const key of Object.keys(body)) {
    if (!SERVICE_FIELDS.includes(key)) errors.push({ path: at(key), message: `unknown field; expected one of ${SERVICE_FIELDS.join(', ')}` })
  }
  if (typeof name !== 'string' || !SERVICE_NAME_PATTERN.test(name)) {
    errors.push({ path: at('name'), message: 'expected a service name of lowercase letters, digits and "-" (at most 63, like a DNS label)' })
  }

  const beforeImage = errors.length
  const image = optionalText(body.image, at('image'), SPEC_LIMITS.maxImageLength, errors) ?? ''
  // An image given but refused still means docker: one error at image, not a process driver's too.
  const badImage = errors.length > beforeImage
  const command = commandList(body.command, at('command'), errors)
  let driver = body.driver === undefined ? (image !== '' || badImage ? 'docker' : 'process') : body.driver
  if (!DRIVERS.includes(driver as never)) {
    // Report the driver alone: checks of a guessed driver would only add noise.
    errors.push({ path: at('driver'), message: `expected one of ${DRIVERS.join(', ')}` })
    driver = 'unknown'
  }
  if (driver === 'docker' && image === '' && !badImage) errors.push({ path: at('image'), message: 'the docker driver needs an image' })
  if (driver === 'process' && command.length === 0) errors.push({ path: at('command'), message: 'the process driver needs a command' })
  if (driver === 'process' && image !== '') errors.push({ path: at('image'), message: 'the process driver runs a command, not an image; set driver: docker' })

  const mode = oneOf(body.mode, MODES, 'replicated', at('mode'), errors)
  const replicas = integer(body.replicas, 1, 0, SPEC_LIMITS.maxReplicas, at('replicas'), errors)
  const resources = validateResources(body.resources, at('resources'), errors)
  const constraints = validateConstraints(body.constraints, at('constraints'), errors)
  const maxPerNode = integer(body.maxPerNode, 0, 0, SPEC_LIMITS.maxReplicas, at('maxPerNode'), errors)
  const strategy = oneOf(body.strategy, STRATEGIES, 'spread', at('strategy'), errors)
  const spreadBy = optionalLabelKey(body.spreadBy, at('spreadBy'), errors) ?? ''
  const ports = validatePorts(body.ports, at('ports'), errors)
  const healthcheck = validateHealthcheck(body.healthcheck, at('healthcheck'), errors)
  const restart = validateRestart(body.restart, mode, at('restart'), errors)
  const update = validateUpdate(body.update, at('update'), errors)
  const env = stringMap(body.env, at('env'), ENV_KEYS, errors)
  const labels = stringMap(body.labels, at('labels'), LABEL_KEYS, errors)
  // A field of another driver is refused once, naming the driver; its value is then not judged too.
  const forThisDriver = (key: keyof typeof CONTAINER_ONLY_FIELDS): boolean => {
    if (driver !== 'process' || body[key] === undefined) return true
    errors.push({ path: at(key), message: `is for containers (driver: docker): ${CONTAINER_ONLY_FIELDS[key]}` })
    return false
  }
  const entrypoint = forThisDriver('entrypoint') ? validateEntrypoint(body.entrypoint, at('entrypoint'), errors) : undefined
  const user = forThisDriver('user') ? validateUser(body.user, at('user'), errors) : undefined
  const workdir = body.workdir === undefined ? undefined : absolutePath(body.workdir, at('workdir'), errors)
  const mounts = forThisDriver('mounts') ? validateMounts(body.mounts, at('mounts'), errors) : undefined
  const capAdd = forThisDriver('capAdd') ? validateCapabilities(body.capAdd, at('capAdd'), errors) : undefined
  const capDrop = forThisDriver('capDrop') ? validateCapabilities(body.capDrop, at('capDrop'), errors) : undefined
  const both = (capDrop ?? []).filter((name) => capAdd?.includes(name))
  if (both.length > 0) errors.push({ path: at('capDrop'), message: `${both.join(', ')} ${both.length === 1 ? 'is' : 'are'} in capAdd too; list each capability in one of them` })
  const stopGraceMs = duration(body.stopGrace, undefined, DURATION_RANGES.service.stopGrace, at('stopGrace'), errors)
  const partition = body.partition === undefined ? undefined : oneOf(body.partition, PARTITION_POLICIES, 'serve', at('partition'), errors)
  const secrets = validateSecretRefs(body.secrets, at('secrets'), errors, {
    absolute: driver !== 'process',
    taken: new Set((mounts ?? []).map((mount) => mount.target)),
  })

  if (errors.length > before) return undefined
  return {
    name: serviceName(name as string),
    driver: driver as ServiceSpec['driver'],
    image,
    command,
    env,
    mode,
    replicas,
    resources,
    constraints,
    maxPerNode,
    strategy,
    spreadBy,
    ports,
    healthcheck,
    restart,
    update,
    labels,
    ...(secrets === undefined ? {} : { secrets }),
    ...(entrypoint === undefined ? {} : { entrypoint }),
    ...(user === undefined ? {} : { user }),
    ...(workdir === undefined ? {} : { workdir }),
    ...(mounts === undefined ? {} : { mounts }),
    ...(capAdd === undefined ? {} : { capAdd }),
    ...(capDrop === undefined ? {} : { capDrop }),
    ...(stopGraceMs === undefined ? {} : { stopGraceMs }),
    ...(partition === undefined ? {} : { partition }),
  }
}

/** An entrypoint replaces the image's: an empty one would leave the container nothing to run. */
function validateEntrypoint(value: unknown, path: string, errors: SpecError[]): string[] | undefined {
  if (value === undefined) return undefined
  const before = errors.length
  const argv = commandList(value, path, errors)
  if (errors.length > before) return undefined
  if (argv.length > 0) return argv
  errors.push({ path, message: 'expected the program to run, such as ["/bin/sh", "-c"]; leave entrypoint out to keep the image\'s' })
  return undefined
}

function validateUser(value: unknown, path: string, errors: SpecError[]): string | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
  if (typeof value === 'string' && !fitsText(value, SPEC_LIMITS.maxUserLength, path, errors)) return undefined
  if (typeof value === 'string' && USER_PATTERN.test(value)) return value
  errors.push({ path, message: 'expected a user name or id, optionally with a group: "1000", "1000:1000", "www-data"' })
  return undefined
}

function validateResources(value: unknown, path: string, errors: SpecError[]): Resources {
  if (value === undefined) return DEFAULT_RESOURCES
  if (!isRecord(value)) {
    errors.push({ path, message: 'expected a map such as { cpu: 250m, memory: 64Mi, gpu: 1 }' })
    return DEFAULT_RESOURCES
  }
  let cpuMilli = DEFAULT_RESOURCES.cpuMilli
  let memoryMiB = DEFAULT_RESOURCES.memoryMiB
  const extended: Record<string, number> = {}
  const { maxCpuMilli, maxMemoryMiB, maxExtended } = RESOURCE_LIMITS
  const kinds = Object.keys(value).filter((key) => key !== 'cpu' && key !== 'memory').length
  if (kinds > SPEC_LIMITS.maxExtendedResources) errors.push({ path, message: `at most ${SPEC_LIMITS.maxExtendedResources} extended resources besides cpu and memory` })
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'cpu') {
      const parsed = parseCpuMilli(raw)
      if (typeof parsed === 'string') errors.push({ path: join(path, key), message: parsed })
      else if (parsed > maxCpuMilli) errors.push({ path: join(path, key), message: `at most ${maxCpuMilli / 1000} cores ("${maxCpuMilli}m")` })
      else cpuMilli = parsed
    } else if (key === 'memory') {
      const parsed = parseMemoryMiB(raw)
      if (typeof parsed === 'string') errors.push({ path: join(path, key), message: parsed })
      else if (parsed > maxMemoryMiB) errors.push({ path: join(path, key), message: `at most 1 PiB ("${maxMemoryMiB / 1024 / 1024}Ti", ${maxMemoryMiB} MiB)` })
      else memoryMiB = parsed
    } else if (/^[a-z][a-z0-9_.-]{0,62}$/.test(key)) {
      if (!Number.isInteger(raw) || (raw as number) < 0 || (raw as number) > maxExtended) {
        errors.push({ path: join(path, key), message: `extended resources are whole counts from 0 to ${maxExtended} (e.g. gpu: 1)` })
      } else if ((raw as number) > 0) {
        extended[key] = raw as number
      }
    } else {
      errors.push({ path: join(path, key), message: 'expected cpu, memory, or an extended resource name in lowercase' })
    }
  }
  return { cpuMilli, memoryMiB, extended }
}

function validateConstraints(value: unknown, path: string, errors: SpecError[]): Constraint[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'expected a list such as ["zone == eu", "gpu exists"]' })
    return []
  }
  if (value.length > SPEC_LIMITS.maxConstraints) errors.push({ path, message: `at most ${SPEC_LIMITS.maxConstraints} constraints` })
  const out: Constraint[] = []
  value.forEach((item, i) => {
    const itemPath = `${path}[${i}]`
    let result: Constraint | string
    if (typeof item === 'string') {
      result = parseConstraint(item)
      if (typeof result !== 'string') result = operatorTypo(item, result) ?? result
    } else if (isRecord(item)) {
      const constraint = constraintObject(item, itemPath, errors)
      if (constraint !== undefined) out.push(constraint)
      return
    } else {
      result = `expected a string such as "zone == eu" or { label, op, value } with op one of ${CONSTRAINT_OPS.join(', ')}`
    }
    if (typeof result === 'string') errors.push({ path: itemPath, message: result })
    else out.push(result)
  })
  return out
}

const CONSTRAINT_FIELDS = ['label', 'op', 'value', 'values']

/**
 * `{ label, op, value }` or `{ label, op, values }`, each problem at the field it is in. Values are
 * strings, as peers' label values are.
 */
function constraintObject(item: Record<string, unknown>, path: string, errors: SpecError[]): Constraint | undefined {
  const before = errors.length
  unknownKeys(item, CONSTRAINT_FIELDS, path, errors)
  if (typeof item.label !== 'string' || !LABEL_KEY.test(item.label)) errors.push({ path: join(path, 'label'), message: `expected a label key: ${LABEL_KEY_RULE}` })
  if (!CONSTRAINT_OPS.includes(item.op as ConstraintOp)) errors.push({ path: join(path, 'op'), message: `expected one of ${CONSTRAINT_OPS.join(', ')}` })
  if (item.value !== undefined && item.values !== undefined) {
    errors.push({ path, message: 'give "value" or "values", not both' })
  } else if (item.values !== undefined && !(Array.isArray(item.values) && item.values.every((v) => typeof v === 'string'))) {
    errors.push({ path: join(path, 'values'), message: 'expected a list of strings (quote numbers: "5")' })
  } else if (item.value !== undefined && typeof item.value !== 'string') {
    errors.push({ path: join(path, 'value'), message: 'expected a string (quote numbers: "5")' })
  }
  if (errors.length > before) return undefined
  const values = (item.values ?? (item.value === undefined ? [] : [item.value])) as string[]
  const result = checked(item.label as string, item.op as ConstraintOp, values)
  if (typeof result !== 'string') return result
  errors.push({ path: join(path, item.values !== undefined ? 'values' : 'value'), message: result })
  return undefined
}

/**
 * `zone === eu` parses as `zone == "= eu"`, and `zone == a, arch == b` as one value holding the second
 * comparison: a value that starts with "=" or holds another operator is a typo, not a label value.
 */
function operatorTypo(text: string, constraint: Constraint): string | undefined {
  if (constraint.op !== '==' && constraint.op !== '!=') return undefined
  const value = constraint.values[0]!
  if (!/^=|==|!=/.test(value)) return undefined
  return `cannot parse constraint ${quoted(text)}: the value ${quoted(value)} holds an operator; write "label == value", one comparison per constraint`
}

function validatePorts(value: unknown, path: string, errors: SpecError[]): PortSpec[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'expected a list such as ["8080:80", "53:53/udp"]' })
    return []
  }
  if (value.length > SPEC_LIMITS.maxPorts) errors.push({ path, message: `at most ${SPEC_LIMITS.maxPorts} ports` })
  const ports: PortSpec[] = []
  const seen = new Set<string>()
  // Every port of a service is reachable by name: one published nowhere that another port already
  // names says nothing more, and is refused as a likely slip.
  const named = new Set<string>()
  const byName: Array<{ port: PortSpec; path: string }> = []
  value.forEach((item, i) => {
    const itemPath = `${path}[${i}]`
    let port: PortSpec | undefined
    if (typeof item === 'number' || typeof item === 'string') {
      const match = /^(\d{1,5})(?::(\d{1,5}))?(?:\/(tcp|udp))?$/.exec(String(item).trim())
      if (match) port = { host: Number(match[1]), container: Number(match[2] ?? match[1]), protocol: (match[3] ?? 'tcp') as PortSpec['protocol'] }
    } else if (isRecord(item)) {
      port = portObject(item, itemPath, errors)
      if (port === undefined) return
    }
    if (port === undefined || !(validPort(port.host) || (port.host === 0 && port.mode === 'ingress')) || !validPort(port.container)) {
      errors.push({ path: itemPath, message: 'expected "host:container[/tcp|udp]" with ports 1-65535, or { host, container, protocol }' })
      return
    }
    const key = port.host === 0 ? `name ${port.container}/${port.protocol}` : `${port.host}/${port.protocol}`
    if (seen.has(key)) errors.push({ path: itemPath, message: port.host === 0 ? `container port ${port.container}/${port.protocol} is listed twice` : `host port ${key} is listed twice` })
    seen.add(key)
    if (port.host === 0) byName.push({ port, path: itemPath })
    else named.add(`${port.container}/${port.protocol}`)
    ports.push(port)
  })
  for (const { port, path: itemPath } of byName) {
    if (named.has(`${port.container}/${port.protocol}`)) errors.push({ path: itemPath, message: `container port ${port.container}/${port.protocol} is already published by another entry, which makes it reachable by name too` })
  }
  // Published ports first, then those reachable by name only (a stable order: specs without the
  // latter keep theirs), as compose lists them under ports and expose.
  return [...ports.filter((port) => port.host > 0), ...ports.filter((port) => port.host === 0)]
}

const PORT_FIELDS = ['host', 'container', 'protocol', 'mode']
const PROTOCOLS: readonly PortSpec['protocol'][] = ['tcp', 'udp']

/**
 * `{ host, container, protocol, mode }`, each problem at the field it is in; container defaults to
 * host. In ingress mode `host` is the port every peer publishes, 0 (or absent) for none — reachable
 * by name only — and it may not lie in the range peers give tasks (ports.ts).
 */
function portObject(item: Record<string, unknown>, path: string, errors: SpecError[]): PortSpec | undefined {
  const before = errors.length
  unknownKeys(item, PORT_FIELDS, path, errors)
  const mode = oneOf(item.mode, PORT_MODES, 'host', join(path, 'mode'), errors)
  const ingress = mode === 'ingress'
  if (item.host === undefined && !ingress) errors.push({ path: join(path, 'host'), message: 'a port needs a host port (1-65535), or mode: ingress' })
  const host = integer(item.host, 0, ingress ? 0 : 1, 65_535, join(path, 'host'), errors)
  if (ingress && host >= TASK_PORT_RANGE.first && host <= TASK_PORT_RANGE.last) {
    errors.push({ path: join(path, 'host'), message: `${host} is in the range peers give tasks of ingress ports (${TASK_PORT_RANGE.first}-${TASK_PORT_RANGE.last}); publish a port outside it` })
  }
  const container = integer(item.container, host, 1, 65_535, join(path, 'container'), errors)
  if (ingress && (item.host === undefined || item.host === 0) && item.container === undefined) errors.push({ path: join(path, 'container'), message: 'a port published nowhere needs its container port (1-65535)' })
  const protocol = oneOf(item.protocol, PROTOCOLS, 'tcp', join(path, 'protocol'), errors)
  if (errors.length > before) return undefined
  return ingress ? { host, container, protocol, mode: 'ingress' } : { host, container, protocol }
}

function validateHealthcheck(value: unknown, path: string, errors: SpecError[]): HealthcheckSpec | null {
  if (value === undefined || value === null) return null
  if (!isRecord(value)) {
    errors.push({ path, message: 'expected { command, interval, timeout, retries, startPeriod }' })
    return null
  }
  unknownKeys(value, ['command', 'interval', 'timeout', 'retries', 'startPeriod'], path, errors)
  const before = errors.length
  const command = commandList(value.command, join(path, 'command'), errors)
  if (command.length === 0 && errors.length === before) errors.push({ path: join(path, 'command'), message: 'a healthcheck needs a command' })
  const d = DEFAULT_HEALTHCHECK_TIMING
  const r = DURATION_RANGES.healthcheck
  return {
    command,
    intervalMs: duration(value.interval, d.intervalMs, r.interval, join(path, 'interval'), errors) ?? d.intervalMs,
    timeoutMs: duration(value.timeout, d.timeoutMs, r.timeout, join(path, 'timeout'), errors) ?? d.timeoutMs,
    retries: integer(value.retries, d.retries, 1, SPEC_LIMITS.maxHealthcheckRetries, join(path, 'retries'), errors),
    startPeriodMs: duration(value.startPeriod, d.startPeriodMs, r.startPeriod, join(path, 'startPeriod'), errors) ?? d.startPeriodMs,
  }
}

function validateRestart(value: unknown, mode: Mode, path: string, errors: SpecError[]): RestartPolicy {
  const d = defaultRestart(mode)
  if (value === undefined) return d
  if (!isRecord(value)) {
    errors.push({ path, message: 'expected { condition, delay, maxDelay, maxAttempts, window }' })
    return d
  }
  unknownKeys(value, ['condition', 'delay', 'maxDelay', 'maxAttempts', 'window'], path, errors)
  const r = DURATION_RANGES.restart
  const delayMs = duration(value.delay, d.delayMs, r.delay, join(path, 'delay'), errors)
  // A delay above the default cap raises the cap, unless the user set one.
  const maxDelayMs = duration(value.maxDelay, delayMs === undefined ? undefined : Math.max(d.maxDelayMs, delayMs), r.maxDelay, join(path, 'maxDelay'), errors)
  // Compared only when both are valid: a wrong delay is one mistake, not two.
  if (delayMs !== undefined && maxDelayMs !== undefined && maxDelayMs < delayMs) {
    errors.push({ path: join(path, 'maxDelay'), message: 'must not be shorter than delay' })
  }
  return {
    condition: oneOf(value.condition, RESTART_CONDITIONS, d.condition, join(path, 'condition'), errors),
    delayMs: delayMs ?? d.delayMs,
    maxDelayMs: maxDelayMs ?? d.maxDelayMs,
    maxAttempts: integer(value.maxAttempts, d.maxAttempts, 0, 1_000_000, join(path, 'maxAttempts'), errors),
    windowMs: duration(value.window, d.windowMs, r.window, join(path, 'window'), errors) ?? d.windowMs,
  }
}

function validateUpdate(value: unknown, path: string, errors: SpecError[]): UpdatePolicy {
  const d = DEFAULT_UPDATE
  if (value === undefined) return d
  if (!isRecord(value)) {
    errors.push({ path, message: 'expected { parallelism, delay, order, autoRollback, healthDeadline }' })
    return d
  }
  unknownKeys(value, ['parallelism', 'delay', 'order', 'autoRollback', 'healthDeadline'], path, errors)
  let autoRollback = d.autoRollback
  if (value.autoRollback !== undefined) {
    if (typeof value.autoRollback === 'boolean') autoRollback = value.autoRollback
    else errors.push({ path: join(path, 'autoRollback'), message: 'expected true or false' })
  }
  const r = DURATION_RANGES.update
  return {
    parallelism: integer(value.parallelism, d.parallelism, 1, SPEC_LIMITS.maxReplicas, join(path, 'parallelism'), errors),
    delayMs: duration(value.delay, d.delayMs, r.delay, join(path, 'delay'), errors) ?? d.delayMs,
    order: oneOf(value.order, UPDATE_ORDERS, d.order, join(path, 'order'), errors),
    autoRollback,
    healthDeadlineMs: duration(value.healthDeadline, d.healthDeadlineMs, r.healthDeadline, join(path, 'healthDeadline'), errors) ?? d.healthDeadlineMs,
  }
}

// --- small typed readers; each pushes an error naming the path and returns a safe fallback ---

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined
}

function optionalText(value: unknown, path: string, maxLength: number, errors: SpecError[]): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') {
    errors.push({ path, message: 'expected a string' })
    return undefined
  }
  return fitsText(value, maxLength, path, errors) ? value : undefined
}

/** spreadBy: empty for none, else a label key. */
function optionalLabelKey(value: unknown, path: string, errors: SpecError[]): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value === 'string' && LABEL_KEY.test(value)) return value
  errors.push({ path, message: `expected a label key: ${LABEL_KEY_RULE}` })
  return undefined
}

/** argv: a list of strings (numbers allowed), or one string split on whitespace (use a list for arguments with spaces). */
function commandList(value: unknown, path: string, errors: SpecError[]): string[] {
  if (value === undefined) return []
  const { maxCommandArgs, maxStringLength } = SPEC_LIMITS
  if (typeof value === 'string') {
    const parts = value.trim().split(/\s+/).filter((part) => part.length > 0)
    if (parts.length > maxCommandArgs) {
      errors.push({ path, message: `at most ${maxCommandArgs} arguments` })
      return []
    }
    return parts.every((part) => fitsText(part, maxStringLength, path, errors)) ? parts : []
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    errors.push({ path, message: 'expected a list of strings, or one string split on spaces' })
    return []
  }
  if (value.length > maxCommandArgs) {
    errors.push({ path, message: `at most ${maxCommandArgs} arguments` })
    return []
  }
  const items = value.map(String)
  const fit = items.map((item, i) => fitsText(item, maxStringLength, `${path}[${i}]`, errors))
  return fit.every(Boolean) ? items : []
}

/** What the keys of a string map must look like. */
interface KeyRule {
  readonly pattern: RegExp
  readonly rule: string
  /** Whether `["KEY=value", ...]` is accepted too, as Compose allows for env. */
  readonly listForm: boolean
}

const ENV_KEYS: KeyRule = { pattern: ENV_NAME, rule: `an environment variable name: ${ENV_NAME_RULE}`, listForm: true }
const LABEL_KEYS: KeyRule = { pattern: LABEL_KEY, rule: `a label key: ${LABEL_KEY_RULE}`, listForm: false }

/** env or labels: names by `keys` to string values (numbers and booleans are written as strings). */
function stringMap(value: unknown, path: string, keys: KeyRule, errors: SpecError[]): Record<string, string> {
  const out: Record<string, string> = {}
  if (value === undefined) return out
  const { maxEnvEntries, maxStringLength } = SPEC_LIMITS
  const add = (key: string, item: string, itemPath: string): void => {
    // "__proto__" would be dropped by the assignment below, not stored: refused rather than lost.
    if (!keys.pattern.test(key) || key === '__proto__') errors.push({ path: itemPath, message: `expected ${keys.rule}` })
    else if (fitsText(item, maxStringLength, itemPath, errors)) out[key] = item
  }
  if (keys.listForm && Array.isArray(value)) {
    if (value.length > maxEnvEntries) errors.push({ path, message: `at most ${maxEnvEntries} entries` })
    value.forEach((item, i) => {
      const match = typeof item === 'string' ? /^([^=]+)=(.*)$/s.exec(item) : null
      if (match) add(match[1]!, match[2]!, `${path}[${i}]`)
      else errors.push({ path: `${path}[${i}]`, message: 'expected "KEY=value"' })
    })
    return out
  }
  if (!isRecord(value)) {
    errors.push({ path, message: keys.listForm ? 'expected a map of names to values, or a list of "KEY=value"' : 'expected a map of names to values' })
    return out
  }
  const entries = Object.entries(value)
  if (entries.length > maxEnvEntries) errors.push({ path, message: `at most ${maxEnvEntries} entries` })
  for (const [key, item] of entries) {
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') add(key, String(item), join(path, key))
    else errors.push({ path: join(path, key), message: 'expected a string, number or boolean' })
  }
  return out
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, path: string, errors: SpecError[]): T {
  if (value === undefined) return fallback
  if (allowed.includes(value as T)) return value as T
  errors.push({ path, message: `expected one of ${allowed.join(', ')}` })
  return fallback
}

function integer(value: unknown, fallback: number, min: number, max: number, path: string, errors: SpecError[]): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value
  errors.push({ path, message: `expected a whole number from ${min} to ${max}` })
  return fallback
}

/** A duration within `range`; `fallback` when absent; undefined (and the problem pushed) when it is not one. */
function duration<F extends number | undefined>(value: unknown, fallback: F, range: DurationRange, path: string, errors: SpecError[]): number | F | undefined {
  if (value === undefined) return fallback
  const parsed = parseDurationMs(value)
  if (typeof parsed === 'string') {
    errors.push({ path, message: parsed })
    return undefined
  }
  if (parsed < range.minMs || parsed > range.maxMs) {
    errors.push({ path, message: `expected a duration from ${formatDurationMs(range.minMs)} to ${formatDurationMs(range.maxMs)}, not ${formatDurationMs(parsed)}` })
    return undefined
  }
  return parsed
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535
}
