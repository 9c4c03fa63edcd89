// A DNS server on 127.0.0.1 answering from a directory held in plain data, raw UDP and TCP clients
// built on dns-packet, and a tiny upstream resolver, for the DNS server's tests.

import { createSocket } from 'node:dgram'
import { Resolver } from 'node:dns/promises'
import { connect, createServer } from 'node:net'
import * as packet from 'dns-packet'
import type { DecodedPacket, Packet } from 'dns-packet'
import { peerId, serviceName, type SlotId } from '../../../../core/index.js'
import { startDnsServer, type DnsDirectory, type DnsServer, type DnsServerOptions } from '../../../../node/discovery/dns/index.js'
import type { Endpoint, Transport } from '../../../../node/discovery/types.js'

/** One service as the tests describe it: its service address and its ports as `80/tcp` → endpoints. */
export interface ServiceEntry {
  readonly address: string
  readonly ports: Readonly<Record<string, readonly Endpoint[]>>
}

/** A directory over a record of services, which a test may change between queries. */
export function directoryOf(services: Record<string, ServiceEntry>): DnsDirectory {
  return {
    serviceAddress: (service) => services[service]?.address,
    srv: (service, port, protocol: Transport) => services[service]?.ports[`${port}/${protocol}`],
  }
}

export function endpoint(slot: string, address: string, port: number, ready = true): Endpoint {
  return { slot: slot as SlotId, peer: peerId('peer-a'), address, port, local: false, ready, state: ready ? 'running' : 'starting' }
}

export const web = serviceName('web')

/** Starts a server on 127.0.0.1 (a free port), runs `body`, and closes the server whatever happens. */
export async function withDnsServer(options: Partial<DnsServerOptions> & { directory: DnsDirectory }, body: (server: DnsServer) => Promise<void>): Promise<void> {
  const server = await startDnsServer({ host: '127.0.0.1', port: 0, log: () => undefined, ...options })
  try {
    await body(server)
  } finally {
    await server.close()
  }
}

/** Node's own resolver (c-ares) pointed at the server only, one try, so failures show at once. */
export function resolverFor(server: DnsServer, timeoutMs = 4000): Resolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 })
  resolver.setServers([`127.0.0.1:${server.address.port}`])
  return resolver
}

/** The error code a lookup fails with (ENOTFOUND for NXDOMAIN, ENODATA for no records, ESERVFAIL, EREFUSED). */
export async function failureOf(lookup: Promise<unknown>): Promise<string> {
  try {
    const result = await lookup
    return `no failure: ${JSON.stringify(result)}`
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error)
  }
}

/** A decoded message with the fields dns-packet sets but its typings leave out. */
export type DecodedReply = DecodedPacket & { readonly rcode: string; readonly opcode: string }

export const decodeReply = (bytes: Buffer): DecodedReply => packet.decode(bytes) as DecodedReply

export function query(name: string, type: 'A' | 'AAAA' | 'SRV' | 'TXT' | 'SOA', id = 4242): Packet {
  return { type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type, name }] }
}

/** Sends raw bytes over UDP and waits for one reply; undefined when none comes within `waitMs`. */
export function udpExchange(port: number, bytes: Buffer, waitMs = 2000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4')
    const timer = setTimeout(() => finish(undefined), waitMs)
    const finish = (reply: Buffer | undefined): void => {
      clearTimeout(timer)
      socket.close()
      resolve(reply)
    }
    socket.on('message', (message) => finish(message))
    socket.send(bytes, port, '127.0.0.1')
  })
}

/**
 * Opens one TCP connection, writes `frames` (already length-prefixed) in one go, and collects
 * `expected` replies; resolves early with what it has when the server closes the connection.
 */
export function tcpExchange(port: number, frames: Buffer, expected: number): Promise<{ replies: DecodedReply[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    const replies: DecodedReply[] = []
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`only ${replies.length} of ${expected} replies over TCP`))
    }, 5000)
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        replies.push(packet.streamDecode(buffered) as DecodedReply)
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0))
      }
      if (replies.length === expected) {
        clearTimeout(timer)
        socket.end()
        resolve({ replies, closed: false })
      }
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ replies, closed: true })
    })
    socket.on('error', () => {})
    socket.write(frames)
  })
}

/**
 * A resolver standing in for the host's: answers every A question with `address` over UDP and TCP,
 * or never answers when `address` is undefined. Counts the queries it saw.
 */
export async function startUpstream(address: string | undefined): Promise<{ port: number; seen: () => number; close: () => Promise<void> }> {
  let seen = 0
  const answer = (message: Buffer): Buffer | undefined => {
    seen++
    if (address === undefined) return undefined
    const asked = packet.decode(message)
    return packet.encode({ id: asked.id, type: 'response', flags: packet.RECURSION_AVAILABLE, questions: asked.questions, answers: asked.questions!.map((question) => ({ type: 'A' as const, name: question.name, ttl: 60, data: address })) })
  }
  const udp = createSocket('udp4')
  udp.on('message', (message, from) => {
    const reply = answer(message)
    if (reply) udp.send(reply, from.port, from.address)
  })
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))
  const port = udp.address().port
  const tcp = createServer((socket) => {
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      const reply = answer(chunk.subarray(2, 2 + chunk.readUInt16BE(0)))
      if (reply) socket.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]))
    })
  })
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject)
    tcp.listen(port, '127.0.0.1', resolve)
  })
  return {
    port,
    seen: () => seen,
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()))
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
    },
  }
}
