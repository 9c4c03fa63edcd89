// Claims of `partition: majority` slots start only once they are known to be alone. Elsewhere two
// peers that both won one slot (their auctions saw different bids) both start it, and the conflict
// rule stops one once the other is up: never kill before replace. That overlap is a second copy,
// which `majority` forbids, so its claims go the other way round: the claim is announced at once
// (held, not started) and starts a little later only if no other claim on the slot turned up
// meanwhile, or every other one is also held and loses to it under the conflict rule — which each of
// them works out alike, so exactly one starts. A claim that lost is dropped before it ever ran.
// Claims on two sides of a partition that began during the round cannot see each other; there the
// claimer that lost a member (a suspicion) since it claimed does not start, and the slot is placed
// again under the takeover delay once the cut is known (partition-quorum.ts).

import { compareClaims } from '../placement/conflict.js'
import type { PeerId, SlotId } from '../placement/ids.js'
import type { ServiceTasks } from '../placement/reconcile.js'
import type { ServiceName } from '../placement/ids.js'
import type { ServiceSpec } from '../service-spec/types.js'
import type { MachineConfig } from './config.js'
import type { LocalTasks } from './local-tasks.js'

export interface MajorityClaimsDeps {
  readonly self: PeerId
  readonly config: MachineConfig
  readonly tasks: Pick<LocalTasks, 'get' | 'hold' | 'startHeld' | 'stop'>
  /** Every peer's tasks of a service, as adverts show them. */
  serviceTasks(service: ServiceName): ServiceTasks
  /** Whether this peer may still start the service's slots: it holds quorum, and lost no member since `claimedAt`. */
  mayStart(spec: ServiceSpec, now: number, claimedAt: number): boolean
}

/**
 * How long a claim is held before it starts: long enough for the claims of a round to arrive, and
 * for a claimer cut off just as it claimed to suspect someone across the cut (its probes fail within
 * an interval and a timeout; the next probe round raises the suspicion).
 */
export function claimHoldMs(config: MachineConfig): number {
  return Math.max(config.roundTimeoutMs, 2 * config.probeIntervalMs + config.probeTimeoutMs)
}

export class MajorityClaims {
  /** Held claims of this peer: when each was made and is due to start. */
  private readonly due = new Map<SlotId, { readonly claimedAt: number; readonly startAt: number }>()

  constructor(private readonly deps: MajorityClaimsDeps) {}

  /** Announces the claim now; it starts at tick() claimHoldMs later if it is still alone. */
  claim(slot: SlotId, spec: ServiceSpec, now: number, epoch: number): void {
    this.deps.tasks.hold(slot, spec, now, epoch)
    this.due.set(slot, { claimedAt: now, startAt: now + claimHoldMs(this.deps.config) })
  }

  tick(now: number): void {
    for (const [slot, { claimedAt, startAt }] of [...this.due]) {
      if (startAt > now) continue
      this.due.delete(slot)
      const task = this.deps.tasks.get(slot)
      // Stopped meanwhile (fenced, no longer desired, a loser of the conflict rule): nothing to start.
      if (task === undefined || task.view.state !== 'pending') continue
      if (this.deps.mayStart(task.spec, now, claimedAt) && this.alone(task.view.service, slot)) this.deps.tasks.startHeld(slot, now)
      else this.deps.tasks.stop(slot, 'claim-lost')
    }
  }

  nextWakeAt(): number {
    let at = Infinity
    for (const { startAt } of this.due.values()) at = Math.min(at, startAt)
    return at
  }

  /** No other claim on the slot, or only held ones that ours beats under the conflict rule. */
  private alone(service: ServiceName, slot: SlotId): boolean {
    const mine = this.deps.tasks.get(slot)!.view
    const others = (this.deps.serviceTasks(service).bySlot.get(slot) ?? []).filter((task) => task.peer !== this.deps.self)
    // Eligibility is left out: both claimers must rank each other alike, from views that may differ.
    return others.every((other) => other.state === 'pending' && compareClaims(mine, other, mine.specHash, () => true) < 0)
  }
}
