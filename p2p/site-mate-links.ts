// Hosts of one site linked through a relay although a route between them exists.
//
// A site of routed subnets (VLANs) behind one NAT router: the rest of the cluster sees its hosts
// behind NAT, and each one's own address is on none of the other's subnets, so the dial order
// (dial-order.ts) takes two of them for hosts of two sites — circuits first, their own addresses
// last — and the first dial, through a relay, succeeds. Every message between the two then crosses
// the site's WAN link twice, and stops when the relay goes. libp2p knows nothing of sites; the
// agent does (each host's `site` label). So for a peer the agent says shares this host's site, and
// that this host reaches only through a relay, this host dials the peer's own announced addresses
// beside the relayed link; once a direct connection is open the duplicate rule keeps it and closes
// the relayed one (duplicate-connections.ts: direct over relayed).
//
// Of the two ends, the one whose peer id sorts first dials at its first check and the other only if
// the link is still relayed two checks later: both at once would each open a connection, and one
// would be closed again. A dial that fails (subnets firewalled from each other) is tried again after
// a back-off doubling from failedRetryMs to failedRetryMaxMs; the relayed link serves meanwhile.

import './polyfill.js'

import type { Connection, Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { messageOf } from '../core/index.js'
import { directlyConnectedPeers } from './dial-order.js'
import { ipOfMultiaddr } from './multiaddr-ip.js'
import { relayOf } from './nat.js'
import { RetryBackoff } from './retry-backoff.js'
import { isTunnelConnection } from './tunnel-links.js'

export const SITE_MATE_DEFAULTS = {
  /** How often relayed links to site-mates are looked for. */
  checkMs: 5_000,
  /** The first wait after a failed direct dial; it doubles with each failure in a row. */
  failedRetryMs: 30_000,
  failedRetryMaxMs: 10 * 60_000,
} as const

export interface SiteMateLinksInit {
  readonly node: Pick<Libp2p, 'getConnections' | 'dial'>
  /** This host's peer id: of the two ends, the one that sorts first dials first. */
  readonly self: string
  /** What each peer last announced as its listen addresses (address-book.ts). */
  readonly addressesOf: (peer: string) => readonly string[]
  readonly dialTimeoutMs: number
  readonly log: (line: string) => void
  readonly tuning?: Partial<typeof SITE_MATE_DEFAULTS>
}

/** `peer`'s own announced addresses (no circuit, no loopback), each ending in its /p2p/ id. */
export function ownAddresses(peer: string, announced: readonly string[]): string[] {
  const own: string[] = []
  for (const address of announced) {
    if (relayOf(address) !== undefined) continue
    const ip = ipOfMultiaddr(address)
    if (ip === undefined || ip.startsWith('127.') || ip === '::1') continue
    const bare = address.replace(/\/p2p\/[^/]+$/, '')
    if (address !== bare && !address.endsWith(`/p2p/${peer}`)) continue
    own.push(`${bare}/p2p/${peer}`)
  }
  return own
}

/** The peers `connections` reach only through a relay (open, not a service tunnel's). */
export function relayedOnly(connections: readonly Connection[]): Set<string> {
  const direct = directlyConnectedPeers(connections)
  const relayed = new Set<string>()
  for (const connection of connections) {
    if (connection.status !== 'open' || isTunnelConnection(connection) || relayOf(connection.remoteAddr.toString()) === undefined) continue
    const peer = connection.remotePeer.toString()
    if (!direct.has(peer)) relayed.add(peer)
  }
  return relayed
}

export class SiteMateLinks {
  private isSiteMate: ((peer: string) => boolean) | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly tuning: typeof SITE_MATE_DEFAULTS
  /** When each relayed site-mate was first seen relayed-only (checks in a row). */
  private readonly relayedSince = new Map<string, number>()
  private readonly inFlight = new Set<string>()
  private readonly failures: RetryBackoff
  /** Relayed links to site-mates that became direct, for stats and tests. */
  upgraded = 0

  constructor(private readonly init: SiteMateLinksInit) {
    this.tuning = { ...SITE_MATE_DEFAULTS, ...init.tuning }
    this.failures = new RetryBackoff(this.tuning.failedRetryMs, this.tuning.failedRetryMaxMs)
  }

  /**
   * Which peers share this host's site (none while this host has no site): checks start with the
   * first predicate, every checkMs, and cost a pass over the connections when none is relayed;
   * undefined stops them.
   */
  siteMates(isSiteMate: ((peer: string) => boolean) | undefined): void {
    this.isSiteMate = isSiteMate
    if (isSiteMate === undefined || this.stopped) {
      clearInterval(this.timer)
      this.timer = undefined
      return
    }
    this.timer ??= setInterval(() => this.check(), this.tuning.checkMs)
    this.timer.unref?.()
    this.check()
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Dials, beside their relayed link, the site-mates reached only through a relay whose turn it is. */
  check(now = performance.now()): void {
    const isSiteMate = this.isSiteMate
    if (this.stopped || isSiteMate === undefined) return
    const relayed = relayedOnly(this.init.node.getConnections())
    for (const peer of this.relayedSince.keys()) if (!relayed.has(peer)) this.relayedSince.delete(peer)
    for (const peer of relayed) {
      if (this.inFlight.has(peer) || !isSiteMate(peer)) continue
      const since = this.relayedSince.get(peer) ?? now
      this.relayedSince.set(peer, since)
      if (this.init.self > peer && now - since < 2 * this.tuning.checkMs) continue
      if (!this.failures.due(peer, now)) continue
      const addresses = ownAddresses(peer, this.init.addressesOf(peer))
      if (addresses.length > 0) this.dial(peer, addresses, now)
    }
  }

  /** Dials `peer` at `addresses`; `now` is the check's time, from which a failure's back-off counts. */
  private dial(peer: string, addresses: readonly string[], now: number): void {
    this.inFlight.add(peer)
    const startedAt = performance.now()
    this.init.node
      // Explicit own addresses: libp2p opens a direct connection beside an open relayed one only
      // when the addresses it is given would make one.
      .dial(addresses.map((address) => multiaddr(address)), { signal: AbortSignal.timeout(this.init.dialTimeoutMs) })
      .then((connection) => {
        if (relayOf(connection.remoteAddr.toString()) !== undefined) throw new Error('libp2p handed back the relayed connection')
        this.upgraded++
        const failed = this.failures.succeeded(peer)
        this.relayedSince.delete(peer)
        this.init.log(`link to ${peer} (same site) is direct now, at ${connection.remoteAddr.toString()}, after ${Math.round(performance.now() - startedAt)} ms${failed > 0 ? ` and ${failed} failed tries` : ''}; its relayed link closes`)
      })
      .catch((error: unknown) => {
        if (this.stopped) return
        const { count: failed, waitMs } = this.failures.failed(peer, now)
        // Said once: a site whose subnets cannot reach each other keeps its links relayed, every time.
        if (failed === 1) this.init.log(`cannot reach ${peer} of this site directly (${messageOf(error)}; tried ${addresses.join(', ')}): its link stays relayed, tried again in ${Math.round(waitMs / 1000)} s and less often after`)
      })
      .finally(() => this.inFlight.delete(peer))
  }
}
