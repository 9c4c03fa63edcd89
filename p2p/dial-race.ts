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
// So the end whose peer id sorts first refuses, before any handshake, an inbound connection from
// the peer it is itself dialling: its own dial has reached the peer (the TCP connection is up and
// its upgrade has begun), so the peer has that connection to accept, and the peer — the larger id —
// never refuses. Both SYNs often cross, or a busy host runs its connect after the peer's accept: an
// inbound connection that arrives within moments of our own dial's start is held (no handshake
// yet) until that dial reaches the peer or the moment passes. An inbound connection carries no
// peer id before Noise, so the peer is known by the
// remote IP: only an IP at which exactly one peer has been connected before counts (a reconnection;
// several agents behind one address, or on one loopback address, are never told apart this way and
// keep both connections as before). First contact has its own rule (transport.ts).
//
// The refused end's dial fails with a reset. Its sends must not: a dial that failed while the same
// peer's connection to us is being upgraded waits for that connection (connectionFrom) and the
// stream goes on it, as when a stale dial yields (transport.ts).

import './polyfill.js'

import type { Connection, Libp2p, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { ipOfMultiaddr } from './multiaddr-ip.js'

/** What the rule reads of a raw (not yet upgraded) connection. */
export type RawConnection = Pick<MultiaddrConnection, 'remoteAddr' | 'status'>

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
  /** When our latest dial to each peer began (gater.denyDialPeer), until a connection to it opens. */
  private readonly dialing = new Map<string, number>()
  /** Waits for a connection to a peer to open ('opened'), or for our dial to reach it ('outbound'). */
  private readonly waiters = new Map<string, Set<Waiter>>()
  /** Inbound connections refused because our own dial to the same peer was already under way. */
  refused = 0
  /** Connections opened, both directions, relayed ones included. */
  openedCount = 0

  constructor(
    private readonly self: string,
    /** How long an upgrade in progress is believed: past it, the connection has failed or is stuck. */
    private readonly upgradeTimeoutMs: number,
    /** How long an inbound connection is held for our own dial to the same peer, begun moments before, to reach it. */
    private readonly crossingWaitMs = 250,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** gater.denyOutboundConnection: never refuses; notes that our dial to `peer` reached it. */
  outboundStarted(peer: PeerId, connection: RawConnection): boolean {
    const id = peer.toString()
    this.outbound.set(id, { connection, sinceMs: this.now() })
    this.settle(id, 'outbound', true)
    return false
  }

  /** gater.denyDialPeer: never refuses; notes that a dial to `peer` began (its TCP connection may follow). */
  dialStarted(peer: PeerId): boolean {
    this.dialing.set(peer.toString(), this.now())
    return false
  }

  /**
   * gater.denyInboundConnection: true to refuse `connection` before its handshake. When our own
   * dial to the same peer began moments ago but its TCP connection is not up yet (both SYNs crossed,
   * or this busy host has not run the connect yet), the answer waits — up to crossingWaitMs, holding
   * the inbound connection before any handshake — for our dial to reach the peer; a dial older than
   * that (begun while the link was down, waiting on a SYN retransmission) is not waited for.
   */
  inboundArrived(connection: RawConnection): boolean | Promise<boolean> {
    const peer = this.peerAt(connection)
    if (peer === undefined || this.self > peer) return this.accepted(peer, connection)
    if (this.upgrading(this.outbound, peer)) return this.refuse()
    const startedMs = this.dialing.get(peer)
    if (startedMs === undefined || this.now() - startedMs >= this.crossingWaitMs) return this.accepted(peer, connection)
    return this.wait(peer, this.crossingWaitMs - (this.now() - startedMs), 'outbound').then((reached) =>
      reached && connection.status === 'open' ? this.refuse() : this.accepted(peer, connection),
    )
  }

  private refuse(): true {
    this.refused++
    return true
  }

  private accepted(peer: string | undefined, connection: RawConnection): false {
    if (peer !== undefined) this.inbound.set(peer, { connection, sinceMs: this.now() })
    return false
  }

  /** A connection opened: learn its peer's IP, and end every wait for it. */
  opened(connection: Pick<Connection, 'remotePeer' | 'remoteAddr' | 'limits'>): void {
    const peer = connection.remotePeer.toString()
    this.openedCount++
    this.outbound.delete(peer)
    this.inbound.delete(peer)
    this.dialing.delete(peer)
    if (connection.limits == null) {
      const ip = ipOfMultiaddr(connection.remoteAddr.toString())
      if (ip !== undefined) {
        let peers = this.peersAtIp.get(ip)
        if (peers === undefined) this.peersAtIp.set(ip, (peers = new Set()))
        peers.add(peer)
      }
    }
    this.settle(peer, 'opened', true)
  }

  /**
   * After our dial to `peer` failed: whether a connection from it opened within `waitMs`. Waits only
   * where the rule can have refused our dial (the peer's id sorts first) and while the peer's own
   * connection to us is being upgraded, or begins to be within `graceMs` (the reset of our dial and
   * the arrival of the peer's can come in either order).
   */
  async connectionFrom(peer: string, waitMs: number, signal?: AbortSignal, graceMs = 200): Promise<boolean> {
    if (peer >= this.self) return false
    const deadline = this.now() + waitMs
    if (!this.upgrading(this.inbound, peer)) {
      if (await this.wait(peer, graceMs, 'opened')) return true
      if (!this.upgrading(this.inbound, peer)) return false
    }
    // Checked again as time passes: an upgrade that fails, or a caller that gives up, ends the wait.
    while (this.now() < deadline && signal?.aborted !== true) {
      if (await this.wait(peer, Math.min(250, deadline - this.now()), 'opened')) return true
      if (!this.upgrading(this.inbound, peer)) return false
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

  private upgrading(table: Map<string, Upgrading>, peer: string): boolean {
    const entry = table.get(peer)
    if (entry === undefined) return false
    if (entry.connection.status === 'open' && this.now() - entry.sinceMs < this.upgradeTimeoutMs) return true
    table.delete(peer)
    return false
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

  private settle(peer: string, on: Waiter['on'], happened: boolean): void {
    for (const waiter of [...(this.waiters.get(peer) ?? [])]) if (waiter.on === on || on === 'opened') waiter.resolve(happened)
  }
}

/** The dial race of a host's node (createHost registers it), for openStream's failed dials. */
const races = new WeakMap<object, DialRace>()

export function registerDialRace(node: Pick<Libp2p, 'peerId'>, race: DialRace): void {
  races.set(node, race)
}

export function dialRaceOf(node: object): DialRace | undefined {
  return races.get(node)
}
