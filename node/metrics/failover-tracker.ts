// How long a failover takes as this peer sees it: from the moment it declares a peer dead to the
// moment every slot that peer held is running (or healthy) on another peer that is not dead, by the
// adverts this peer holds. Pure: the caller passes the views and the time.
//
// A failover that cannot finish (a slot no longer desired, or no peer can take it) is dropped after
// `giveUpMs`, and one whose peer comes back alive is dropped at once: neither is a failover time.

import type { PeerId, PeerView, SlotId } from '../../core/index.js'

interface OpenFailover {
  readonly since: number
  readonly slots: Set<SlotId>
}

export class FailoverTracker {
  private readonly open = new Map<PeerId, OpenFailover>()

  constructor(private readonly giveUpMs = 10 * 60_000) {}

  /** `peer` was declared dead at `at`; `views` are this peer's views of the cluster just before or at that moment. */
  peerDead(peer: PeerId, views: readonly PeerView[], at: number): void {
    const held = views.find((view) => view.id === peer)
    const slots = new Set((held?.tasks ?? []).filter((task) => task.state === 'running' || task.state === 'healthy' || task.state === 'starting').map((task) => task.slot))
    if (slots.size === 0) return
    this.open.set(peer, { since: at, slots })
  }

  /** `peer` is alive again (it refuted, or restarted): whatever happened to its slots is no failover. */
  peerBack(peer: PeerId): void {
    this.open.delete(peer)
  }

  get pending(): boolean {
    return this.open.size > 0
  }

  /** The durations (ms) of the failovers that finished by `at`, given the current views. */
  check(views: readonly PeerView[], at: number): number[] {
    if (this.open.size === 0) return []
    const runningElsewhere = new Map<SlotId, PeerId[]>()
    for (const view of views) {
      if (view.state === 'dead') continue
      for (const task of view.tasks) {
        if (task.state !== 'running' && task.state !== 'healthy') continue
        const holders = runningElsewhere.get(task.slot)
        if (holders === undefined) runningElsewhere.set(task.slot, [view.id])
        else holders.push(view.id)
      }
    }
    const finished: number[] = []
    for (const [peer, failover] of this.open) {
      const done = [...failover.slots].every((slot) => (runningElsewhere.get(slot) ?? []).some((holder) => holder !== peer))
      if (done) {
        finished.push(at - failover.since)
        this.open.delete(peer)
      } else if (at - failover.since > this.giveUpMs) {
        this.open.delete(peer)
      }
    }
    return finished
  }
}
