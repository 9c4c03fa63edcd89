// One direct connection per pair of peers.
//
// Two peers often dial each other at once — both were given the other as a join address, both
// redialled after a partition, both heard of the other from the same gossip — and both dials
// succeed. Each pair then held two TCP connections for good: in an idle cluster of five every pair,
// so every agent paid each connection's costs twice (the connection monitor's pings of the one that
// carries no messages, keep-alives, Noise and pnet state, a relay circuit per extra link between
// sites), and after a partition healed each agent handshook two to three connections per peer at
// once. The first-contact rules (transport.ts) keep the transport's own dials from racing; join
// dials, libp2p's reconnect queue and a heal still make pairs.
//
// So once every connection to a peer has been open for settleMs, the end whose peer id sorts first
// closes all but one — only one end acts, so the two ends can never each close a different one and
// leave none. It keeps a direct connection over a relayed one (a circuit costs the relay's bandwidth
// and a hop of latency; two peers that met through a relay keep the circuit too once a direct
// connection opened), then the oldest, which carries the gossip and direct streams opened first.
// The oldest is rarely a dead one kept over a live one: a peer that restarted answers anything sent
// on its old connection with a reset (and members send each other something every probe interval);
// across a partition the old connections are closed by the connection monitor (silent for
// ≈ 8–13 s) or, in a shorter cut, come back with the link. Tunnel connections (relayed circuits of
// their own for service traffic, tunnel-links.ts) are not counted or closed.

// Closing a connection that gossipsub's streams ran on leaves gossipsub without them: its outbound
// stream is dropped when that stream closes and only made again for a new connection, and its
// inbound stream ending in error removes the peer from its router — while the peer stays connected,
// so libp2p never announces it again. Whenever a connection to a peer closes and another stays
// open (a duplicate closed here or by the other end, a relayed link replaced by a direct one), the
// remaining connection is handed to gossipsub again as a new one: it re-adds the peer and opens an
// outbound stream if it has none, and the other end's answer opens its own (gossipsub does that for
// any inbound stream).

import './polyfill.js'

import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { isTunnelConnection } from './tunnel-links.js'

/** What the rule needs of one open connection. */
export interface OpenConnection {
  readonly id: string
  /** When it opened (libp2p's timeline.open, ms since the epoch). */
  readonly openedAt: number
  /** Through a relay (libp2p marks such a connection with limits). */
  readonly relayed: boolean
}

/** Whether `a` is kept over `b`: direct before relayed, then the older, then the smaller id. */
function keptOver(a: OpenConnection, b: OpenConnection): boolean {
  if (a.relayed !== b.relayed) return !a.relayed
  return a.openedAt < b.openedAt || (a.openedAt === b.openedAt && a.id < b.id)
}

/** The one of `connections` (at least one) that stays: the oldest direct one, else the oldest relayed. */
function keptOf<C extends OpenConnection>(connections: readonly C[]): C {
  return connections.reduce((best, connection) => (keptOver(connection, best) ? connection : best))
}

/** What the rule reads of a libp2p connection. */
function factsOf(connection: Connection): OpenConnection & { readonly connection: Connection } {
  return { id: connection.id, openedAt: connection.timeline.open, relayed: connection.limits != null, connection }
}

/**
 * Which of one peer's open connections to close now: none while any opened less than `settleMs` ago
 * (a handshake or identify may still be running on it), otherwise all but one — the oldest direct
 * one, or the oldest relayed one when none is direct (ties by id). Only the end whose id sorts
 * first calls it.
 */
export function duplicatesToClose(connections: readonly OpenConnection[], now: number, settleMs: number): string[] {
  if (connections.length < 2 || connections.some((connection) => now - connection.openedAt < settleMs)) return []
  const kept = keptOf(connections)
  return connections.filter((connection) => connection !== kept).map((connection) => connection.id)
}

export interface DuplicateConnectionsInit {
  readonly node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getConnections'>
  /** This host's peer id: of two ends, the one that sorts first closes duplicates. */
  readonly self: string
  readonly settleMs: number
  /** Gives gossipsub `connection` to `peer` as if it had just opened (see above). */
  readonly reattach: (peer: PeerId, connection: Connection) => void
}

/** Lets in-flight close events and stream errors of the closed connection land before reattaching. */
const REATTACH_DELAY_MS = 100

export class DuplicateConnections {
  private readonly checks = new Map<string, NodeJS.Timeout>()
  private readonly reattaching = new Map<string, NodeJS.Timeout>()
  private stopped = false
  /** Duplicates this end closed (for stats and tests). */
  closed = 0

  constructor(private readonly init: DuplicateConnectionsInit) {}

  start(): void {
    this.init.node.addEventListener('connection:open', this.onOpen)
    this.init.node.addEventListener('connection:close', this.onClose)
  }

  stop(): void {
    this.stopped = true
    this.init.node.removeEventListener('connection:open', this.onOpen)
    this.init.node.removeEventListener('connection:close', this.onClose)
    for (const timer of [...this.checks.values(), ...this.reattaching.values()]) clearTimeout(timer)
    this.checks.clear()
    this.reattaching.clear()
  }

  private readonly onOpen = (event: CustomEvent<Connection>): void => {
    const peer = event.detail.remotePeer
    if (this.init.self > peer.toString() || this.openTo(peer).length < 2) return
    this.checkAfter(peer, this.init.settleMs)
  }

  /** `peer`'s open connections, tunnel connections left out. */
  private openTo(peer: PeerId): Connection[] {
    return this.init.node.getConnections(peer).filter((connection) => connection.status === 'open' && !isTunnelConnection(connection))
  }

  private checkAfter(peer: PeerId, ms: number): void {
    const key = peer.toString()
    if (this.stopped || this.checks.has(key)) return
    const timer = setTimeout(() => {
      this.checks.delete(key)
      this.check(peer)
    }, ms)
    timer.unref()
    this.checks.set(key, timer)
  }

  private check(peer: PeerId): void {
    const open = this.openTo(peer)
    if (open.length < 2) return
    const now = Date.now()
    const facts = open.map(factsOf)
    const youngest = Math.max(...facts.map((fact) => fact.openedAt))
    // One still settling: look again once it has.
    if (now - youngest < this.init.settleMs) return this.checkAfter(peer, this.init.settleMs - (now - youngest))
    const closing = new Set(duplicatesToClose(facts, now, this.init.settleMs))
    for (const connection of open) {
      if (!closing.has(connection.id)) continue
      this.closed++
      connection.close().catch((error: unknown) => connection.abort(error instanceof Error ? error : new Error(String(error))))
    }
  }

  private readonly onClose = (event: CustomEvent<Connection>): void => {
    const peer = event.detail.remotePeer
    const key = peer.toString()
    if (this.stopped || this.reattaching.has(key)) return
    const timer = setTimeout(() => {
      this.reattaching.delete(key)
      const remaining = this.openTo(peer)
      if (remaining.length === 0) return
      try {
        // The one the rule keeps: the connection the peer's gossip will stay on.
        this.init.reattach(peer, keptOf(remaining.map(factsOf)).connection)
      } catch {
        // gossipsub may refuse a connection closing meanwhile; its next connection event reattaches.
      }
    }, REATTACH_DELAY_MS)
    timer.unref()
    this.reattaching.set(key, timer)
  }
}
