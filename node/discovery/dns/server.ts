// The agent's DNS server: UDP and TCP on one address. Names under `.peer` are answered from the
// directory (answer.ts); every other name is relayed to the upstream resolvers (forward.ts).
// Nothing a client sends can stop it: an undecodable UDP packet is dropped, an undecodable TCP
// message closes that connection, and a packet that is itself a reply is ignored (answering it
// could start a loop between two servers).

import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram'
import { createServer, isIPv6, type Server, type Socket } from 'node:net'
import * as packet from 'dns-packet'
import type { DecodedPacket } from 'dns-packet'
import { messageOf } from '../../../core/index.js'
import { answerQuery, errorReply, udpLimitOf, type DnsDirectory, type Outcome, type Reply } from './answer.js'
import { forward } from './forward.js'
import { classifyName } from './names.js'
import { RoundRobin } from './round-robin.js'
import { encodeWithin, TCP_MESSAGE_LIMIT_BYTES } from './truncate.js'
import { isSelf, parseUpstream } from './upstreams.js'

export interface DnsServerOptions {
  /** The address to listen on, UDP and TCP. */
  readonly host: string
  /** 0 picks a free port (the same one for UDP and TCP). */
  readonly port: number
  readonly directory: DnsDirectory
  /** Resolvers for names outside `.peer`, as "ip" or "ip:port"; none → those names are REFUSED. See systemUpstreams. */
  readonly upstream?: readonly string[]
  /** Where unexpected socket errors are reported. Default: standard error. */
  readonly log?: (line: string) => void
  /** How long a relayed query may take before SERVFAIL; default FORWARD_TIMEOUT_MS. */
  readonly forwardTimeoutMs?: number
  /** How long a TCP connection may stay silent before it is closed; default TCP_IDLE_TIMEOUT_MS. */
  readonly tcpIdleTimeoutMs?: number
}

export interface DnsServerStats {
  /**
   * Queries by what became of them. `malformed` counts packets that do not decode, packets that are
   * themselves replies (both unanswered) and queries answered FORMERR; `refused` includes opcodes
   * other than QUERY (answered NOTIMP).
   */
  readonly queries: Readonly<Record<Outcome, number>>
  /** Replies sent cut short with TC (a subset of the queries above). */
  readonly truncated: number
}

export interface DnsServer {
  readonly address: { readonly host: string; readonly port: number }
  stats(): DnsServerStats
  /** Stops listening, closes open TCP connections and abandons relayed queries. Calling it again waits for the same close. */
  close(): Promise<void>
}

/**
 * A TCP connection with nothing to read for this long is closed. RFC 7766 §6.2.3 suggests some
 * seconds: clients that pipeline send their queries at once, and each connection costs a socket.
 */
export const TCP_IDLE_TIMEOUT_MS = 10_000

/** Replies written to one TCP connection but not yet taken by the client, beyond which it is closed: sixteen of the largest replies. */
const MAX_TCP_BACKLOG_BYTES = 16 * 65537

/** Open TCP connections beyond this are refused, so a flood of idle connections cannot use up file descriptors. */
const MAX_TCP_CONNECTIONS = 256

/** Relayed queries in flight beyond this are answered SERVFAIL at once: each holds a socket until its upstream replies. */
const MAX_FORWARDS_IN_FLIGHT = 512

/** When port 0 is asked for, how many free UDP ports to try before one is free for TCP as well. */
const PORT_ATTEMPTS = 10

/** Starts the server; rejects with an Error naming the address when it cannot be bound (in use, no permission). */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new Error(`DNS port ${options.port} is not a port number (0-65535, 0 for any free port)`)
  const parsed = (options.upstream ?? []).map(parseUpstream)
  const { udp, tcp, port } = await bind(options.host, options.port)
  const upstreams = parsed.filter((upstream) => !isSelf(upstream, { host: options.host, port }))
  const roundRobin = new RoundRobin()
  const recursion = upstreams.length > 0
  const queries: Record<Outcome, number> = { answered: 0, nxdomain: 0, forwarded: 0, refused: 0, servfail: 0, malformed: 0 }
  let truncated = 0
  const closing = new AbortController()
  let forwardsInFlight = 0

  /** The reply to one message, or undefined to send nothing (undecodable, or itself a reply). */
  const handle = async (message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> => {
    let query: DecodedPacket
    try {
      query = packet.decode(message)
    } catch {
      queries.malformed++
      return undefined
    }
    if (query.flag_qr) {
      queries.malformed++
      return undefined
    }
    const limit = transport === 'udp' ? udpLimitOf(query) : TCP_MESSAGE_LIMIT_BYTES
    const send = (reply: Reply): Buffer => {
      queries[reply.outcome]++
      const encoded = encodeWithin(reply.response, limit)
      if (encoded.truncated) truncated++
      return encoded.bytes
    }
    if ((query.questions ?? []).length !== 1) return send(errorReply(query, 'FORMERR', recursion))
    if ((query as { opcode?: string }).opcode !== 'QUERY') return send(errorReply(query, 'NOTIMP', recursion))
    const name = classifyName(query.questions![0]!.name)
    if (name.kind !== 'outside') return send(answerQuery(query, name, options.directory, roundRobin, recursion))
    if (!recursion) return send(errorReply(query, 'REFUSED', recursion))
    if (forwardsInFlight >= MAX_FORWARDS_IN_FLIGHT) return send(errorReply(query, 'SERVFAIL', recursion))
    forwardsInFlight++
    try {
      const reply = await forward(message, { upstreams, transport, timeoutMs: options.forwardTimeoutMs, signal: closing.signal })
      if (reply === undefined) return send(errorReply(query, 'SERVFAIL', recursion))
      queries.forwarded++
      return reply
    } finally {
      forwardsInFlight--
    }
  }

  udp.on('message', (message: Buffer, from: RemoteInfo) => {
    handle(message, 'udp')
      .then((reply) => {
        if (reply === undefined || closing.signal.aborted) return
        udp.send(reply, from.port, from.address, (error) => error && log(`dns: cannot reply to ${from.address}:${from.port}: ${messageOf(error)}`))
      })
      .catch((error: unknown) => log(`dns: query from ${from.address}:${from.port} failed: ${messageOf(error)}`))
  })
  udp.on('error', (error) => log(`dns: UDP socket error: ${messageOf(error)}`))

  const connections = new Set<Socket>()
  let closed: Promise<void> | undefined
  tcp.maxConnections = MAX_TCP_CONNECTIONS
  tcp.on('connection', (socket) => {
    connections.add(socket)
    socket.on('close', () => connections.delete(socket))
    serveConnection(socket, handle, options.tcpIdleTimeoutMs ?? TCP_IDLE_TIMEOUT_MS, log)
  })
  tcp.on('error', (error) => log(`dns: TCP server error: ${messageOf(error)}`))

  return {
    address: { host: options.host, port },
    stats: () => ({ queries: { ...queries }, truncated }),
    close: () => {
      closed ??= (async () => {
        closing.abort()
        for (const socket of connections) socket.destroy()
        await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), new Promise<void>((resolve) => tcp.close(() => resolve()))])
      })()
      return closed
    },
  }
}

/** Reads length-prefixed queries off one connection (several may come, and be pipelined) and writes each reply as it is ready. */
function serveConnection(socket: Socket, handle: (message: Buffer, transport: 'tcp') => Promise<Buffer | undefined>, idleTimeoutMs: number, log: (line: string) => void): void {
  let buffered = Buffer.alloc(0)
  socket.setTimeout(idleTimeoutMs, () => socket.destroy())
  socket.on('error', () => {}) // a client that resets is simply gone
  socket.on('data', (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const length = buffered.readUInt16BE(0)
      const message = buffered.subarray(2, 2 + length)
      buffered = buffered.subarray(2 + length)
      handle(message, 'tcp')
        .then((reply) => {
          if (reply === undefined) {
            if (!isReply(message)) socket.destroy()
            return
          }
          if (socket.destroyed) return
          // A client that pipelines queries but never reads its replies would make us hold them all.
          if (socket.writableLength > MAX_TCP_BACKLOG_BYTES) return socket.destroy()
          const prefix = Buffer.alloc(2)
          prefix.writeUInt16BE(reply.length)
          socket.write(Buffer.concat([prefix, reply]))
        })
        .catch((error: unknown) => {
          log(`dns: TCP query failed: ${messageOf(error)}`)
          socket.destroy()
        })
    }
  })
}

/** Whether a message has the QR bit set: ignored, but not a reason to close the connection. */
function isReply(message: Buffer): boolean {
  return message.length >= 12 && (message[2]! & 0x80) !== 0
}

async function bind(host: string, port: number): Promise<{ udp: UdpSocket; tcp: Server; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const udp = await listenUdp(host, port)
    const bound = udp.address().port
    try {
      return { udp, tcp: await listenTcp(host, bound), port: bound }
    } catch (error) {
      udp.close()
      // With port 0 the kernel chose a port free for UDP that may be taken for TCP: choose again.
      if (port !== 0 || attempt >= PORT_ATTEMPTS) throw error
    }
  }
}

function listenUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4')
    socket.once('error', (error) => {
      socket.close()
      reject(bindError('UDP', host, port, error))
    })
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.removeAllListeners('error')
      resolve(socket)
    })
  })
}

function listenTcp(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (error) => reject(bindError('TCP', host, port, error)))
    server.listen({ host, port, exclusive: true }, () => {
      server.removeAllListeners('error')
      resolve(server)
    })
  })
}

function bindError(transport: string, host: string, port: number, error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code
  const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : messageOf(error)
  const where = isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`
  return new Error(`cannot listen for DNS on ${transport} ${where}: ${why}`, { cause: error })
}
