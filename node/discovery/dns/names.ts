// The names the agent's DNS server answers for, all under `.peer`:
//   peer                      the zone itself (SOA)
//   <service>.peer            the service's address on this agent (A or AAAA)
//   _<port>._<tcp|udp>.<service>.peer   one SRV per ready endpoint of that port of the service
//   <hex>.addr.peer           an endpoint's IP spelled in hex (8 digits for v4, 32 for v6), as Consul
//                             does: SRV targets must be names, and this one needs no lookup to answer
// Pure text: no directory, no sockets.

import { isIP } from 'node:net'
import { SERVICE_NAME_PATTERN, type ServiceName } from '../../../core/index.js'
import type { Transport } from '../types.js'

export const ZONE = 'peer'
/** The label under the zone that holds the hex-spelled addresses. */
export const ADDRESS_LABEL = 'addr'

export type QueryName =
  /** Not under `.peer`: forwarded upstream. */
  | { readonly kind: 'outside' }
  | { readonly kind: 'apex' }
  | { readonly kind: 'service'; readonly service: ServiceName }
  /** `_tcp.<service>.peer`: exists (without records) exactly when the service does. */
  | { readonly kind: 'transport'; readonly service: ServiceName }
  | { readonly kind: 'srv'; readonly service: ServiceName; readonly port: number; readonly protocol: Transport }
  | { readonly kind: 'address'; readonly address: string; readonly family: 4 | 6 }
  /** Under `.peer` but none of the shapes above: NXDOMAIN without asking the directory. */
  | { readonly kind: 'unknown' }

const PORT_LABEL = /^_([1-9][0-9]{0,4})$/
const TRANSPORT_LABEL = /^_(tcp|udp)$/

/** Classifies a query name; case-insensitive, a trailing dot tolerated. */
export function classifyName(name: string): QueryName {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.')
  if (labels[labels.length - 1] !== ZONE) return { kind: 'outside' }
  const inside = labels.slice(0, -1)
  if (inside.length === 0) return { kind: 'apex' }
  const service = inside[inside.length - 1]!
  if (!SERVICE_NAME_PATTERN.test(service)) return { kind: 'unknown' }
  if (inside.length === 1) return { kind: 'service', service: service as ServiceName }
  if (inside.length === 2 && service === ADDRESS_LABEL) {
    const address = ipOfHex(inside[0]!)
    if (address !== undefined) return { kind: 'address', ...address }
  }
  const transport = TRANSPORT_LABEL.exec(inside[inside.length - 2]!)?.[1] as Transport | undefined
  if (transport === undefined) return { kind: 'unknown' }
  if (inside.length === 2) return { kind: 'transport', service: service as ServiceName }
  const port = Number(PORT_LABEL.exec(inside[0]!)?.[1])
  if (inside.length === 3 && port >= 1 && port <= 65535) return { kind: 'srv', service: service as ServiceName, port, protocol: transport }
  return { kind: 'unknown' }
}

/** The name an endpoint's IP is reachable under: `7f000001.addr.peer` for 127.0.0.1. Undefined for a non-IP. */
export function addressName(address: string): string | undefined {
  const hex = ipHex(address)
  return hex === undefined ? undefined : `${hex}.${ADDRESS_LABEL}.${ZONE}`
}

/** An IP as hex digits, 8 for v4 and 32 for v6 (zone index dropped); undefined for a non-IP. */
export function ipHex(address: string): string | undefined {
  const bare = address.replace(/%.*$/, '')
  const family = isIP(bare)
  if (family === 4) return bare.split('.').map((part) => Number(part).toString(16).padStart(2, '0')).join('')
  if (family === 6) return ipv6Groups(bare).map((group) => group.toString(16).padStart(4, '0')).join('')
  return undefined
}

/**
 * The IP a hex label spells, written out in full (`fd00:0000:…:0001`), or undefined for a label
 * that is not 8 or 32 hex digits. Records are written from this spelling rather than from whatever
 * form an address arrived in: dns-packet's encoder mangles some valid short v6 forms
 * (`::0:0:0:0:0:0:1` becomes `::`).
 */
export function ipOfHex(label: string): { address: string; family: 4 | 6 } | undefined {
  if (/^[0-9a-f]{8}$/.test(label)) {
    return { address: [0, 2, 4, 6].map((at) => parseInt(label.slice(at, at + 2), 16)).join('.'), family: 4 }
  }
  if (/^[0-9a-f]{32}$/.test(label)) {
    return { address: (label.match(/.{4}/g) ?? []).join(':'), family: 6 }
  }
  return undefined
}

/** The eight 16-bit groups of a valid IPv6 address, `::` expanded and a trailing dotted quad folded in. */
function ipv6Groups(address: string): number[] {
  let text = address
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (part: string | undefined): number[] => (part ? part.split(':').map((group) => parseInt(group, 16)) : [])
  const front = parse(head)
  const back = parse(tail)
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back]
}
