// A native spec written as a compose service: what compose can say in compose fields, the rest under
// `x-peer:`, which translation merges back. translateCompose of the result gives back the spec (a
// property: test/core/compose/round-trip.test.ts). Every string is written with `$` doubled, so
// interpolation gives back the value as it was.
//
// Under x-peer: driver (process), strategy (binpack), replicas of a global service, restart.maxDelay
// when it is not the default, constraints swarm syntax cannot carry (in, notin, exists, matches, and
// values with "=" or surrounding spaces), secrets resolved to a version (compose names no versions),
// and the mounts of a service that runs more than one task and mounts a named volume (compose means
// one shared volume there, peer one per host: written as compose, it would translate with a warning).
//
// Named volumes and secrets are referred to by a top-level declaration, which composeDeclarations
// writes for a set of specs: each secret as `external: true` (it is a cluster secret already), each
// volume as a plain local volume. A secret with an absolute target is written under `secrets:` with
// that target, as the compose specification allows, not under `configs:`: peer cannot tell which of
// its secrets were configs, and translation reads both the same way.

import { formatDurationMs, type Constraint, type MountSpec, type SecretRef, type ServiceSpec } from '../service-spec/index.js'
import { put } from './values.js'

const SWARM_ATTRIBUTE: Readonly<Record<string, string>> = {
  'peer.hostname': 'node.hostname',
  'peer.id': 'node.id',
  'peer.os': 'node.platform.os',
  'peer.arch': 'node.platform.arch',
}

const CONDITION = { always: 'any', 'on-failure': 'on-failure', never: 'none' } as const

const DEFAULT_MAX_DELAY_MS = 60_000

export function toCompose(spec: ServiceSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const peer: Record<string, unknown> = {}
  if (spec.driver === 'docker') out.image = escaped(spec.image)
  else peer.driver = spec.driver
  if (spec.command.length > 0) out.command = spec.command.map(escaped)
  if (Object.keys(spec.env).length > 0) out.environment = escapedMap(spec.env)

  const deploy: Record<string, unknown> = { mode: spec.mode === 'job' ? 'replicated-job' : spec.mode }
  if (spec.mode !== 'global') deploy.replicas = spec.replicas
  else if (spec.replicas !== 1) peer.replicas = spec.replicas
  const { cpuMilli, memoryMiB, extended } = spec.resources
  const reservations: Record<string, unknown> = { cpus: cores(cpuMilli), memory: `${memoryMiB}M` }
  const kinds = Object.entries(extended)
  if (kinds.length > 0) reservations.generic_resources = kinds.map(([kind, value]) => ({ discrete_resource_spec: { kind, value } }))
  deploy.resources = { reservations }
  const placement: Record<string, unknown> = {}
  const swarmConstraints = spec.constraints.map(swarmConstraint)
  if (swarmConstraints.every((text) => text !== undefined)) {
    if (swarmConstraints.length > 0) placement.constraints = swarmConstraints
  } else {
    peer.constraints = spec.constraints.map(({ label, op, values }) => ({ label, op, values: [...values] }))
  }
  if (spec.spreadBy !== '') placement.preferences = [{ spread: `node.labels.${spec.spreadBy}` }]
  if (spec.maxPerNode > 0) placement.max_replicas_per_node = spec.maxPerNode
  if (Object.keys(placement).length > 0) deploy.placement = placement
  const { restart, update } = spec
  deploy.restart_policy = {
    condition: CONDITION[restart.condition],
    delay: formatDurationMs(restart.delayMs),
    max_attempts: restart.maxAttempts,
    window: formatDurationMs(restart.windowMs),
  }
  if (restart.maxDelayMs !== Math.max(DEFAULT_MAX_DELAY_MS, restart.delayMs)) peer.restart = { maxDelay: formatDurationMs(restart.maxDelayMs) }
  deploy.update_config = {
    parallelism: update.parallelism,
    delay: formatDurationMs(update.delayMs),
    order: update.order,
    failure_action: update.autoRollback ? 'rollback' : 'pause',
    monitor: formatDurationMs(update.healthDeadlineMs),
  }
  out.deploy = deploy

  const published = spec.ports.filter((port) => port.host > 0)
  const byName = spec.ports.filter((port) => port.host === 0)
  if (published.length > 0) {
    out.ports = published.map((port) => ({ target: port.container, published: port.host, protocol: port.protocol, mode: port.mode === 'ingress' ? 'ingress' : 'host' }))
  }
  // Reachable by name only: what compose's expose says.
  if (byName.length > 0) out.expose = byName.map((port) => `${port.container}/${port.protocol}`)
  if (spec.healthcheck !== null) {
    const check = spec.healthcheck
    out.healthcheck = {
      test: ['CMD', ...check.command.map(escaped)],
      interval: formatDurationMs(check.intervalMs),
      timeout: formatDurationMs(check.timeoutMs),
      retries: check.retries,
      start_period: formatDurationMs(check.startPeriodMs),
    }
  }
  if (Object.keys(spec.labels).length > 0) out.labels = escapedMap(spec.labels)
  if (spec.strategy !== 'spread') peer.strategy = spec.strategy
  writeSecrets(spec.secrets ?? [], out, peer)
  if (spec.entrypoint !== undefined) out.entrypoint = spec.entrypoint.map(escaped)
  if (spec.user !== undefined) out.user = escaped(spec.user)
  if (spec.workdir !== undefined) out.working_dir = escaped(spec.workdir)
  if (spec.mounts !== undefined) {
    if (sharesNamedVolume(spec)) peer.mounts = spec.mounts.map(peerMount)
    else out.volumes = spec.mounts.map(composeMount)
  }
  if (spec.capAdd !== undefined) out.cap_add = [...spec.capAdd]
  if (spec.capDrop !== undefined) out.cap_drop = [...spec.capDrop]
  if (spec.stopGraceMs !== undefined) out.stop_grace_period = formatDurationMs(spec.stopGraceMs)
  // Compose has no word for it: Swarm's answer to a partition is fixed (docs/protocol.md#partitions).
  if (spec.partition !== undefined) peer.partition = spec.partition
  if (Object.keys(peer).length > 0) out['x-peer'] = escapedValues(peer)
  return out
}

/**
 * The top-level `volumes:` and `secrets:` the services toCompose writes for `specs` refer to: each
 * named volume and each secret written as a compose secret, once.
 */
export function composeDeclarations(specs: readonly ServiceSpec[]): Record<string, unknown> {
  const volumes: Record<string, unknown> = {}
  const secrets: Record<string, unknown> = {}
  for (const spec of specs) {
    for (const mount of sharesNamedVolume(spec) ? [] : spec.mounts ?? []) {
      if (mount.type === 'volume') put(volumes, declarationKey(mount.source), declaration(mount.source, {}))
    }
    for (const ref of spec.secrets ?? []) {
      if (ref.version === 0) put(secrets, declarationKey(ref.name), declaration(ref.name, { external: true }))
    }
  }
  return {
    ...(Object.keys(volumes).length > 0 ? { volumes } : {}),
    ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
  }
}

/**
 * A secret at version 0 (as written) as a compose reference: its name alone when it is the file name,
 * else `{ source, target }`. One resolved to a version goes under x-peer with the version.
 */
function writeSecrets(refs: readonly SecretRef[], out: Record<string, unknown>, peer: Record<string, unknown>): void {
  const written = refs.filter((ref) => ref.version === 0)
  const versioned = refs.filter((ref) => ref.version !== 0)
  if (written.length > 0) {
    out.secrets = written.map((ref) => {
      const source = declarationKey(ref.name)
      const target = ref.target ?? ref.name
      return source === target ? source : { source, target: escaped(target) }
    })
  }
  if (versioned.length > 0) peer.secrets = versioned.map((ref) => ({ ...ref }))
}

/**
 * The key a volume or secret is declared under: its name, unless the name starts with `x-`, which
 * compose reads as an extension field; a leading `_` avoids that and names nothing else (peer's
 * volume and secret names start with a letter or digit).
 */
function declarationKey(name: string): string {
  return name.startsWith('x-') ? `_${name}` : name
}

function declaration(name: string, fields: Record<string, unknown>): Record<string, unknown> {
  return declarationKey(name) === name ? fields : { ...fields, name }
}

/** More than one task mounting a named volume: compose and peer mean different things by it. */
function sharesNamedVolume(spec: ServiceSpec): boolean {
  const several = spec.mode === 'global' || spec.replicas > 1
  return several && (spec.mounts ?? []).some((mount) => mount.type === 'volume')
}

function composeMount(mount: MountSpec): Record<string, unknown> {
  const source = mount.type === 'volume' ? declarationKey(mount.source) : escaped(mount.source)
  return {
    type: mount.type,
    ...(mount.type === 'tmpfs' ? {} : { source }),
    target: escaped(mount.target),
    read_only: mount.readOnly,
  }
}

function peerMount(mount: MountSpec): Record<string, unknown> {
  return { type: mount.type, ...(mount.type === 'tmpfs' ? {} : { source: mount.source }), target: mount.target, readOnly: mount.readOnly }
}

/** `node.labels.zone == eu`, or undefined when swarm syntax cannot carry the constraint exactly. */
function swarmConstraint(constraint: Constraint): string | undefined {
  const { label, op, values } = constraint
  if (op !== '==' && op !== '!=') return undefined
  const value = values[0]!
  if (value === '' || value !== value.trim() || value.includes('=')) return undefined
  return `${SWARM_ATTRIBUTE[label] ?? `node.labels.${label}`} ${op} ${escaped(value)}`
}

/** Millicores as cores in decimal digits: 1500 → "1.5", 100 → "0.1". */
function cores(milli: number): string {
  const whole = Math.floor(milli / 1000)
  const fraction = String(milli % 1000).padStart(3, '0').replace(/0+$/, '')
  return fraction === '' ? String(whole) : `${whole}.${fraction}`
}

/** `$` doubled, as compose writes a literal dollar. */
function escaped(text: string): string {
  return text.replaceAll('$', () => '$$')
}

function escapedMap(map: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(map)) put(out, key, escaped(value))
  return out
}

/** Every string inside `value` escaped (x-peer values are interpolated like any other). */
function escapedValues(value: unknown): unknown {
  if (typeof value === 'string') return escaped(value)
  if (Array.isArray(value)) return value.map(escapedValues)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, entry] of Object.entries(value)) put(out, key, escapedValues(entry))
    return out
  }
  return value
}
