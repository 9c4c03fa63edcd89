// The desired-state document as the simulator models it: a last-writer-wins map of services and peer
// settings whose replicas merge by union of changes. It has the properties the protocol relies on
// from the real Automerge document — any replica may change it, replicas merge in any order to the same
// state, and equal heads digests mean equal states — at a fraction of the cost, so thousands of
// modelled peers can each hold one.

import { hash64Hex, type DesiredView, type PeerId, type PeerSettings, type ServiceSpec } from '../core/index.js'

export type DesiredValue =
  | { readonly kind: 'service'; readonly name: string; readonly spec: ServiceSpec | null }
  | { readonly kind: 'peer'; readonly peer: PeerId; readonly settings: PeerSettings }

export interface DesiredChange {
  /** Unique across the run; orders concurrent writes to one key together with `lamport`. */
  readonly id: number
  readonly lamport: number
  readonly value: DesiredValue
}

const keyOf = (value: DesiredValue): string => (value.kind === 'service' ? `service:${value.name}` : `peer:${value.peer}`)

/** One modelled peer's copy of the document (what DesiredReplica, node/agent/desired-replica.ts, is on a real agent). */
export class DesiredModel {
  private readonly changes = new Map<number, DesiredChange>()
  private readonly winners = new Map<string, DesiredChange>()
  private lamport = 0
  private cached: DesiredView | undefined

  /** Adds changes; returns true when anything was new. */
  merge(changes: Iterable<DesiredChange>): boolean {
    let changed = false
    for (const change of changes) {
      if (this.changes.has(change.id)) continue
      this.changes.set(change.id, change)
      this.lamport = Math.max(this.lamport, change.lamport)
      const key = keyOf(change.value)
      const current = this.winners.get(key)
      if (current === undefined || change.lamport > current.lamport || (change.lamport === current.lamport && change.id > current.id)) {
        this.winners.set(key, change)
      }
      changed = true
    }
    if (changed) this.cached = undefined
    return changed
  }

  /** A local edit: the next Lamport time of this replica. */
  nextLamport(): number {
    return this.lamport + 1
  }

  all(): DesiredChange[] {
    return [...this.changes.values()]
  }

  /** Changes the other replica lacks, given the ids it has. */
  missingFrom(other: DesiredModel): DesiredChange[] {
    return [...this.changes.values()].filter((c) => !other.changes.has(c.id))
  }

  view(): DesiredView {
    if (this.cached !== undefined) return this.cached
    const services: ServiceSpec[] = []
    const peers = new Map<PeerId, PeerSettings>()
    for (const change of this.winners.values()) {
      if (change.value.kind === 'service') {
        if (change.value.spec !== null) services.push(change.value.spec)
      } else {
        peers.set(change.value.peer, change.value.settings)
      }
    }
    services.sort((a, b) => (a.name < b.name ? -1 : 1))
    const ids = [...this.changes.keys()].sort((a, b) => a - b)
    this.cached = { digest: ids.length === 0 ? 'empty' : hash64Hex(ids.join(',')), services, peers }
    return this.cached
  }
}
