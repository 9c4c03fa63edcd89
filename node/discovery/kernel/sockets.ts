// Local sockets a listener's rules would take traffic from. The userspace proxy learns of these from
// EADDRINUSE when it binds; NAT rules would instead silently steal the traffic (the agent's own
// gossip port published as a mesh port, a DNS server on the service address), so the forwarder looks
// first, in /proc/net/{tcp,udp}{,6} of its network namespace, and reports such a listener unbound.

import { readFile } from 'node:fs/promises'
import type { Listener, Transport } from '../types.js'
import { ANY_ADDRESS } from './rules.js'

export interface BoundSocket {
  readonly protocol: Transport
  /** Dotted IPv4, or undefined for an IPv6 socket. */
  readonly address: string | undefined
  readonly port: number
}

const LISTEN = '0A'
/** UDP's "closed" state is how an unconnected, bound socket (a server) shows. */
const UDP_BOUND = '07'

/** The sockets in one /proc/net table that wait for traffic: TCP listeners, bound unconnected UDP. */
export function parseSocketTable(text: string, protocol: Transport): BoundSocket[] {
  const found: BoundSocket[] = []
  for (const line of text.split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/)
    if (local === undefined || state !== (protocol === 'tcp' ? LISTEN : UDP_BOUND)) continue
    const [address, port] = local.split(':')
    // /proc prints an IPv4 address as one little-endian 32-bit word.
    const ipv4 = address!.length === 8 ? [6, 4, 2, 0].map((at) => parseInt(address!.slice(at, at + 2), 16)).join('.') : undefined
    found.push({ protocol, address: ipv4, port: parseInt(port!, 16) })
  }
  return found
}

/** Every such socket in this network namespace; tables the kernel does not have count as empty. */
export async function boundSockets(root = '/proc/net'): Promise<BoundSocket[]> {
  const tables: Array<[string, Transport]> = [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']]
  const read = await Promise.all(tables.map(([file, protocol]) => readFile(`${root}/${file}`, 'utf8').then((text) => parseSocketTable(text, protocol), () => [])))
  return read.flat()
}

/**
 * The socket whose traffic `listener`'s rules would take: on the same port, any address for a
 * published port (the rules match every local address), the same address otherwise.
 */
export function socketInTheWay(listener: Listener, sockets: readonly BoundSocket[]): BoundSocket | undefined {
  return sockets.find((socket) => socket.protocol === listener.protocol && socket.port === listener.port && (listener.host === ANY_ADDRESS || socket.address === listener.host))
}
