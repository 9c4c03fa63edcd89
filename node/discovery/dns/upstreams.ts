// Which resolvers names outside `.peer` go to: given explicitly, or the host's own from
// /etc/resolv.conf. Containers get the agent as their only resolver, so external names must keep
// working through it.

import { isIP } from 'node:net'
import { ipHex } from './names.js'

export interface Upstream {
  readonly host: string
  readonly port: number
}

/** Parses `ip`, `ip:port`, `[v6]:port` or a bare v6 address; throws an Error naming the text when it is none of these. */
export function parseUpstream(text: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  const withPort = /^([^:]+):(\d+)$/.exec(text)
  const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : withPort ? [withPort[1]!, withPort[2]] : [text, undefined]
  const number = port === undefined ? 53 : Number(port)
  if (isIP(host.replace(/%.*$/, '')) === 0 || !Number.isInteger(number) || number < 1 || number > 65535) {
    throw new Error(`upstream resolver "${text}" is not an IP address with an optional port (1.1.1.1, 10.0.0.2:5353, [fd00::1]:53)`)
  }
  return { host, port: number }
}

/**
 * The `nameserver` lines of a resolv.conf, without the agent's own addresses (`own`): where the host
 * has been pointed at the agent, forwarding to it would loop. Order kept, duplicates dropped.
 */
export function systemUpstreams(resolvConfText: string, own: readonly string[]): string[] {
  const mine = new Set(own.map((address) => ipHex(address) ?? address))
  const found: string[] = []
  for (const line of resolvConfText.split('\n')) {
    const [keyword, address] = line.replace(/[#;].*$/, '').trim().split(/\s+/)
    if (keyword !== 'nameserver' || address === undefined) continue
    const hex = ipHex(address)
    if (hex === undefined || mine.has(hex) || found.includes(address)) continue
    found.push(address)
  }
  return found
}

/** Whether an upstream is this very server (the same address and port), which would forward to itself forever. */
export function isSelf(upstream: Upstream, own: Upstream): boolean {
  if (upstream.port !== own.port) return false
  const unspecified = own.host === '0.0.0.0' || own.host === '::'
  return unspecified ? /^127\.|^::1$|^0\.0\.0\.0$|^::$/.test(upstream.host) : ipHex(upstream.host) === ipHex(own.host)
}
