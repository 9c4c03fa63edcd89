// The near end of a tunnel: the userspace proxy hands it an endpoint on a peer this agent reaches only
// through a relay; it opens a tunnel stream to that peer's agent (on a tunnel connection of its own,
// p2p/tunnel-links.ts), names the task and its port, and waits for the answer. The bytes that follow
// are the connection's.

import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { TunnelLinks } from '../../../p2p/index.js'
import type { Endpoint } from '../types.js'
import { decodeAnswer, encodeRequest, readHead } from './header.js'

/** Opens tunnels for the userspace proxy: resolves with a stream the far agent accepted, rejects with why not. */
export interface TunnelOpener {
  open(endpoint: Endpoint, signal: AbortSignal): Promise<Stream>
}

export class TunnelClient implements TunnelOpener {
  constructor(private readonly links: Pick<TunnelLinks, 'openStream'>) {}

  async open(endpoint: Endpoint, signal: AbortSignal): Promise<Stream> {
    const stream = await this.links.openStream(peerIdFromString(endpoint.peer), { signal })
    try {
      stream.send(encodeRequest({ slot: endpoint.slot, port: endpoint.port }))
      const answer = decodeAnswer(await readHead(stream, signal))
      if (typeof answer === 'string') throw new Error(`tunnel to ${endpoint.peer}: ${answer}`)
      if (!answer.ok) throw new Error(`tunnel refused by ${endpoint.peer}: ${answer.reason}`)
      return stream
    } catch (error) {
      stream.abort(error as Error)
      throw error
    }
  }
}
