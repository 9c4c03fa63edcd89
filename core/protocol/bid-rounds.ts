// Bid rounds: how this peer takes part in placing a service's unowned slots. Each round has a set of
// candidates every peer derives alike from the ring of peer ids; the candidates bid, each runs the
// same auction over the bids it holds and claims what it won. Slots still unowned when the round
// times out go to the next round, whose candidates are the next window of the same sequence, as many
// as before (roundWindow in candidates.ts): a round costs O(k²) bids (at most k(2k + 1)) whatever
// the cluster's size.
// Once the windows have walked the whole sequence without placing anything, rounds back off.
// This holds the rounds' state (bids heard, each service's round, bids that came before their spec
// or before this peer saw their slots open, why slots stay pending); the machine decides when a
// service needs placing and owns what it claims.

import { auction } from '../placement/auction.js'
import { computeBid, type Bid } from '../placement/bid.js'
import { buildRing, candidateCount, candidates, roundWindow, type PeerRing, type RoundWindow } from '../placement/candidates.js'
import { countRejections, feasible, type Rejection, type RejectionCount } from '../placement/feasibility.js'
import { replicaSlot, type PeerId, type ServiceName, type SlotId } from '../placement/ids.js'
import { reconcileService } from '../placement/reconcile.js'
import { couldHost, placementRequest, type PlacementRequest } from '../placement/request.js'
import { isActive, type PeerView } from '../placement/view.js'
import { subtractResources } from '../service-spec/resources.js'
import type { ServiceSpec } from '../service-spec/types.js'
import type { ClusterState } from './cluster.js'
import { WIRE_LIMITS } from './codec.js'
import { bidWindowMs, type MachineConfig } from './config.js'
import type { RoundTiming } from './link-timing.js'
import { fencedByMajority } from './partition-quorum.js'
import { rangeIndices, toRanges, type Message, type SlotRanges } from './messages.js'
import type { ProtocolObserver } from './observer.js'

/** Why a service has slots no peer took, for `peer why`. */
export interface PendingInfo {
  readonly service: ServiceName
  readonly slots: readonly SlotId[]
  readonly round: number
  readonly since: number
  readonly rejections: readonly RejectionCount[]
}

/** What the bid rounds need from the machine around them. */
export interface BidRoundsDeps {
  readonly self: PeerId
  readonly config: MachineConfig
  /** The cluster as adverts show it: who can host what, and which slots are still open. */
  readonly cluster: Pick<ClusterState, 'get' | 'values' | 'serviceTasks'>
  /** The peers besides this one that the candidate ring is built from: the reachable members. */
  reachable(): readonly PeerId[]
  /** The desired spec of a service, or undefined while it is not (or not yet) desired here. */
  spec(service: ServiceName): ServiceSpec | undefined
  /** Whether this peer holds a task of the service. */
  runsTasksOf(service: ServiceName): boolean
  /** The spec hash of the task this peer holds in `slot`, if it holds one. */
  heldVersion(slot: SlotId): string | undefined
  /** Starts a task of `spec` in `slot` on this peer and announces it. */
  claim(slot: SlotId, spec: ServiceSpec): void
  stopTask(slot: SlotId, reason: string): void
  send(to: PeerId, message: Message): void
  /** Asks for the service to be reconciled soon. */
  markDirty(service: ServiceName): void
  /**
   * How long a round among these candidates waits for bids and for claims: its slowest candidate's
   * link decides (link-timing.ts). The config's windows when absent. Peers may answer differently
   * (each measures its own links): the window decides only how long a bidder waits, never what its
   * auction does with the bids it has.
   */
  roundTiming?(candidates: readonly PeerId[]): RoundTiming
  /** Told of the rounds this peer takes part in and the auctions it runs. */
  readonly observe?: ProtocolObserver
  /**
   * Builds the candidate ring from the members (buildRing by default). The ring depends only on the
   * member set, so peers that see the same members may share one: a test of thousands of peers'
   * rounds then builds it once, not once per peer.
   */
  readonly buildRing?: (peers: readonly PeerId[]) => PeerRing
}

export interface BidEntry {
  readonly bid: Bid
  readonly slots: SlotRanges
  /** When it reached this peer: a bid for a round this peer has not opened is kept a round at most. */
  readonly receivedAt: number
}

/** One service's bid rounds while it has unowned slots. */
interface AuctionState {
  specHash: string
  round: number
  roundStartedAt: number
  /** The last round this peer considered bidding in. */
  consideredRound: number
  /** Set while this peer's own bid is out: when to run the auction. */
  closesAt?: number
  /** The candidates of the round this peer bid in: once all their bids are here, the auction runs at once. */
  bidders?: readonly PeerId[]
  /** Set when this peer ran the round's auction: the other winners' claims are due by then, not before. */
  claimsDueAt?: number
  /**
   * Laps (runs of rounds whose windows together asked every peer) in a row that placed nothing, for
   * backoff. A lap that placed some slots is not one: see progress().
   */
  idleLaps: number
  unowned: number[]
  /** How many slots were unowned in this peer's view when the current lap began. */
  unownedAtLapStart: number
  pendingSince: number
  /** The current round's windows, from its candidates' links (set when this peer considers the round). */
  timing: RoundTiming
}

/** Round-0 candidates (the first ones of the sequence) that announce each later round to the candidates new to it. */
const ROUND_ANNOUNCERS = 2

/** A bid offering nothing: announces a round to the candidates new to it. */
function zeroBid(self: PeerView, service: ServiceName, specHash: string, round: number): Bid {
  return {
    peer: self.id, service, specHash, round, domain: '', domainCount: 0, existing: 0, offered: 0,
    cpuCapacityMilli: self.capacity.cpuMilli, cpuAllocatedMilli: self.allocated.cpuMilli,
    memoryCapacityMiB: self.capacity.memoryMiB, memoryAllocatedMiB: self.allocated.memoryMiB,
  }
}

const roundKey = (bid: Bid): string => `${bid.specHash}#${bid.round}`

/**
 * The bids worth keeping when a service has nothing to place in this peer's view: other peers' bids
 * received after `since`, for rounds this peer did not take part in (`state`, the rounds it had
 * open, if any). Such a bid comes from a peer whose view is ahead of ours — most often a survivor
 * that declared a dead peer dead a little sooner (each survivor's suspicion of a silent host expires
 * at its own time) and bid for its slots before we did. Dropped, it was missing from our auction when
 * we bid a moment later: we ran it without that bidder, and both of us claimed the same slot.
 */
export function aheadOfView(
  byRound: ReadonlyMap<string, ReadonlyMap<PeerId, BidEntry>>,
  state: Pick<AuctionState, 'specHash' | 'consideredRound'> | undefined,
  self: PeerId,
  since: number,
): Map<string, Map<PeerId, BidEntry>> {
  const kept = new Map<string, Map<PeerId, BidEntry>>()
  for (const [key, entries] of byRound) {
    const [hash, round] = key.split('#')
    if (state !== undefined && hash === state.specHash && Number(round) <= state.consideredRound) continue
    const fresh = new Map([...entries].filter(([peer, entry]) => peer !== self && entry.receivedAt > since))
    if (fresh.size > 0) kept.set(key, fresh)
  }
  return kept
}

/**
 * A peer's view as it stood when it bid for the auctioned slots: without its tasks in those slots and
 * the resources they hold. Every bidder saw those slots open when it bid, so a task of one in its
 * advert is a claim it made since — most often from this very round, its own auction having run
 * before ours.
 */
export function beforeClaiming(view: PeerView, service: ServiceName, auctioned: ReadonlySet<SlotId>): PeerView {
  const claimed = view.tasks.filter((task) => task.service === service && auctioned.has(task.slot))
  if (claimed.length === 0) return view
  let allocated = view.allocated
  for (const task of claimed) if (isActive(task.state)) allocated = subtractResources(allocated, task.resources)
  return { ...view, allocated, tasks: view.tasks.filter((task) => !claimed.includes(task)) }
}

export class BidRounds {
  private readonly auctions = new Map<ServiceName, AuctionState>()
  /** Bids by service, then `${specHash}#${round}`, then bidder. */
  private readonly bids = new Map<ServiceName, Map<string, Map<PeerId, BidEntry>>>()
  private readonly pending = new Map<ServiceName, PendingInfo>()
  /**
   * Bids for services whose spec has not reached this peer yet, and since when. Desired state reaches
   * peers some milliseconds apart; a bidder that learned of a change first must not have its bid
   * thrown away by the peers still waiting for it, or they auction without it and claim its slots.
   */
  private readonly earlyBids = new Map<ServiceName, number>()
  /** Services whose early bids were held once already: they are not held a second time. */
  private readonly bidsHeldBefore = new Set<ServiceName>()
  /** Services this peer gave a slot of up (its task kept failing), and until when it offers nothing for them. */
  private readonly gaveUp = new Map<ServiceName, number>()

  /**
   * nextWakeAt's answer while no round changed since it was computed; undefined when it must be
   * computed again. The host asks after every input, most of which (pings, acks, adverts, most bids)
   * change no round, and the answer is a scan of every open round: during a placement wave a peer is
   * in many. Every method that changes a round's times or the early-bid holds forgets it (stale()).
   */
  private wakeAt: number | undefined

  /** The ring of the last refresh, built on first use after it (undefined until then). */
  private builtRing: PeerRing | undefined = buildRing([])
  private ringStale = true
  private ringVersion = 0
  /** Whether this peer is a round-0 candidate of a service, per ring version and replica count. */
  private readonly candidacy = new Map<ServiceName, { ringVersion: number; replicas: number; candidate: boolean }>()

  constructor(private readonly deps: BidRoundsDeps) {}

  // --- the candidate ring -----------------------------------------------------------------------

  /** A peer joined or left the reachable set: the ring is rebuilt before the next reconcile. */
  ringChanged(): void {
    this.ringStale = true
  }

  /**
   * A new ring if membership changed since the last one; called before each reconcile pass. It is
   * built when first used: a pass that reconciles nothing ring-related (before any service exists,
   * or while members join one after another) builds none. Building one per membership change made
   * a joining wave cost every peer N rings: at 1,000 simulated peers, a sixth of the run's CPU.
   * Built later, it holds the members of its first use, which are as new or newer.
   */
  refreshRing(): void {
    if (!this.ringStale) return
    this.builtRing = undefined
    this.ringStale = false
    this.ringVersion++
  }

  private get ring(): PeerRing {
    return (this.builtRing ??= (this.deps.buildRing ?? buildRing)([...this.deps.reachable(), this.deps.self]))
  }

  /**
   * A peer arrived (or came back): slots no peer could take may fit now, so services in rounds return
   * to their shortest backoff and are reconciled again.
   */
  peerArrived(): void {
    this.stale()
    for (const [service, state] of this.auctions) {
      state.idleLaps = 0
      this.deps.markDirty(service)
    }
  }

  /**
   * Whether this peer has a part in placing the service, and so reconciles it: it runs tasks of it (it
   * may have to stop one), has a global slot of it, is already in its rounds, or would be a candidate
   * for all its replicas in round 0. Round 0's candidates are a prefix of one sequence, so a peer
   * outside that set is outside every smaller one; later rounds' windows reach it through the bids
   * (the other candidates', or round 0's first two announcing the round). This keeps the
   * work of one change at O(holders + candidates), not O(N). When no peer can host the service at
   * all, every peer counts itself in, so every peer records it as pending and `peer why` answers
   * anywhere.
   */
  involvedIn(spec: ServiceSpec): boolean {
    if (spec.mode === 'global' || this.auctions.has(spec.name) || this.bids.has(spec.name)) return true
    if (this.deps.runsTasksOf(spec.name)) return true
    const known = this.candidacy.get(spec.name)
    if (known !== undefined && known.ringVersion === this.ringVersion && known.replicas === spec.replicas) return known.candidate
    const count = candidateCount(Math.max(1, spec.replicas), this.ring.peers.length, 0)
    const chosen = candidates(this.ring, spec.name, count, this.hostFilter(spec))
    const candidate = chosen.length === 0 || chosen.includes(this.deps.self)
    this.candidacy.set(spec.name, { ringVersion: this.ringVersion, replicas: spec.replicas, candidate })
    return candidate
  }

  // --- bidding ----------------------------------------------------------------------------------

  /** Considers bidding for the service's unowned replica indices in its current round. */
  bid(spec: ServiceSpec, unowned: number[], now: number): void {
    this.stale()
    const { self: selfId, config, cluster } = this.deps
    const want = placementRequest(spec)
    let state = this.auctions.get(spec.name)
    if (state === undefined || state.specHash !== want.specHash) {
      state = { specHash: want.specHash, round: 0, roundStartedAt: now, consideredRound: -1, idleLaps: 0, unowned, unownedAtLapStart: unowned.length, pendingSince: now, timing: config }
      this.auctions.set(spec.name, state)
      // Bids that arrived before we saw the slots may already be in a later round.
      const known = this.bids.get(spec.name)
      if (known !== undefined) {
        for (const key of known.keys()) {
          const [hash, round] = key.split('#')
          if (hash === want.specHash && Number(round) > state.round) state.round = Number(round)
        }
      }
    }
    state.unowned = unowned
    if (state.consideredRound >= state.round) return
    state.consideredRound = state.round
    const open = this.openInRound(spec.name, state, unowned)
    const chosen = this.window(spec, open.length, state.round).candidates
    state.timing = this.deps.roundTiming?.(chosen) ?? config
    if (chosen.length === 0) {
      this.recordPending(spec.name, state)
      return
    }
    const self = cluster.get(selfId)
    if (self === undefined) return
    const slots = toRanges(open).slice(0, WIRE_LIMITS.maxSlotRanges)
    if (chosen.includes(selfId)) {
      const domainCounts = want.spreadBy === '' ? undefined : this.domainCounts(spec.name, want.spreadBy)
      const result = computeBid(self, want, open.length, { round: state.round, ...(domainCounts ? { domainCounts } : {}) })
      const gaveUp = (this.gaveUp.get(spec.name) ?? -Infinity) > now
      const offers = result.ok && result.bid.offered > 0 && !gaveUp
      this.deps.observe?.({ kind: 'round', service: spec.name, round: state.round, offered: offers, at: now })
      if (offers && result.ok) {
        // A bid names at most maxSlotRanges runs of slots; the rest wait for a later round.
        this.recordBid(result.bid, slots, now)
        state.bidders = chosen
        // The window is an upper bound: once every candidate's bid is here (some may have come before
        // our own), the auction runs at once.
        state.closesAt = this.allBidsIn(spec.name, state) ? now : now + bidWindowMs(state.timing, state.round)
        const message: Message = { kind: 'bid', bid: result.bid, slots }
        for (const peer of this.offerRecipients(spec, open.length, state.round, chosen)) if (peer !== selfId) this.deps.send(peer, message)
        return
      }
      // A candidate that offers nothing says so, so the others need not wait out their bid window for
      // it, and a bidder that has every candidate's answer claims all it won, not an even share. Every
      // round is small (slots + log N + 2 candidates), so this costs at most k² bids; when rounds
      // widened to the whole cluster, later rounds skipped it, and their bidders, never sure they had
      // every bid, took one slot each a round (a 50-replica binpack service trickled in for seconds).
      // Sent to every candidate, it also announces the round to those new to it.
      const message: Message = { kind: 'bid', bid: zeroBid(self, want.service, want.specHash, state.round), slots }
      for (const peer of chosen) if (peer !== selfId) this.deps.send(peer, message)
      return
    }
    if (state.round === 0) return
    // No candidate of a later round, this peer may still have to announce the round to the candidates
    // new to it: they do not reconcile the service until they hear of it, and when no candidate of
    // the previous round is in this one, no candidate's bid tells them. Two announcers suffice
    // (every peer announcing cost N² messages when rounds widened to the whole cluster): the first two
    // of round 0, which reconcile the service from its first round on.
    // The first two of the previous round would not do: a window often holds none of the round before
    // it (one open slot moves it by its whole length), so they would be new to the service themselves,
    // and one lost announcement would leave every later window silent until the windows came round.
    const position = this.window(spec, open.length, 0).candidates.indexOf(selfId)
    if (position < 0 || position >= ROUND_ANNOUNCERS) return
    const known = new Set(this.window(spec, open.length, state.round - 1).candidates)
    const message: Message = { kind: 'bid', bid: zeroBid(self, want.service, want.specHash, state.round), slots }
    this.recordBid(message.bid, slots, now)
    for (const peer of chosen) if (!known.has(peer)) this.deps.send(peer, message)
  }

  /**
   * The slots this peer bids for in its round: those open in its view, and those a bidder of the same
   * round holds alone although its own bid named them open — its claim from this very round's
   * auction, which it ran before this peer bid (this peer learned of the change late, or its bid is on
   * a slow link). The round's auction hands out the slots every bidder named, the i-th winner the
   * i-th slot; left out, such a slot shrank that set for everyone who heard this bid, their auctions
   * shifted every award after it against the auctions already run, and slots were claimed twice (a
   * peer that heard of a first placement 690 ms late did). Kept in, the auctions agree, and the
   * check before claiming still skips the slots taken. A slot held before the round began is not
   * named open by its own holder's bid, so a bidder whose view lags never puts it back.
   */
  private openInRound(service: ServiceName, state: AuctionState, unowned: readonly number[]): number[] {
    const entries = this.bids.get(service)?.get(`${state.specHash}#${state.round}`)
    if (entries === undefined) return [...unowned]
    const open = new Set(unowned)
    const bySlot = this.deps.cluster.serviceTasks(service).bySlot
    for (const [peer, entry] of entries) {
      if (peer === this.deps.self || entry.bid.offered === 0) continue
      for (const index of rangeIndices(entry.slots)) {
        if (open.has(index)) continue
        const holders = bySlot.get(replicaSlot(service, index))
        if (holders !== undefined && holders.length > 0 && holders.every((task) => task.peer === peer)) open.add(index)
      }
    }
    return open.size === unowned.length ? [...unowned] : [...open].sort((a, b) => a - b)
  }

  /**
   * Who hears an offering bid: the round's candidates and, after round 0, the previous round's too.
   * Those made the previous round's claims, or heard of them first, and a bidder whose view still
   * lacks such a claim (the claimer ran its auction late, its advert is on a slow link) would start
   * the slot a second time; a candidate that sees the slot held answers the bid with the holder's
   * advert (lagging-bids.ts), and the bidder's last check before claiming sees it. When rounds
   * widened to every peer, every peer heard the bid; with windows, a power-cut failover in the
   * simulator started a slot on two survivors when only the round's own window did. At most 2k
   * peers, so a round still costs O(k²) bids.
   */
  private offerRecipients(spec: ServiceSpec, unplaced: number, round: number, chosen: readonly PeerId[]): PeerId[] {
    if (round === 0) return [...chosen]
    const recipients = new Set(chosen)
    for (const peer of this.window(spec, unplaced, round - 1).candidates) recipients.add(peer)
    return [...recipients]
  }

  /** Another peer's bid arrived. */
  onBid(bid: Bid, slots: SlotRanges, now: number): void {
    const state = this.auctions.get(bid.service)
    const known = this.bids.get(bid.service)?.has(roundKey(bid)) === true
    this.recordBid(bid, slots, now)
    // The first bid we hear of a round we are not in makes us part of it: reconcile the service.
    if (!known && state === undefined) this.deps.markDirty(bid.service)
    if (state?.closesAt !== undefined && state.specHash === bid.specHash && bid.round === state.consideredRound && this.allBidsIn(bid.service, state)) {
      state.closesAt = now
      this.stale()
    }
    if (state !== undefined && state.specHash === bid.specHash && bid.round > state.round) {
      // Another peer moved to a later round already: follow it, so candidate sets agree.
      this.stale()
      state.round = bid.round
      state.roundStartedAt = now
      this.deps.markDirty(bid.service)
    }
  }

  /** This peer gave a slot of the service up after repeated failures: it offers nothing for it until then. */
  sitOut(service: ServiceName, until: number): void {
    this.gaveUp.set(service, until)
  }

  // --- rounds over time -------------------------------------------------------------------------

  /** Runs the auctions whose bids are in and opens the next round where claims did not come. */
  progress(now: number): void {
    this.stale()
    const { config } = this.deps
    for (const [service, state] of [...this.auctions]) {
      if (state.closesAt !== undefined && now >= state.closesAt) {
        state.closesAt = undefined
        this.closeRound(service, state, now)
        // A busy host runs its auction late; measured from the round's start, the wait for the other
        // winners' claims would then be over before they could arrive, and the next round would
        // re-auction slots already claimed (five of ten agents on one 2-core host did).
        state.claimsDueAt = now + state.timing.roundTimeoutMs - state.timing.bidWindowMs
      }
      if (now >= this.nextRoundAt(state)) {
        state.claimsDueAt = undefined
        // Claims should have arrived by now; what is still unowned goes to the next round's window.
        // Once the windows have asked every peer (a lap; at ten peers round 0 already holds them
        // all), the slots are recorded as pending with every peer's reason, and rounds back off —
        // but only while whole laps place nothing: backoff is for slots no peer can take, and a lap
        // that placed some only left the rest to bidders whose views disagreed (a bid or a claim
        // still on its way). Counting such a round doubled the wait after every partial round: on
        // real agents an apply of 100 replicas whose round 0 left a few slots took rounds 1 s, 2 s
        // and 4 s apart, 7.8 s in all.
        const spec = this.deps.spec(service)
        if (spec === undefined || this.window(spec, state.unowned.length, state.round).lapEnds) {
          state.idleLaps = state.unowned.length < state.unownedAtLapStart ? 0 : state.idleLaps + 1
          state.unownedAtLapStart = state.unowned.length
          this.recordPending(service, state)
        }
        state.round++
        state.roundStartedAt = now
        this.deps.markDirty(service)
      }
    }
  }

  /** The earliest time an auction closes, a round times out or a hold on early bids ends. */
  nextWakeAt(): number {
    if (this.wakeAt !== undefined) return this.wakeAt
    let at = Infinity
    for (const state of this.auctions.values()) {
      if (state.closesAt !== undefined) at = Math.min(at, state.closesAt)
      at = Math.min(at, this.nextRoundAt(state))
    }
    for (const since of this.earlyBids.values()) at = Math.min(at, since + this.deps.config.roundTimeoutMs)
    this.wakeAt = at
    return at
  }

  /** A round's times or an early-bid hold may change: nextWakeAt computes its answer again. */
  private stale(): void {
    this.wakeAt = undefined
  }

  private nextRoundAt(state: AuctionState): number {
    return Math.max(state.roundStartedAt + this.roundDelayMs(state), state.claimsDueAt ?? -Infinity)
  }

  private roundDelayMs(state: AuctionState): number {
    const { config } = this.deps
    const { roundTimeoutMs } = state.timing
    if (state.idleLaps === 0) return roundTimeoutMs
    return Math.min(Math.max(config.pendingRetryMaxMs, roundTimeoutMs), roundTimeoutMs * 2 ** state.idleLaps)
  }

  /** Runs the auction over the bids of our round and claims what we won, if it still fits. */
  private closeRound(service: ServiceName, state: AuctionState, now: number): void {
    const { self: selfId, cluster } = this.deps
    const spec = this.deps.spec(service)
    const entries = this.bids.get(service)?.get(`${state.specHash}#${state.consideredRound}`)
    if (spec === undefined || entries === undefined || !entries.has(selfId)) return
    // Only slots every bidder saw as unowned are auctioned, so bidders with slightly different views
    // still hand out the same slots; the rest wait for the next round.
    let common: Set<number> | undefined
    for (const { slots } of entries.values()) {
      const mine = new Set(rangeIndices(slots))
      common = common === undefined ? mine : new Set([...common].filter((i) => mine.has(i)))
    }
    const want = placementRequest(spec)
    const slots = [...(common ?? [])].map((i) => replicaSlot(service, i))
    const result = auction({
      service,
      specHash: state.specHash,
      slots,
      bids: [...[...entries.values()].map((e) => e.bid), ...this.predictedBids(spec.name, want, state, entries, new Set(slots))],
      scoring: want,
      spreadByDomain: want.spreadBy !== '',
    })
    // Slots claimed by another peer since the bids went out (a late auction, or a bidder whose view
    // lagged) no longer need a place: starting them here would only make duplicates for the conflict
    // rule to stop. The same reconcile that opened the round says which still do.
    const stillOpen = new Set(reconcileService(spec, cluster.serviceTasks(service), cluster, now).place.filter((p) => p.peer === undefined).map((p) => p.slot))
    // Without every candidate's bid the others' auctions may differ from ours, and ours hands us
    // everything the missing bidders would have won: take at most an even share, and leave the rest
    // to the next round, which sees everyone's claims. (A writer whose peers learned of an apply
    // 400–700 ms after it, on a busy host, otherwise claimed 80 of 100 slots for itself.)
    // A `majority` slot must never start twice: in round 0, whose wait for missing bids is long (see
    // bidWindowMs), a bidder without every bid claims nothing and waits for the next round. Later
    // rounds' candidates answer too, but their bidders wait only bidWindowMs (candidates new to a
    // round hear of it a hop late), so there the even share stands.
    const bidders = state.bidders?.length ?? 0
    const waitForAll = fencedByMajority(spec) && state.consideredRound === 0
    let share = bidders > 0 && !this.allBidsIn(service, state) ? (waitForAll ? 0 : Math.ceil(result.awards.length / bidders)) : Infinity
    let claimed = 0
    for (const award of result.awards) {
      if (award.peer !== selfId) continue
      if (!stillOpen.has(award.slot)) continue
      if (share-- <= 0) break
      const held = this.deps.heldVersion(award.slot)
      if (held === want.specHash) continue
      // We won a slot we run on an old version (the best place for the new one is here): replace it
      // in place — stop-first for this one slot, since one peer holds one task per slot.
      if (held !== undefined) this.deps.stopTask(award.slot, 'superseded')
      const self = cluster.get(selfId)
      // Another service's auction may have used the room meanwhile: never over-commit.
      if (self === undefined || !feasible(self, want).ok) break
      this.deps.claim(award.slot, spec)
      claimed++
    }
    this.deps.observe?.({ kind: 'auction', service, durationMs: now - state.roundStartedAt, claimed, at: now })
  }

  /**
   * Round 0's candidates all answer, so a bid missing when the auction runs is late, not absent: a
   * survivor that declared a dead host dead a little later bids a little later, and on a busy link its
   * bid can arrive after our window has closed. Its own auction, with every bid, may then give it a
   * slot ours would give us, and both start it (the simulator's power-cut sweep found this). So a
   * missing round-0 bid is stood in for by the bid its sender would make from what its advert shows
   * — the same computeBid it runs on its exact resources, so in a settled cluster the same bid — and
   * what that stand-in wins is left to its sender. Later rounds are not predicted: their candidates
   * answer too, but those new to a round hear of it only from another's bid, so a bid missing there
   * may not have been made yet, and the even share bounds what its absence costs.
   */
  private predictedBids(service: ServiceName, want: PlacementRequest, state: AuctionState, entries: ReadonlyMap<PeerId, BidEntry>, auctioned: ReadonlySet<SlotId>): Bid[] {
    if (state.consideredRound !== 0 || state.bidders === undefined || auctioned.size === 0) return []
    const predicted: Bid[] = []
    let domainCounts: Map<string, number> | undefined
    for (const peer of state.bidders) {
      if (entries.has(peer)) continue
      const view = this.deps.cluster.get(peer)
      if (view === undefined || view.state !== 'alive') continue
      if (want.spreadBy !== '') domainCounts ??= this.domainCounts(service, want.spreadBy, auctioned)
      const result = computeBid(beforeClaiming(view, service, auctioned), want, auctioned.size, { round: 0, ...(domainCounts ? { domainCounts } : {}) })
      if (result.ok && result.bid.offered > 0) predicted.push(result.bid)
    }
    return predicted
  }

  /** Whether every candidate of the round this peer bid in has bid (offering something or nothing). */
  private allBidsIn(service: ServiceName, state: AuctionState): boolean {
    const entries = this.bids.get(service)?.get(`${state.specHash}#${state.consideredRound}`)
    if (entries === undefined || state.bidders === undefined) return false
    // Asked at every bid received while ours is out: fewer bids than candidates (distinct peers)
    // answers at once, so a round of k candidates costs O(k) here, not O(k²).
    if (entries.size < state.bidders.length) return false
    return state.bidders.every((peer) => entries.has(peer))
  }

  private recordBid(bid: Bid, slots: SlotRanges, now: number): void {
    let byRound = this.bids.get(bid.service)
    if (byRound === undefined) this.bids.set(bid.service, (byRound = new Map()))
    const key = roundKey(bid)
    let entries = byRound.get(key)
    if (entries === undefined) byRound.set(key, (entries = new Map()))
    entries.set(bid.peer, { bid, slots, receivedAt: now })
  }

  // --- bids that came before their spec ---------------------------------------------------------

  /** The service's spec is here: bids held for it are ordinary bids now. */
  specArrived(service: ServiceName): void {
    this.stale()
    this.earlyBids.delete(service)
    this.bidsHeldBefore.delete(service)
  }

  /** Whether to keep the bids of a service we have no spec for, a round's length at most. */
  holdEarlyBids(service: ServiceName, now: number): boolean {
    this.stale()
    if (!this.bids.has(service) || this.deps.runsTasksOf(service)) {
      this.earlyBids.delete(service)
      return false
    }
    const since = this.earlyBids.get(service)
    if (since === undefined) {
      // Held once, for a round; after that (forgetEarlyBids ends the hold) the bids go.
      if (this.bidsHeldBefore.has(service)) {
        this.bidsHeldBefore.delete(service)
        return false
      }
      this.earlyBids.set(service, now)
      this.bidsHeldBefore.add(service)
    }
    return true
  }

  /** Ends holds that lasted a round; a service whose spec never came (removed, or a peer far behind) is reconciled so its bids go. */
  forgetEarlyBids(now: number): void {
    this.stale()
    for (const [service, since] of [...this.earlyBids]) {
      if (now < since + this.deps.config.roundTimeoutMs) continue
      if (this.deps.spec(service) === undefined) this.deps.markDirty(service)
      this.earlyBids.delete(service)
    }
  }

  /**
   * Nothing of the service is left to place in this peer's view: forgets its rounds and pending
   * report, and the bids of the rounds this peer took part in. Bids of a round this peer has not
   * opened, received within the last round, stay: this peer's view may be behind the bidders'
   * (see aheadOfView).
   */
  drop(service: ServiceName, now: number): void {
    this.stale()
    const state = this.auctions.get(service)
    this.auctions.delete(service)
    this.pending.delete(service)
    const byRound = this.bids.get(service)
    if (byRound === undefined) return
    const kept = aheadOfView(byRound, state, this.deps.self, now - this.deps.config.roundTimeoutMs)
    if (kept.size === 0) this.bids.delete(service)
    else this.bids.set(service, kept)
  }

  // --- pending reasons --------------------------------------------------------------------------

  pendingServices(): PendingInfo[] {
    return [...this.pending.values()]
  }

  /** A global slot this peer should run does not fit here; `peer why` says why. */
  globalBlocked(service: ServiceName, slot: SlotId, rejection: Rejection, now: number): void {
    this.pending.set(service, { service, slots: [slot], round: 0, since: now, rejections: countRejections([rejection]) })
  }

  /** The service's slots here are placed: it is no longer pending on this peer. */
  placed(service: ServiceName): void {
    this.pending.delete(service)
  }

  /** Records why the service's unowned slots found no taker, from every live peer's feasibility. */
  private recordPending(service: ServiceName, state: AuctionState): void {
    const spec = this.deps.spec(service)
    if (spec === undefined) return
    const want = placementRequest(spec)
    const rejections: Rejection[] = []
    for (const view of this.deps.cluster.values()) {
      if (view.state === 'dead') continue
      const check = feasible(view, want)
      if (!check.ok) rejections.push(check.rejection)
    }
    this.pending.set(service, {
      service,
      slots: state.unowned.map((i) => replicaSlot(service, i)),
      round: state.round,
      since: state.pendingSince,
      rejections: countRejections(rejections),
    })
  }

  // --- helpers ----------------------------------------------------------------------------------

  /** Tasks of the service per value of the spreadBy label, for a bid's domain spread. */
  private domainCounts(service: ServiceName, label: string, excluding?: ReadonlySet<SlotId>): Map<string, number> {
    const { cluster } = this.deps
    const counts = new Map<string, number>()
    for (const [slot, tasks] of cluster.serviceTasks(service).bySlot) {
      if (excluding?.has(slot) === true) continue
      for (const task of tasks) {
        const domain = cluster.get(task.peer)?.labels[label] ?? ''
        counts.set(domain, (counts.get(domain) ?? 0) + 1)
      }
    }
    return counts
  }

  /** The candidates of the service's bid round `round` with `unplaced` slots open, and whether they end a lap. */
  private window(spec: ServiceSpec, unplaced: number, round: number): RoundWindow {
    return roundWindow(this.ring, spec.name, unplaced, round, this.hostFilter(spec))
  }

  /**
   * Peers whose labels and drivers (as their adverts say) allow the service at all, and members whose
   * advert has not reached this peer yet: whether they could host is unknown here, but known to the
   * peers that have their advert, which count them as candidates. Left out, they shifted this peer's
   * window against everyone else's, and this peer ran its auction the moment its smaller set of
   * candidates had bid — without the bid of the member it skipped, which the others' auctions had —
   * and claimed slots theirs gave to others (first placements on links of p99 500 ms: one run in
   * seven started a slot twice). Counted in, such a member is waited for; it answers as every
   * candidate does, or the window runs out and the even share bounds what this peer claims.
   */
  private hostFilter(spec: ServiceSpec): (peer: PeerId) => boolean {
    const want = placementRequest(spec)
    return (peer) => {
      const view = this.deps.cluster.get(peer)
      return view === undefined || couldHost(want, view.drivers, view.labels)
    }
  }
}
