// Opening a protocol stream to a peer on a connection that is already open, relayed ones included.
//
// libp2p's dialProtocol(peer) reuses only connections without limits (connection-manager/utils.js,
// findExistingConnection: `.find(con => con.limits == null)`): with nothing but a relayed connection
// to a peer behind NAT, every stream would dial again — the peer's private addresses (unreachable),
// then a new circuit through the relay — and most sends would time out while a working relayed
// connection sat open. So: an open unlimited connection first, else an open relayed one, else dial.
// Connections that carry service tunnels (tunnel-links.ts) are never used: their circuit's data budget
// is the tunnels' to spend, and the relay resets it when spent.

import './polyfill.js'

import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { dialRaceOf } from './dial-race.js'
import { isTunnelConnection } from './tunnel-links.js'

/** The connection a stream to `peer` should use now: an open direct (unlimited) one first, else an open relayed one; never a tunnel connection. */
export function usableConnection(connections: readonly Connection[]): Connection | undefined {
  const open = connections.filter((connection) => connection.status === 'open' && !isTunnelConnection(connection))
  return open.find((connection) => connection.limits == null) ?? open[0]
}

/** What opening a stream needs of a libp2p node (the host's, or any). */
export type StreamNode = Pick<Libp2p, 'getConnections' | 'dialProtocol' | 'peerId'>

export async function openStream(node: StreamNode, peer: PeerId, protocol: string, options: AbortOptions): Promise<Stream> {
  const connection = usableConnection(node.getConnections(peer))
  if (connection !== undefined) {
    try {
      return await connection.newStream(protocol, { ...options, runOnLimitedConnection: true })
    } catch (error) {
      // A connection closing meanwhile: dial as if there were none. Anything else (the peer does not
      // speak the protocol, the caller gave up) is the caller's.
      if (connection.status === 'open' || options.signal?.aborted === true) throw error
    }
  }
  try {
    return await node.dialProtocol(peer, protocol, { ...options, runOnLimitedConnection: true })
  } catch (error) {
    // Our dial may have been dropped because the peer was dialling us at the same moment, or a
    // connection to it opened meanwhile (dial-race.ts): that connection carries the stream instead.
    const race = dialRaceOf(node)
    if (race === undefined || options.signal?.aborted === true) throw error
    let connection = usableConnection(node.getConnections(peer))
    if (connection === undefined) {
      if (!(await race.connectionFrom(peer.toString(), YIELDED_DIAL_WAIT_MS, options.signal ?? undefined))) throw error
      connection = usableConnection(node.getConnections(peer))
      if (connection === undefined) throw error
    }
    return connection.newStream(protocol, { ...options, runOnLimitedConnection: true })
  }
}

/** How long a refused dial waits for the peer's own connection: an upgrade on a busy host takes up to 2–3 s. */
const YIELDED_DIAL_WAIT_MS = 5_000
