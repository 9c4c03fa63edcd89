// Two peers dialling each other at once, settled before either handshake.
//
// When a partition heals, both ends of every pair across it dial the other within tens of
// milliseconds (one end's heal burst, the other's join redial or libp2p's reconnect queue), and both
// dials reach the other host. Each end then runs two handshakes — the private network's, Noise's
// (three X25519 exchanges and a signature each way) and identify's — on two connections, of which
// the duplicate rule (duplicate-connections.ts) closes one seconds later. On busy agents an upgrade
// takes 0.3–2 s, and the heal of ten agents is CPU-bound: every second handshake is work the heal
// waits behind.
//
// So a pair keeps one connection of the two before either handshake: the outbound one of the end
// whose peer id sorts first. Whichever end sees both at once — its own dial's TCP connection up and
// being upgraded, and the peer's inbound one — closes the other one: the smaller id refuses the
// peer's inbound connection, the larger id abandons its own outbound one. Both ends choose the same
// survivor, so it does not matter which notices first. Both SYNs often cross, or a busy host runs
// its connect after the peer's accept: an inbound connection that arrives within moments of our own
// dial's start is held (no handshake yet) until that dial reaches the peer or the moment passes. A
// dial that reaches a peer to which a direct connection opened meanwhile is dropped too. An
// inbound connection carries no peer id before Noise, so the peer is known by the remote IP: only
// an IP at which exactly one peer has been connected before counts (a reconnection; several agents
// behind one address, or on one loopback address, are never told apart this way and keep both
// connections as before). First contact has its own rule (transport.ts).
//
// The end whose dial was dropped sees it fail. Its sends must not: a dial that failed while the
// same peer's connection to us is being upgraded waits for that connection (connectionFrom) and the
// stream goes on it, as when a stale dial yields (transport.ts); open-stream.ts does that.

import './polyfill.js'

import type { Connection, Libp2p, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { ipOfMultiaddr } from './multiaddr-ip.js'

/** What the rule reads of a raw (not yet upgraded) connection. */
export type RawConnection = Pick<MultiaddrConnection, 'remoteAddr' | 'status' | 'abort'>

interface Upgrading {
  readonly connection: RawConnection
  readonly sinceMs: number
}

interface Waiter {
  readonly on: 'opened' | 'outbound'
  readonly resolve: (happened: boolean) => void
}

export class DialRace {
  /** Peers seen at each remote IP over direct connections (either direction). */
  private readonly peersAtIp = new Map<string, Set<string>>()
  /** Our outbound connections to each peer whose TCP connection is up and whose upgrade has begun. */
  private readonly outbound = new Map<string, Upgrading>()
  /** Inbound connections being upgraded, by the peer their IP names. */
  private readonly inbound = new Map<string, Upgrading>()
  /** When our latest dial to each peer began (gater.denyDialPeer). */
  private readonly dialing = new Map<string, number>()
  /** When the latest connection to each peer opened. */
  private readonly openedAt = new Map<string, number>()
  /** Waits for a connection to a peer to open ('opened'), or for our dial to reach it ('outbound'). */
  private readonly waiters = new Map<string, Set<Waiter>>()
  /** Connections closed before their handshake because the pair had another (either direction). */
  crossingsClosed = 0
  /** Connections opened, both directions, relayed ones included. */
  openedCount = 0

  constructor(
    private readonly self: string,
    /** Whether a direct connection to `peer` is open now. */
    private readonly openDirectTo: (peer: string) => boolean,
    /** How long an upgrade in progress is believed: past it, the connection has failed or is stuck. */
    private readonly upgradeTimeoutMs: number,
    /** How long an inbound connection is held for our own dial to the same peer, begun moments before, to reach it. */
    private readonly crossingWaitMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** gater.denyDialPeer: never refuses; notes that a dial to `peer` began (its TCP connection may follow). */
  dialStarted(peer: PeerId): boolean {
    this.dialing.set(peer.toString(), this.now())
    return false
  }

  /** gater.denyOutboundConnection: our dial reached `peer`; true to drop it before its handshake. */
  outboundStarted(peer: PeerId, connection: RawConnection): boolean {
    const id = peer.toString()
    // A dial begun before a direct connection to the peer opened was racing it; one begun after
    // (a deliberate second connection) goes on.
    const began = this.dialing.get(id)
    if (began !== undefined && began <= (this.openedAt.get(id) ?? -Infinity) && this.openDirectTo(id)) return this.drop()
    const theirs = this.upgrading(this.inbound, id)
    if (theirs !== undefined && direct(connection)) {
      if (this.self > id) return this.drop()
      this.inbound.delete(id)
      this.abort(theirs)
    }
    this.outbound.set(id, { connection, sinceMs: this.now() })
    this.settle(id, 'outbound')
    return false
  }

  /**
   * gater.denyInboundConnection: true to refuse `connection` before its handshake. When our own
   * dial to the same peer began moments ago but its TCP connection is not up yet, the answer waits —
   * up to crossingWaitMs, holding the inbound connection before any handshake — for our dial to
   * reach the peer; a dial older than that (begun while the link was down, waiting on a SYN
   * retransmission) is not waited for.
   */
  inboundArrived(connection: RawConnection): boolean | Promise<boolean> {
    const peer = this.peerAt(connection)
    if (peer === undefined) return false
    if (this.crossing(peer, connection)) return this.settleCrossing(peer, connection)
    const startedMs = this.dialing.get(peer)
    const settled = startedMs === undefined || startedMs <= (this.openedAt.get(peer) ?? -Infinity)
    if (settled || this.now() - startedMs >= this.crossingWaitMs) return this.accept(peer, connection)
    return this.wait(peer, this.crossingWaitMs - (this.now() - startedMs), 'outbound').then((reached) => {
      if (connection.status !== 'open') return true
      return reached && this.crossing(peer, connection) ? this.settleCrossing(peer, connection) : this.accept(peer, connection)
    })
  }

  /**
   * Whether our direct outbound connection to `peer` is being upgraded while `theirs` (from the
   * peer's IP) arrives. A dial through a relay is not the other half of a crossing: the inbound
   * connection is then another host's behind the same router, or a second path the pair wants.
   */
  private crossing(peer: string, theirs: RawConnection): boolean {
    const ours = this.upgrading(this.outbound, peer)
    return ours !== undefined && direct(ours.connection) && theirs.status === 'open'
  }

  /** Our outbound connection to `peer` and its inbound one are both being upgraded: the smaller id's outbound one stays. */
  private settleCrossing(peer: string, theirs: RawConnection): boolean {
    if (this.self < peer) return this.drop()
    const ours = this.outbound.get(peer)
    this.outbound.delete(peer)
    if (ours !== undefined) this.abort(ours)
    return this.accept(peer, theirs)
  }

  private drop(): true {
    this.crossingsClosed++
    return true
  }

  private abort(entry: Upgrading): void {
    this.crossingsClosed++
    entry.connection.abort(new Error('the peer dialled us at the same moment; its connection or ours is kept, not both'))
  }

  private accept(peer: string, connection: RawConnection): false {
    this.inbound.set(peer, { connection, sinceMs: this.now() })
    return false
  }

  /** A connection opened: learn its peer's IP, and end every wait for it. */
  opened(connection: Pick<Connection, 'remotePeer' | 'remoteAddr' | 'limits'>): void {
    const peer = connection.remotePeer.toString()
    this.openedCount++
    this.outbound.delete(peer)
    this.inbound.delete(peer)
    this.openedAt.set(peer, this.now())
    if (connection.limits == null) {
      const ip = ipOfMultiaddr(connection.remoteAddr.toString())
      if (ip !== undefined) {
        let peers = this.peersAtIp.get(ip)
        if (peers === undefined) this.peersAtIp.set(ip, (peers = new Set()))
        peers.add(peer)
      }
    }
    this.settle(peer, 'opened')
  }

  /**
   * After our dial to `peer` failed: whether a connection from it opened within `waitMs`. Waits
   * while the peer's own connection to us is being upgraded, or begins to be within `graceMs` (the
   * failure of our dial and the arrival of the peer's can come in either order).
   */
  async connectionFrom(peer: string, waitMs: number, signal?: AbortSignal, graceMs = 200): Promise<boolean> {
    const deadline = this.now() + waitMs
    if (this.upgrading(this.inbound, peer) === undefined) {
      if (await this.wait(peer, graceMs, 'opened')) return true
      if (this.upgrading(this.inbound, peer) === undefined) return false
    }
    // Checked again as time passes: an upgrade that fails, or a caller that gives up, ends the wait.
    while (this.now() < deadline && signal?.aborted !== true) {
      if (await this.wait(peer, Math.min(250, deadline - this.now()), 'opened')) return true
      if (this.upgrading(this.inbound, peer) === undefined) return false
    }
    return false
  }

  /** The one peer ever connected from `connection`'s IP; undefined when none or several were. */
  private peerAt(connection: RawConnection): string | undefined {
    const ip = ipOfMultiaddr(connection.remoteAddr.toString())
    const peers = ip === undefined ? undefined : this.peersAtIp.get(ip)
    if (peers === undefined || peers.size !== 1) return undefined
    const [peer] = peers
    return peer === this.self ? undefined : peer
  }

  /** The connection of `table` to or from `peer` still being upgraded, if any. */
  private upgrading(table: Map<string, Upgrading>, peer: string): Upgrading | undefined {
    const entry = table.get(peer)
    if (entry === undefined) return undefined
    if (entry.connection.status === 'open' && this.now() - entry.sinceMs < this.upgradeTimeoutMs) return entry
    table.delete(peer)
    return undefined
  }

  /** Resolves true when `on` happens for `peer` within `ms`, false otherwise. */
  private wait(peer: string, ms: number, on: Waiter['on']): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false)
    return new Promise((resolve) => {
      let waiters = this.waiters.get(peer)
      if (waiters === undefined) this.waiters.set(peer, (waiters = new Set()))
      const waiter: Waiter = {
        on,
        resolve: (happened) => {
          clearTimeout(timer)
          waiters!.delete(waiter)
          if (waiters!.size === 0 && this.waiters.get(peer) === waiters) this.waiters.delete(peer)
          resolve(happened)
        },
      }
      const timer = setTimeout(() => waiter.resolve(false), ms)
      waiters.add(waiter)
    })
  }

  /** `on` happened for `peer`: its waiters resolve true (a connection that opened also ends waits for our dial). */
  private settle(peer: string, on: Waiter['on']): void {
    for (const waiter of [...(this.waiters.get(peer) ?? [])]) if (waiter.on === on || on === 'opened') waiter.resolve(true)
  }
}

/** Whether a raw connection goes straight to an IP (a relayed one has none). */
function direct(connection: RawConnection): boolean {
  return ipOfMultiaddr(connection.remoteAddr.toString()) !== undefined
}

/** The dial race of a host's node (createHost registers it), for openStream's failed dials. */
const races = new WeakMap<object, DialRace>()

export function registerDialRace(node: Pick<Libp2p, 'peerId'>, race: DialRace): void {
  races.set(node, race)
}

export function dialRaceOf(node: object): DialRace | undefined {
  return races.get(node)
}
