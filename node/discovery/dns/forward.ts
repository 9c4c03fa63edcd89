// Relaying a query for a name outside `.peer` to the upstream resolvers, unchanged but for its id.
// Each relay uses its own socket, so its source port is fresh (a spoofed reply must guess both port
// and id), and replies are only accepted from the upstream asked, with the id we sent.

import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { randomInt } from 'node:crypto'
import { connect, isIPv6 } from 'node:net'
import { ipHex } from './names.js'
import type { Upstream } from './upstreams.js'

/**
 * How long a relayed query may take before the client gets SERVFAIL. Stub resolvers give up after
 * about 5 s (glibc, c-ares) and retry: answering SERVFAIL within 2 s lets them report the failure
 * rather than time out, while leaving a recursive upstream time to resolve a cold name.
 */
export const FORWARD_TIMEOUT_MS = 2000

export interface ForwardOptions {
  readonly upstreams: readonly Upstream[]
  readonly transport: 'udp' | 'tcp'
  readonly timeoutMs?: number
  /** Aborts the relay (the server is closing). */
  readonly signal?: AbortSignal
}

/**
 * The upstream's reply to `query` carrying the query's own id, or undefined when none answered in
 * time. Over UDP the upstreams are asked one after another, each given an equal share of the time
 * before the next is also asked, and the first reply wins; over TCP a refused or dropped connection
 * moves on to the next at once.
 */
export async function forward(query: Buffer, options: ForwardOptions): Promise<Buffer | undefined> {
  const { upstreams, transport, timeoutMs = FORWARD_TIMEOUT_MS, signal } = options
  if (upstreams.length === 0 || query.length < 12) return undefined
  const clientId = query.readUInt16BE(0)
  const id = randomInt(0, 65536)
  const relayed = Buffer.from(query)
  relayed.writeUInt16BE(id, 0)
  const deadline = AbortSignal.timeout(timeoutMs)
  const stop = signal === undefined ? deadline : AbortSignal.any([deadline, signal])
  const reply = transport === 'udp' ? await overUdp(relayed, id, upstreams, timeoutMs / upstreams.length, stop) : await overTcp(relayed, id, upstreams, stop)
  if (reply === undefined) return undefined
  reply.writeUInt16BE(clientId, 0)
  return reply
}

function overUdp(query: Buffer, id: number, upstreams: readonly Upstream[], staggerMs: number, stop: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sockets: UdpSocket[] = []
    const timers: NodeJS.Timeout[] = []
    const finish = (reply: Buffer | undefined): void => {
      stop.removeEventListener('abort', onStop)
      for (const timer of timers) clearTimeout(timer)
      for (const socket of sockets) socket.close()
      sockets.length = 0
      resolve(reply)
    }
    const onStop = (): void => finish(undefined)
    if (stop.aborted) return finish(undefined)
    stop.addEventListener('abort', onStop)
    const ask = (upstream: Upstream): void => {
      const socket = createSocket(isIPv6(upstream.host.replace(/%.*$/, '')) ? 'udp6' : 'udp4')
      sockets.push(socket)
      socket.on('error', () => {}) // an unreachable upstream simply does not answer; the next one is asked in turn
      socket.on('message', (message, from) => {
        if (from.port !== upstream.port || ipHex(from.address) !== ipHex(upstream.host)) return
        if (message.length < 12 || message.readUInt16BE(0) !== id || (message[2]! & 0x80) === 0) return
        finish(message)
      })
      socket.send(query, upstream.port, upstream.host, () => {})
    }
    upstreams.forEach((upstream, index) => {
      if (index === 0) ask(upstream)
      else timers.push(setTimeout(() => ask(upstream), staggerMs * index))
    })
  })
}

async function overTcp(query: Buffer, id: number, upstreams: readonly Upstream[], stop: AbortSignal): Promise<Buffer | undefined> {
  for (const upstream of upstreams) {
    if (stop.aborted) return undefined
    const reply = await askOverTcp(query, id, upstream, stop)
    if (reply !== undefined) return reply
  }
  return undefined
}

function askOverTcp(query: Buffer, id: number, upstream: Upstream, stop: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: upstream.host, port: upstream.port })
    let received = Buffer.alloc(0)
    const finish = (reply: Buffer | undefined): void => {
      stop.removeEventListener('abort', onStop)
      socket.destroy()
      resolve(reply)
    }
    const onStop = (): void => finish(undefined)
    if (stop.aborted) return finish(undefined)
    stop.addEventListener('abort', onStop)
    socket.on('error', () => finish(undefined))
    socket.on('close', () => finish(undefined))
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 2) return
      const length = received.readUInt16BE(0)
      if (received.length < 2 + length) return
      const message = Buffer.from(received.subarray(2, 2 + length))
      finish(message.length >= 12 && message.readUInt16BE(0) === id ? message : undefined)
    })
    const prefix = Buffer.alloc(2)
    prefix.writeUInt16BE(query.length)
    socket.write(Buffer.concat([prefix, query]))
  })
}
