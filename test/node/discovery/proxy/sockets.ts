// Real sockets for the proxy's tests: echo servers that count their connections, a fixed endpoint
// source, free ports, and a client that reads until the other side ends.

import { spawn } from 'node:child_process'
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { PeerId, ServiceName, SlotId } from '../../../../core/index.js'
import type { Endpoint, EndpointSource, Listener, Transport } from '../../../../node/discovery/types.js'

export const SERVICE = 'web' as ServiceName

export function endpointAt(slot: string, address: string, port: number, flags: { local?: boolean; ready?: boolean } = {}): Endpoint {
  return { slot: slot as SlotId, peer: `peer-${address}` as PeerId, address, port, local: flags.local ?? false, ready: flags.ready ?? true, state: 'running' }
}

/** A source that answers with exactly the endpoints a test sets (unready ones too: the proxy must skip them). */
export class FixedEndpoints implements EndpointSource {
  constructor(public endpoints: Endpoint[] = []) {}
  ready(service: ServiceName): readonly Endpoint[] {
    return service === SERVICE ? this.endpoints : []
  }
}

export const listenerAt = (port: number, protocol: Transport = 'tcp', host = '127.0.0.1'): Listener => ({ service: SERVICE, target: 80, protocol, host, port, role: 'mesh' })

/** A port nothing listens on now (bound, then released). */
export async function freePort(host = '127.0.0.1', protocol: Transport = 'tcp'): Promise<number> {
  if (protocol === 'udp') {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, host, resolve))
    const port = socket.address().port
    await new Promise<void>((resolve) => socket.close(() => resolve()))
    return port
  }
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface EchoServer {
  readonly host: string
  readonly port: number
  /** Connections accepted so far. */
  accepted: number
  /** Connections open now. */
  readonly open: Set<Socket>
  close(): Promise<void>
}

/** A TCP server that sends back what it receives and ends when the client ends (half-close aware). */
export async function tcpEcho(host = '127.0.0.1'): Promise<EchoServer> {
  const open = new Set<Socket>()
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    echo.accepted++
    open.add(socket)
    socket.on('close', () => open.delete(socket))
    socket.on('error', () => undefined)
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const echo: EchoServer = {
    host,
    port: (server.address() as { port: number }).port,
    accepted: 0,
    open,
    close: async () => {
      for (const socket of open) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return echo
}

/** Connects; resolves once connected. */
export function dialTcp(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Sends `data`, half-closes, and collects everything until the other side ends; rejects on reset. */
export async function exchange(port: number, data: Buffer | string, host = '127.0.0.1'): Promise<Buffer> {
  const socket = await dialTcp(port, host)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('end', () => {
      socket.destroy()
      resolve(Buffer.concat(chunks))
    })
    socket.once('error', reject)
    socket.end(data)
  })
}

/** Writes `text` and resolves with the next chunk the socket receives. */
export function ask(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString()))
    socket.once('error', reject)
    socket.write(text)
  })
}

export interface UdpEcho {
  readonly host: string
  readonly port: number
  /** Source address:port of every datagram received, in order. */
  readonly senders: string[]
  close(): Promise<void>
}

/** A UDP server that sends every datagram back; with `answer: false`, a sink that only records them. */
export async function udpEcho(host = '127.0.0.1', { answer = true } = {}): Promise<UdpEcho> {
  const socket: UdpSocket = createSocket('udp4')
  const senders: string[] = []
  socket.on('message', (datagram, from) => {
    senders.push(`${from.address}:${from.port}`)
    if (answer) socket.send(datagram, from.port, from.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, host, resolve))
  return { host, port: socket.address().port, senders, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) }
}

/** A UDP client bound to its own port: one flow at the proxy. */
export async function udpClient(): Promise<{ request(port: number, text: string, timeoutMs?: number): Promise<string | undefined>; close(): void }> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {
    request: (port, text, timeoutMs = 2000) => new Promise((resolve) => {
      const timer = setTimeout(() => {
        socket.off('message', answered)
        resolve(undefined)
      }, timeoutMs)
      const answered = (datagram: Buffer): void => {
        clearTimeout(timer)
        resolve(datagram.toString())
      }
      socket.once('message', answered)
      socket.send(text, port, '127.0.0.1')
    }),
    close: () => socket.close(),
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `condition` every 10 ms until true; fails after `timeoutMs`, naming `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/**
 * Connects and writes, and resolves with how the connection was turned away: the error code (a reset
 * can arrive before the client even sees its connect complete), or 'end' for a clean close.
 */
export function turnedAway(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    socket.once('end', () => resolve('end'))
    socket.once('connect', () => socket.write('anyone?'))
  })
}

/**
 * A port whose connects never complete, as a host that drops packets: a process listens with a
 * backlog of one and never accepts (its event loop is blocked), and the queue is filled here, so the
 * kernel drops every further SYN.
 */
export async function blackhole(host: string): Promise<{ port: number; close(): void }> {
  const script = `const s = require('net').createServer().listen({ port: 0, host: ${JSON.stringify(host)}, backlog: 1 }, () => {
    console.log(s.address().port)
    setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000), 50)
  })`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (data) => resolve(Number(String(data).trim()))))
  await sleep(150)
  const fillers: Socket[] = []
  for (;;) {
    const socket = connect({ host, port })
    socket.on('error', () => undefined)
    fillers.push(socket)
    const completed = await Promise.race([new Promise<boolean>((resolve) => socket.once('connect', () => resolve(true))), sleep(300).then(() => false)])
    if (!completed) break
    if (fillers.length > 20) throw new Error('blackhole: the accept queue never filled')
  }
  return {
    port,
    close: () => {
      for (const socket of fillers) socket.destroy()
      child.kill('SIGKILL')
    },
  }
}

/** `promise`, or a failure naming `what` when it has not settled after `timeoutMs`. */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
