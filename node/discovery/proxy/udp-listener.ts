// A UDP listener of the mesh. Each client address:port is a flow with its own socket connected to the
// endpoint picked for it, so the endpoint's replies come back on that socket and are relayed to the
// client from the listening socket (the client sees answers from the address it sent to).
//
// A flow leaves its endpoint when:
//   - a send or receive fails (ICMP port unreachable arrives as ECONNREFUSED on a connected socket): the
//     endpoint is counted failed, the flow re-picks at once and re-sends its last unanswered datagram
//     (up to connectAttempts endpoints per datagram);
//   - it has been answered before and then gets no answer for udpReplyTimeoutMs after a datagram: the
//     endpoint is counted failed and the flow re-picks at its next datagram;
//   - it never had an answer, the same time has passed, and its endpoint is no longer ready (one-way
//     protocols such as syslog never answer: a silent ready endpoint keeps its flows).
// Otherwise a flow stays on its endpoint even after the endpoint stops being ready: like an open TCP
// connection, it drains. Flows idle for udpFlowIdleMs are closed, and past udpMaxFlows the least
// recently active is. Closing the listener closes its flows: replies could no longer be relayed.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { Listener } from '../types.js'
import { FlowTable } from './flow-table.js'
import { endpointKey } from './pick-endpoint.js'
import type { ListenerTraffic, OpenListener } from './listener-traffic.js'
import type { ProxySettings } from './proxy-options.js'
import type { Lease, Router } from './router.js'
import { connectFailure } from './tcp-dial.js'

/** Datagrams held per flow while its socket connects; more are dropped, as a full buffer would. */
const MAX_PENDING = 64

interface Flow {
  readonly key: string
  readonly client: RemoteInfo
  readonly lease: Lease
  readonly upstream: Socket
  /** Endpoints this flow has tried for its current unanswered datagram. */
  readonly tried: Set<string>
  connected: boolean
  closed: boolean
  pending: Buffer[]
  everAnswered: boolean
  /** When the oldest datagram still without an answer was sent. */
  awaitingSince?: number
  /** The last datagram sent and not answered, re-sent when the endpoint proves dead. */
  unanswered?: Buffer
}

export class UdpListener implements OpenListener {
  readonly #socket: Socket
  readonly #flows: FlowTable<Flow>
  readonly #sweep: NodeJS.Timeout
  #accepted = 0
  #unrouted = 0

  private constructor(public listener: Listener, private readonly router: Router, private readonly settings: ProxySettings, private readonly now: () => number) {
    this.#socket = createSocket({ type: isIPv6(listener.host) ? 'udp6' : 'udp4' })
    this.#flows = new FlowTable(settings.udpMaxFlows)
    this.#sweep = setInterval(() => this.#expireIdle(), settings.udpSweepIntervalMs).unref()
  }

  static async open(listener: Listener, router: Router, settings: ProxySettings, now: () => number): Promise<UdpListener> {
    const udp = new UdpListener(listener, router, settings, now)
    try {
      await new Promise<void>((resolve, reject) => {
        udp.#socket.once('error', reject)
        udp.#socket.bind({ address: listener.host, port: listener.port, exclusive: true }, () => {
          udp.#socket.off('error', reject)
          resolve()
        })
      })
    } catch (error) {
      udp.destroy()
      throw error
    }
    udp.#socket.on('error', () => undefined)
    udp.#socket.on('message', (datagram, client) => udp.#fromClient(datagram, client))
    return udp
  }

  stopAccepting(): void {
    this.destroy()
  }

  destroy(): void {
    clearInterval(this.#sweep)
    for (const flow of this.#flows.clear()) this.#close(flow)
    try {
      this.#socket.close()
    } catch {
      // Already closed (a failed bind closes it).
    }
  }

  /** Closing a UDP listener closes its flows: nothing is left to drain. */
  get drained(): boolean {
    return this.#flows.size === 0
  }

  traffic(): ListenerTraffic {
    return { listener: this.listener, accepted: this.#accepted, unrouted: this.#unrouted }
  }

  #fromClient(datagram: Buffer, client: RemoteInfo): void {
    const key = `${client.address}|${client.port}`
    const now = this.now()
    let flow = this.#flows.get(key)
    if (flow !== undefined && this.#shouldMove(flow, now)) {
      if (flow.everAnswered) flow.lease.failed(`no answer for ${this.settings.udpReplyTimeoutMs} ms`)
      this.#remove(flow)
      flow = undefined
    }
    if (flow === undefined) {
      this.#accepted++
      flow = this.#start(key, client, new Set())
      if (flow === undefined) {
        this.#unrouted++
        return
      }
    } else {
      this.#flows.touch(key, now)
    }
    this.#send(flow, datagram)
  }

  #shouldMove(flow: Flow, now: number): boolean {
    if (flow.awaitingSince === undefined || now - flow.awaitingSince < this.settings.udpReplyTimeoutMs) return false
    return flow.everAnswered || !this.router.ready(this.listener).some((endpoint) => endpoint.ready && flow.lease.key === endpointKey(endpoint))
  }

  /** A new flow for the client, on the endpoint the router picks (not one in `tried`); undefined when none. */
  #start(key: string, client: RemoteInfo, tried: Set<string>): Flow | undefined {
    const lease = this.router.lease(this.listener, tried)
    if (lease === undefined) return undefined
    tried.add(lease.key)
    const upstream = createSocket({ type: isIPv6(lease.endpoint.address) ? 'udp6' : 'udp4' })
    const flow: Flow = { key, client, lease, upstream, tried, connected: false, closed: false, pending: [], everAnswered: false }
    for (const evicted of this.#flows.add(key, flow, this.now())) this.#close(evicted)
    upstream.on('error', (error) => this.#endpointFailed(flow, error))
    upstream.on('message', (answer) => this.#fromEndpoint(flow, answer))
    upstream.connect(lease.endpoint.port, lease.endpoint.address, () => {
      if (flow.closed) return
      flow.connected = true
      lease.opened()
      const pending = flow.pending
      flow.pending = []
      for (const datagram of pending) this.#send(flow, datagram)
    })
    return flow
  }

  #send(flow: Flow, datagram: Buffer): void {
    flow.awaitingSince ??= this.now()
    flow.unanswered = datagram
    if (!flow.connected) {
      if (flow.pending.length < MAX_PENDING) flow.pending.push(datagram)
      return
    }
    flow.lease.datagrams(datagram.length, 0)
    flow.upstream.send(datagram, (error) => {
      if (error) this.#endpointFailed(flow, error)
    })
  }

  #fromEndpoint(flow: Flow, answer: Buffer): void {
    if (flow.closed) return
    flow.everAnswered = true
    flow.awaitingSince = undefined
    flow.unanswered = undefined
    flow.tried.clear()
    flow.tried.add(flow.lease.key)
    flow.lease.datagrams(0, answer.length)
    this.#flows.touch(flow.key, this.now())
    this.#socket.send(answer, flow.client.port, flow.client.address)
  }

  /** The endpoint refused (or the socket failed): count it, move the flow, re-send what is unanswered. */
  #endpointFailed(flow: Flow, error: Error): void {
    if (flow.closed) return
    flow.lease.failed(connectFailure(error))
    this.#remove(flow)
    const unanswered = flow.unanswered
    if (flow.tried.size >= this.settings.connectAttempts) return
    const next = this.#start(flow.key, flow.client, flow.tried)
    if (next === undefined) this.#unrouted++
    else if (unanswered !== undefined) this.#send(next, unanswered)
  }

  #expireIdle(): void {
    for (const flow of this.#flows.expire(this.now(), this.settings.udpFlowIdleMs)) this.#close(flow)
  }

  #remove(flow: Flow): void {
    this.#flows.delete(flow.key, flow)
    this.#close(flow)
  }

  #close(flow: Flow): void {
    if (flow.closed) return
    flow.closed = true
    flow.lease.closed()
    try {
      flow.upstream.close()
    } catch {
      // Already closed.
    }
  }
}
