// Moving a relayed link to another relay at once when its relay goes away.
//
// Two peers behind different NATs are linked only through a relay that both hold a reservation on.
// When that relayed connection closes (its relay lost power, or left), libp2p's redial tried the
// peer's addresses in its order — its private ones first, each until the per-address timeout (6 s;
// from another site nobody answers), the circuits last (dial-order.ts now puts circuits through
// relays at hand first) — so the link stayed down ≈ 7 s although another relay that both hold a
// reservation on was connected all along, and probes and bids to that peer failed meanwhile
// (test/hosts/nat-relays.test.ts: the lost relay's slots ran again only after ≈ 2.4–3.4 s, against
// ≈ 2 s for any other host's). Two moves, both through the circuit addresses
// the peer announced on the relays this host is connected to directly (one hop over a connection
// already open):
//   - when the membership protocol suspects a relay, every link relayed through it is dialled again
//     through another relay (by the end whose peer id sorts first), and the old relayed connection
//     closed once the new one is open (make before break: a relay suspected wrongly costs one
//     relayed connection per pair, nothing else);
//     suspicion comes ≈ 1 s before the verdict, so the links have moved before the relay's slots
//     are bid for;
//   - when the last open connection to a peer closes and it was relayed, the peer is dialled at once.

import './polyfill.js'

import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { messageOf } from '../core/index.js'
import { directlyConnectedPeers } from './dial-order.js'
import { relayOf } from './nat.js'
import { isTunnelConnection } from './tunnel-links.js'

export interface RelayFailoverInit {
  readonly node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getConnections' | 'dial'>
  /** This host's peer id: of the two ends of a link, the one whose id sorts first moves it. */
  readonly self: string
  /** What each peer last announced as its listen addresses (address-book.ts). */
  readonly addressesOf: (peer: string) => readonly string[]
  readonly dialTimeoutMs: number
  readonly log: (line: string) => void
  /**
   * Whether the membership protocol suspects `peer` or holds it dead (dial-order.ts): no link is
   * moved onto a circuit through it. A relay that lost power still looks connected for seconds,
   * and a dial through it waits out the whole dialTimeoutMs.
   */
  readonly doubted?: (peer: string) => boolean
}

/** `peer`'s announced circuit addresses on relays that `connections` hold an open direct connection to. */
export function circuitRoutes(peer: string, announced: readonly string[], connections: readonly Pick<Connection, 'status' | 'remotePeer' | 'remoteAddr'>[]): string[] {
  const relays = directlyConnectedPeers(connections)
  return announced.filter((address) => {
    const relay = relayOf(address)
    return relay !== undefined && relay !== peer && relays.has(relay) && address.endsWith(`/p2p/${peer}`)
  })
}

/** A redial under way: what it dials through, and how to give it up. */
interface InFlight {
  readonly peer: PeerId
  readonly relays: ReadonlySet<string>
  readonly abort: AbortController
}

export class RelayFailover {
  private readonly inFlight = new Map<string, InFlight>()
  private stopped = false
  /** Relayed links moved to another relay, for stats and tests. */
  moved = 0

  constructor(private readonly init: RelayFailoverInit) {}

  start(): void {
    this.init.node.addEventListener('connection:close', this.onClose)
  }

  stop(): void {
    this.stopped = true
    this.init.node.removeEventListener('connection:close', this.onClose)
  }

  /**
   * The membership protocol suspects `relay`: links relayed through it move to another relay (a new
   * relayed connection first, then the old one is closed). Links with no other relay stay.
   */
  moveOffRelay(relay: string): void {
    if (this.stopped) return
    this.abandonRedialsThrough(relay)
    const connections = this.init.node.getConnections()
    for (const connection of connections) {
      if (connection.status !== 'open' || isTunnelConnection(connection) || relayOf(connection.remoteAddr.toString()) !== relay) continue
      const id = connection.remotePeer.toString()
      // Both ends suspect the relay at about the same time; when both moved the link, each dialled
      // the other through the new relay at once and one of the two dials was closed mid-opening.
      if (this.inFlight.has(id) || this.init.self > id) continue
      const elsewhere = connections.some((other) => other !== connection && other.status === 'open' && other.remotePeer.toString() === id && relayOf(other.remoteAddr.toString()) !== relay)
      if (elsewhere) continue
      const announced = this.init.addressesOf(id).filter((address) => relayOf(address) !== relay)
      const routes = this.trusted(circuitRoutes(id, announced, connections))
      if (routes.length > 0) this.redial(connection.remotePeer, routes, relay, connection)
      // Said, because the link then waits for the relay's verdict or its recovery: which of the two
      // conditions failed tells whether the far peer lacks a second reservation or this host a relay.
      else this.init.log(`relayed link to ${id} through suspected relay ${relay} stays: no other route (${announced.filter((address) => relayOf(address) !== undefined).length} other circuits announced by the peer)`)
    }
  }

  /**
   * The membership protocol declared `relay` dead: if links of this host are relayed through it,
   * every connection to it is closed, and so are those links, which a relay that lost power leaves
   * looking open for seconds; their close redials them through another relay (onClose).
   */
  dropRelay(relay: string): void {
    const open = this.init.node.getConnections().filter((connection) => connection.status === 'open')
    if (!open.some((connection) => relayOf(connection.remoteAddr.toString()) === relay)) return
    for (const connection of open) {
      if (connection.remotePeer.toString() === relay) connection.abort(new Error('a relay declared dead by the membership protocol'))
    }
  }

  private readonly onClose = (event: CustomEvent<Connection>): void => {
    const closed = event.detail
    if (this.stopped || isTunnelConnection(closed) || relayOf(closed.remoteAddr.toString()) === undefined) return
    this.relink(closed.remotePeer, relayOf(closed.remoteAddr.toString()))
  }

  /** Dials `peer` through the relays left (not `lostRelay`'s when it is gone or suspected) when no connection to it is open and none is being dialled. */
  private relink(peer: PeerId, lostRelay: string | undefined, avoidLost = false): void {
    const id = peer.toString()
    if (this.inFlight.has(id)) return
    const connections = this.init.node.getConnections()
    if (connections.some((connection) => connection.status === 'open' && connection.remotePeer.toString() === id)) return
    const announced = this.init.addressesOf(id).filter((address) => !avoidLost || relayOf(address) !== lostRelay)
    const routes = this.trusted(circuitRoutes(id, announced, connections))
    if (routes.length === 0) return
    this.redial(peer, routes, lostRelay)
  }

  /**
   * Redials under way through `relay`, now suspected, are given up, and a peer left with no
   * connection is dialled again through the other relays. A relay that lost power before the
   * redial began still looked connected; a circuit through it waits out the whole dialTimeoutMs,
   * and libp2p joins every other dial of that peer (a probe, a bid) to the one waiting.
   */
  private abandonRedialsThrough(relay: string): void {
    for (const [id, dial] of [...this.inFlight]) {
      if (!dial.relays.has(relay)) continue
      this.inFlight.delete(id)
      dial.abort.abort(new Error(`relay ${relay} is suspected`))
      this.relink(dial.peer, relay, true)
    }
  }

  /** The routes through relays the membership protocol does not doubt. */
  private trusted(routes: readonly string[]): string[] {
    const doubted = this.init.doubted
    return doubted === undefined ? [...routes] : routes.filter((route) => !doubted(relayOf(route) ?? ''))
  }

  private redial(peer: PeerId, routes: readonly string[], lostRelay: string | undefined, replacing?: Connection): void {
    const id = peer.toString()
    const dial: InFlight = { peer, relays: new Set(routes.map((route) => relayOf(route) ?? '')), abort: new AbortController() }
    this.inFlight.set(id, dial)
    const startedAt = performance.now()
    this.init.node
      // force: the old relayed connection may still count as open, and must not be handed back.
      .dial(routes.map((route) => multiaddr(route)), { signal: AbortSignal.any([dial.abort.signal, AbortSignal.timeout(this.init.dialTimeoutMs)]), force: true })
      .then(
        (connection) => {
          if (connection === replacing) return
          this.moved++
          replacing?.abort(new Error(`relay ${lostRelay ?? '?'} is suspected; this link moved to another relay`))
          const via = relayOf(connection.remoteAddr.toString())
          this.init.log(`relayed link to ${id} moved from relay ${lostRelay ?? '?'} to ${via ?? 'a direct connection'} in ${Math.round(performance.now() - startedAt)} ms`)
        },
        // libp2p's own redial goes on; nothing is lost but time. Said, as the link now waits for that.
        (error: unknown) => this.init.log(`relayed link to ${id} could not move from relay ${lostRelay ?? '?'}: ${messageOf(error)} (tried ${routes.length} route(s))`),
      )
      .finally(() => {
        if (this.inFlight.get(id) === dial) this.inFlight.delete(id)
      })
  }
}
