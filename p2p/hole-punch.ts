// Hole punching: a direct TCP connection between two hosts behind NAT routers, opened over the
// relayed link they already share.
//
// A NAT router lets in only what answers a connection an inside host opened. When each of two hosts
// connects to the other's router at the same moment, each outgoing SYN opens its own router's
// mapping for the other's address, so the other's SYN is let in as an answer and the two sockets
// meet (TCP simultaneous open). @libp2p/dcutr does this in principle and never in this stack
// (docs/edge.md#hole-punching: dials from ephemeral ports, observed TCP addresses thrown away,
// public addresses only). So, our own:
//
// - The punch port. A listening port cannot also connect out (Node 20 cannot set SO_REUSEPORT), so
//   each host punches from a port nothing listens on, the same for every punch: punchPortOf(its id),
//   above Linux's ephemeral range (32768–60999), so no ordinary outgoing socket holds it, and
//   spread over 4,500 ports, so two hosts behind one router almost never share it.
// - The mapping. Where this host's router maps the punch port: the IP peers outside see this host at
//   (identify's observed address, ReachabilityObserver.publicIp) and the punch port itself — a router
//   that keeps source ports when it can (Linux MASQUERADE, most home and office routers) maps it
//   there. One that rewrites ports (a symmetric NAT, a carrier-grade NAT) makes the punch fail, and
//   the link stays relayed: nothing is lost but the chance.
// - The exchange (PUNCH_PROTOCOL, two requests over the relayed link). The end whose id sorts first
//   offers its mapping; the other answers with its own, or refuses (not behind NAT, no mapping known,
//   behind the same router, a punch to this peer already under way). The first times that round trip, sends "go", waits half
//   of it (about when the go arrives) and dials; the other dials as the go arrives. Each dials the
//   other's mapping from its punch port; the first is the new connection's initiator (Noise
//   initiator, multistream dialer), the other its responder (libp2p's upgrader, `initiator: false`):
//   in a simultaneous open both ends dialled, and the handshake needs one of each.
// - After. The new connection is marked punched (linkTo says so; service traffic still goes through a
//   tunnel, since the peer's own addresses stay unreachable), and the duplicate rule keeps it over the
//   relayed one (duplicate-connections.ts: direct over relayed). When it dies (a WAN cut) libp2p
//   redials the peer's circuit addresses, and a later check punches again.
// - A failure (a router that resets unsolicited SYNs or rewrites ports, a firewall that lets no
//   reply in, or moments that missed each other) is tried again after failedRetryMs, doubling to
//   failedRetryMaxMs. Besides every checkMs, a look comes soonAfterRelayedMs after a relayed
//   connection opens, so two hosts that just met through a relay punch within seconds.

import './polyfill.js'

import type { Connection, Libp2p, Upgrader } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { hash32, messageOf } from '../core/index.js'
import { PUNCH_PROTOCOL } from './protocols.js'
import { RetryBackoff } from './retry-backoff.js'
import { relayedOnly } from './site-mate-links.js'

export const HOLE_PUNCH_DEFAULTS = {
  /** How often relayed-only links are looked for. */
  checkMs: 5_000,
  /** …and this long after a relayed connection opens: the link it makes is punched within seconds of meeting, not at the next look. */
  soonAfterRelayedMs: 1_000,
  /** The first wait after a failed punch; it doubles with each failure in a row. */
  failedRetryMs: 30_000,
  failedRetryMaxMs: 10 * 60_000,
  /** The whole of one punch: the exchange over the relay, then the dial. */
  punchTimeoutMs: 10_000,
  /** One TCP connect and the upgrade after it (the kernel retransmits an unanswered SYN after 1 s, 3 s). */
  dialTimeoutMs: 5_000,
} as const

/** The lowest punch port, above Linux's default ephemeral range (net.ipv4.ip_local_port_range 32768–60999). */
export const PUNCH_PORT_BASE = 61_000
export const PUNCH_PORT_COUNT = 4_500

/** The port a host punches from: fixed by its peer id, so its router's mapping can be foreseen. */
export function punchPortOf(peerId: string): number {
  return PUNCH_PORT_BASE + (hash32(`punch:${peerId}`) % PUNCH_PORT_COUNT)
}

/** A PUNCH_PROTOCOL message's limit, either way (an offer is ≈ 45 bytes). */
export const PUNCH_MESSAGE_LIMIT_BYTES = 256

/** Where a host's router maps its punch port, as the offer and the answer carry it. */
export interface Mapping {
  readonly ip: string
  readonly port: number
}

/** One message of PUNCH_PROTOCOL: an offer or answer of a mapping, or the go. */
export type PunchMessage = { readonly offer: Mapping } | { readonly go: true }

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

/** Reads a PUNCH_PROTOCOL message; throws an error naming what is wrong. */
export function parsePunchMessage(bytes: Uint8Array): PunchMessage {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw new Error('punch message is not JSON')
  }
  const message = value as { offer?: { ip?: unknown; port?: unknown }; go?: unknown }
  if (message.go === true) return { go: true }
  const offer = message.offer
  if (offer === undefined || typeof offer.ip !== 'string' || !IPV4.test(offer.ip)) throw new Error('punch offer needs an IPv4 address in offer.ip')
  if (typeof offer.port !== 'number' || !Number.isInteger(offer.port) || offer.port < 1 || offer.port > 65_535) throw new Error('punch offer needs a port from 1 to 65535 in offer.port')
  return { offer: { ip: offer.ip, port: offer.port } }
}

export const encodePunchMessage = (message: PunchMessage): Uint8Array => new TextEncoder().encode(JSON.stringify(message))

/** The address a punch dials: the peer's mapping, with its id so the upgrade checks who answers. */
export const punchAddress = (mapping: Mapping, peer: string): Multiaddr => multiaddr(`/ip4/${mapping.ip}/tcp/${mapping.port}/p2p/${peer}`)

/** What a punch needs of libp2p's internals: the TCP transport (dialled directly, from the punch port) and the upgrader. */
export interface PunchComponents {
  readonly transportManager: { dialTransportForMultiaddr(address: Multiaddr): { dial(address: Multiaddr, options: never): Promise<Connection> } | undefined }
  readonly upgrader: Upgrader
}

/** A libp2p service that hands out what punchComponents names (libp2p 3 has no public way to dial from a chosen port). */
export function punchComponents() {
  return (components: PunchComponents): PunchComponents => ({ transportManager: components.transportManager, upgrader: components.upgrader })
}

export interface HolePunchInit {
  readonly node: Pick<Libp2p, 'getConnections' | 'addEventListener' | 'removeEventListener'>
  readonly components: PunchComponents
  /** This host's peer id: of two ends, the one that sorts first offers. */
  readonly self: string
  /** This host's router's address as peers outside see it, while it is behind NAT. */
  readonly publicIp: () => string | undefined
  /** One request/response round trip to `peer` on PUNCH_PROTOCOL (over the relayed link). */
  readonly request: (peer: string, body: Uint8Array, signal: AbortSignal) => Promise<Uint8Array>
  readonly log: (line: string) => void
  /** A connection was just marked punched (it opened, and was announced, a moment before). */
  readonly onPunched?: () => void
  readonly tuning?: Partial<HolePunchTuning>
}

export type HolePunchTuning = Record<keyof typeof HOLE_PUNCH_DEFAULTS, number>

/**
 * The upgrader as the responding end of a simultaneous open uses it. `initiator: false` makes the
 * handshakes (multistream-select, Noise) run as the listening side, but the stream muxer takes its
 * role from the raw connection's direction, which the TCP transport sets to `outbound` on every dial:
 * two Yamux clients refuse each other's streams ("both endpoints are clients") and the connection
 * closes at its first stream. So the connection is turned inbound before the upgrade starts.
 */
function asResponder(upgrader: Upgrader): Upgrader {
  return Object.create(upgrader, {
    upgradeOutbound: {
      value: (connection: { direction: string }, options: object) => {
        connection.direction = 'inbound'
        return upgrader.upgradeOutbound(connection as never, { ...options, initiator: false } as never)
      },
    },
  }) as Upgrader
}

/**
 * Two hosts behind one router: a punch would go out to the router's own address and back (hairpin
 * NAT, which few routers do). Hosts of one site link over their LAN, or by their site label
 * (site-mate-links.ts).
 */
const SAME_ROUTER = 'both hosts are behind the same NAT router'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class HolePunch {
  private readonly tuning: HolePunchTuning
  readonly punchPort: number
  /** Connections this host punched (both ends mark theirs). */
  private readonly punched = new WeakSet<Connection>()
  /** Peers a punch is under way with, from either end. */
  private readonly inFlight = new Set<string>()
  private readonly failures: RetryBackoff
  /** The mapping a peer offered and this host answered, until its go. */
  private readonly offered = new Map<string, Mapping>()
  private timer: NodeJS.Timeout | undefined
  private soon: NodeJS.Timeout | undefined
  private stopped = false
  /** Punches that opened a connection, and those that did not, for stats and tests. */
  succeeded = 0
  failed = 0

  constructor(private readonly init: HolePunchInit) {
    this.tuning = { ...HOLE_PUNCH_DEFAULTS, ...init.tuning }
    this.failures = new RetryBackoff(this.tuning.failedRetryMs, this.tuning.failedRetryMaxMs)
    this.punchPort = punchPortOf(init.self)
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.tuning.checkMs)
    this.timer.unref()
    this.init.node.addEventListener('connection:open', this.onOpen)
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
    clearTimeout(this.soon)
    this.timer = undefined
    this.init.node.removeEventListener('connection:open', this.onOpen)
  }

  /** A relayed connection opened: look again shortly, once one look is not already due. */
  private readonly onOpen = (event: CustomEvent<Connection>): void => {
    if (event.detail.limits == null || this.soon !== undefined || this.stopped) return
    this.soon = setTimeout(() => {
      this.soon = undefined
      this.check()
    }, this.tuning.soonAfterRelayedMs)
    this.soon.unref()
  }

  /** Whether `connection` was opened by a punch. */
  isPunched(connection: Connection): boolean {
    return this.punched.has(connection)
  }

  /** Our mapping, while this host is behind NAT and knows its router's address. */
  mapping(): Mapping | undefined {
    const ip = this.init.publicIp()
    return ip === undefined ? undefined : { ip, port: this.punchPort }
  }

  /** Offers a punch to every peer reached only through a relay whose id sorts after ours and whose back-off is over. */
  check(now = performance.now()): void {
    if (this.stopped || this.mapping() === undefined) return
    for (const peer of relayedOnly(this.init.node.getConnections())) {
      if (peer < this.init.self || this.inFlight.has(peer) || !this.failures.due(peer, now)) continue
      void this.punch(peer, now)
    }
  }

  /** The offering end: offer, time the answer, go, wait half the round trip, dial. */
  async punch(peer: string, now = performance.now()): Promise<void> {
    const mine = this.mapping()
    if (mine === undefined || this.inFlight.has(peer)) return
    this.inFlight.add(peer)
    const signal = AbortSignal.timeout(this.tuning.punchTimeoutMs)
    const startedAt = performance.now()
    let theirs: Mapping | undefined
    try {
      const answer = parsePunchMessage(await this.init.request(peer, encodePunchMessage({ offer: mine }), signal))
      if (!('offer' in answer)) throw new Error('the answer to an offer was not a mapping')
      theirs = answer.offer
      if (theirs.ip === mine.ip) throw new Error(SAME_ROUTER)
      const roundTripMs = performance.now() - startedAt
      const go = this.init.request(peer, encodePunchMessage({ go: true }), signal).catch(() => undefined)
      await sleep(roundTripMs / 2)
      await this.dial(peer, theirs, true)
      await go
      this.punchedAfter(peer, performance.now() - startedAt, theirs)
    } catch (error) {
      this.failedNow(peer, now, error, theirs)
    } finally {
      this.inFlight.delete(peer)
    }
  }

  /** The other end's handler of PUNCH_PROTOCOL: answers an offer with our mapping, dials on the go. */
  async answer(peer: string, body: Uint8Array): Promise<Uint8Array> {
    const message = parsePunchMessage(body)
    if ('offer' in message) {
      const mine = this.mapping()
      if (this.stopped) throw new Error('stopping')
      if (mine === undefined) throw new Error('not behind NAT, or its router\'s address is not known yet')
      if (message.offer.ip === mine.ip) throw new Error(SAME_ROUTER)
      if (this.inFlight.has(peer)) throw new Error('a punch with this peer is already under way')
      this.offered.set(peer, message.offer)
      return encodePunchMessage({ offer: mine })
    }
    const theirs = this.offered.get(peer)
    if (theirs === undefined) throw new Error('go without an offer')
    this.offered.delete(peer)
    this.inFlight.add(peer)
    const startedAt = performance.now()
    // Dialled as the go arrives; answered at once, so the other end's wait is not held up by it.
    void this.dial(peer, theirs, false)
      .then(() => this.punchedAfter(peer, performance.now() - startedAt, theirs))
      .catch((error: unknown) => this.failedNow(peer, startedAt, error, theirs))
      .finally(() => this.inFlight.delete(peer))
    return new Uint8Array()
  }

  /** Dials `mapping` from the punch port: `initiator` runs the handshakes as the dialling side, otherwise as the listening one. */
  private async dial(peer: string, mapping: Mapping, initiator: boolean): Promise<Connection> {
    const address = punchAddress(mapping, peer)
    const transport = this.init.components.transportManager.dialTransportForMultiaddr(address)
    if (transport === undefined) throw new Error(`no transport dials ${address.toString()}`)
    // A signal that stops mattering once the dial is done: the connection keeps the dial's signal
    // and is aborted with it, so a timeout signal (AbortSignal.timeout) closed every punched
    // connection dialTimeoutMs after it opened.
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new Error(`no connection within ${this.tuning.dialTimeoutMs} ms`)), this.tuning.dialTimeoutMs)
    const options = { upgrader: initiator ? this.init.components.upgrader : asResponder(this.init.components.upgrader), signal: deadline.signal, localPort: this.punchPort, initiator }
    let connection: Connection
    try {
      connection = await transport.dial(address, options as never)
    } finally {
      clearTimeout(timer)
    }
    if (this.stopped) {
      connection.abort(new Error('stopping'))
      throw new Error('stopping')
    }
    this.punched.add(connection)
    this.init.onPunched?.()
    return connection
  }

  private punchedAfter(peer: string, ms: number, theirs: Mapping): void {
    this.succeeded++
    const failed = this.failures.succeeded(peer)
    this.init.log(`link to ${peer} is direct now, hole punched to ${theirs.ip}:${theirs.port} from port ${this.punchPort} in ${Math.round(ms)} ms${failed > 0 ? ` after ${failed} failed tries` : ''}; its relayed link closes`)
  }

  private failedNow(peer: string, now: number, error: unknown, theirs: Mapping | undefined): void {
    if (this.stopped) return
    this.failed++
    const { count, waitMs } = this.failures.failed(peer, now)
    // Said once: routers that do not allow it keep the link relayed every time.
    if (count === 1) this.init.log(`cannot punch a hole to ${peer}${theirs === undefined ? '' : ` at ${theirs.ip}:${theirs.port}`} (${messageOf(error)}): its link stays relayed, tried again in ${Math.round(waitMs / 1000)} s and less often after`)
  }
}
