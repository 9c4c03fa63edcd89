// How a peer that joined through one seed learns where the others are. The machine sends direct
// messages (SWIM probes, digests, bids) to any member, but libp2p can dial a peer id only when its
// peer store holds addresses for it, and identify fills that in for direct neighbours alone. So each
// peer publishes its own listen addresses on a gossip topic — signed, so only the owner can say where
// it is — whenever a new neighbour subscribes (one that did not hold our current announcement yet) or
// what it announces changes, and every announceIntervalMs (60 s) as anti-entropy. Receivers
// store the addresses and dial the announcer, so a cluster joined through one seed becomes a full
// mesh: right for tens of peers; a large cluster would want to stop dialling at some degree.

import './polyfill.js'

import { TopicValidatorResult, type GossipSub, type Message as GossipMessage, type SubscriptionChangeData } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { CODE_P2P, multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Reachability } from './nat.js'
import { ADDRESS_TOPIC } from './protocols.js'

/** Announcement bounds: hosts have a handful of interfaces; a multiaddr with a peer id is under 100 characters. */
const MAX_ADDRESSES = 32
const MAX_ADDRESS_CHARS = 256
const MAX_ANNOUNCEMENT_BYTES = 16 * 1024
/** Neighbours often subscribe in a burst (a restart, a new peer): one announcement covers them all. */
const ANNOUNCE_DEBOUNCE_MS = 100
/**
 * After an announcement that a subscribed neighbour did not get (gossipsub had no stream to it yet,
 * and drops what it cannot send): the wait before the next one, doubling up to the most.
 */
const MISSED_RETRY_FIRST_MS = 500
const MISSED_RETRY_MOST_MS = 30_000

export interface AddressBookTuning {
  readonly announceIntervalMs: number
  readonly dialTimeoutMs: number
}

/** What the address book uses of its libp2p node: createHost passes the node's own, a test fakes. */
export interface AddressBookComponents {
  /** This peer: its own announcements come back through gossip and are ignored. */
  readonly peerId: PeerId
  readonly pubsub: Pick<GossipSub, 'topicValidators' | 'addEventListener' | 'removeEventListener' | 'subscribe' | 'publish' | 'getSubscribers'>
  /** Where announced addresses go: libp2p dials a peer id only through addresses stored here. */
  readonly peerStore: { merge(peer: PeerId, data: { multiaddrs: Multiaddr[] }): Promise<unknown> }
  /** This peer's listen addresses, the ones it announces. */
  getMultiaddrs(): Multiaddr[]
  /** The open connections to `peer`: an announcer already connected is not dialled again. */
  getConnections(peer: PeerId): readonly unknown[]
  dial(peer: PeerId, options: { signal: AbortSignal }): Promise<unknown>
  /** Whether peers outside this host's network can dial it (nat.ts): announced with the addresses, so peers behind NAT know whom to ask for a relay slot. */
  reachability?(): Reachability
}

export class AddressBook {
  private interval: NodeJS.Timeout | undefined
  private debounce: NodeJS.Timeout | undefined
  private readonly decoded = new WeakMap<GossipMessage, Announcement>()
  private stopped = false
  /** Announcements rejected by the validator (malformed, or naming another peer's id). */
  rejected = 0
  /** Counts announcements taken in: what was read from addressesOf may differ once it moved. */
  version = 0
  /** Each peer's last announced listen addresses, as strings. */
  private readonly announced = new Map<string, string[]>()
  /** Each peer's last announced reachability. */
  private readonly reachabilities = new Map<string, Reachability>()
  /**
   * The sequence number of each peer's announcement held: gossipsub numbers an author's messages in
   * order (seeded from the clock, so a restarted author's come after), but delivers them in any
   * order — an old one can arrive last through gossip's IHAVE/IWANT repair, and held as "last" it
   * undid the newer (a relay's first announcement, "reachability unknown", published before anyone
   * subscribed, reached hosts behind NAT after its "public" one: they reserved no slot on it until
   * its next announcement a minute later).
   */
  private readonly sequenceNumbers = new Map<string, bigint>()
  /** Neighbours that were subscribed when this peer last announced what it announces now: they hold it. */
  private readonly holders = new Set<string>()
  /** What this peer last announced (addresses and reachability), to tell when it changed. */
  private lastBody = ''
  /** The next announcement for a neighbour the last one missed, and the wait before the one after. */
  private missedRetry: NodeJS.Timeout | undefined
  private missedRetryMs = MISSED_RETRY_FIRST_MS

  constructor(
    private readonly components: AddressBookComponents,
    private readonly tuning: AddressBookTuning,
  ) {}

  /** What `peer` last announced as its listen addresses; empty before any announcement. */
  addressesOf(peer: string): readonly string[] {
    return this.announced.get(peer) ?? []
  }

  /** What `peer` last announced about its reachability; 'unknown' before any announcement or from a peer that does not say. */
  reachabilityOf(peer: string): Reachability {
    return this.reachabilities.get(peer) ?? 'unknown'
  }

  /** Announces soon (debounced): after this peer's addresses or reachability changed. */
  announceSoon(): void {
    if (this.debounce !== undefined || this.stopped) return
    this.debounce = setTimeout(() => {
      this.debounce = undefined
      this.announce()
    }, ANNOUNCE_DEBOUNCE_MS)
  }

  start(): void {
    const pubsub = this.components.pubsub
    // The validator goes in before the subscription, so nothing arrives unchecked.
    pubsub.topicValidators.set(ADDRESS_TOPIC, this.validate)
    pubsub.addEventListener('message', this.receive)
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    pubsub.subscribe(ADDRESS_TOPIC)
    this.interval = setInterval(() => this.announce(), this.tuning.announceIntervalMs)
    this.interval.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.interval !== undefined) clearInterval(this.interval)
    if (this.debounce !== undefined) clearTimeout(this.debounce)
    if (this.missedRetry !== undefined) clearTimeout(this.missedRetry)
    const pubsub = this.components.pubsub
    pubsub.removeEventListener('message', this.receive)
    pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    pubsub.topicValidators.delete(ADDRESS_TOPIC)
  }

  /**
   * A neighbour subscribed: announce, unless it already holds our current announcement. One that
   * subscribes again — reconnected after a partition, or restarted (it learns our addresses again
   * from identify on the connection) — needs nothing from us, and nobody else does: after a heal every
   * agent re-announced to every other, each announcement signed, checked by every peer and merged
   * into its peer store, while the heal itself waited for CPU. A new neighbour still sets one off, as
   * does a change of our addresses or reachability; the interval's announcement stays the backstop.
   */
  private readonly onSubscriptionChange = (event: CustomEvent<SubscriptionChangeData>): void => {
    if (!event.detail.subscriptions.some((s) => s.topic === ADDRESS_TOPIC && s.subscribe)) return
    if (this.holders.has(event.detail.peerId.toString())) return
    this.announceSoon()
  }

  private announce(): void {
    if (this.stopped) return
    const all = this.components
      .getMultiaddrs()
      .map((address) => address.toString())
      .filter((address) => address.length <= MAX_ADDRESS_CHARS)
    // Loopback reaches another host's own interface, never us: announce it only when it is all we
    // have (peers sharing one machine, as in tests).
    const routable = all.filter((address) => !/^\/ip4\/127\.|^\/ip6\/::1\//.test(address))
    const addresses = (routable.length > 0 ? routable : all).slice(0, MAX_ADDRESSES)
    if (addresses.length === 0) return
    const reachability = this.components.reachability?.() ?? 'unknown'
    const body = JSON.stringify({ addresses, reachability })
    if (body !== this.lastBody) this.holders.clear()
    this.lastBody = body
    const bytes = new TextEncoder().encode(body)
    this.components.pubsub.publish(ADDRESS_TOPIC, bytes)
      .then((result) => this.sent(result.recipients.map((peer) => peer.toString())))
      .catch(() => undefined) // retried on the next interval
  }

  /**
   * An announcement went to `recipients`: they hold it. Not every subscribed neighbour need be among
   * them — gossipsub drops a message for a peer it has no stream to yet, as right after that peer
   * subscribed — and one left out would learn our addresses and reachability only at the next
   * interval, a minute on: a host behind NAT held no reservation on a relay it never heard was
   * public (test/hosts/nat-relays, 62 s to mesh in half the runs). So it is announced again soon.
   */
  private sent(recipients: readonly string[]): void {
    for (const peer of recipients) this.holders.add(peer)
    const missed = this.components.pubsub.getSubscribers(ADDRESS_TOPIC).some((peer) => !this.holders.has(peer.toString()))
    if (!missed) {
      this.missedRetryMs = MISSED_RETRY_FIRST_MS
      return
    }
    if (this.missedRetry !== undefined || this.stopped) return
    this.missedRetry = setTimeout(() => {
      this.missedRetry = undefined
      this.announce()
    }, this.missedRetryMs)
    this.missedRetry.unref?.()
    this.missedRetryMs = Math.min(MISSED_RETRY_MOST_MS, this.missedRetryMs * 2)
  }

  private readonly validate = (_forwarder: PeerId, message: GossipMessage): TopicValidatorResult => {
    if (message.type !== 'signed') return TopicValidatorResult.Reject
    const announcement = parseAnnouncementBody(message.data, message.from.toString())
    if (announcement === undefined) {
      this.rejected++
      return TopicValidatorResult.Reject
    }
    // Older than what we hold from its author: not passed on, not taken in.
    if (this.isStale(message.from.toString(), message.sequenceNumber)) return TopicValidatorResult.Ignore
    this.decoded.set(message, announcement)
    return TopicValidatorResult.Accept
  }

  /** Whether an announcement numbered `sequenceNumber` is no newer than the one held from `peer`. */
  private isStale(peer: string, sequenceNumber: bigint): boolean {
    const held = this.sequenceNumbers.get(peer)
    return held !== undefined && sequenceNumber <= held
  }

  private readonly receive = (event: CustomEvent<GossipMessage>): void => {
    const message = event.detail
    if (message.topic !== ADDRESS_TOPIC || message.type !== 'signed' || this.stopped) return
    const announcement = this.decoded.get(message)
    if (announcement === undefined) return
    this.decoded.delete(message)
    const { addresses, reachability } = announcement
    const peer = message.from
    if (peer.equals(this.components.peerId)) return
    if (this.isStale(peer.toString(), message.sequenceNumber)) return
    this.sequenceNumbers.set(peer.toString(), message.sequenceNumber)
    this.announced.set(peer.toString(), addresses.map((address) => address.toString()))
    this.reachabilities.set(peer.toString(), reachability)
    this.version++
    void this.components.peerStore
      .merge(peer, { multiaddrs: addresses })
      .then(() => {
        if (this.stopped || this.components.getConnections(peer).length > 0) return
        return this.components.dial(peer, { signal: AbortSignal.timeout(this.tuning.dialTimeoutMs) })
      })
      .catch(() => undefined) // unreachable from here: the announcer or libp2p's redial will try again
  }
}

/** The announced addresses, or undefined when the announcement is malformed or names another peer. */
export function parseAnnouncement(data: Uint8Array, author: string): Multiaddr[] | undefined {
  return parseAnnouncementBody(data, author)?.addresses
}

export interface Announcement {
  readonly addresses: Multiaddr[]
  /** 'unknown' when the announcer does not say (an older agent) or says something else. */
  readonly reachability: Reachability
}

const REACHABILITIES: readonly string[] = ['public', 'nat', 'unknown'] satisfies Reachability[]

/** The whole announcement, or undefined when it is malformed or names another peer. */
export function parseAnnouncementBody(data: Uint8Array, author: string): Announcement | undefined {
  if (data.length > MAX_ANNOUNCEMENT_BYTES) return undefined
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, 'addresses')) return undefined
  const list = (value as { addresses: unknown }).addresses
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_ADDRESSES) return undefined
  const out: Multiaddr[] = []
  for (const item of list) {
    if (typeof item !== 'string' || item.length > MAX_ADDRESS_CHARS) return undefined
    let address: Multiaddr
    try {
      address = multiaddr(item)
    } catch {
      return undefined
    }
    const named = address.getComponents().findLast((component) => component.code === CODE_P2P)?.value
    if (named !== undefined && named !== author) return undefined
    out.push(address)
  }
  const said = (value as { reachability?: unknown }).reachability
  const reachability = typeof said === 'string' && REACHABILITIES.includes(said) ? (said as Reachability) : 'unknown'
  return { addresses: out, reachability }
}
