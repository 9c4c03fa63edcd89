// What the protocol machine tells an observer about its own decisions, for metrics. The machine stays
// pure: it calls a function it was given and counts nothing itself; the agent turns these into
// Prometheus metrics, the simulator passes no observer. Each event carries the machine's time.
//
// Events that other inputs already show are not repeated here: member status changes are in
// memberRecords(), starts and stops in the outputs, bids in the messages.

import type { PeerId, ServiceName, SlotId } from '../placement/ids.js'

export type ProtocolEvent =
  /** This peer refuted a suspicion or verdict about itself by raising its incarnation. */
  | { readonly kind: 'refute'; readonly at: number }
  /** This peer took part in a bid round of the service (as a candidate; `offered`: its bid offered slots). */
  | { readonly kind: 'round'; readonly service: ServiceName; readonly round: number; readonly offered: boolean; readonly at: number }
  /** This peer ran the auction of a round it bid in: how long the round took from its start, and what it claimed. */
  | { readonly kind: 'auction'; readonly service: ServiceName; readonly durationMs: number; readonly claimed: number; readonly at: number }
  /** This peer claimed a slot (placed it on itself). */
  | { readonly kind: 'claim'; readonly slot: SlotId; readonly at: number }
  /**
   * The conflict rule found a slot held twice and picked `loser` to stop (this peer, or another one
   * while this peer holds the copy kept). Reported on every reconcile that sees it: the same loser
   * with the same claim epoch is one conflict.
   */
  | { readonly kind: 'conflict'; readonly slot: SlotId; readonly loser: PeerId; readonly loserEpoch: number; readonly at: number }

export type ProtocolObserver = (event: ProtocolEvent) => void
