// Per-endpoint traffic from what the kernel counts. Connections opened: the packet counter of the
// endpoint's DNAT rule (nat rules see only the first packet of a connection). Bytes: the counters of
// the endpoint's counting rules in mangle, one per direction (IP packets, headers included). Open
// connections: conntrack entries redirected to the endpoint. Counters of rules that a sync replaced
// are carried here, so figures count since the forwarder started. The kernel reports no failed
// connection attempts: `failed` is always 0.

import type { EndpointTraffic, Transport } from '../types.js'
import { isOpen, type TrackedConnection } from './conntrack.js'
import type { RuleCounter } from './restore.js'
import { ANY_ADDRESS, type ListenerRoute } from './rules.js'

interface Figures {
  packets: number
  bytes: number
}

interface Counted {
  readonly slot: EndpointTraffic['slot']
  readonly address: string
  readonly port: number
  readonly protocol: Transport
  total: number
  active: number
  bytesIn: number
  bytesOut: number
}

/** Parses a counted rule's comment (`<kind> <slot> <address> <port> <protocol>`, see counterComment). */
function parseComment(comment: string): { kind: string; key: string; slot: string; address: string; port: number; protocol: Transport } | undefined {
  const [kind, slot, address, port, protocol] = comment.split(' ')
  if (slot === undefined || address === undefined || port === undefined || (protocol !== 'tcp' && protocol !== 'udp')) return undefined
  return { kind: kind!, key: `${protocol} ${slot} ${address}:${port}`, slot, address, port: Number(port), protocol }
}

export class TrafficLedger {
  /** Counters of rules that are gone, summed by comment. */
  readonly #retired = new Map<string, Figures>()
  /** The last read of the rules in place. */
  #current: RuleCounter[] = []
  #connections: readonly TrackedConnection[] = []
  #routes: readonly ListenerRoute[] = []

  /** Takes a fresh read of the owned rules' counters. */
  read(counters: readonly RuleCounter[]): void {
    this.#current = [...counters]
  }

  /** Chains (`table chain`) about to be rewritten or deleted: their rules' last figures are kept. */
  retire(replaced: ReadonlySet<string>): void {
    const kept: RuleCounter[] = []
    for (const counter of this.#current) {
      if (!replaced.has(`${counter.table} ${counter.chain}`)) {
        kept.push(counter)
        continue
      }
      const figures = this.#retired.get(counter.comment) ?? { packets: 0, bytes: 0 }
      figures.packets += counter.packets
      figures.bytes += counter.bytes
      this.#retired.set(counter.comment, figures)
    }
    this.#current = kept
  }

  /** The conntrack entries now, and the routes to match them against. */
  track(connections: readonly TrackedConnection[], routes: readonly ListenerRoute[]): void {
    this.#connections = connections
    this.#routes = routes
  }

  traffic(): EndpointTraffic[] {
    const byEndpoint = new Map<string, Counted>()
    const entry = (key: string, slot: string, address: string, port: number, protocol: Transport): Counted => {
      let counted = byEndpoint.get(key)
      if (counted === undefined) {
        counted = { slot: slot as EndpointTraffic['slot'], address, port, protocol, total: 0, active: 0, bytesIn: 0, bytesOut: 0 }
        byEndpoint.set(key, counted)
      }
      return counted
    }
    const add = (comment: string, figures: Figures): void => {
      const parsed = parseComment(comment)
      if (parsed === undefined) return
      const counted = entry(parsed.key, parsed.slot, parsed.address, parsed.port, parsed.protocol)
      if (parsed.kind === 'total') counted.total += figures.packets
      else if (parsed.kind === 'out') counted.bytesOut += figures.bytes
      else if (parsed.kind === 'in') counted.bytesIn += figures.bytes
    }
    for (const [comment, figures] of this.#retired) add(comment, figures)
    for (const counter of this.#current) add(counter.comment, counter)
    for (const connection of this.#connections) {
      if (!isOpen(connection) || connection.originalDestination === connection.replySource) continue
      const route = this.#routes.find(({ listener }) =>
        listener.protocol === connection.protocol && listener.port === connection.originalPort && (listener.host === ANY_ADDRESS || listener.host === connection.originalDestination))
      const endpoint = route?.endpoints.find((candidate) => candidate.address === connection.replySource && candidate.port === connection.replyPort)
      if (route === undefined || endpoint === undefined) continue
      const protocol = route.listener.protocol
      entry(`${protocol} ${endpoint.slot} ${endpoint.address}:${endpoint.port}`, endpoint.slot, endpoint.address, endpoint.port, protocol).active++
    }
    return [...byEndpoint.values()].map((counted) => ({ ...counted, failed: 0 }))
  }
}
