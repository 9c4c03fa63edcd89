// The far end of a tunnel: a peer that reaches this agent only through a relay asks it to carry one
// connection to a task it runs. It checks the request against its own tasks (authorize.ts), connects
// to the task on its own address and splices. Refusals are answered with the reason and logged.
//
// Who can ask: only a peer holding the swarm key. The stream arrives on a libp2p connection, and
// libp2p's upgrader runs the pre-shared-key protector on every connection, relayed ones included
// (docs/edge.md, Security), so a host without the key never gets a connection to open a stream on.

import type { Connection, Stream } from '@libp2p/interface'
import { connect } from 'node:net'
import { TUNNEL_DEFAULTS, TUNNEL_PROTOCOL, type HostNode, type TunnelLinks } from '../../../p2p/index.js'
import type { ServicePort } from '../types.js'
import { authorizeTunnel } from './authorize.js'
import { decodeRequest, encodeAnswer, readHead } from './header.js'
import { spliceStream } from './splice-stream.js'

export interface TunnelServerInit {
  readonly node: Pick<HostNode, 'handle' | 'unhandle'>
  readonly links: Pick<TunnelLinks, 'accepted'>
  /** This agent's view of every service port and its endpoints (the registry): own tasks are the local ones. */
  readonly ports: () => readonly ServicePort[]
  readonly log: (line: string) => void
  /** Tunnels served at once, every peer together. */
  readonly maxServed?: number
}

export interface TunnelServerStats {
  readonly served: number
  readonly refused: number
  readonly open: number
}

export class TunnelServer {
  #served = 0
  #refused = 0
  #open = 0

  private constructor(private readonly init: TunnelServerInit) {}

  static async start(init: TunnelServerInit): Promise<TunnelServer> {
    const server = new TunnelServer(init)
    const max = init.maxServed ?? TUNNEL_DEFAULTS.maxServed
    await init.node.handle(TUNNEL_PROTOCOL, (stream, connection) => void server.#serve(stream, connection), {
      runOnLimitedConnection: true,
      maxInboundStreams: max,
      maxOutboundStreams: max,
    })
    return server
  }

  stats(): TunnelServerStats {
    return { served: this.#served, refused: this.#refused, open: this.#open }
  }

  async stop(): Promise<void> {
    await this.init.node.unhandle(TUNNEL_PROTOCOL).catch(() => undefined)
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer.toString()
    this.init.links.accepted(connection)
    const refuse = async (reason: string): Promise<void> => {
      this.#refused++
      this.init.log(`tunnel from ${from} refused: ${reason}`)
      try {
        stream.send(encodeAnswer({ ok: false, reason }))
        await stream.close({ signal: AbortSignal.timeout(TUNNEL_DEFAULTS.openTimeoutMs) })
      } catch {
        stream.abort(new Error(reason))
      }
    }
    let body: Uint8Array
    try {
      body = await readHead(stream, AbortSignal.timeout(TUNNEL_DEFAULTS.openTimeoutMs))
    } catch (error) {
      return refuse((error as Error).message)
    }
    const request = decodeRequest(body)
    if (typeof request === 'string') return refuse(request)
    if (this.#open >= (this.init.maxServed ?? TUNNEL_DEFAULTS.maxServed)) return refuse(`this agent already serves ${this.#open} tunnels, its limit`)
    const target = authorizeTunnel(request, this.init.ports())
    if (!target.ok) return refuse(target.reason)
    const { address, port } = target.endpoint
    const socket = connect({ host: address, port, allowHalfOpen: true, noDelay: true })
    this.#open++
    const opened = await new Promise<Error | undefined>((resolve) => {
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${TUNNEL_DEFAULTS.openTimeoutMs} ms`)), TUNNEL_DEFAULTS.openTimeoutMs)
      socket.once('connect', () => { clearTimeout(timer); resolve(undefined) })
      socket.once('error', (error) => { clearTimeout(timer); resolve(error) })
    })
    if (opened !== undefined) {
      this.#open--
      return refuse(`task ${request.slot} did not take the connection at ${address}:${port}: ${(opened as NodeJS.ErrnoException).code ?? opened.message}`)
    }
    try {
      stream.send(encodeAnswer({ ok: true }))
    } catch {
      this.#open--
      socket.destroy()
      return
    }
    this.#served++
    socket.pause()
    spliceStream(socket, stream, () => this.#open--)
  }
}
