// Builders for the placement core's plain data, shared by the core's tests. Specs go through
// validateServices so every default is the real one; peers and tasks are plain views with small,
// readable defaults (a 4-core, 8 GiB peer running both drivers, a running task on the spec's version).

import {
  addResources, NO_RESOURCES, peerId, replicaSlot, specHash, validateServices,
  type PeerView, type Resources, type ServiceSpec, type SlotId, type TaskView,
} from '../../../core/index.js'

/**
 * A validated service. `overrides` is the body a user would write (`{ replicas: 3, image: 'nginx' }`);
 * the default body is a process-driver service named `web` that runs `sleep 1000`. Giving `image`
 * without `command` or `driver` makes a docker service. Throws when the body is invalid.
 */
export function makeSpec(overrides: Record<string, unknown> = {}): ServiceSpec {
  const body: Record<string, unknown> = { name: 'web', ...overrides }
  if (body.command === undefined && body.image === undefined && body.driver === undefined) body.command = ['sleep', '1000']
  for (const [key, value] of Object.entries(body)) if (value === undefined) delete body[key]
  const result = validateServices(body)
  if (!result.ok) throw new Error(`makeSpec: invalid spec ${JSON.stringify(result.errors)}`)
  return result.services[0]!
}

/** Resources in the core's units. */
export function resources(cpuMilli: number, memoryMiB: number, extended: Record<string, number> = {}): Resources {
  return { cpuMilli, memoryMiB, extended }
}

/** Sum of the resources of the tasks that hold them (active ones). */
export function allocatedBy(tasks: readonly TaskView[]): Resources {
  let sum: Resources = NO_RESOURCES
  for (const task of tasks) if (ACTIVE.has(task.state)) sum = addResources(sum, task.resources)
  return sum
}

const ACTIVE = new Set(['pending', 'starting', 'running', 'healthy', 'unhealthy'])

/**
 * A peer view. Defaults: alive, 4000m cpu, 8192 MiB, no labels, both drivers, no tasks. When
 * `allocated` is not given it is the sum of the active tasks' resources, as a real peer reports it.
 */
export function makePeer(id: string, overrides: Partial<PeerView> = {}): PeerView {
  const tasks = overrides.tasks ?? []
  return {
    id: peerId(id),
    state: 'alive',
    capacity: resources(4000, 8192),
    labels: {},
    drivers: ['docker', 'process'],
    ...overrides,
    tasks,
    allocated: overrides.allocated ?? allocatedBy(tasks),
  }
}

/**
 * A task of `spec` in `slot` (a replica index or a full slot id) on `peer`. Defaults: running since
 * time 0 on the spec's current version, holding the spec's resources and ports.
 */
export function makeTask(spec: ServiceSpec, slot: number | string, peer: string, overrides: Partial<TaskView> = {}): TaskView {
  return {
    slot: typeof slot === 'number' ? replicaSlot(spec.name, slot) : (slot as SlotId),
    service: spec.name,
    peer: peerId(peer),
    specHash: specHash(spec),
    state: 'running',
    since: 0,
    resources: spec.resources,
    ports: spec.ports,
    ...overrides,
  }
}

/** `count` identical peers named p00, p01, … (zero-padded so string order is numeric order). */
export function makePeers(count: number, overrides: Partial<PeerView> = {}): PeerView[] {
  const width = String(Math.max(0, count - 1)).length
  return Array.from({ length: count }, (_, i) => makePeer(`p${String(i).padStart(width, '0')}`, overrides))
}

/** A deterministic shuffle (a seeded LCG), so "any order" tests are reproducible. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let state = seed >>> 0 || 1
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
