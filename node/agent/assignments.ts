// The tasks this peer runs, with the spec each was started with, kept on disk so that after a reboot
// — also with no other peer reachable — the agent restarts its own work from local state (the
// offline-reboot case of edge fleets). Completed job records are kept too, so a job does not run twice.
//
// Written atomically on every change of the set; read once at start. A damaged file is not fatal:
// the peer then starts empty and the cluster re-places the work (it was never the only copy of truth).

import { readFile } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { writeFileDurably } from '../../io/index.js'
import { checkSpec } from '../../crdt/index.js'
import { boundPortsFit, canonicalJson, parseSlot, placementRequest, TASK_STATES, type PeerId, type PortSpec, type ServiceSpec, type TaskState, type TaskView } from '../../core/index.js'

const FORMAT = 1

export interface Assignment {
  readonly task: TaskView
  readonly spec: ServiceSpec
}

export type LoadedAssignments = { assignments: Assignment[]; problems: string[] }

export async function readAssignments(path: string, self: PeerId): Promise<LoadedAssignments> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { assignments: [], problems: [] }
    return { assignments: [], problems: [`cannot read ${path}: ${(error as Error).message}`] }
  }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return { assignments: [], problems: [`${path} is not JSON (${(error as Error).message}); starting with no local tasks`] }
  }
  const body = document as { format?: unknown; tasks?: unknown }
  if (body === null || typeof body !== 'object' || body.format !== FORMAT || !Array.isArray(body.tasks)) {
    return { assignments: [], problems: [`${path} is not a task list of format ${FORMAT}; starting with no local tasks`] }
  }
  const assignments: Assignment[] = []
  const problems: string[] = []
  for (const [index, entry] of (body.tasks as unknown[]).entries()) {
    const parsed = parseAssignment(entry, self)
    if (typeof parsed === 'string') problems.push(`${path}: tasks[${index}]: ${parsed}; skipped`)
    else assignments.push(parsed)
  }
  return { assignments, problems }
}

export async function writeAssignments(path: string, assignments: readonly Assignment[]): Promise<void> {
  const text = `${JSON.stringify({ format: FORMAT, tasks: assignments })}\n`
  await writeFileDurably(dirname(path), basename(path), new TextEncoder().encode(text))
}

function parseAssignment(entry: unknown, self: PeerId): Assignment | string {
  if (entry === null || typeof entry !== 'object') return 'not an object'
  const { task, spec } = entry as { task?: Record<string, unknown>; spec?: unknown }
  if (task === undefined || task === null || typeof task !== 'object') return 'no task'
  const slot = typeof task['slot'] === 'string' ? parseSlot(task['slot']) : undefined
  if (slot === undefined) return 'bad slot'
  if (task['service'] !== slot.service) return `service ${JSON.stringify(task['service'])} is not the slot's`
  if (task['peer'] !== self) return `belongs to peer ${String(task['peer'])}, not this one`
  if (!TASK_STATES.includes(task['state'] as TaskState)) return 'bad state'
  if (typeof task['since'] !== 'number' || !Number.isFinite(task['since'])) return 'bad since'
  const epoch = task['epoch']
  if (epoch !== undefined && !(typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 0)) return 'bad epoch'
  const checked = checkSpec(spec, 'spec')
  if (!checked.ok) return checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')
  if (checked.spec.name !== slot.service) return 'spec of another service'
  // The task is what its spec makes of it: anything else in the file is damage, not data.
  if (task['specHash'] !== placementRequest(checked.spec).specHash) return 'specHash does not match the spec'
  if (canonicalJson(task['resources'] ?? null) !== canonicalJson(checked.spec.resources)) return 'resources do not match the spec'
  const ports = boundPorts(task['ports'])
  if (ports === undefined || !boundPortsFit(checked.spec, ports)) return 'ports do not match the spec'
  const view: TaskView = {
    slot: task['slot'] as TaskView['slot'],
    service: checked.spec.name,
    peer: self,
    specHash: task['specHash'],
    state: task['state'] as TaskState,
    since: task['since'],
    resources: checked.spec.resources,
    ports,
    // Its placement epoch goes with it, so a restored copy keeps its rank in a conflict.
    ...(typeof epoch === 'number' && epoch > 0 ? { epoch } : {}),
  }
  return { task: view, spec: checked.spec }
}

/** A task's bound ports as written: whole port numbers and a protocol, nothing else (boundPortsFit checks the rest). */
function boundPorts(value: unknown): PortSpec[] | undefined {
  if (!Array.isArray(value)) return undefined
  const ports: PortSpec[] = []
  for (const item of value) {
    if (item === null || typeof item !== 'object') return undefined
    const { host, container, protocol } = item as Record<string, unknown>
    if (!Number.isInteger(host) || !Number.isInteger(container) || (protocol !== 'tcp' && protocol !== 'udp')) return undefined
    if (Object.keys(item).length !== 3) return undefined
    ports.push({ host: host as number, container: container as number, protocol })
  }
  return ports
}
