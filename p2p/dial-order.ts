// The order in which libp2p tries a peer's addresses when it dials the peer by id.
//
// libp2p tries them one after another, each until it answers or 6 s pass (its per-address timeout),
// the whole dial until its caller gives up (dialTimeoutMs, 5 s, for ours): public addresses first,
// then private ones, circuits through a relay last (among them, any order). For a peer behind NAT in
// another site that order is wrong. Its private addresses are on a LAN nobody here reaches: behind a
// site router with a default route, a SYN there goes out to the WAN and is never answered, so the
// first one took the whole dial. And of its circuits, the one through a relay that just lost power
// may come first: the relay still looks connected for seconds, and the dial waits on it. A pair of
// hosts of two sites with no connection when their relay died was linked again only after 7–14 s
// (docs/edge.md, *When a relay dies*), though a circuit through the other relay was at hand.
//
// Here, for a peer that announces itself behind NAT (address-book.ts), the order is:
//   1. its direct addresses on a subnet of one of this host's interfaces (a host of the same site);
//   2. its circuits through relays this host has an open direct connection to (one hop, at once);
//   3. its other circuits (the relay must be dialled first);
//   4. its circuits through relays the membership protocol suspects or holds dead: a relay that lost
//      power still looks connected for seconds (a ping waits that long), and a circuit through it
//      waits out the whole dial;
//   5. its other direct addresses.
// Within each, and for every other peer, libp2p's own order. A peer behind NAT that this host once
// dialled directly (say on a routed network of its own site, behind the same NAT, off this host's
// subnets) keeps libp2p's order: a direct link that works is not traded for a relayed one.

import type { Address, AddressSorter, Connection, Libp2p } from '@libp2p/interface'
import { circuitRelayAddressesLast, loopbackAddressLast, publicAddressesFirst, reliableTransportsFirst } from '@libp2p/utils'
import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { ipOfMultiaddr } from './multiaddr-ip.js'
import { relayOf, type Reachability } from './nat.js'

/** What the order needs to know now, from the host: what peers announced, what is connected, where this host is. */
export interface DialOrderView {
  /** What the peer last announced about its own reachability. */
  reachabilityOf(peer: string): Reachability
  /** Whether this host has an open, not relayed connection to `peer` (a relay one hop away). */
  connectedDirectly(peer: string): boolean
  /** Whether this host once dialled `peer` directly (an outbound connection, not relayed). */
  dialledDirectly(peer: string): boolean
  /** Whether `ip` is on a subnet of one of this host's interfaces. */
  onLocalSubnet(ip: string): boolean
  /** Whether the membership protocol suspects `peer` or holds it dead (not since heard alive). */
  doubted(peer: string): boolean
}

/** Ranks of the order above; lower is tried first. */
export const DIAL_RANK = { localSubnet: 0, circuitThroughConnectedRelay: 1, circuit: 2, circuitThroughDoubtedRelay: 3, direct: 4 } as const

/** The peer a dialled address leads to: its last /p2p/ component (libp2p appends it before sorting). */
export function peerOfAddress(address: string): string | undefined {
  return /\/p2p\/([^/]+)$/.exec(address)?.[1]
}

/** Where `address` comes in a dial; every address of a peer not known to be behind NAT ranks the same. */
export function dialRank(address: string, view: DialOrderView): number {
  const peer = peerOfAddress(address)
  if (peer === undefined || view.reachabilityOf(peer) !== 'nat' || view.dialledDirectly(peer)) return DIAL_RANK.localSubnet
  const relay = relayOf(address)
  if (relay !== undefined) {
    if (view.doubted(relay)) return DIAL_RANK.circuitThroughDoubtedRelay
    return view.connectedDirectly(relay) ? DIAL_RANK.circuitThroughConnectedRelay : DIAL_RANK.circuit
  }
  const ip = ipOfMultiaddr(address)
  return ip !== undefined && view.onLocalSubnet(ip) ? DIAL_RANK.localSubnet : DIAL_RANK.direct
}

/** libp2p's default order (connection-manager/address-sorter.js, not exported by libp2p), for ties. */
function libp2pOrder(a: Address, b: Address): -1 | 0 | 1 {
  return (
    loopbackAddressLast(a.multiaddr, b.multiaddr) ||
    publicAddressesFirst(a.multiaddr, b.multiaddr) ||
    circuitRelayAddressesLast(a.multiaddr, b.multiaddr) ||
    (a.isCertified === b.isCertified ? 0 : a.isCertified ? -1 : 1) ||
    reliableTransportsFirst(a.multiaddr, b.multiaddr)
  )
}

/**
 * The connection manager's addressSorter: dialRank first, libp2p's order within a rank. `viewNow`
 * is read at each dial: the node the view needs is made with this sorter, so before the view exists
 * (undefined) the order is libp2p's.
 */
export function dialOrder(viewNow: () => DialOrderView | undefined): AddressSorter {
  return (a, b) => {
    const view = viewNow()
    if (view === undefined) return libp2pOrder(a, b)
    const difference = dialRank(a.multiaddr.toString(), view) - dialRank(b.multiaddr.toString(), view)
    if (difference !== 0) return difference < 0 ? -1 : 1
    return libp2pOrder(a, b)
  }
}

/** Peers with an open connection that is not relayed: relays one hop away. */
export function directlyConnectedPeers(connections: readonly Pick<Connection, 'status' | 'remotePeer' | 'remoteAddr'>[]): Set<string> {
  return new Set(
    connections
      .filter((connection) => connection.status === 'open' && relayOf(connection.remoteAddr.toString()) === undefined)
      .map((connection) => connection.remotePeer.toString()),
  )
}

/** Whether an IP is on a subnet of the given interfaces (os.networkInterfaces()), loopback left out. */
export function localSubnets(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): (ip: string) => boolean {
  const subnets = new BlockList()
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) {
      if (entry.internal || entry.cidr === null) continue
      const prefix = Number(entry.cidr.slice(entry.cidr.indexOf('/') + 1))
      // A link-local IPv6 address is on every link of every host: it says nothing about a site.
      if (entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80:')) continue
      subnets.addSubnet(entry.address, prefix, entry.family === 'IPv4' ? 'ipv4' : 'ipv6')
    }
  }
  return (ip) => (isIPv4(ip) ? subnets.check(ip, 'ipv4') : isIPv6(ip) ? subnets.check(ip, 'ipv6') : false)
}

/** How long the interfaces' subnets are trusted before they are read again (DHCP may change them). */
const SUBNETS_REFRESH_MS = 10_000

export interface NodeDialViewInit {
  readonly node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getConnections'>
  /** What each peer last announced (address-book.ts); set once the address book exists. */
  reachabilityOf(peer: string): Reachability
  readonly interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>
  readonly now?: () => number
}

/** The DialOrderView of a running node: its connections, the peers it dialled directly, its interfaces. */
export class NodeDialView implements DialOrderView {
  /** Peers this host opened a direct connection to; a cluster's peers, so bounded by its size. */
  private readonly dialled = new Set<string>()
  /** Peers the membership protocol suspects or holds dead; members, so bounded likewise. */
  private readonly doubts = new Set<string>()
  private subnets: { readAt: number; has: (ip: string) => boolean } | undefined

  constructor(private readonly init: NodeDialViewInit) {}

  start(): void {
    this.init.node.addEventListener('connection:open', this.onOpen)
  }

  stop(): void {
    this.init.node.removeEventListener('connection:open', this.onOpen)
  }

  reachabilityOf(peer: string): Reachability {
    return this.init.reachabilityOf(peer)
  }

  connectedDirectly(peer: string): boolean {
    return this.init.node.getConnections().some((connection) => connection.status === 'open' && connection.remotePeer.toString() === peer && relayOf(connection.remoteAddr.toString()) === undefined)
  }

  dialledDirectly(peer: string): boolean {
    return this.dialled.has(peer)
  }

  doubted(peer: string): boolean {
    return this.doubts.has(peer)
  }

  /** The membership protocol suspects `peer` or declared it dead. */
  doubt(peer: string): void {
    this.doubts.add(peer)
  }

  /** The membership protocol holds `peer` alive (again). */
  trust(peer: string): void {
    this.doubts.delete(peer)
  }

  onLocalSubnet(ip: string): boolean {
    const now = (this.init.now ?? performance.now.bind(performance))()
    if (this.subnets === undefined || now - this.subnets.readAt > SUBNETS_REFRESH_MS) {
      this.subnets = { readAt: now, has: localSubnets((this.init.interfaces ?? networkInterfaces)()) }
    }
    return this.subnets.has(ip)
  }

  private readonly onOpen = (event: CustomEvent<Connection>): void => {
    const connection = event.detail
    if (connection.direction === 'outbound' && relayOf(connection.remoteAddr.toString()) === undefined) this.dialled.add(connection.remotePeer.toString())
  }
}
