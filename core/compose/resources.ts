// Resources. Swarm reserves (placement counts it) and limits (the engine enforces it) separately; a
// peer reserves and limits by one figure per resource. So, per cpu and memory: the reservation when
// only it is given, the limit when only it is given, either when they agree, and the limit when both
// are given and differ — a task limited below its reservation could not use it, and one reserved
// below its limit could be starved — with one warning naming the resources where that happened.
// The service-level `cpus`, `mem_limit` and `mem_reservation` of docker compose count as the
// corresponding limit or reservation; giving both forms with different values is an error, as in
// compose. Discrete generic resources (`{ kind: gpu, value: 2 }`) become extended resources.
//
// A resource the file neither reserves nor limits is written as 0 — no reservation and no limit, what
// Swarm and docker compose do — not left to peer's own defaults (100m, 64 MiB), which the engine
// would enforce as limits: a database given no memory figure must not be killed at 64 MiB.

import { quoted } from '../error-message.js'
import { RESOURCE_LIMITS } from '../service-spec/index.js'
import { LIMITS_FIELDS, RESERVATIONS_FIELDS, RESOURCES_FIELDS } from './fields.js'
import { item, join } from './field-path.js'
import type { ServiceContext } from './project.js'
import type { Report } from './report.js'
import { bytesToMiB, parseBytes, parseCpusMilli } from './units.js'
import { checkKeys, isMap, put, readMap, readString, readWhole } from './values.js'

interface Figures {
  cpuMilli?: number
  memoryMiB?: number
}

/** Extended resource names, as native validation reads them. */
const EXTENDED_NAME = /^[a-z][a-z0-9_.-]{0,62}$/

/** The written `resources:` map: cpu and memory always, extended resources when the file counts any. */
export function readResources(deployResources: unknown, service: Record<string, unknown>, context: ServiceContext): Record<string, unknown> {
  const { report } = context
  const path = join(context.path, 'deploy.resources')
  const resources = readMap(deployResources, path, report, 'a map such as { limits: { cpus: "0.5", memory: 512M } }')
  if (resources !== undefined) checkKeys(resources, RESOURCES_FIELDS, path, report)
  const limitsPath = join(path, 'limits')
  const reservationsPath = join(path, 'reservations')
  const limitsMap = readMap(resources?.limits, limitsPath, report, 'a map such as { cpus: "0.5", memory: 512M }')
  const reservationsMap = readMap(resources?.reservations, reservationsPath, report, 'a map such as { cpus: "0.25", memory: 256M }')
  if (limitsMap !== undefined) checkKeys(limitsMap, LIMITS_FIELDS, limitsPath, report)
  if (reservationsMap !== undefined) checkKeys(reservationsMap, RESERVATIONS_FIELDS, reservationsPath, report)

  const limits = readFigures(limitsMap, limitsPath, report)
  const reservations = readFigures(reservationsMap, reservationsPath, report)
  foldLegacy(limits, 'cpuMilli', service.cpus, 'cpus', 'deploy.resources.limits.cpus', context)
  foldLegacy(limits, 'memoryMiB', service.mem_limit, 'mem_limit', 'deploy.resources.limits.memory', context)
  foldLegacy(reservations, 'memoryMiB', service.mem_reservation, 'mem_reservation', 'deploy.resources.reservations.memory', context)

  if (limitsMap?.pids !== undefined) report.warn(join(limitsPath, 'pids'), 'ignored: peer sets no process limit')
  if (service.pids_limit !== undefined) report.warn(join(context.path, 'pids_limit'), 'ignored: peer sets no process limit')
  if (reservationsMap?.devices !== undefined) report.warn(join(reservationsPath, 'devices'), 'ignored: peer passes no devices; count them as generic_resources')

  const written: Record<string, unknown> = {}
  const differing: string[] = []
  const cpu = oneFigure(limits.cpuMilli, reservations.cpuMilli, 'cpus', differing)
  const memory = oneFigure(limits.memoryMiB, reservations.memoryMiB, 'memory', differing)
  if (differing.length > 0) {
    report.warn(path, `peer reserves and limits by one figure; using the limits for ${differing.join(' and ')}, which differ from the reservations`)
  }
  if (cpu !== undefined && cpu > RESOURCE_LIMITS.maxCpuMilli) report.error(path, `at most ${RESOURCE_LIMITS.maxCpuMilli / 1000} cpus`)
  else written.cpu = `${cpu ?? 0}m`
  if (memory !== undefined && memory > RESOURCE_LIMITS.maxMemoryMiB) report.error(path, 'at most 1 PiB of memory')
  else written.memory = memory ?? 0
  readGenericResources(reservationsMap?.generic_resources, join(reservationsPath, 'generic_resources'), written, report)
  return written
}

function readFigures(map: Record<string, unknown> | undefined, path: string, report: Report): Figures {
  const figures: Figures = {}
  if (map === undefined) return figures
  const cpu = readCpus(map.cpus, join(path, 'cpus'), report)
  if (cpu !== undefined) figures.cpuMilli = cpu
  const memory = readMemory(map.memory, join(path, 'memory'), report)
  if (memory !== undefined) figures.memoryMiB = memory
  return figures
}

function readCpus(value: unknown, path: string, report: Report): number | undefined {
  if (value === undefined || value === null) return undefined
  const milli = parseCpusMilli(value)
  if (typeof milli === 'string') {
    report.error(path, milli)
    return undefined
  }
  return milli
}

function readMemory(value: unknown, path: string, report: Report): number | undefined {
  if (value === undefined || value === null) return undefined
  const bytes = parseBytes(value)
  if (typeof bytes === 'string') {
    report.error(path, bytes)
    return undefined
  }
  return bytesToMiB(bytes)
}

/** A service-level figure (cpus, mem_limit, mem_reservation) into the deploy figures it stands for. */
function foldLegacy(figures: Figures, field: keyof Figures, value: unknown, key: string, deployField: string, context: ServiceContext): void {
  const path = join(context.path, key)
  const figure = field === 'cpuMilli' ? readCpus(value, path, context.report) : readMemory(value, path, context.report)
  if (figure === undefined) return
  const deployed = figures[field]
  if (deployed !== undefined && deployed !== figure) {
    context.report.error(path, `differs from ${deployField}; give one of them`)
    return
  }
  figures[field] = figure
}

function oneFigure(limit: number | undefined, reservation: number | undefined, name: string, differing: string[]): number | undefined {
  if (limit === undefined) return reservation
  if (reservation !== undefined && reservation !== limit) differing.push(name)
  return limit
}

function readGenericResources(value: unknown, path: string, written: Record<string, unknown>, report: Report): void {
  if (value === undefined || value === null) return
  if (!Array.isArray(value)) {
    report.error(path, 'expected a list such as [{ discrete_resource_spec: { kind: gpu, value: 1 } }]')
    return
  }
  value.forEach((entry, i) => {
    const entryPath = item(path, i)
    if (!isMap(entry)) {
      report.error(entryPath, 'expected { discrete_resource_spec: { kind, value } }')
      return
    }
    checkKeys(entry, ['discrete_resource_spec', 'named_resource_spec'], entryPath, report)
    if (entry.named_resource_spec !== undefined) report.warn(join(entryPath, 'named_resource_spec'), 'ignored: peer counts resources by kind, not by name')
    const spec = readMap(entry.discrete_resource_spec, join(entryPath, 'discrete_resource_spec'), report, '{ kind, value }')
    if (spec === undefined) return
    const specPath = join(entryPath, 'discrete_resource_spec')
    checkKeys(spec, ['kind', 'value'], specPath, report)
    const kind = readString(spec.kind, join(specPath, 'kind'), report)
    const amount = readWhole(spec.value, join(specPath, 'value'), report, 0, RESOURCE_LIMITS.maxExtended)
    if (kind === undefined || amount === undefined) return
    if (!EXTENDED_NAME.test(kind) || kind === 'cpu' || kind === 'memory') {
      report.error(join(specPath, 'kind'), `${quoted(kind)} cannot name a peer extended resource: lowercase letters, digits, "_", "." and "-", starting with a letter, other than cpu and memory`)
      return
    }
    if (Object.hasOwn(written, kind)) report.error(join(specPath, 'kind'), `${kind} is listed twice`)
    else put(written, kind, amount)
  })
}
