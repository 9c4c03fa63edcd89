// SWIM's pings and acks by UDP datagram between peers that have a direct connection, as memberlist
// sends its probes by UDP beside TCP for the rest. Why: in an idle cluster the probes are nearly all
// the traffic, and each one over the connection runs libp2p's whole stack at both ends (the stream
// plumbing, Yamux, Noise, the private network's cipher) from cold caches — about 620 µs of CPU per
// message when messages come 2 ms apart, where a sealed datagram costs under 100 µs. That stack was
// most of an idle agent's CPU (BENCHMARKS.md, "Probes by datagram").
//
// Safety is the stream's, kept per pair: the two peers exchange keys over their connection (Noise
// authenticates it, the swarm key guards it), one key per direction (datagram-seal.ts), so only that
// peer can seal a datagram we open as its own, and a replayed one is refused. Nothing else changes
// for the protocol: the same messages, encoded by the same codec, handed to the machine the same way.
//
// A datagram may be lost where the stream would have retransmitted, so a ping sent by datagram that
// no answer follows within `fallbackMs` is sent again over the stream, and a pair whose datagrams stop
// going through falls back to the stream altogether (datagram-links.ts) — a host where UDP is
// filtered, a NAT that maps only the connection's TCP, a peer only reached through a relay (no
// datagrams are tried there at all). An ack goes back the way its ping came.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIPv4 } from 'node:net'
import type { Message, PeerId } from '../core/index.js'
import { DatagramLinks, type DatagramOffer } from './datagram-links.js'
import { DatagramType, keyIdOf, KEY_BYTES, KEY_ID_BYTES } from './datagram-seal.js'

export const DATAGRAM_DEFAULTS = {
  /**
   * A ping by datagram unanswered this long is sent again over the stream. Under the LAN probe
   * timeout (200 ms), so a lost datagram costs a probe no helpers; above a loaded host's usual
   * answer (ten agents on two cores answer within tens of ms), so it rarely sends twice.
   */
  fallbackMs: 100,
  /** Misses in a row after which a pair uses the stream only, until a datagram from the peer arrives. */
  missLimit: 3,
  /** How often a pair out of datagram use is tried again with a hello. */
  helloIntervalMs: 5_000,
  /**
   * The largest message sent by datagram (encoded); larger ones go by stream. Under the 1,280 bytes
   * every IPv6 link carries and most paths' MTU, less the UDP, IP and seal overhead: no fragments.
   */
  maxDatagramBytes: 1_150,
  /**
   * How long after this peer first has a probe for a peer (since connecting, or since the pair's
   * connections last closed) the keys are exchanged. Meanwhile probes go over the connection: a
   * heal or a cluster's start already makes every pair connect and exchange digests at once, and on
   * a loaded host one more request per pair then would only add to that burst.
   */
  exchangeDelayMs: 5_000,
  /**
   * Between key exchanges with one peer whose path is out of use or whose exchange failed (an older
   * peer, one gone): the stream only meanwhile.
   */
  exchangeBackoffMs: 30_000,
}

export type DatagramTuning = { -readonly [K in keyof typeof DATAGRAM_DEFAULTS]: number }

/** What the datagram path needs from the transport and host around it. */
export interface DatagramHost {
  readonly self: string
  /** The IP a connected peer is reached at over a direct (not relayed) connection, or undefined. */
  directAddressOf(peer: string): string | undefined
  /** One key exchange with `peer`: sends our offer, resolves with its answer (empty: it declined). */
  exchange(peer: string, offer: Uint8Array): Promise<Uint8Array>
  /** Sends `message` to `peer` over the stream (a fallback). */
  sendByStream(peer: string, message: Message): void
  /** A datagram from `peer` carried these message bytes. */
  received(peer: PeerId, bytes: Uint8Array): void
  /** An authentic datagram came from `peer` (its connections need no keep-alive ping for a while). */
  heard(peer: string): void
}

export interface DatagramStats {
  /** Messages sent and received by datagram, hellos apart. */
  datagramsSent: number
  datagramsReceived: number
  /** Pings sent again over the stream, their datagram unanswered. */
  datagramFallbacks: number
  /** Packets that did not open (unknown key, forged, altered, replayed, not ours). */
  datagramsRefused: number
  /** Peers whose messages go by datagram now. */
  datagramPeers: number
}

/** The figures of a transport without datagrams. */
export const NO_DATAGRAM_STATS: DatagramStats = { datagramsSent: 0, datagramsReceived: 0, datagramFallbacks: 0, datagramsRefused: 0, datagramPeers: 0 }

/** Pings by datagram awaiting their answer, by `peer seq`. */
interface Pending {
  readonly timer: NodeJS.Timeout
}

export class Datagrams {
  private readonly tuning: DatagramTuning
  private readonly links: DatagramLinks
  private socket: Socket | undefined
  private port = 0
  private readonly pending = new Map<string, Pending>()
  /** Seqs of the last pings each peer sent us by datagram: their acks go back by datagram. */
  private readonly pingsByDatagram = new Map<string, number[]>()
  private readonly exchanging = new Set<string>()
  /** When this peer first had a probe for each peer that could have gone by datagram. */
  private readonly firstWantedAt = new Map<string, number>()
  /** When the last key exchange with each peer began. */
  private readonly exchangedAt = new Map<string, number>()
  private readonly helloAnsweredAt = new Map<string, number>()
  private readonly counters = { datagramsSent: 0, datagramsReceived: 0, datagramFallbacks: 0, datagramsRefused: 0 }

  constructor(
    private readonly host: DatagramHost,
    tuning: Partial<DatagramTuning> = {},
  ) {
    this.tuning = { ...DATAGRAM_DEFAULTS, ...tuning }
    this.links = new DatagramLinks({ missLimit: this.tuning.missLimit, helloIntervalMs: this.tuning.helloIntervalMs })
  }

  /**
   * Binds the socket at `ip`:`port` (the TCP listener's, so one firewall rule serves both), or at
   * another port of `ip` when that one is taken; the port is told to each peer in the exchange.
   */
  async start(ip: string, port: number): Promise<void> {
    const bind = (at: number): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = createSocket({ type: 'udp4' })
        socket.once('error', reject)
        socket.bind(at, ip, () => {
          socket.off('error', reject)
          resolve(socket)
        })
      })
    let socket: Socket
    try {
      socket = await bind(port)
    } catch {
      socket = await bind(0)
    }
    socket.on('message', (packet, from) => this.receive(packet, from))
    // A send to a host that is gone comes back as an ICMP error on some systems: not a reason to stop.
    socket.on('error', () => undefined)
    socket.unref()
    this.socket = socket
    this.port = socket.address().port
  }

  stop(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer)
    this.pending.clear()
    this.socket?.close()
    this.socket = undefined
  }

  stats(): DatagramStats {
    return { ...this.counters, datagramPeers: this.links.inUse() }
  }

  /** The peer's connections all closed: both directions' keys go (it may come back as a new process). */
  forget(peer: string): void {
    this.links.forget(peer)
    this.pingsByDatagram.delete(peer)
    this.exchangedAt.delete(peer)
    this.firstWantedAt.delete(peer)
    this.helloAnsweredAt.delete(peer)
  }

  /**
   * Sends `message` (encoded as `bytes`) to `to` by datagram when the pair's path is in use and the
   * message is a probe's; returns whether it did. Otherwise the caller sends it by stream.
   */
  trySend(to: string, message: Message, bytes: Uint8Array): boolean {
    if (this.socket === undefined || bytes.length > this.tuning.maxDatagramBytes) return false
    if (message.kind === 'ping') {
      if (!this.links.usable(to)) {
        this.prepare(to)
        return false
      }
      if (!this.sendPacket(to, DatagramType.Message, bytes)) return false
      this.awaitAnswer(to, message)
      return true
    }
    if (message.kind === 'ack') {
      // Back the way the ping came: a ping that came by stream may mean datagrams do not reach it.
      const seqs = this.pingsByDatagram.get(to)
      if (seqs === undefined || !seqs.includes(message.seq)) return false
      return this.sendPacket(to, DatagramType.Message, bytes)
    }
    return false
  }

  /** Every direct message received, by whichever path: answers end the wait for them. */
  noteReceived(from: string, message: Message, byDatagram: boolean): void {
    if (message.kind === 'ack' && message.target === undefined) {
      const key = pendingKey(from, message.seq)
      const pending = this.pending.get(key)
      if (pending !== undefined) {
        clearTimeout(pending.timer)
        this.pending.delete(key)
      }
    }
    if (message.kind === 'ping' && byDatagram) {
      const seqs = this.pingsByDatagram.get(from) ?? []
      seqs.push(message.seq)
      if (seqs.length > 8) seqs.shift()
      this.pingsByDatagram.set(from, seqs)
    } else if (message.kind === 'ping') {
      // The same ping again by stream is the sender's fallback: our ack by datagram did not reach it,
      // so this one is answered over the connection.
      const seqs = this.pingsByDatagram.get(from)
      const at = seqs?.indexOf(message.seq) ?? -1
      if (at >= 0) seqs!.splice(at, 1)
    }
  }

  /** Serves a peer's exchange: takes its offer, answers with ours (empty when no direct path). */
  answerExchange(from: string, request: Uint8Array): Uint8Array {
    const offer = decodeOffer(request)
    const ip = this.host.directAddressOf(from)
    if (offer === undefined || ip === undefined || this.socket === undefined || !isIPv4(ip)) return new Uint8Array(0)
    this.links.accept(from, offer, ip)
    return encodeOffer(this.links.offerTo(from, this.port))
  }

  /**
   * Keys for `to` when there are none yet; for a path out of use, a hello when one is due and keys
   * anew every exchangeBackoffMs (the peer may hold keys of ours that we no longer have).
   */
  private prepare(to: string): void {
    const now = performance.now()
    const wanted = this.firstWantedAt.get(to) ?? now
    this.firstWantedAt.set(to, wanted)
    if (now - wanted < this.tuning.exchangeDelayMs) return
    const sinceExchange = now - (this.exchangedAt.get(to) ?? -Infinity)
    if (sinceExchange >= this.tuning.exchangeBackoffMs) {
      void this.exchangeWith(to)
      return
    }
    if (this.links.helloDue(to, now)) this.sendPacket(to, DatagramType.Hello, new Uint8Array(0))
  }

  private async exchangeWith(peer: string): Promise<void> {
    if (this.exchanging.has(peer)) return
    const ip = this.host.directAddressOf(peer)
    if (ip === undefined || !isIPv4(ip)) return
    this.exchanging.add(peer)
    this.exchangedAt.set(peer, performance.now())
    try {
      const answer = decodeOffer(await this.host.exchange(peer, encodeOffer(this.links.offerTo(peer, this.port))))
      if (answer === undefined) return
      this.links.accept(peer, answer, ip)
      // The first datagram of the pair: it proves the path, and a NAT in front of us maps it.
      this.sendPacket(peer, DatagramType.Hello, new Uint8Array(0))
    } catch {
      // An older peer, or one gone: the stream it is, until the backoff passes.
    } finally {
      this.exchanging.delete(peer)
    }
  }

  private sendPacket(to: string, type: DatagramType, body: Uint8Array): boolean {
    const sealed = this.links.seal(to, type, body)
    if (sealed === undefined || this.socket === undefined) return false
    this.socket.send(sealed.packet, sealed.address.port, sealed.address.ip)
    if (type === DatagramType.Message) this.counters.datagramsSent++
    return true
  }

  private awaitAnswer(to: string, ping: Extract<Message, { kind: 'ping' }>): void {
    const key = pendingKey(to, ping.seq)
    const timer = setTimeout(() => {
      this.pending.delete(key)
      this.counters.datagramFallbacks++
      this.links.missed(to)
      this.host.sendByStream(to, ping)
    }, this.tuning.fallbackMs)
    timer.unref()
    const earlier = this.pending.get(key)
    if (earlier !== undefined) clearTimeout(earlier.timer)
    this.pending.set(key, { timer })
  }

  private receive(packet: Buffer, from: RemoteInfo): void {
    const keyId = keyIdOf(packet)
    const opened = keyId === undefined ? undefined : this.links.open(packet, { ip: from.address, port: from.port }, keyId, performance.now())
    if (opened === undefined) {
      this.counters.datagramsRefused++
      return
    }
    this.host.heard(opened.peer)
    if (opened.type === DatagramType.Hello) {
      // Answered once per interval, so both ends learn the path works (and where the other is).
      const now = performance.now()
      if (now - (this.helloAnsweredAt.get(opened.peer) ?? -Infinity) >= this.tuning.helloIntervalMs) {
        this.helloAnsweredAt.set(opened.peer, now)
        this.sendPacket(opened.peer, DatagramType.Hello, new Uint8Array(0))
      }
      return
    }
    this.counters.datagramsReceived++
    this.host.received(opened.peer as PeerId, opened.body)
  }
}

function pendingKey(peer: string, seq: number): string {
  return `${peer} ${seq}`
}

/** An offer on the wire: the port (2 bytes, big-endian), the key id, the key. */
const OFFER_BYTES = 2 + KEY_ID_BYTES + KEY_BYTES

export function encodeOffer(offer: DatagramOffer): Uint8Array {
  const bytes = Buffer.alloc(OFFER_BYTES)
  bytes.writeUInt16BE(offer.port, 0)
  bytes.set(offer.keyId, 2)
  bytes.set(offer.key, 2 + KEY_ID_BYTES)
  return bytes
}

export function decodeOffer(bytes: Uint8Array): DatagramOffer | undefined {
  if (bytes.length !== OFFER_BYTES) return undefined
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const port = buffer.readUInt16BE(0)
  if (port === 0) return undefined
  return { port, keyId: Uint8Array.from(buffer.subarray(2, 2 + KEY_ID_BYTES)), key: Uint8Array.from(buffer.subarray(2 + KEY_ID_BYTES)) }
}

/** The IPv4 address and port of this host's first TCP listen address, where datagrams bind. */
export function datagramBinding(listen: readonly string[], actual: readonly string[]): { ip: string; port: number } | undefined {
  for (const address of listen) {
    const match = /^\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(address)
    if (match === null) continue
    const ip = match[1]!
    let port = Number(match[2])
    if (port === 0) {
      // Port 0 picked a free port: the one the listener got, as the host's addresses say.
      const bound = actual.map((a) => /^\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(a)).find((m): m is RegExpExecArray => m !== null && (ip === '0.0.0.0' || m[1] === ip))
      if (bound === undefined) continue
      port = Number(bound[2])
    }
    return { ip, port }
  }
  return undefined
}
