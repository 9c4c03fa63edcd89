// A TCP listener of the mesh: each accepted connection is forwarded to the endpoint the router picks,
// trying the next one when a connect fails, and reset when none is left. An endpoint on a peer reached
// only through a relay (Endpoint.tunnel) is connected to through a tunnel to that peer's agent.

import { createServer, type Server, type Socket } from 'node:net'
import type { TunnelOpener } from '../tunnel/index.js'
import { spliceStream } from '../tunnel/index.js'
import type { Listener } from '../types.js'
import type { ListenerTraffic, OpenListener } from './listener-traffic.js'
import type { ProxySettings } from './proxy-options.js'
import type { Lease, Router } from './router.js'
import { splice } from './splice.js'
import { connectFailure, dial } from './tcp-dial.js'

export class TcpListener implements OpenListener {
  readonly #server: Server
  /** Every socket this listener owns (clients, endpoints, connects under way), for destroy(). */
  readonly #sockets = new Set<Socket>()
  #accepted = 0
  #unrouted = 0

  /** Tunnels being opened: destroy() gives them up. */
  readonly #opening = new Set<AbortController>()

  private constructor(public listener: Listener, private readonly router: Router, private readonly settings: ProxySettings, private readonly tunnel?: TunnelOpener) {
    // pauseOnConnect: nothing is read from the client until its endpoint is connected, so the kernel's
    // buffers, not ours, hold what it sends meanwhile.
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => void this.#forward(client))
  }

  /** Binds the listener; rejects with the bind error (EADDRINUSE, EACCES, EADDRNOTAVAIL…). */
  static async open(listener: Listener, router: Router, settings: ProxySettings, tunnel?: TunnelOpener): Promise<TcpListener> {
    const tcp = new TcpListener(listener, router, settings, tunnel)
    await new Promise<void>((resolve, reject) => {
      tcp.#server.once('error', reject)
      try {
        tcp.#server.listen({ host: listener.host, port: listener.port, exclusive: true }, () => {
          tcp.#server.off('error', reject)
          resolve()
        })
      } catch (error) {
        reject(error)
      }
    })
    // After binding, an accept error (EMFILE) must not crash the agent; the server keeps listening.
    tcp.#server.on('error', () => undefined)
    return tcp
  }

  stopAccepting(): void {
    this.#server.close()
  }

  destroy(): void {
    this.#server.close()
    for (const socket of this.#sockets) socket.destroy()
    for (const opening of this.#opening) opening.abort(new Error('listener closed'))
  }

  get drained(): boolean {
    return this.#sockets.size === 0
  }

  traffic(): ListenerTraffic {
    return { listener: this.listener, accepted: this.#accepted, unrouted: this.#unrouted }
  }

  #own(socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
  }

  async #forward(client: Socket): Promise<void> {
    this.#accepted++
    this.#own(client)
    // Until spliced, a client error (reset while we connect) only needs to be swallowed: the socket closes.
    const ignore = (): void => undefined
    client.on('error', ignore)
    const listener = this.listener
    const tried = new Set<string>()
    for (let attempt = 0; attempt < this.settings.connectAttempts && !client.destroyed; attempt++) {
      const lease = this.router.lease(listener, tried)
      if (lease === undefined) break
      tried.add(lease.key)
      if (lease.endpoint.tunnel === true) {
        if (await this.#throughTunnel(client, lease, ignore)) return
        continue
      }
      const attemptDial = dial(lease.endpoint, this.settings.connectTimeoutMs)
      this.#own(attemptDial.socket)
      let upstream: Socket
      try {
        upstream = await attemptDial.connected
      } catch (error) {
        // Destroyed by destroy() while connecting is not the endpoint's fault.
        if (client.destroyed) lease.closed()
        else lease.failed(connectFailure(error))
        continue
      }
      if (client.destroyed) {
        upstream.destroy()
        lease.closed()
        return
      }
      lease.opened(upstream)
      client.off('error', ignore)
      splice(client, upstream, () => lease.closed(upstream))
      return
    }
    this.#unrouted++
    if (!client.destroyed) client.resetAndDestroy()
  }

  /** Carries `client` through a tunnel to the lease's endpoint; false when the next endpoint should be tried. */
  async #throughTunnel(client: Socket, lease: Lease, ignore: () => void): Promise<boolean> {
    if (this.tunnel === undefined) {
      lease.failed('reached only through a relay, and this proxy opens no tunnels')
      return false
    }
    const opening = new AbortController()
    this.#opening.add(opening)
    const gone = (): void => opening.abort(new Error('client closed'))
    client.once('close', gone)
    let stream
    try {
      stream = await this.tunnel.open(lease.endpoint, AbortSignal.any([opening.signal, AbortSignal.timeout(this.settings.tunnelOpenTimeoutMs)]))
    } catch (error) {
      if (client.destroyed) lease.closed()
      else lease.failed(`tunnel: ${connectFailure(error)}`)
      return client.destroyed
    } finally {
      this.#opening.delete(opening)
      client.off('close', gone)
    }
    if (client.destroyed) {
      stream.abort(new Error('client closed'))
      lease.closed()
      return true
    }
    // The endpoint's bytes are what the client is sent, and the reverse.
    const counter = { get bytesRead() { return client.bytesWritten }, get bytesWritten() { return client.bytesRead } }
    lease.opened(counter)
    client.off('error', ignore)
    spliceStream(client, stream, () => lease.closed(counter))
    return true
  }
}
