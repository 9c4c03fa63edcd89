// What one peer knows about another: soft state rebuilt from gossip (or, offline, from an inventory).

import type { PeerId, ServiceName, SlotId } from './ids.js'
import type { Driver, PortSpec, Resources } from '../service-spec/types.js'

/**
 * Liveness and operator state in one field, because placement asks one question of it: may new work
 * go here? `suspect` peers keep their tasks (routing may avoid them) but get no new ones; `dead`
 * peers' slots are re-auctioned; `draining` peers move their tasks away; `cordoned` peers keep what
 * they run but take nothing new.
 */
export type PeerState = 'alive' | 'suspect' | 'dead' | 'draining' | 'cordoned'
export const PEER_STATES: readonly PeerState[] = ['alive', 'suspect', 'dead', 'draining', 'cordoned']

export type TaskState = 'pending' | 'starting' | 'running' | 'healthy' | 'unhealthy' | 'exited' | 'failed' | 'complete'
export const TASK_STATES: readonly TaskState[] = ['pending', 'starting', 'running', 'healthy', 'unhealthy', 'exited', 'failed', 'complete']

/** A task that still holds its slot: it is (or is about to be) running. */
export const isActive = (state: TaskState): boolean =>
  state === 'pending' || state === 'starting' || state === 'running' || state === 'healthy' || state === 'unhealthy'

/** A task that is up and serving (a replacement may now stop the task it replaces). */
export const isUp = (state: TaskState): boolean => state === 'running' || state === 'healthy'

/** A slot's task on a peer, at a spec version. */
export interface TaskView {
  readonly slot: SlotId
  readonly service: ServiceName
  readonly peer: PeerId
  /** specHash of the version this task runs. */
  readonly specHash: string
  readonly state: TaskState
  /** Time of the last state change, ms (clock of the reporting peer). */
  readonly since: number
  readonly resources: Resources
  readonly ports: readonly PortSpec[]
  /**
   * The slot's placement generation (absent: 0). A peer that places a slot gives the claim one more
   * than the highest it knows of for that slot, on live and dead peers alike; a task restarted from
   * local state keeps its own. So a copy placed while the slot's last holder was gone outranks that
   * holder's old copy when it comes back (conflict.ts).
   */
  readonly epoch?: number
}

export interface PeerView {
  readonly id: PeerId
  readonly state: PeerState
  readonly capacity: Resources
  /** Resources reserved by the peer's tasks (and anything else the peer holds back). */
  readonly allocated: Resources
  readonly labels: Readonly<Record<string, string>>
  readonly drivers: readonly Driver[]
  readonly tasks: readonly TaskView[]
}

/** Active replicas of `service` on `peer`. */
export function countOnPeer(peer: PeerView, service: ServiceName): number {
  let count = 0
  for (const task of peer.tasks) if (task.service === service && isActive(task.state)) count++
  return count
}

/** Host ports held by the peer's active tasks, as `port/protocol`. */
export function usedPorts(peer: PeerView): Set<string> {
  const used = new Set<string>()
  for (const task of peer.tasks) {
    if (!isActive(task.state)) continue
    for (const port of task.ports) used.add(`${port.host}/${port.protocol}`)
  }
  return used
}
