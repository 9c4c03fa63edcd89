// Hosts behind NAT: how a peer learns whether others can dial it, reaches the cluster through a
// reachable peer acting as a relay when they cannot, and says what its link to each peer is.
//
//   reachability   From identify: every peer tells us the address it sees our connection come from.
//                  When one of them sees an IP this host does not have, an address translator sits
//                  between us (a NAT router): peers outside cannot dial our listen addresses. libp2p's
//                  own AutoNAT (@libp2p/autonat 3.0) cannot decide this for a cluster: it never tests
//                  a private address (10/8, 172.16/12, 192.168/16: what LANs and sites use), and it
//                  wants 4 confirmations from peers in distinct network segments.
//   relay          Every peer runs a circuit relay v2 server, bounded (relayServerOptions). A peer
//                  behind NAT keeps reservations on up to RELAY_DEFAULTS.reservations peers that
//                  announce themselves public (address-book.ts), so it listens on
//                  <relay>/p2p-circuit and announces that address; others dial it through the relay.
//   hole punching  Two hosts behind NAT linked through a relay open a direct connection to each
//                  other's router mapping from a port of their own (hole-punch.ts); @libp2p/dcutr
//                  cannot in this stack (docs/edge.md#hole-punching). Such a link is `punched`: direct,
//                  but the peer's own addresses stay unreachable from here.
//
// A relayed connection is upgraded like any other (libp2p's upgrader runs the connection protector on
// it): the pre-shared key protects it end to end, inside the relay's own pnet connection. A host
// without the key cannot open a connection to the relay, so it cannot reserve, dial through it or be
// reached through it.

import './polyfill.js'

import { circuitRelayServer, type CircuitRelayServerInit } from '@libp2p/circuit-relay-v2'
import type { Connection, IdentifyResult, Libp2p } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { networkInterfaces } from 'node:os'
import { hash32 } from '../core/index.js'
import { RELAY_DEFAULTS } from './config.js'
import { ipOfMultiaddr } from './multiaddr-ip.js'

/** Whether peers outside this host's network can dial it: as far as the peers it is connected to can tell. */
export type Reachability = 'public' | 'nat' | 'unknown'

/**
 * How this peer is connected to another now: `direct` to its own address; `punched`, a direct
 * connection to its NAT router's mapping (hole-punch.ts), so its own addresses and ports stay out of
 * reach; `relayed`, through the relay `via` (its peer id).
 */
export interface PeerLink {
  readonly kind: 'direct' | 'punched' | 'relayed'
  readonly via?: string
}


/** The relay server each peer runs: limits from RELAY_DEFAULTS (config.ts, docs/edge.md). */
export function relayServerOptions(): CircuitRelayServerInit {
  return {
    reservations: {
      maxReservations: RELAY_DEFAULTS.maxReservations,
      applyDefaultLimit: true,
      defaultDataLimit: BigInt(RELAY_DEFAULTS.circuitDataLimitBytes),
      defaultDurationLimit: RELAY_DEFAULTS.circuitDurationLimitMs,
    },
    maxInboundHopStreams: RELAY_DEFAULTS.maxCircuits,
    maxOutboundHopStreams: RELAY_DEFAULTS.maxCircuits,
    maxOutboundStopStreams: RELAY_DEFAULTS.maxCircuits,
  }
}

export const relayServer = (): ReturnType<typeof circuitRelayServer> => circuitRelayServer(relayServerOptions())

/** What reserving a relay slot needs of libp2p's internals: its transport manager's listen(). */
export interface ListenComponents {
  readonly transportManager: { listen(addresses: Multiaddr[]): Promise<void> }
}

/**
 * A libp2p service that only hands out the transport manager: a circuit reservation is made by
 * listening on <relay>/p2p-circuit, and libp2p 3 has no public way to add a listen address once started.
 */
export function listenComponents() {
  return (components: ListenComponents): ListenComponents => ({ transportManager: components.transportManager })
}

/** The relay's peer id in a relayed address (…/p2p/<relay>/p2p-circuit/…), or undefined. */
export function relayOf(address: string): string | undefined {
  const at = address.indexOf('/p2p-circuit')
  if (at < 0) return undefined
  return /\/p2p\/([^/]+)$/.exec(address.slice(0, at))?.[1]
}

/** How `peer` is connected now: direct when any open connection is not relayed; undefined when none is open. */
export function linkTo(connections: readonly Connection[], peer: string, punched: (connection: Connection) => boolean = () => false): PeerLink | undefined {
  const open = connections.filter((c) => c.status === 'open' && c.remotePeer.toString() === peer)
  if (open.length === 0) return undefined
  const direct = open.filter((c) => relayOf(c.remoteAddr.toString()) === undefined)
  if (direct.some((c) => !punched(c))) return { kind: 'direct' }
  if (direct.length > 0) return { kind: 'punched' }
  const via = relayOf(open[0]!.remoteAddr.toString())
  return via === undefined ? { kind: 'relayed' } : { kind: 'relayed', via }
}

/** The IPs of this host's interfaces (in a network namespace: the namespace's). */
function ownIps(): Set<string> {
  const ips = new Set<string>()
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) ips.add(entry.address)
  return ips
}

/**
 * This peer's reachability from what connected peers observe (identify's observedAddr). One peer
 * seeing us at an IP we do not have means translation on the way to it: 'nat'. Peers seeing us only
 * at our own IPs: 'public'. Before any observation: 'unknown'. Observations of peers no longer
 * connected are dropped, so a host that moves is judged again.
 */
export class ReachabilityObserver {
  /** Per peer: whether its last observation of us was at an IP we do not have. */
  private readonly translated = new Map<string, boolean>()
  /** The last IP a peer saw us at that we do not have: our NAT router's, as the far side of it sees it. */
  private translatedIp: string | undefined
  private current: Reachability = 'unknown'

  constructor(
    private readonly node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getConnections'>,
    private readonly onChange: (reachability: Reachability) => void,
    private readonly interfaceIps: () => Set<string> = ownIps,
  ) {}

  start(): void {
    this.node.addEventListener('peer:identify', this.onIdentify)
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  stop(): void {
    this.node.removeEventListener('peer:identify', this.onIdentify)
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
  }

  reachability(): Reachability {
    return this.current
  }

  /** Behind NAT: the address peers outside see this host at (its router's); otherwise undefined. */
  publicIp(): string | undefined {
    return this.current === 'nat' ? this.translatedIp : undefined
  }

  /** Records one observation; exported for the unit test. */
  observe(peer: string, observed: Multiaddr, connectionAddress: string): void {
    // Over a relay the observed address is the circuit's, which says nothing about our interfaces.
    if (relayOf(connectionAddress) !== undefined || observed.toString().includes('/p2p-circuit')) return
    const ip = ipOfMultiaddr(observed.toString())
    if (ip === undefined) return
    const translated = !this.interfaceIps().has(ip)
    this.translated.set(peer, translated)
    if (translated) this.translatedIp = ip
    this.update()
  }

  private readonly onIdentify = (event: CustomEvent<IdentifyResult>): void => {
    const { observedAddr, peerId, connection } = event.detail
    if (observedAddr !== undefined) this.observe(peerId.toString(), observedAddr, connection.remoteAddr.toString())
  }

  private readonly onDisconnect = (event: CustomEvent<{ toString(): string }>): void => {
    if (this.translated.delete(event.detail.toString())) this.update()
  }

  private update(): void {
    const values = [...this.translated.values()]
    const next: Reachability = values.length === 0 ? 'unknown' : values.some(Boolean) ? 'nat' : 'public'
    if (next === this.current) return
    this.current = next
    this.onChange(next)
  }
}

export interface RelayKeeperInit {
  readonly node: Pick<Libp2p, 'getConnections' | 'getMultiaddrs'>
  readonly listen: ListenComponents
  readonly self: string
  reachability(): Reachability
  /** What each peer last announced about itself (address-book.ts). */
  reachabilityOf(peer: string): Reachability
  readonly log: (line: string) => void
  readonly intervalMs?: number
}

/**
 * While this peer is behind NAT, holds reservations on RELAY_DEFAULTS.reservations public peers it
 * is directly connected to, and makes a new one when a relay goes away. Relays are chosen in an
 * order particular to each peer (by a hash of both ids), so peers behind NAT spread over the relays.
 */
export class RelayKeeper {
  private timer: NodeJS.Timeout | undefined
  /** Relays being reserved now, and when each was last tried (not retried for a few intervals). */
  private readonly tried = new Map<string, number>()
  private stopped = false

  constructor(private readonly init: RelayKeeperInit) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.init.intervalMs ?? RELAY_DEFAULTS.reserveIntervalMs)
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
  }

  /** The relays this peer holds a reservation on now (from its circuit listen addresses). */
  relays(): string[] {
    const relays = new Set<string>()
    for (const address of this.init.node.getMultiaddrs()) {
      const relay = relayOf(address.toString())
      if (relay !== undefined) relays.add(relay)
    }
    return [...relays].sort()
  }

  tick(): void {
    if (this.stopped || this.init.reachability() !== 'nat') return
    const held = new Set(this.relays())
    const now = Date.now()
    const retryMs = 5 * (this.init.intervalMs ?? RELAY_DEFAULTS.reserveIntervalMs)
    const candidates = new Map<string, Multiaddr>()
    for (const connection of this.init.node.getConnections()) {
      const peer = connection.remotePeer.toString()
      // Reserving needs a direct connection this peer dialled: its remote address is where the relay listens.
      if (connection.status !== 'open' || connection.direction !== 'outbound' || connection.limits != null) continue
      if (relayOf(connection.remoteAddr.toString()) !== undefined || held.has(peer) || this.init.reachabilityOf(peer) !== 'public') continue
      if (now - (this.tried.get(peer) ?? -Infinity) < retryMs) continue
      candidates.set(peer, connection.remoteAddr)
    }
    const wanted = RELAY_DEFAULTS.reservations - held.size
    const order = [...candidates.keys()].sort((a, b) => spreadKey(this.init.self, a) - spreadKey(this.init.self, b))
    for (const relay of order.slice(0, Math.max(0, wanted))) {
      this.tried.set(relay, now)
      const base = candidates.get(relay)!.toString()
      const address = multiaddr(`${base.includes('/p2p/') ? base : `${base}/p2p/${relay}`}/p2p-circuit`)
      this.init.listen.transportManager.listen([address]).then(
        () => this.init.log(`behind NAT: reachable through relay ${relay}`),
        (error: unknown) => this.init.log(`behind NAT: cannot reserve a slot on relay ${relay}: ${error instanceof Error ? error.message : String(error)}`),
      )
    }
  }
}

/** A number that orders relays differently for each peer (a hash of both ids). */
function spreadKey(self: string, relay: string): number {
  return hash32(`${self}/${relay}`)
}
