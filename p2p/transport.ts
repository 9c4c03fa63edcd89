// The machine's network: its `broadcast` outputs go out on a gossipsub topic, its `send` outputs over
// a direct stream, and what arrives is decoded once, here, and handed on only when decodeMessage
// accepted it. Invalid gossip is rejected in the topic validator (gossipsub then neither delivers nor
// forwards it, and lowers the forwarder's score); an invalid direct frame resets its stream. Both are
// counted, and reported to onInvalid listeners with the sender and the codec's reason.
//
// Direct messages to one peer share one long-lived stream, written in order (SWIM's ping → ack →
// ping-req sequencing is then preserved per peer). Opening a stream per message costs a protocol
// negotiation round trip each time; bench/p2p-latency.ts measures both (`directStreams`).
//
// Gossip from a peer of a newer protocol (a kind this one does not know) is ignored, not rejected:
// the codec's compatibility rules make that "newer peer", not "bad peer".

import './polyfill.js'

import { setTimeout as delay } from 'node:timers/promises'
import { TopicValidatorResult, type Message as GossipMessage } from '@libp2p/gossipsub'
import type { Connection, Stream, PeerId as Libp2pPeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeMessage, encodeMessage, validateMessage, type DecodeError, type Message, type PeerId } from '../core/index.js'
import { TRANSPORT_DEFAULTS } from './config.js'
import { FrameError, readFrames, writeFrame } from './frames.js'
import type { Host } from './host.js'
import { DATAGRAM_KEY_PROTOCOL, DIRECT_PROTOCOL, PROTOCOL_TOPIC } from './protocols.js'
import { datagramBinding, Datagrams, NO_DATAGRAM_STATS, type DatagramStats, type DatagramTuning } from './datagrams.js'
import { RequestError, sendRequest, serveRequest, type RequestHandler, type RequestLimits } from './request.js'
import { messageOf } from '../core/index.js'
import { FailureLog } from './failure-log.js'
import { openStream } from './open-stream.js'

export type TransportTuning = { -readonly [K in keyof typeof TRANSPORT_DEFAULTS]: number }

export interface P2pTransportInit {
  /** 'reuse' (default): one stream per peer for all direct messages. 'per-message': a new stream each time. */
  readonly directStreams?: 'reuse' | 'per-message'
  readonly tuning?: Partial<TransportTuning>
  /** Where undeliverable direct messages are reported, one rate-limited line per peer (FailureLog). */
  readonly log?: (line: string) => void
  /**
   * Probes (pings and acks) by UDP datagram to peers with a direct connection (p2p/datagrams.ts):
   * on by default, with its tuning; false keeps every direct message on the stream.
   */
  readonly datagrams?: boolean | Partial<DatagramTuning>
}

/** Why a message from the network was not handed to the machine. */
export interface InvalidMessage {
  readonly channel: 'gossip' | 'direct'
  /** The author (gossip: the signer; direct: the authenticated remote). */
  readonly from: PeerId
  readonly error: DecodeError
}

export type TransportErrorCode =
  | 'invalid'
  | 'too-large'
  | 'bad-peer-id'
  | 'self'
  | 'stopped'
  | 'queue-full'
  | 'dial-failed'
  | 'write-failed'
  | 'publish-failed'

export interface TransportError {
  readonly code: TransportErrorCode
  readonly message: string
}

export type SendResult = { ok: true } | { ok: false; error: TransportError }
export type BroadcastResult = { ok: true; recipients: number } | { ok: false; error: TransportError }

export interface TransportStats extends DatagramStats {
  /** Broadcasts published, and refused before publishing (invalid or too large). */
  published: number
  /** published by message kind (member, advert, …). */
  publishedByKind: Record<string, number>
  broadcastRefused: number
  /** Gossip handed to onMessage; gossip rejected by the validator; gossip of an unknown (newer) kind, ignored. */
  delivered: number
  /** delivered by message kind: with publishedByKind, what gossip costs this peer. */
  deliveredByKind: Record<string, number>
  rejected: number
  newer: number
  /** Direct messages written (by stream or datagram); refused, dropped (queue full) or failed to write. */
  directSent: number
  /** directSent by message kind (ping, ack, digest, bid, …): which part of the protocol the traffic is. */
  directSentByKind: Record<string, number>
  directFailed: number
  /** Direct messages handed to onMessage; invalid direct frames (each resets its stream). */
  directReceived: number
  directInvalid: number
  /** Message bytes (as encoded, without libp2p framing): broadcast, sent direct, gossip accepted, direct received. */
  bytesPublished: number
  bytesSent: number
  bytesDelivered: number
  bytesReceived: number
  /** Requests answered by a handler here; requests here that failed (bad input, handler error, timeout). */
  requestsServed: number
  requestsFailed: number
  /**
   * onMessage and onInvalid listeners that threw. Each throw is caught here: on the gossip path it
   * would otherwise escape gossipsub's event dispatch as an uncaught exception and end the process.
   */
  listenerErrors: number
}

type MessageListener = (from: PeerId, message: Message) => void
type InvalidListener = (event: InvalidMessage) => void

/** The outgoing side of one peer: its cached stream and the chain that orders writes to it. */
interface Outbound {
  readonly remote: Libp2pPeerId
  /** When the pending dial (`dialing`) began (performance.now()). */
  dialingSinceMs: number
  stream: Stream | undefined
  tail: Promise<void>
  queuedBytes: number
  /** When the last dial to this peer failed (performance.now()), or -Infinity. */
  dialFailedAtMs: number
  /** Aborts the dial this channel waits on when a connection to the peer opens meanwhile. */
  dialing: AbortController | undefined
}

/** Why a pending dial was abandoned: the peer is connected now (see onConnectionOpen). */
class ConnectedMeanwhile extends Error {}

export class P2pTransport {
  private readonly tuning: TransportTuning
  private readonly reuse: boolean
  private readonly self: string
  /** Peers a connection to was opened, or a dial begun: past first contact (bounded by the cluster's members). */
  private readonly contacted = new Set<string>()
  /** First-contact waits in progress, ended early when the peer's connection opens. */
  private readonly awaitingContact = new Map<string, AbortController>()
  private readonly counters: Omit<TransportStats, keyof DatagramStats> = {
    published: 0,
    publishedByKind: {},
    broadcastRefused: 0,
    delivered: 0,
    deliveredByKind: {},
    rejected: 0,
    newer: 0,
    directSent: 0,
    directSentByKind: {},
    directFailed: 0,
    directReceived: 0,
    directInvalid: 0,
    bytesPublished: 0,
    bytesSent: 0,
    bytesDelivered: 0,
    bytesReceived: 0,
    requestsServed: 0,
    requestsFailed: 0,
    listenerErrors: 0,
  }
  private readonly messageListeners = new Set<MessageListener>()
  private readonly invalidListeners = new Set<InvalidListener>()
  /** Gossip decoded in the validator, picked up by the message event (gossipsub passes the same object to both). */
  private readonly decodedGossip = new WeakMap<GossipMessage, Message>()
  private readonly outbound = new Map<string, Outbound>()
  private readonly inbound = new Set<Stream>()
  private readonly handled = new Set<string>()
  private started = false
  private stopped = false
  private readonly failureLog: FailureLog
  private readonly datagrams: Datagrams | undefined

  constructor(
    private readonly host: Host,
    init: P2pTransportInit = {},
  ) {
    this.tuning = { ...TRANSPORT_DEFAULTS, ...init.tuning }
    this.reuse = (init.directStreams ?? 'reuse') === 'reuse'
    this.failureLog = new FailureLog(init.log ?? (() => undefined), this.tuning.failureLogIntervalMs)
    this.self = host.peerId
    const datagrams = init.datagrams ?? true
    this.datagrams = datagrams === false ? undefined : new Datagrams({
      self: this.self,
      directAddressOf: (peer) => (this.host.linkTo(peer)?.kind === 'direct' ? this.host.peerAddress(peer) : undefined),
      exchange: (peer, offer) => this.request(peer, DATAGRAM_KEY_PROTOCOL, offer, { timeoutMs: this.tuning.openTimeoutMs }),
      sendByStream: (peer, message) => void this.sendEncoded(peer, message, encodeMessage(message), false),
      received: (peer, bytes) => this.receiveDatagram(peer, bytes),
      heard: (peer) => this.host.heardByDatagram(peer),
    }, datagrams === true ? {} : datagrams)
  }

  /** Registers the direct protocol, the topic validator and the subscription. Call once, before use. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    await this.host.node.handle(DIRECT_PROTOCOL, (stream, connection) => this.receiveDirect(stream, connection), {
      maxInboundStreams: this.tuning.maxInboundDirectStreams,
      maxOutboundStreams: this.tuning.maxOutboundDirectStreams,
      // Peers behind NAT may be connected only through a relay (a "limited" connection, p2p/nat.ts).
      runOnLimitedConnection: true,
    })
    this.handled.add(DIRECT_PROTOCOL)
    // The validator must be in place before the subscription, or early messages pass unchecked.
    this.host.pubsub.topicValidators.set(PROTOCOL_TOPIC, this.validateGossip)
    this.host.pubsub.addEventListener('message', this.receiveGossip)
    this.host.pubsub.subscribe(PROTOCOL_TOPIC)
    this.host.node.addEventListener('connection:open', this.onConnectionOpen)
    if (this.datagrams !== undefined) {
      const datagrams = this.datagrams
      await this.handle(DATAGRAM_KEY_PROTOCOL, (from, offer) => datagrams.answerExchange(from, offer), { maxRequestBytes: 64, maxResponseBytes: 64 })
      this.host.node.addEventListener('peer:disconnect', this.onPeerDisconnect)
      const binding = datagramBinding(this.host.listenAddresses, this.host.addresses())
      // No IPv4 listen address: every direct message stays on the stream.
      if (binding !== undefined) await datagrams.start(binding.ip, binding.port)
    }
  }

  /** Detaches from the host (which the caller stops). Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.host.pubsub.removeEventListener('message', this.receiveGossip)
    this.host.node.removeEventListener('connection:open', this.onConnectionOpen)
    this.host.node.removeEventListener('peer:disconnect', this.onPeerDisconnect)
    this.datagrams?.stop()
    try {
      this.host.pubsub.unsubscribe(PROTOCOL_TOPIC)
    } catch {
      // The host may already be stopped.
    }
    this.host.pubsub.topicValidators.delete(PROTOCOL_TOPIC)
    const protocols = [...this.handled]
    this.handled.clear()
    await this.host.node.unhandle(protocols).catch(() => undefined)
    const closing = new Error('transport stopped')
    for (const out of this.outbound.values()) out.stream?.abort(closing)
    this.outbound.clear()
    for (const stream of this.inbound) stream.abort(closing)
    this.inbound.clear()
  }

  /**
   * Calls `listener` with every message that decodeMessage accepted, gossip and direct. A listener
   * that throws is counted (stats().listenerErrors) and skipped for that message. Returns an
   * unsubscribe function.
   */
  onMessage(listener: MessageListener): () => void {
    this.messageListeners.add(listener)
    return () => this.messageListeners.delete(listener)
  }

  /** Calls `listener` for every rejected gossip message and invalid direct frame (for logs). */
  onInvalid(listener: InvalidListener): () => void {
    this.invalidListeners.add(listener)
    return () => this.invalidListeners.delete(listener)
  }

  /** Connected peers, each once, sorted. */
  peers(): PeerId[] {
    return this.host.peers() as PeerId[]
  }

  /** Peers known to be subscribed to the protocol topic (a broadcast now reaches these). */
  gossipPeers(): PeerId[] {
    return this.host.pubsub
      .getSubscribers(PROTOCOL_TOPIC)
      .map((peer) => peer.toString() as PeerId)
      .sort()
  }

  stats(): TransportStats {
    return {
      ...this.counters,
      ...(this.datagrams?.stats() ?? NO_DATAGRAM_STATS),
      directSentByKind: { ...this.counters.directSentByKind },
      publishedByKind: { ...this.counters.publishedByKind },
      deliveredByKind: { ...this.counters.deliveredByKind },
    }
  }

  /**
   * Publishes a message to every peer. Checked with validateMessage first (peers must not send what
   * others reject: our own publishes skip our validator) and against the gossip size limit.
   */
  async broadcast(message: Message): Promise<BroadcastResult> {
    if (this.stopped) return this.refuse('stopped', 'the transport is stopped')
    const checked = validateMessage(message)
    if (!checked.ok) return this.refuse('invalid', `not broadcast: ${describe(checked.error)}`)
    const bytes = encodeMessage(message)
    if (bytes.length > this.tuning.maxGossipBytes) {
      return this.refuse('too-large', `a ${message.kind} of ${bytes.length} bytes is over the gossip limit of ${this.tuning.maxGossipBytes}; send it directly`)
    }
    try {
      const result = await this.host.pubsub.publish(PROTOCOL_TOPIC, bytes)
      this.counters.published++
      countKind(this.counters.publishedByKind, message.kind)
      this.counters.bytesPublished += bytes.length
      return { ok: true, recipients: result.recipients.length }
    } catch (error) {
      return this.refuse('publish-failed', `gossipsub refused the message: ${messageOf(error)}`)
    }
  }

  /**
   * Sends a message to one peer over the direct protocol, dialling it when not connected — or, for
   * a probe to a peer with a datagram path, by datagram. Resolves when the frame is handed to the
   * connection or the socket (not when it is read); never rejects.
   */
  send(to: PeerId | string, message: Message): Promise<SendResult> {
    return this.sendEncoded(to, message, undefined, true)
  }

  private async sendEncoded(to: PeerId | string, message: Message, encoded: Uint8Array | undefined, byDatagram: boolean): Promise<SendResult> {
    const refused = (code: TransportErrorCode, text: string): SendResult => {
      this.counters.directFailed++
      if (code !== 'stopped' && code !== 'self') this.failureLog.failed(String(to), text)
      return { ok: false, error: { code, message: text } }
    }
    if (this.stopped) return refused('stopped', 'the transport is stopped')
    if (to === this.self) return refused('self', 'cannot send a direct message to this peer itself')
    if (encoded === undefined) {
      const checked = validateMessage(message)
      if (!checked.ok) return refused('invalid', `not sent: ${describe(checked.error)}`)
    }
    const bytes = encoded ?? encodeMessage(message)
    if (bytes.length > this.tuning.maxDirectFrameBytes) return refused('too-large', `${bytes.length} bytes is over the frame limit of ${this.tuning.maxDirectFrameBytes}`)
    if (byDatagram && this.datagrams?.trySend(to, message, bytes) === true) {
      this.sent(message, bytes)
      return { ok: true }
    }
    let out = this.outbound.get(to)
    if (out === undefined) {
      // The id is parsed once per peer (a multihash and a public key decoded), not once per message.
      let remote: Libp2pPeerId
      try {
        remote = peerIdFromString(to)
      } catch {
        return refused('bad-peer-id', `${JSON.stringify(to)} is not a libp2p peer id`)
      }
      out = { remote, dialingSinceMs: 0, stream: undefined, tail: Promise.resolve(), queuedBytes: 0, dialFailedAtMs: -Infinity, dialing: undefined }
      this.outbound.set(to, out)
    }
    const remote = out.remote
    if (out.queuedBytes + bytes.length > this.tuning.maxQueuedBytesPerPeer) {
      return refused('queue-full', `${out.queuedBytes} bytes already queued for ${to}; message dropped`)
    }
    const channel = out
    channel.queuedBytes += bytes.length
    // Writes to one peer run one after another, in call order.
    const written = channel.tail.then(() => this.writeDirect(channel, remote, bytes))
    channel.tail = written.then(
      () => undefined,
      () => undefined,
    )
    try {
      await written
      this.sent(message, bytes)
      this.failureLog.delivered(to)
      return { ok: true }
    } catch (error) {
      if (error instanceof SendFailure) return refused(error.code, error.message)
      return refused('write-failed', `writing to ${to} failed: ${messageOf(error)}`)
    } finally {
      channel.queuedBytes -= bytes.length
    }
  }

  private sent(message: Message, bytes: Uint8Array): void {
    this.counters.directSent++
    countKind(this.counters.directSentByKind, message.kind)
    this.counters.bytesSent += bytes.length
  }

  /**
   * One request/response round trip on `protocol` (which `to` serves with handle()). Rejects with a
   * RequestError (code: timeout, unsupported, dial-failed, remote-error, …).
   */
  async request(to: PeerId | string, protocol: string, body: Uint8Array, options: Partial<RequestLimits> & { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    if (this.stopped) throw new RequestError('stopped', 'the transport is stopped')
    // A request dials too (a desired-state sync is often the first word to a peer just met).
    const remote = this.outbound.get(to)?.remote ?? (to !== this.self ? tryPeerId(to) : undefined)
    if (remote !== undefined) await this.firstContact(remote)
    return sendRequest(this.host.node, to, protocol, body, { ...this.requestLimits(options), openTimeoutMs: this.tuning.openTimeoutMs }, options.signal)
  }

  /** Serves `protocol`: each request is read (bounded), passed to `handler`, and its answer written back. */
  async handle(protocol: string, handler: RequestHandler, options: Partial<RequestLimits> = {}): Promise<void> {
    if (this.stopped) throw new Error('the transport is stopped')
    const limits = this.requestLimits(options)
    const counters = {
      served: () => void this.counters.requestsServed++,
      failed: () => void this.counters.requestsFailed++,
    }
    await this.host.node.handle(protocol, (stream, connection) => serveRequest(stream, connection, handler, limits, counters), { runOnLimitedConnection: true })
    this.handled.add(protocol)
  }

  // --- direct ------------------------------------------------------------------------------------

  private async writeDirect(out: Outbound, remote: Libp2pPeerId, bytes: Uint8Array): Promise<void> {
    if (this.stopped) throw new SendFailure('stopped', 'the transport is stopped')
    const cached = this.reuse ? usable(out.stream) : undefined
    const stream = cached ?? (await this.openDirect(out, remote))
    try {
      await writeFrame(stream, bytes, () => AbortSignal.timeout(this.tuning.writeTimeoutMs))
    } catch (error) {
      stream.abort(asError(error))
      if (out.stream === stream) out.stream = undefined
      // A cached stream may have died since its last use (the peer restarted): one fresh try.
      if (cached === undefined) throw new SendFailure('write-failed', `writing to ${remote.toString()} failed: ${messageOf(error)}`)
      const fresh = await this.openDirect(out, remote)
      try {
        await writeFrame(fresh, bytes, () => AbortSignal.timeout(this.tuning.writeTimeoutMs))
      } catch (retryError) {
        fresh.abort(asError(retryError))
        if (out.stream === fresh) out.stream = undefined
        throw new SendFailure('write-failed', `writing to ${remote.toString()} failed: ${messageOf(retryError)}`)
      }
      if (!this.reuse) await closeQuietly(fresh)
      return
    }
    if (!this.reuse) await closeQuietly(stream)
  }

  /**
   * At first contact with `remote` (no connection ever opened to it, no dial made), the larger id
   * waits up to firstContactWaitMs for the other side's connection before dialling (p2p/config.ts).
   */
  private async firstContact(remote: Libp2pPeerId): Promise<void> {
    const peer = remote.toString()
    if (this.contacted.has(peer)) return
    this.contacted.add(peer)
    if (this.self < peer || this.connectedTo(remote)) return
    const connected = new AbortController()
    this.awaitingContact.set(peer, connected)
    try {
      // Ends early (rejecting, ignored) when the peer's connection opens: onConnectionOpen aborts it.
      await delay(this.tuning.firstContactWaitMs, undefined, { signal: connected.signal }).catch(() => undefined)
    } finally {
      this.awaitingContact.delete(peer)
    }
  }

  private connectedTo(remote: Libp2pPeerId): boolean {
    return this.host.node.getConnections(remote).some((connection) => connection.status === 'open')
  }

  private async openDirect(out: Outbound, remote: Libp2pPeerId): Promise<Stream> {
    // Messages queued behind a failed dial fail at once instead of each waiting out its own dial
    // timeout: a peer cut off by a partition would otherwise hold its queue for minutes.
    const sinceFailureMs = performance.now() - out.dialFailedAtMs
    if (sinceFailureMs < this.tuning.dialBackoffMs) {
      throw new SendFailure('dial-failed', `${remote.toString()} was unreachable ${Math.round(sinceFailureMs)} ms ago; not dialling again yet`)
    }
    let stream: Stream
    await this.firstContact(remote)
    const dialing = new AbortController()
    out.dialing = dialing
    out.dialingSinceMs = performance.now()
    try {
      stream = await openStream(this.host.node, remote, DIRECT_PROTOCOL, { signal: AbortSignal.any([dialing.signal, AbortSignal.timeout(this.tuning.openTimeoutMs)]) })
    } catch (error) {
      if (!(dialing.signal.reason instanceof ConnectedMeanwhile)) {
        out.dialFailedAtMs = performance.now()
        throw new SendFailure('dial-failed', `cannot open a direct stream to ${remote.toString()}: ${messageOf(error)}`)
      }
      // The connection that just opened carries the stream (dialProtocol finds it, dials nothing).
      try {
        stream = await openStream(this.host.node, remote, DIRECT_PROTOCOL, { signal: AbortSignal.timeout(this.tuning.openTimeoutMs) })
      } catch (retryError) {
        out.dialFailedAtMs = performance.now()
        throw new SendFailure('dial-failed', `cannot open a direct stream to ${remote.toString()}: ${messageOf(retryError)}`)
      }
    } finally {
      if (out.dialing === dialing) out.dialing = undefined
    }
    out.dialFailedAtMs = -Infinity
    if (this.stopped) {
      stream.abort(new Error('transport stopped'))
      throw new SendFailure('stopped', 'the transport is stopped')
    }
    if (this.reuse) {
      out.stream = stream
      stream.addEventListener('close', () => {
        if (out.stream === stream) out.stream = undefined
      })
      // Nothing is read on our outgoing streams; drain whatever arrives so it is not buffered.
      stream.addEventListener('message', () => undefined)
    }
    return stream
  }

  /**
   * A connection to a peer opened. An earlier failed dial no longer counts against the peer. And
   * when the peer dialled us, a dial this side began earlier may still be waiting out its timeout:
   * after a partition heals, one begun while the link dropped everything waits for its next SYN
   * retransmission, up to openTimeoutMs, and every message to that peer queues behind it — the
   * digest exchange that merges the two sides' views among them. Such a stale dial gives way to a
   * stream on the peer's connection.
   *
   * Only when the peer dialled us, and only a stale dial or the larger id's: aborting a dial the
   * moment its own connection opened closed that connection, which libp2p then redialled (the peer
   * is tagged keep-alive) and the other side redialled too — a fresh pair of peers ended with two
   * connections, and churned through four, at every first contact. Two young dials racing each
   * other are settled by the ids: the larger yields, so exactly one survives.
   */
  private readonly onConnectionOpen = (event: CustomEvent<Connection>): void => {
    const connection = event.detail
    const peer = connection.remotePeer.toString()
    this.contacted.add(peer)
    this.awaitingContact.get(peer)?.abort()
    const out = this.outbound.get(peer)
    if (out === undefined) return
    out.dialFailedAtMs = -Infinity
    const dialing = out.dialing
    if (connection.direction !== 'inbound' || dialing === undefined) return
    const yieldNow = (): void => dialing.abort(new ConnectedMeanwhile('connected meanwhile'))
    const ageMs = performance.now() - out.dialingSinceMs
    if (ageMs >= this.tuning.staleDialMs || this.self > peer) return yieldNow()
    // The smaller id's young dial goes on; if it is still pending once stale, it yields then.
    setTimeout(() => {
      if (out.dialing === dialing && connection.status === 'open') yieldNow()
    }, this.tuning.staleDialMs - ageMs).unref()
  }

  private async receiveDirect(stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer.toString() as PeerId
    this.inbound.add(stream)
    try {
      for await (const frame of readFrames(stream, this.tuning.maxDirectFrameBytes)) {
        const result = decodeMessage(frame)
        if (!result.ok) {
          this.invalid('direct', from, result.error)
          stream.abort(new Error(`invalid message: ${describe(result.error)}`))
          return
        }
        this.counters.directReceived++
        this.counters.bytesReceived += frame.length
        this.host.heard(connection)
        this.datagrams?.noteReceived(from, result.message, false)
        this.deliver(from, result.message)
      }
      await closeQuietly(stream)
    } catch (error) {
      if (error instanceof FrameError) {
        this.invalid('direct', from, { code: 'too-large', path: '', message: error.message })
        stream.abort(error)
      }
      // Otherwise the stream was reset or the connection dropped: nothing to count.
    } finally {
      this.inbound.delete(stream)
    }
  }

  /** A datagram's message from `from`, already authenticated (p2p/datagrams.ts): checked as a direct frame is. */
  private receiveDatagram(from: PeerId, bytes: Uint8Array): void {
    const result = decodeMessage(bytes)
    if (!result.ok) {
      this.invalid('direct', from, result.error)
      return
    }
    this.counters.directReceived++
    this.counters.bytesReceived += bytes.length
    // Before the machine sees a ping: its ack is then known to go back by datagram.
    this.datagrams?.noteReceived(from, result.message, true)
    this.deliver(from, result.message)
  }

  /** Every connection to a peer closed: its datagram keys go with them (it may return as a new process). */
  private readonly onPeerDisconnect = (event: CustomEvent<Libp2pPeerId>): void => {
    this.datagrams?.forget(event.detail.toString())
  }

  // --- gossip ------------------------------------------------------------------------------------

  private readonly validateGossip = (_forwarder: Libp2pPeerId, message: GossipMessage): TopicValidatorResult => {
    // StrictSign has already rejected unsigned messages; `from` is the verified author.
    const author = (message.type === 'signed' ? message.from.toString() : 'unsigned') as PeerId
    const result = decodeMessage(message.data)
    if (result.ok && result.message.kind === 'advert' && result.message.advert.peer !== author) {
      // A peer speaks only for its own load and tasks: an advert in another's name is forged.
      this.counters.rejected++
      this.invalid('gossip', author, { code: 'bad-shape', path: 'advert.peer', message: `an advert for ${result.message.advert.peer} signed by another peer` })
      return TopicValidatorResult.Reject
    }
    if (result.ok) {
      this.counters.bytesDelivered += message.data.length
      this.decodedGossip.set(message, result.message)
      return TopicValidatorResult.Accept
    }
    if (result.error.code === 'unknown-kind') {
      this.counters.newer++
      return TopicValidatorResult.Ignore
    }
    this.counters.rejected++
    this.invalid('gossip', author, result.error)
    return TopicValidatorResult.Reject
  }

  private readonly receiveGossip = (event: CustomEvent<GossipMessage>): void => {
    const message = event.detail
    if (message.topic !== PROTOCOL_TOPIC || message.type !== 'signed') return
    const decoded = this.decodedGossip.get(message)
    if (decoded === undefined) return // accepted by a validator other than ours: not for the machine
    this.decodedGossip.delete(message)
    this.counters.delivered++
    countKind(this.counters.deliveredByKind, decoded.kind)
    this.deliver(message.from.toString() as PeerId, decoded)
  }

  // --- shared ------------------------------------------------------------------------------------

  /** Hands a message to every listener; one that throws is counted and does not keep it from the others. */
  private deliver(from: PeerId, message: Message): void {
    for (const listener of this.messageListeners) {
      try {
        listener(from, message)
      } catch {
        this.counters.listenerErrors++
      }
    }
  }

  private invalid(channel: 'gossip' | 'direct', from: PeerId, error: DecodeError): void {
    if (channel === 'direct') this.counters.directInvalid++
    const event: InvalidMessage = { channel, from, error }
    for (const listener of this.invalidListeners) {
      try {
        listener(event)
      } catch {
        this.counters.listenerErrors++
      }
    }
  }

  private refuse(code: TransportErrorCode, message: string): BroadcastResult {
    this.counters.broadcastRefused++
    return { ok: false, error: { code, message } }
  }

  private requestLimits(options: Partial<RequestLimits>): RequestLimits {
    return {
      maxRequestBytes: options.maxRequestBytes ?? this.tuning.maxRequestBytes,
      maxResponseBytes: options.maxResponseBytes ?? this.tuning.maxResponseBytes,
      timeoutMs: options.timeoutMs ?? this.tuning.requestTimeoutMs,
    }
  }
}

class SendFailure extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message)
  }
}

function usable(stream: Stream | undefined): Stream | undefined {
  return stream !== undefined && stream.status === 'open' && stream.writeStatus === 'writable' ? stream : undefined
}

async function closeQuietly(stream: Stream): Promise<void> {
  try {
    await stream.close({ signal: AbortSignal.timeout(TRANSPORT_DEFAULTS.openTimeoutMs) })
  } catch (error) {
    stream.abort(asError(error))
  }
}

function describe(error: DecodeError): string {
  return `${error.code}${error.path === '' ? '' : ` at ${error.path}`}: ${error.message}`
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function tryPeerId(text: string): Libp2pPeerId | undefined {
  try {
    return peerIdFromString(text)
  } catch {
    return undefined
  }
}

function countKind(counts: Record<string, number>, kind: string): void {
  counts[kind] = (counts[kind] ?? 0) + 1
}
