// Claims of `partition: majority` slots start only once they are known to be alone. Elsewhere two
// peers that both won one slot (their auctions saw different bids) both start it, and the conflict
// rule stops one once the other is up: never kill before replace. That overlap is a second copy,
// which `majority` forbids, so its claims go the other way round: the claim is announced at once
// (held, not started) and starts a round's length later only if no other claim on the slot turned
// up meanwhile, or every other one is also held and loses to it under the conflict rule — which each
// of them works out alike, so exactly one starts. A claim that lost is dropped before it ever ran.

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
  /** Whether this peer may still start the service's slots (it holds quorum). */
  mayStart(spec: ServiceSpec, now: number): boolean
}

export class MajorityClaims {
  /** Held claims of this peer and when each is due to start. */
  private readonly due = new Map<SlotId, number>()

  constructor(private readonly deps: MajorityClaimsDeps) {}

  /** Announces the claim now; it starts at tick() a round's length later if it is still alone. */
  claim(slot: SlotId, spec: ServiceSpec, now: number): void {
    this.deps.tasks.hold(slot, spec, now)
    // The claim's advert goes out at once; a round timeout is what a round allows claims to arrive in.
    this.due.set(slot, now + this.deps.config.roundTimeoutMs)
  }

  tick(now: number): void {
    for (const [slot, at] of [...this.due]) {
      if (at > now) continue
      this.due.delete(slot)
      const task = this.deps.tasks.get(slot)
      // Stopped meanwhile (fenced, no longer desired, a loser of the conflict rule): nothing to start.
      if (task === undefined || task.view.state !== 'pending') continue
      if (this.deps.mayStart(task.spec, now) && this.alone(task.view.service, slot)) this.deps.tasks.startHeld(slot, now)
      else this.deps.tasks.stop(slot, 'claim-lost')
    }
  }

  nextWakeAt(): number {
    let at = Infinity
    for (const due of this.due.values()) at = Math.min(at, due)
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
