// What the control API answers, built from one peer's knowledge: its machine's view of every peer
// (adverts: who runs what), its membership table and its copy of the desired state. Any peer answers
// for the whole cluster; answers from two peers agree once gossip has settled. The shapes are the
// API's (node/control/api-types.ts).

import type { ServiceState } from '../../crdt/index.js'
import {
  compareSlots,
  compareStrings,
  isActive,
  isUp,
  parseSlot,
  REJECTION_TEXT,
  type MemberRecord,
  type PeerId,
  type PeerView,
  type PendingInfo,
  type Resources,
  type RejectionCount,
  type TaskView,
} from '../../core/index.js'
import type { NodeRow, Reason, ServiceRow, TaskRow, WhyAnswer } from '../control/index.js'

/** Tasks every live peer advertises, by slot then peer. A slot on two peers is a conflict being resolved. */
export function taskRows(views: readonly PeerView[], service?: string): TaskRow[] {
  const rows: TaskRow[] = []
  for (const view of views) {
    if (view.state === 'dead') continue
    for (const task of view.tasks) {
      if (!isActive(task.state) || (service !== undefined && task.service !== service)) continue
      rows.push(taskRow(task))
    }
  }
  return rows.sort((a, b) => compareSlots(a.slot as TaskView['slot'], b.slot as TaskView['slot']) || compareStrings(a.peer, b.peer))
}

function taskRow(task: TaskView): TaskRow {
  return { slot: task.slot, service: task.service, peer: task.peer, state: task.state, specHash: task.specHash, since: task.since }
}

export function serviceRows(services: readonly ServiceState[], tasks: readonly TaskRow[], pending: readonly PendingInfo[]): ServiceRow[] {
  return services.map((service) => serviceRow(service, tasks, pending))
}

/** One service's row: `tasks` may hold other services' tasks too, only its own are counted. */
export function serviceRow({ spec, version, specHash, author, timeMs }: ServiceState, tasks: readonly TaskRow[], pending: readonly PendingInfo[]): ServiceRow {
  const own = tasks.filter((task) => task.service === spec.name)
  return {
    name: spec.name,
    mode: spec.mode,
    driver: spec.driver,
    version,
    specHash,
    desired: spec.mode === 'global' ? null : spec.replicas,
    running: own.filter((task) => task.specHash === specHash && isUp(task.state as TaskView['state'])).length,
    tasks: own.length,
    pending: pending.find((info) => info.service === spec.name)?.slots.length ?? 0,
    updatedBy: author,
    updatedAt: timeMs,
  }
}

export function nodeRows(self: PeerId, members: readonly MemberRecord[], views: readonly PeerView[], lastHeard: ReadonlyMap<PeerId, number>, now: number, engine: NodeRow['engine'] = null): NodeRow[] {
  const byPeer = new Map(views.map((view) => [view.id, view]))
  return members
    .map((member) => {
      const view = byPeer.get(member.peer)
      const none: Resources = { cpuMilli: 0, memoryMiB: 0, extended: {} }
      return {
        peer: member.peer,
        self: member.peer === self,
        status: member.status,
        state: view?.state ?? member.status,
        incarnation: member.incarnation,
        lastSeen: member.peer === self ? now : (lastHeard.get(member.peer) ?? null),
        capacity: view?.capacity ?? none,
        allocated: view?.allocated ?? none,
        labels: view?.labels ?? {},
        tasks: view?.tasks.filter((task) => isActive(task.state)).length ?? 0,
        drivers: [...(view?.drivers ?? [])],
        engine: member.peer === self ? engine : null,
      }
    })
    .sort((a, b) => compareStrings(a.peer, b.peer))
}

/** `peer why <service|slot>`: where it runs, or why it does not. Undefined when the service is unknown. */
export function whyAnswer(target: string, services: readonly ServiceState[], views: readonly PeerView[], pending: readonly PendingInfo[]): WhyAnswer | undefined {
  const parsed = parseSlot(target)
  const serviceName = parsed?.service ?? target
  const service = services.find((s) => s.spec.name === serviceName)
  if (service === undefined) return undefined
  const slot = parsed === undefined ? null : target
  const tasks = taskRows(views, serviceName).filter((task) => slot === null || task.slot === slot)
  const info = pending.find((p) => p.service === serviceName)
  const pendingSlots = info === undefined ? [] : info.slots.filter((s) => slot === null || s === slot)
  const reasons = info === undefined ? [] : info.rejections.map(reasonOf)
  const pendingPart = pendingSlots.length === 0 ? null : { slots: pendingSlots, round: info!.round, since: info!.since, reasons }
  return { target, service: serviceName, slot, tasks, pending: pendingPart, summary: summary(target, slot, service, tasks, pendingPart) }
}

function reasonOf(count: RejectionCount): Reason {
  const text = REJECTION_TEXT[count.reason]
  return { reason: count.reason, detail: count.detail, peers: count.peers, text: count.detail === '' ? text : `${text} (${count.detail})` }
}

function summary(target: string, slot: string | null, service: ServiceState, tasks: readonly TaskRow[], pending: WhyAnswer['pending']): string {
  if (pending !== null) {
    const first = pending.reasons[0]
    const why = first === undefined ? 'no peer has bid yet' : `${first.peers} peer(s): ${first.text}`
    return `${pending.slots.length} slot(s) of ${service.spec.name} pending since bid round ${pending.round}; ${why}`
  }
  if (slot !== null) {
    if (tasks.length === 0) return `${target} is not running anywhere and not pending (outside the desired replica count, or being placed now)`
    return tasks.map((task) => `${task.slot} is ${task.state} on ${task.peer}`).join('; ')
  }
  const peers = new Set(tasks.map((task) => task.peer)).size
  return `${tasks.length} task(s) of ${service.spec.name} on ${peers} peer(s); nothing pending`
}
