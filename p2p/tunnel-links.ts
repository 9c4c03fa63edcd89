// Relayed connections of their own for service traffic (tunnels) to peers reached only through a relay.
//
// Why not the connection membership already has: a relay resets a circuit once it carried its data
// limit (RELAY_DEFAULTS.circuitDataLimitBytes, both ways together: libp2p's createLimitedRelay counts
// every byte of the hop stream and aborts both halves). Service traffic on the control connection
// would spend that budget and, when it ran out, take gossip, bids, probes and sync down with it. On a
// circuit of its own a tunnel can only end tunnels.
//
//   - A tunnel connection is dialled with `force` (libp2p would otherwise hand back the open relayed
//     connection) to the same circuit address the control connection uses, so through the same relay.
//   - Both ends mark it (the opener when it dials, the other end when the first tunnel stream arrives),
//     and open-stream.ts never puts control streams on a marked connection.
//   - New tunnels go only on a tunnel connection with at least TUNNEL_DEFAULTS.minBudgetShare of its
//     budget left (libp2p's LimitTracker counts down `connection.limits.bytes` as the relay does);
//     otherwise a fresh circuit is dialled. So a tunnel opened on a connection can count on that share.
//   - When a peer's last control connection closes, its tunnel connections are closed too: libp2p then
//     sees the peer disconnect, and the redial and gossip reconnection that hang on that event run as
//     they always did. A tunnel connection must never keep a peer "connected" with no control link.
//   - A tunnel connection with no tunnel for TUNNEL_DEFAULTS.idleCloseMs is closed (it holds a relay slot).
//   - A peer linked by a hole-punched connection (hole-punch.ts) has its tunnels on that connection:
//     direct, so no relay budget to spare, and the peer's own addresses are still out of reach. It is
//     never marked: it carries the control streams too.

import './polyfill.js'

import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { RELAY_DEFAULTS, TUNNEL_DEFAULTS } from './config.js'
import { relayOf } from './nat.js'
import { TUNNEL_PROTOCOL } from './protocols.js'

const tunnelConnections = new WeakSet<Connection>()

/** Whether `connection` carries tunnels (it must not carry control streams). */
export const isTunnelConnection = (connection: Connection): boolean => tunnelConnections.has(connection)

/** Marks a connection a tunnel arrived on: this end must keep control streams off it too. */
export function markTunnelConnection(connection: Connection): void {
  tunnelConnections.add(connection)
}

/** Whether a tunnel connection may take a new tunnel: open, and enough of its circuit's data budget left. */
export function hasTunnelBudget(connection: Pick<Connection, 'status' | 'limits'>, dataLimitBytes: number = RELAY_DEFAULTS.circuitDataLimitBytes): boolean {
  if (connection.status !== 'open') return false
  const left = connection.limits?.bytes
  return left === undefined || Number(left) >= TUNNEL_DEFAULTS.minBudgetShare * dataLimitBytes
}

/** The circuit address a new tunnel connection to `peer` dials: the control connection's own, ending in the peer's id. */
export function circuitAddressOf(control: Pick<Connection, 'remoteAddr'>, peer: string): string | undefined {
  const address = control.remoteAddr.toString()
  if (relayOf(address) === undefined) return undefined
  return address.endsWith(`/p2p/${peer}`) ? address : `${address}/p2p/${peer}`
}

export class TunnelLinks {
  /** Dials under way, per peer: concurrent tunnels to one peer share one new circuit. */
  readonly #dialling = new Map<string, Promise<Connection>>()
  /** When each tunnel connection last had a tunnel opened or open on it. */
  readonly #lastUsed = new WeakMap<Connection, number>()
  #timer: NodeJS.Timeout | undefined

  // Any libp2p node: only dialling, connections and their events are used (host.ts builds this, so
  // naming its HostNode type here would make the two import each other).
  constructor(
    private readonly node: Libp2p,
    private readonly log: (line: string) => void,
    private readonly isPunched: (connection: Connection) => boolean = () => false,
  ) {}

  start(): void {
    this.node.addEventListener('connection:close', this.#onClose)
    this.#timer = setInterval(() => this.#closeIdle(), TUNNEL_DEFAULTS.idleCloseMs / 2)
    this.#timer.unref()
  }

  stop(): void {
    this.node.removeEventListener('connection:close', this.#onClose)
    if (this.#timer !== undefined) clearInterval(this.#timer)
  }

  /** A tunnel stream arrived on `connection`: mark it, and count it as in use. */
  accepted(connection: Connection): void {
    if (this.isPunched(connection)) return
    markTunnelConnection(connection)
    this.#lastUsed.set(connection, Date.now())
  }

  /** Opens a tunnel stream to `peer` on a tunnel connection with budget, dialling a new circuit if none has. */
  async openStream(peer: PeerId, options: AbortOptions): Promise<Stream> {
    const connection = await this.#connection(peer, options)
    this.#lastUsed.set(connection, Date.now())
    return connection.newStream(TUNNEL_PROTOCOL, { ...options, runOnLimitedConnection: true })
  }

  async #connection(peer: PeerId, options: AbortOptions): Promise<Connection> {
    const id = peer.toString()
    const connections = this.node.getConnections(peer)
    const punched = connections.find((connection) => connection.status === 'open' && this.isPunched(connection))
    if (punched !== undefined) return punched
    const usable = connections.find((connection) => isTunnelConnection(connection) && hasTunnelBudget(connection))
    if (usable !== undefined) return usable
    const pending = this.#dialling.get(id)
    if (pending !== undefined) return pending
    const control = connections.find((connection) => connection.status === 'open' && !isTunnelConnection(connection) && relayOf(connection.remoteAddr.toString()) !== undefined)
    const address = control === undefined ? undefined : circuitAddressOf(control, id)
    if (address === undefined) throw new Error(`no relayed connection to ${id} to open a tunnel beside`)
    const dial = this.node.dial(multiaddr(address), { ...options, force: true }).then((connection) => {
      markTunnelConnection(connection)
      this.#lastUsed.set(connection, Date.now())
      return connection
    })
    this.#dialling.set(id, dial)
    try {
      return await dial
    } finally {
      this.#dialling.delete(id)
    }
  }

  readonly #onClose = (event: CustomEvent<Connection>): void => {
    const closed = event.detail
    if (isTunnelConnection(closed)) return
    const peer = closed.remotePeer
    const rest = this.node.getConnections(peer).filter((connection) => connection !== closed && connection.status === 'open')
    if (rest.length === 0 || rest.some((connection) => !isTunnelConnection(connection))) return
    this.log(`tunnels to ${peer.toString()}: its control connection closed; closing ${rest.length} tunnel connection(s) so the peer reconnects as usual`)
    for (const connection of rest) void connection.close().catch(() => connection.abort(new Error('control connection closed')))
  }

  #closeIdle(): void {
    const now = Date.now()
    for (const connection of this.node.getConnections()) {
      if (!isTunnelConnection(connection) || connection.status !== 'open') continue
      if (connection.streams.some((stream) => stream.protocol === TUNNEL_PROTOCOL)) {
        this.#lastUsed.set(connection, now)
        continue
      }
      if (now - (this.#lastUsed.get(connection) ?? 0) >= TUNNEL_DEFAULTS.idleCloseMs) void connection.close().catch(() => undefined)
    }
  }
}
