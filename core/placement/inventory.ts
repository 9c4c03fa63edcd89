// A peer inventory: the cluster written down, for `peer plan` and `peer sim --inventory`. Validation
// turns it into PeerViews; existing tasks take their resources from the service specs they belong to.

import { PEER_ID_PATTERN, parseSlot, type PeerId, type ServiceName, type SlotId } from './ids.js'
import { type SpecError } from '../service-spec/field-errors.js'
import { isRecord } from '../service-spec/validate.js'
import { parseCpuMilli, parseMemoryMiB } from '../service-spec/units.js'
import { NO_RESOURCES, addResources } from '../service-spec/resources.js'
import { specHash } from '../service-spec/version.js'
import { hostModePorts } from '../service-spec/ports.js'
import { DRIVERS, type Driver, type Resources, type ServiceSpec } from '../service-spec/types.js'
import { PEER_STATES, TASK_STATES, isActive, type PeerState, type PeerView, type TaskState, type TaskView } from './view.js'

export type InventoryResult = { ok: true; peers: PeerView[] } | { ok: false; errors: SpecError[] }

export const MAX_INVENTORY_PEERS = 200_000

const PEER_FIELDS = ['name', 'capacity', 'labels', 'drivers', 'state', 'tasks']

/**
 * Accepts `{ peers: [{ name, capacity, labels, drivers, state, tasks }] }` or `{ peers: { name: {...} } }`.
 * Defaults: drivers both, state alive, no labels, no tasks. A task is a slot id ("web/0") on the
 * service's current version, or `{ slot, specHash, state }` to describe an older version or a state.
 */
export function validateInventory(document: unknown, services: readonly ServiceSpec[], now = 0): InventoryResult {
  const errors: SpecError[] = []
  const specs = new Map(services.map((s) => [s.name as string, s]))
  const entries: Array<{ name: unknown; body: unknown; path: string }> = []
  const list = isRecord(document) ? document.peers : undefined
  if (Array.isArray(list)) {
    list.forEach((body, i) => entries.push({ name: isRecord(body) ? body.name : undefined, body, path: `peers[${i}]` }))
  } else if (isRecord(list)) {
    for (const [name, body] of Object.entries(list)) entries.push({ name, body, path: `peers.${name}` })
  } else {
    return { ok: false, errors: [{ path: 'peers', message: 'expected a list of peers ({ name, capacity, labels })' }] }
  }
  if (entries.length > MAX_INVENTORY_PEERS) {
    return { ok: false, errors: [{ path: 'peers', message: `at most ${MAX_INVENTORY_PEERS} peers` }] }
  }

  const peers: PeerView[] = []
  const names = new Set<string>()
  const slotsSeen = new Map<string, string>()
  for (const { name, body, path } of entries) {
    if (!isRecord(body)) {
      errors.push({ path, message: 'expected a peer ({ name, capacity, labels })' })
      continue
    }
    for (const key of Object.keys(body)) {
      if (!PEER_FIELDS.includes(key)) errors.push({ path: `${path}.${key}`, message: `unknown field; expected one of ${PEER_FIELDS.join(', ')}` })
    }
    if (typeof name !== 'string' || !PEER_ID_PATTERN.test(name)) {
      errors.push({ path: `${path}.name`, message: 'expected a peer name of letters, digits, ".", "_" and "-"' })
      continue
    }
    if (names.has(name)) errors.push({ path: `${path}.name`, message: `peer ${JSON.stringify(name)} is listed twice` })
    names.add(name)
    const id = name as PeerId

    const capacity = readCapacity(body.capacity, `${path}.capacity`, errors)
    const labels: Record<string, string> = {}
    if (body.labels !== undefined) {
      if (!isRecord(body.labels)) errors.push({ path: `${path}.labels`, message: 'expected a map of label to value' })
      else for (const [key, value] of Object.entries(body.labels)) {
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') labels[key] = String(value)
        else errors.push({ path: `${path}.labels.${key}`, message: 'expected a string value' })
      }
    }
    let drivers: Driver[] = [...DRIVERS]
    if (body.drivers !== undefined) {
      if (Array.isArray(body.drivers) && body.drivers.every((d) => DRIVERS.includes(d as Driver))) drivers = body.drivers as Driver[]
      else errors.push({ path: `${path}.drivers`, message: `expected a list of ${DRIVERS.join(', ')}` })
    }
    let state: PeerState = 'alive'
    if (body.state !== undefined) {
      if (PEER_STATES.includes(body.state as PeerState)) state = body.state as PeerState
      else errors.push({ path: `${path}.state`, message: `expected one of ${PEER_STATES.join(', ')}` })
    }

    const tasks: TaskView[] = []
    let allocated: Resources = NO_RESOURCES
    const rawTasks = body.tasks ?? []
    if (!Array.isArray(rawTasks)) errors.push({ path: `${path}.tasks`, message: 'expected a list of slot ids such as "web/0"' })
    else rawTasks.forEach((raw, i) => {
      const taskPath = `${path}.tasks[${i}]`
      const slotText = typeof raw === 'string' ? raw : isRecord(raw) ? raw.slot : undefined
      const parsed = typeof slotText === 'string' ? parseSlot(slotText) : undefined
      if (parsed === undefined) {
        errors.push({ path: taskPath, message: 'expected a slot id such as "web/0" or "agent@edge-1", or { slot, specHash, state }' })
        return
      }
      if (parsed.kind === 'global' && parsed.peer !== id) {
        errors.push({ path: taskPath, message: `global slot ${slotText} belongs to peer ${parsed.peer}, not ${id}` })
        return
      }
      const spec = specs.get(parsed.service)
      let taskState: TaskState = 'running'
      if (isRecord(raw) && raw.state !== undefined) {
        if (TASK_STATES.includes(raw.state as TaskState)) taskState = raw.state as TaskState
        else errors.push({ path: `${taskPath}.state`, message: `expected one of ${TASK_STATES.join(', ')}` })
      }
      const hash = isRecord(raw) && typeof raw.specHash === 'string' ? raw.specHash : spec ? specHash(spec) : 'unknown'
      const task: TaskView = {
        slot: slotText as SlotId, service: parsed.service as ServiceName, peer: id, specHash: hash, state: taskState, since: now,
        resources: spec?.resources ?? NO_RESOURCES, ports: spec === undefined ? [] : hostModePorts(spec),
      }
      if (isActive(taskState)) {
        const other = slotsSeen.get(`${slotText}@${id}`)
        if (other !== undefined) errors.push({ path: taskPath, message: `slot ${slotText} is listed twice on this peer` })
        slotsSeen.set(`${slotText}@${id}`, taskPath)
        allocated = addResources(allocated, task.resources)
      }
      tasks.push(task)
    })
    peers.push({ id, state, capacity, allocated, labels, drivers, tasks })
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, peers }
}

function readCapacity(value: unknown, path: string, errors: SpecError[]): Resources {
  if (!isRecord(value)) {
    errors.push({ path, message: 'expected { cpu, memory } and any extended resources (gpu: 2)' })
    return NO_RESOURCES
  }
  let cpuMilli = 0
  let memoryMiB = 0
  const extended: Record<string, number> = {}
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'cpu') {
      const parsed = parseCpuMilli(raw)
      if (typeof parsed === 'string') errors.push({ path: `${path}.cpu`, message: parsed })
      else cpuMilli = parsed
    } else if (key === 'memory') {
      const parsed = parseMemoryMiB(raw)
      if (typeof parsed === 'string') errors.push({ path: `${path}.memory`, message: parsed })
      else memoryMiB = parsed
    } else if (Number.isInteger(raw) && (raw as number) >= 0) {
      extended[key] = raw as number
    } else {
      errors.push({ path: `${path}.${key}`, message: 'extended resources are whole counts' })
    }
  }
  if (value.cpu === undefined) errors.push({ path: `${path}.cpu`, message: 'capacity needs cpu (cores, or millicores as "4000m")' })
  if (value.memory === undefined) errors.push({ path: `${path}.memory`, message: 'capacity needs memory ("8Gi", or MiB)' })
  return { cpuMilli, memoryMiB, extended }
}
