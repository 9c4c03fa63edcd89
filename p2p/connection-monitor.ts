// Closes connections whose other end has gone silent: a host that lost power, a pulled cable or a
// frozen process leaves its connections open, and only a round trip that never completes tells.
// libp2p's own monitor pings every connection every interval, each ping a new stream (Yamux open,
// multistream-select, close): in an idle cluster of five that was a third of an agent's socket writes,
// spent on connections that had just carried a SWIM probe or ack. This one pings only connections
// nothing has been heard on for `quietMs`: a direct frame read off a connection (recorded with
// heard()) proves it delivered data from its other end a moment ago, which is all a ping would
// prove. A connection that falls silent is pinged within quietMs + tickMs, and aborted when that
// ping times out — as libp2p's monitor does (same adaptive timeout), a little later at most by one
// tick.
//
// The ping is the muxer's own where it has one (Yamux: a 12-byte header each way, answered by the
// muxer itself), not libp2p's ping protocol: that opens a stream (a SYN, multistream-select, the
// agents' "not served" answer, a reset), about ten frames for one question. In an idle cluster of
// five the stream pings were a third of every agent's Yamux frames. A muxer without ping falls back
// to the protocol.

import './polyfill.js'

import type { Connection, Stream } from '@libp2p/interface'
import { AdaptiveTimeout, byteStream } from '@libp2p/utils'

/** libp2p's ping protocol, as its connection monitor speaks it. A peer that does not serve it answers "na": alive too. */
export const PING_PROTOCOL = '/ipfs/ping/1.0.0'
const PING_BYTES = 32

/** A stream muxer's own round trip (Yamux's ping frame), when it has one; resolves with the round trip in ms. */
interface PingingMuxer {
  ping(options: { signal: AbortSignal }): Promise<number>
}

/**
 * What the monitor uses of a connection (libp2p's Connection; a test fakes it). `muxer` is a public
 * field of libp2p's Connection class that its interface does not declare.
 */
export type MonitoredConnection = Pick<Connection, 'status' | 'newStream' | 'abort' | 'limits'> & { rtt?: number; muxer?: unknown }

/** Rejects with the signal's reason once it aborts. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

function pingingMuxer(connection: MonitoredConnection): PingingMuxer | undefined {
  const muxer = connection.muxer as Partial<PingingMuxer> | undefined
  return typeof muxer?.ping === 'function' ? (muxer as PingingMuxer) : undefined
}

export interface ConnectionMonitorInit<C extends MonitoredConnection> {
  /** The connections to watch, asked at every tick. */
  readonly connections: () => readonly C[]
  /** A connection heard from within this long is not pinged. */
  readonly quietMs: number
  /**
   * A connection whose peer's datagrams keep arriving (heardByDatagram) is pinged when nothing was
   * read off it for this long: the peer is alive, but the connection itself may have died (a NAT
   * that dropped its mapping, a middlebox), and only a round trip on it tells.
   */
  readonly datagramQuietMs?: number
  /**
   * A relayed connection (a circuit, `limits` set by the relay) is pinged when nothing was read off
   * it for this long. Its liveness is its hops': each is a connection of its own, watched at both
   * ends, and the relay aborts the circuit when either hop closes — so a ping of the circuit adds
   * little, and across a site link, where every pair of far hosts holds a circuit, its frames were
   * most of what an idle link carried. Defaults to quietMs.
   */
  readonly relayedQuietMs?: number
  /**
   * A hole-punched connection (`punched`, hole-punch.ts) is pinged when nothing was read off it for
   * punchedQuietMs: like a relayed one it links two sites, whose probes of each other are rare, but
   * it is direct, so only its own pings find it dead and keep the two routers' mappings alive.
   */
  readonly punched?: (connection: C) => boolean
  readonly punchedQuietMs?: number
  /** How often connections are checked. */
  readonly tickMs: number
  /** Bounds of the adaptive ping timeout (libp2p's AdaptiveTimeout: a moving average of past pings, ×1.2). */
  readonly timeoutMinMs: number
  readonly timeoutMaxMs: number
  /** A ping failed and its connection was aborted. */
  readonly onAbort?: (error: Error) => void
}

export class ConnectionMonitor<C extends MonitoredConnection = Connection> {
  /** When something was last read from each connection (performance.now()). */
  private readonly lastHeard = new WeakMap<C, number>()
  /** When an authentic datagram last came from each connection's peer. */
  private readonly lastDatagram = new WeakMap<C, number>()
  private readonly pinging = new WeakSet<C>()
  private readonly timeout: AdaptiveTimeout
  private readonly stopping = new AbortController()
  private timer: NodeJS.Timeout | undefined
  /** Pings started, for tests and stats. */
  pings = 0

  constructor(private readonly init: ConnectionMonitorInit<C>) {
    this.timeout = new AdaptiveTimeout({ minTimeout: init.timeoutMinMs, maxTimeout: init.timeoutMaxMs })
  }

  /** Data from the other end arrived on `connection` just now. */
  heard(connection: C, now = performance.now()): void {
    this.lastHeard.set(connection, now)
  }

  /** An authentic datagram from the peer of `connection` arrived just now. */
  heardByDatagram(connection: C, now = performance.now()): void {
    this.lastDatagram.set(connection, now)
  }

  start(): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.tick(), this.init.tickMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    this.stopping.abort()
  }

  /** Open connections due a ping at `now`: nothing heard on them within quietMs, and no ping of theirs in flight. */
  due(now = performance.now()): C[] {
    return this.init.connections().filter((connection) => {
      if (connection.status !== 'open' || this.pinging.has(connection)) return false
      const heard = this.lastHeard.get(connection) ?? -Infinity
      if (connection.limits != null) return now - heard >= (this.init.relayedQuietMs ?? this.init.quietMs)
      if (this.init.punched?.(connection) === true) return now - heard >= (this.init.punchedQuietMs ?? this.init.quietMs)
      if (now - heard < this.init.quietMs) return false
      const datagram = this.lastDatagram.get(connection) ?? -Infinity
      return now - datagram >= this.init.quietMs || now - heard >= (this.init.datagramQuietMs ?? this.init.quietMs)
    })
  }

  /** Pings every connection due one; each that fails is aborted. */
  tick(now = performance.now()): void {
    for (const connection of this.due(now)) void this.ping(connection)
  }

  private async ping(connection: C): Promise<void> {
    this.pinging.add(connection)
    this.pings++
    const signal = this.timeout.getTimeoutSignal({ signal: this.stopping.signal })
    let stream: Stream | undefined
    try {
      const muxer = pingingMuxer(connection)
      if (muxer !== undefined) {
        // Raced against the timeout here too, not trusting every muxer to honour the signal.
        connection.rtt = await Promise.race([muxer.ping({ signal }), rejectOnAbort(signal)])
        this.heard(connection)
        return
      }
      stream = await connection.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true })
      const bytes = byteStream(stream)
      const start = Date.now()
      await Promise.all([bytes.write(crypto.getRandomValues(new Uint8Array(PING_BYTES)), { signal }), bytes.read({ bytes: PING_BYTES, signal })])
      connection.rtt = Date.now() - start
      await stream.close({ signal })
      this.heard(connection)
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      stream?.abort(failure)
      // The other end answered that it does not serve ping: it is there, which is what was asked.
      if (failure.name === 'UnsupportedProtocolError') this.heard(connection)
      else if (!this.stopping.signal.aborted) {
        connection.abort(failure)
        this.init.onAbort?.(failure)
      }
    } finally {
      this.timeout.cleanUp(signal)
      this.pinging.delete(connection)
    }
  }
}
