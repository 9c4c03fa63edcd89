// Feasibility: may this peer take one more task of this service? Each "no" carries a reason code a
// user can read (`peer why`), in the order the checks run: cheapest and most decisive first.

import { compareStrings, type PeerId } from './ids.js'
import type { PlacementRequest } from './request.js'
import { shortfall } from '../service-spec/resources.js'
import { formatConstraint } from '../service-spec/constraints.js'
import { countOnPeer, usedPorts, type PeerView } from './view.js'

export type RejectionReason =
  | 'secret'
  | 'not-alive'
  | 'draining'
  | 'cordoned'
  | 'driver'
  | 'label'
  | 'max-per-node'
  | 'port'
  | 'cpu'
  | 'memory'
  | 'extended-resource'

export const REJECTION_TEXT: Record<RejectionReason, string> = {
  secret: 'secret does not exist',
  'not-alive': 'peer is not alive',
  draining: 'peer is draining',
  cordoned: 'peer is cordoned',
  driver: 'peer lacks the driver',
  label: 'constraint not met',
  'max-per-node': 'maxPerNode reached',
  port: 'host port in use',
  cpu: 'not enough cpu',
  memory: 'not enough memory',
  'extended-resource': 'not enough of an extended resource',
}

export interface Rejection {
  readonly peer: PeerId
  readonly reason: RejectionReason
  /** What exactly failed: the constraint, the port, the resource name. */
  readonly detail: string
}

/** How many peers turned a slot down for one reason. */
export interface RejectionCount {
  readonly reason: RejectionReason
  readonly detail: string
  readonly peers: number
}

export type Feasibility = { ok: true } | { ok: false; rejection: Rejection }

const OK: Feasibility = Object.freeze({ ok: true })

function reject(peer: PeerView, reason: RejectionReason, detail = ''): Feasibility {
  return { ok: false, rejection: { peer: peer.id, reason, detail } }
}

/**
 * Checks one more task of `want` on `peer`. `extraOnPeer` counts tasks of this service already
 * given to the peer in the same planning pass and not yet in its view.
 */
export function feasible(peer: PeerView, want: PlacementRequest, extraOnPeer = 0): Feasibility {
  // Not the peer's doing, and true of every peer alike: said first, so `peer why` names it.
  if (want.missingSecrets.length > 0) return reject(peer, 'secret', want.missingSecrets.join(', '))
  switch (peer.state) {
    case 'alive':
      break
    case 'draining':
      return reject(peer, 'draining')
    case 'cordoned':
      return reject(peer, 'cordoned')
    default:
      return reject(peer, 'not-alive', peer.state)
  }
  if (!peer.drivers.includes(want.driver)) return reject(peer, 'driver', want.driver)
  for (const constraint of want.constraints) {
    if (!constraint.test(peer.labels)) return reject(peer, 'label', formatConstraint(constraint.constraint))
  }
  if (want.maxPerNode > 0 && countOnPeer(peer, want.service) + extraOnPeer >= want.maxPerNode) {
    return reject(peer, 'max-per-node', String(want.maxPerNode))
  }
  if (want.ports.length > 0) {
    const used = usedPorts(peer)
    for (const port of want.ports) {
      const key = `${port.host}/${port.protocol}`
      if (used.has(key)) return reject(peer, 'port', key)
    }
  }
  const short = shortfall(peer.capacity, peer.allocated, scaled(want, extraOnPeer + 1))
  if (short === 'cpu' || short === 'memory') return reject(peer, short)
  if (short !== undefined) return reject(peer, 'extended-resource', short)
  return OK
}

function scaled(want: PlacementRequest, times: number) {
  if (times === 1) return want.resources
  const extended: Record<string, number> = {}
  for (const [name, amount] of Object.entries(want.resources.extended)) extended[name] = amount * times
  return { cpuMilli: want.resources.cpuMilli * times, memoryMiB: want.resources.memoryMiB * times, extended }
}

/** Rejections grouped by (reason, detail), most peers first, then by reason and detail. */
export function countRejections(rejections: readonly Rejection[]): RejectionCount[] {
  // The planner counts the rejections of every service it plans, nearly always none.
  if (rejections.length === 0) return []
  const counts = new Map<string, { reason: RejectionReason; detail: string; peers: number }>()
  for (const r of rejections) {
    const key = `${r.reason}\u0000${r.detail}`
    const entry = counts.get(key)
    if (entry === undefined) counts.set(key, { reason: r.reason, detail: r.detail, peers: 1 })
    else entry.peers++
  }
  return [...counts.values()].sort((a, b) =>
    b.peers - a.peers || compareStrings(a.reason, b.reason) || compareStrings(a.detail, b.detail))
}
