// Validation at the boundary: an untyped document (parsed YAML or JSON) in, normalised ServiceSpecs
// out, or every problem found, each naming the field path and what was expected. Defaults are filled
// in here so that a spec written with or without them has the same shape and the same hash.

import { SERVICE_NAME_PATTERN, serviceName } from '../placement/ids.js'
import { checked, parseConstraint } from './constraints.js'
import { validateSecretRefs } from './secrets.js'
import {
  CONSTRAINT_OPS, DRIVERS, MODES, RESTART_CONDITIONS, STRATEGIES, UPDATE_ORDERS,
  type Constraint, type ConstraintOp, type HealthcheckSpec, type Mode, type PortSpec, type Resources,
  type RestartPolicy, type ServiceSpec, type UpdatePolicy,
} from './types.js'
import { parseCpuMilli, parseDurationMs, parseMemoryMiB } from './units.js'

export interface SpecError {
  /** Dotted path to the offending field, e.g. `services.web.resources.memory`. */
  readonly path: string
  readonly message: string
}

export type SpecResult = { ok: true; services: ServiceSpec[] } | { ok: false; errors: SpecError[] }

/** Limits that keep one document from asking for absurd amounts of work. */
export const SPEC_LIMITS = {
  maxServices: 10_000,
  maxReplicas: 1_000_000,
  maxConstraints: 64,
  maxPorts: 64,
  maxEnvEntries: 1024,
  maxStringLength: 64 * 1024,
} as const

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
]

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
          errors.push({ path: `services.${name}.name`, message: `does not match its key ${JSON.stringify(name)}` })
        }
        entries.push({ name, body, path: `services.${name}` })
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

  const image = optionalString(body.image, at('image'), errors) ?? ''
  const command = stringList(body.command, at('command'), errors, true)
  let driver = body.driver === undefined ? (image !== '' ? 'docker' : 'process') : body.driver
  if (!DRIVERS.includes(driver as never)) {
    // Report the driver alone: checks of a guessed driver would only add noise.
    errors.push({ path: at('driver'), message: `expected one of ${DRIVERS.join(', ')}` })
    driver = 'unknown'
  }
  if (driver === 'docker' && image === '') errors.push({ path: at('image'), message: 'the docker driver needs an image' })
  if (driver === 'process' && command.length === 0) errors.push({ path: at('command'), message: 'the process driver needs a command' })
  if (driver === 'process' && image !== '') errors.push({ path: at('image'), message: 'the process driver runs a command, not an image; set driver: docker' })

  const mode = oneOf(body.mode, MODES, 'replicated', at('mode'), errors)
  const replicas = integer(body.replicas, 1, 0, SPEC_LIMITS.maxReplicas, at('replicas'), errors)
  const resources = validateResources(body.resources, at('resources'), errors)
  const constraints = validateConstraints(body.constraints, at('constraints'), errors)
  const maxPerNode = integer(body.maxPerNode, 0, 0, SPEC_LIMITS.maxReplicas, at('maxPerNode'), errors)
  const strategy = oneOf(body.strategy, STRATEGIES, 'spread', at('strategy'), errors)
  const spreadBy = optionalString(body.spreadBy, at('spreadBy'), errors) ?? ''
  const ports = validatePorts(body.ports, at('ports'), errors)
  const healthcheck = validateHealthcheck(body.healthcheck, at('healthcheck'), errors)
  const restart = validateRestart(body.restart, mode, at('restart'), errors)
  const update = validateUpdate(body.update, at('update'), errors)
  const env = stringMap(body.env, at('env'), errors, true)
  const labels = stringMap(body.labels, at('labels'), errors, false)
  const secrets = validateSecretRefs(body.secrets, at('secrets'), errors)

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
  }
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
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'cpu') {
      const parsed = parseCpuMilli(raw)
      if (typeof parsed === 'string') errors.push({ path: join(path, key), message: parsed })
      else cpuMilli = parsed
    } else if (key === 'memory') {
      const parsed = parseMemoryMiB(raw)
      if (typeof parsed === 'string') errors.push({ path: join(path, key), message: parsed })
      else memoryMiB = parsed
    } else if (/^[a-z][a-z0-9_.-]{0,62}$/.test(key)) {
      if (!Number.isInteger(raw) || (raw as number) < 0) {
        errors.push({ path: join(path, key), message: 'extended resources are whole counts (e.g. gpu: 1)' })
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
    } else if (isRecord(item) && typeof item.label === 'string' && CONSTRAINT_OPS.includes(item.op as ConstraintOp)) {
      const values = item.values !== undefined ? item.values : item.value !== undefined ? [item.value] : []
      result = Array.isArray(values) && values.every((v) => typeof v === 'string' || typeof v === 'number')
        ? checked(item.label, item.op as ConstraintOp, values.map(String))
        : '"values" must be a list of strings'
    } else {
      result = `expected a string such as "zone == eu" or { label, op, value } with op one of ${CONSTRAINT_OPS.join(', ')}`
    }
    if (typeof result === 'string') errors.push({ path: itemPath, message: result })
    else out.push(result)
  })
  return out
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
  value.forEach((item, i) => {
    const itemPath = `${path}[${i}]`
    let port: PortSpec | undefined
    if (typeof item === 'number' || typeof item === 'string') {
      const match = /^(\d{1,5})(?::(\d{1,5}))?(?:\/(tcp|udp))?$/.exec(String(item).trim())
      if (match) port = { host: Number(match[1]), container: Number(match[2] ?? match[1]), protocol: (match[3] ?? 'tcp') as PortSpec['protocol'] }
    } else if (isRecord(item) && Number.isInteger(item.host)) {
      const container = item.container ?? item.host
      const protocol = item.protocol ?? 'tcp'
      if (Number.isInteger(container) && (protocol === 'tcp' || protocol === 'udp')) {
        port = { host: item.host as number, container: container as number, protocol }
      }
    }
    if (port === undefined || !validPort(port.host) || !validPort(port.container)) {
      errors.push({ path: itemPath, message: 'expected "host:container[/tcp|udp]" with ports 1-65535, or { host, container, protocol }' })
      return
    }
    const key = `${port.host}/${port.protocol}`
    if (seen.has(key)) errors.push({ path: itemPath, message: `host port ${key} is listed twice` })
    seen.add(key)
    ports.push(port)
  })
  return ports
}

function validateHealthcheck(value: unknown, path: string, errors: SpecError[]): HealthcheckSpec | null {
  if (value === undefined || value === null) return null
  if (!isRecord(value)) {
    errors.push({ path, message: 'expected { command, interval, timeout, retries, startPeriod }' })
    return null
  }
  unknownKeys(value, ['command', 'interval', 'timeout', 'retries', 'startPeriod'], path, errors)
  const command = stringList(value.command, join(path, 'command'), errors, true)
  if (command.length === 0) errors.push({ path: join(path, 'command'), message: 'a healthcheck needs a command' })
  const d = DEFAULT_HEALTHCHECK_TIMING
  const intervalMs = duration(value.interval, d.intervalMs, join(path, 'interval'), errors)
  const timeoutMs = duration(value.timeout, d.timeoutMs, join(path, 'timeout'), errors)
  if (intervalMs <= 0) errors.push({ path: join(path, 'interval'), message: 'must be longer than 0' })
  if (timeoutMs <= 0) errors.push({ path: join(path, 'timeout'), message: 'must be longer than 0' })
  return {
    command,
    intervalMs,
    timeoutMs,
    retries: integer(value.retries, d.retries, 1, 100, join(path, 'retries'), errors),
    startPeriodMs: duration(value.startPeriod, d.startPeriodMs, join(path, 'startPeriod'), errors),
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
  const delayMs = duration(value.delay, d.delayMs, join(path, 'delay'), errors)
  const policy: RestartPolicy = {
    condition: oneOf(value.condition, RESTART_CONDITIONS, d.condition, join(path, 'condition'), errors),
    delayMs,
    // A delay above the default cap raises the cap, unless the user set one.
    maxDelayMs: duration(value.maxDelay, Math.max(d.maxDelayMs, delayMs), join(path, 'maxDelay'), errors),
    maxAttempts: integer(value.maxAttempts, d.maxAttempts, 0, 1_000_000, join(path, 'maxAttempts'), errors),
    windowMs: duration(value.window, d.windowMs, join(path, 'window'), errors),
  }
  if (policy.maxDelayMs < policy.delayMs) errors.push({ path: join(path, 'maxDelay'), message: 'must not be shorter than delay' })
  return policy
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
  return {
    parallelism: integer(value.parallelism, d.parallelism, 1, SPEC_LIMITS.maxReplicas, join(path, 'parallelism'), errors),
    delayMs: duration(value.delay, d.delayMs, join(path, 'delay'), errors),
    order: oneOf(value.order, UPDATE_ORDERS, d.order, join(path, 'order'), errors),
    autoRollback,
    healthDeadlineMs: duration(value.healthDeadline, d.healthDeadlineMs, join(path, 'healthDeadline'), errors),
  }
}

// --- small typed readers; each pushes an error naming the path and returns a safe fallback ---

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function unknownKeys(value: Record<string, unknown>, allowed: readonly string[], path: string, errors: SpecError[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) errors.push({ path: join(path, key), message: `unknown field; expected one of ${allowed.join(', ')}` })
  }
}

function optionalString(value: unknown, path: string, errors: SpecError[]): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length > SPEC_LIMITS.maxStringLength) {
    errors.push({ path, message: 'expected a string' })
    return undefined
  }
  return value
}

/** A list of strings; with `splitString`, a plain string is split on whitespace (use a list for arguments with spaces). */
function stringList(value: unknown, path: string, errors: SpecError[], splitString: boolean): string[] {
  if (value === undefined) return []
  if (splitString && typeof value === 'string') return value.trim().split(/\s+/).filter((part) => part.length > 0)
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) return value.map(String)
  errors.push({ path, message: splitString ? 'expected a list of strings, or one string split on spaces' : 'expected a list of strings' })
  return []
}

/** A map of string values; with `listForm`, also ["KEY=value", ...] as Compose allows for env. */
function stringMap(value: unknown, path: string, errors: SpecError[], listForm: boolean): Record<string, string> {
  if (value === undefined) return {}
  const out: Record<string, string> = {}
  if (listForm && Array.isArray(value)) {
    value.forEach((item, i) => {
      const match = typeof item === 'string' ? /^([^=]+)=(.*)$/s.exec(item) : null
      if (match) out[match[1]!] = match[2]!
      else errors.push({ path: `${path}[${i}]`, message: 'expected "KEY=value"' })
    })
    return out
  }
  if (!isRecord(value)) {
    errors.push({ path, message: 'expected a map of names to values' })
    return out
  }
  const keys = Object.keys(value)
  if (keys.length > SPEC_LIMITS.maxEnvEntries) errors.push({ path, message: `at most ${SPEC_LIMITS.maxEnvEntries} entries` })
  for (const key of keys) {
    const item = value[key]
    if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') out[key] = String(item)
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

function duration(value: unknown, fallback: number, path: string, errors: SpecError[]): number {
  if (value === undefined) return fallback
  const parsed = parseDurationMs(value)
  if (typeof parsed === 'string') {
    errors.push({ path, message: parsed })
    return fallback
  }
  return parsed
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535
}
