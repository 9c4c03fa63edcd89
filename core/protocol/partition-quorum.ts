// The `partition: majority` policy: a slot of such a service never runs on two peers, even when the
// network splits. Every peer applies the same three rules to its own view; nothing is coordinated.
//
// 1. Quorum. A peer has quorum while its view shows a strict majority of the members it knows
//    alive, itself included. "Members it knows": every member in its table that did not leave
//    gracefully (dead ones too: a side that cannot tell a crash from a partition must count the
//    silent members against itself, or both halves of a split would each call themselves a majority
//    once they had declared the other dead), plus its join peers and the members it knew before a
//    restart, until they answer (a restarted peer that has heard from nobody is not a cluster of one).
// 2. Lease and fence. Quorum seen at an input renews a lease of partitionLeaseMs. When the lease runs
//    out, the peer stops its copies of every `majority` service: a peer cut off in a minority (or
//    stalled past its lease) is the one that stops.
// 3. Delayed takeover. A peer places a `majority` slot only while it holds quorum, has held it for
//    startupGraceMs (a peer that just regained it, after a heal or a stall, first hears what the
//    others run), and no member it holds dead died less than takeoverDelayMs ago: that covers the
//    time a cut-off peer needs to notice it lost quorum, its lease, the stop of its copy and a margin,
//    so the old copy is gone before a new one starts. A death counts from the start of the current
//    lease at the earliest: verdicts reached without quorum are the minority's, about a majority
//    that did not stop anything.
// 4. Claims start alone (majority-claims.ts): announced first, started only if no other claim on the
//    slot turned up, so two auctions that disagree do not start two copies.
//
// An even split (2|2) has no majority anywhere: both sides stop their copies and nobody takes
// over until the heal. Costs and the comparison with Nomad and Swarm: docs/protocol.md#partitions.

import type { PeerId } from '../placement/ids.js'
import type { ServiceSpec } from '../service-spec/types.js'
import type { MachineConfig } from './config.js'
import type { MemberRecord, MemberStatus } from './messages.js'

/** Whether the policy applies: a global slot belongs to one peer and cannot run twice anyway. */
export function fencedByMajority(spec: ServiceSpec): boolean {
  return spec.partition === 'majority' && spec.mode !== 'global'
}

/**
 * Longest time from a partition until a peer cut off from the majority has lost quorum in its own
 * view. Alone, it must suspect more than half of the others itself: its round-robin probe reaches one
 * new member per interval (its successor probe adds more), a pass boundary can waste a few probes on
 * members already suspected, and a suspicion is raised one interval after the probe that failed.
 */
export function quorumLossBoundMs(config: MachineConfig, knownMembers: number): number {
  return (Math.ceil(knownMembers / 2) + 4) * config.probeIntervalMs + config.probeTimeoutMs
}

/**
 * How long after a member's death a `majority` slot may be placed: the cut-off peer's quorum loss,
 * its lease, the stop of its copy, and one probe interval for message delay, late timers, clock rate
 * differences and the skew between the two sides' verdicts.
 */
export function takeoverDelayMs(config: MachineConfig, knownMembers: number, spec: ServiceSpec): number {
  const stopMs = spec.stopGraceMs ?? config.defaultStopGraceMs
  return quorumLossBoundMs(config, knownMembers) + config.partitionLeaseMs + stopMs + config.probeIntervalMs
}

export interface LeaseChange {
  readonly expired: boolean
  readonly regained: boolean
}

/** Every input asks; the answers are shared values, not one allocation per message. */
const CHANGES: readonly LeaseChange[] = [
  { expired: false, regained: false }, { expired: false, regained: true },
  { expired: true, regained: false }, { expired: true, regained: true },
]

export interface PartitionQuorumInit {
  readonly self: PeerId
  readonly config: MachineConfig
  /** Join peers and the members known before a restart: counted as members until heard from. */
  readonly seeds: readonly PeerId[]
}

export class PartitionQuorum {
  private readonly config: MachineConfig
  /** Join peers not yet in the member table: known, not yet seen alive. */
  private readonly unseenSeeds: Set<PeerId>
  /** Members other than this peer that did not leave, and those of them alive. */
  private knownOthers = 0
  private aliveOthers = 0
  /** Members held dead, and since when (this peer's clock). */
  private readonly deadSince = new Map<PeerId, number>()
  private latestDeathAt = -Infinity
  /** The last time a member stopped being alive in this view (suspected, declared dead, left). */
  private lastLossAt = -Infinity
  private leaseUntil = -Infinity
  /** When the current unbroken lease began; undefined while there is none. */
  private heldSince: number | undefined

  constructor(init: PartitionQuorumInit) {
    this.config = init.config
    // A Set: a join peer may also be among the members known before a restart.
    this.unseenSeeds = new Set(init.seeds.filter((seed) => seed !== init.self))
    this.knownOthers = this.unseenSeeds.size
  }

  /** A member's record changed (`previous` undefined for a member new to the table). */
  memberChanged(record: MemberRecord, previous: MemberStatus | undefined, now: number): void {
    if (previous === undefined && this.unseenSeeds.delete(record.peer)) this.knownOthers--
    if (previous !== undefined && previous !== 'left') this.knownOthers--
    if (previous === 'alive') this.aliveOthers--
    if (previous === 'alive' && record.status !== 'alive') this.lastLossAt = now
    if (record.status !== 'left') this.knownOthers++
    if (record.status === 'alive') this.aliveOthers++
    if (record.status === 'dead') {
      if (previous !== 'dead') this.deadSince.set(record.peer, now)
      this.latestDeathAt = Math.max(this.latestDeathAt, this.deadSince.get(record.peer)!)
    } else if (this.deadSince.delete(record.peer)) {
      // Back (or gone for good with its tasks stopped): its death no longer holds placement back.
      this.latestDeathAt = -Infinity
      for (const at of this.deadSince.values()) this.latestDeathAt = Math.max(this.latestDeathAt, at)
    }
  }

  /** Members known, this peer included. */
  knownMembers(): number {
    return this.knownOthers + 1
  }

  /** Whether the view shows a strict majority of the known members alive, this peer included. */
  inQuorum(): boolean {
    return 2 * (this.aliveOthers + 1) > this.knownMembers()
  }

  /**
   * Called at the start of every input. `expired`: the lease ran out, and the caller stops its
   * `majority` copies. `regained`: a new lease began, and the caller reconciles once it has settled.
   * Expiry is judged before renewal: after a stall the view is stale, and must not extend a lease
   * that ran out meanwhile (both can happen at one input; the new lease then waits to settle).
   */
  observe(now: number): LeaseChange {
    let expired = false
    let regained = false
    if (this.heldSince !== undefined && now >= this.leaseUntil) {
      this.heldSince = undefined
      expired = true
    }
    if (this.inQuorum()) {
      if (this.heldSince === undefined) {
        this.heldSince = now
        regained = true
      }
      this.leaseUntil = now + this.config.partitionLeaseMs
    }
    return CHANGES[(expired ? 2 : 0) + (regained ? 1 : 0)]!
  }

  /** When a `majority` slot of `spec` may be placed here: now or earlier means now; Infinity without quorum. */
  placeableAt(spec: ServiceSpec): number {
    if (!fencedByMajority(spec)) return -Infinity
    if (this.heldSince === undefined) return Infinity
    const settled = this.heldSince + this.config.startupGraceMs
    if (this.deadSince.size === 0) return settled
    // A death counts from when this peer held quorum: a verdict reached without it (this peer was the
    // one cut off) may name a member that ran on all along beside the majority, and the refutation
    // takes a few gossip rounds to come back across the heal.
    const countedFrom = Math.max(this.latestDeathAt, this.heldSince)
    return Math.max(settled, countedFrom + takeoverDelayMs(this.config, this.knownMembers(), spec))
  }

  /**
   * Whether no member stopped being alive in this view since `since`: a claim made just as a
   * partition began (its auction ran on both sides of it) shows the cut as suspicions within a probe
   * interval or two, and must not start (majority-claims.ts).
   */
  stableSince(since: number): boolean {
    return this.lastLossAt < since
  }

  /** The lease's end while quorum is gone from the view: the peer must wake then to fence. */
  nextWakeAt(): number {
    return this.heldSince !== undefined && !this.inQuorum() ? this.leaseUntil : Infinity
  }
}
