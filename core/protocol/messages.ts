// The protocol's wire vocabulary, in one place. Every kind is append-only: new kinds and new optional
// fields may be added, nothing is renamed or removed. The transport decodes each message once, at the
// edge, with decodeMessage (full shape and size limits), and hands the machine only valid values.

import type { Bid } from '../placement/bid.js'
import type { PeerId, SlotId } from '../placement/ids.js'
import type { Driver, Resources } from '../service-spec/types.js'
import type { TaskView } from '../placement/view.js'

export const PROTOCOL_VERSION = 1

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left'

/** What one peer believes about another's liveness (SWIM). Higher incarnation wins; at equal incarnation, left/dead > suspect > alive. */
export interface MemberRecord {
  readonly peer: PeerId
  readonly incarnation: number
  readonly status: MemberStatus
}

/** A peer's load and tasks, as it advertises them. `version` grows with every change in one incarnation. */
export interface Advert {
  readonly peer: PeerId
  readonly incarnation: number
  readonly version: number
  readonly capacity: Resources
  readonly allocated: Resources
  readonly labels: Readonly<Record<string, string>>
  readonly drivers: readonly Driver[]
  readonly tasks: readonly TaskView[]
  /**
   * What this peer's tasks really use, as last measured (optional: absent until a first measurement,
   * and from peers that predate it). Kept apart from `tasks` so a new measurement changes no task and
   * makes no peer reconcile.
   */
  readonly usage?: readonly TaskUsage[]
  /**
   * The peer cannot write to its data directory (it is full): it keeps running what it runs but
   * can start nothing (a task's record could not be written), so peers place around it as around a
   * cordoned one until it clears. Absent when false, so older peers decode the advert unchanged.
   */
  readonly diskFull?: true
}

/** One task's measured use: CPU in millicores (1000 = one core busy) and resident memory in MiB. */
export interface TaskUsage {
  readonly slot: SlotId
  readonly cpuMilli: number
  readonly memoryMiB: number
}

/** Replica index ranges [start, end) — a compact slot set: unowned slots are usually a few runs. */
export type SlotRanges = ReadonlyArray<readonly [number, number]>

export type Message =
  /** SWIM probe. Carries the sender's desired-state digest and a few recent membership updates. */
  | { readonly kind: 'ping'; readonly seq: number; readonly desired: string; readonly updates: readonly MemberRecord[] }
  /** Answer to a ping (or, with `target`, an indirect probe's answer relayed to the original prober). */
  | { readonly kind: 'ack'; readonly seq: number; readonly desired: string; readonly updates: readonly MemberRecord[]; readonly target?: PeerId }
  /** Please probe `target` for me and relay its ack (indirect probe). */
  | { readonly kind: 'ping-req'; readonly seq: number; readonly target: PeerId }
  /** A membership change, broadcast: join/refute (alive), suspect, dead, left. */
  | { readonly kind: 'member'; readonly record: MemberRecord }
  /** A peer's advert, broadcast when it changes (a claim, a task state change, a stop). */
  | { readonly kind: 'advert'; readonly advert: Advert }
  /** A candidate's bid, sent directly to the other candidates of the service. */
  | { readonly kind: 'bid'; readonly bid: Bid; readonly slots: SlotRanges }
  /**
   * Anti-entropy: compact digest of what the sender knows; the receiver answers with what is newer.
   * Without `covers` the lists hold every entry the sender has (a full digest, as peers that predate
   * bucket summaries send). With `covers` they hold every entry of those buckets and may hold others;
   * absence outside them means nothing. See anti-entropy.ts for the exchange.
   */
  | {
      readonly kind: 'digest'
      readonly members: ReadonlyArray<readonly [PeerId, number, MemberStatus]>
      readonly adverts: ReadonlyArray<readonly [PeerId, number, number]>
      readonly desired: string
      /** True when this digest answers one: do not answer it with another digest. */
      readonly reply: boolean
      /** The root of the sender's bucket summary (bucket-digest.ts): a receiver whose root differs answers with its summary. */
      readonly root?: string
      /** The sender's bucket summary (bucket-digest.ts): the receiver answers with its entries of the buckets that differ. */
      readonly buckets?: string
      /** Buckets (ascending) whose entries the lists hold in full. */
      readonly covers?: readonly number[]
    }
  /** Anti-entropy: records and adverts the receiver lacked. */
  | { readonly kind: 'state'; readonly members: readonly MemberRecord[]; readonly adverts: readonly Advert[] }

export type MessageKind = Message['kind']

/** Compact range form of replica indices (sorted, merged). */
export function toRanges(indices: Iterable<number>): Array<[number, number]> {
  const sorted = [...new Set(indices)].sort((a, b) => a - b)
  const ranges: Array<[number, number]> = []
  for (const index of sorted) {
    const last = ranges[ranges.length - 1]
    if (last !== undefined && last[1] === index) last[1] = index + 1
    else ranges.push([index, index + 1])
  }
  return ranges
}

export function* rangeIndices(ranges: SlotRanges): Generator<number> {
  for (const [start, end] of ranges) for (let i = start; i < end; i++) yield i
}

/** Membership precedence at equal incarnation. */
export function statusRank(status: MemberStatus): number {
  return status === 'alive' ? 0 : status === 'suspect' ? 1 : 2
}

/** Whether an advert at `incoming`'s (incarnation, version) is newer than one at `known`'s: a later life, or a later version of the same life. */
export function advertIsNewer(incoming: { readonly incarnation: number; readonly version: number }, known: { readonly incarnation: number; readonly version: number } | undefined): boolean {
  if (known === undefined) return true
  return incoming.incarnation > known.incarnation || (incoming.incarnation === known.incarnation && incoming.version > known.version)
}

/** Whether `incoming` supersedes `known` (SWIM's rule). */
export function supersedes(incoming: MemberRecord, known: MemberRecord | undefined): boolean {
  if (known === undefined) return true
  if (incoming.incarnation !== known.incarnation) return incoming.incarnation > known.incarnation
  return statusRank(incoming.status) > statusRank(known.status)
}
