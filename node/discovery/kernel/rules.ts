// The whole rule set, as data, from the listeners and the endpoints that are ready now: a pure
// function, as kube-proxy's iptables mode computes its rules, so every sync writes what the state
// calls for whatever happened before (level-based), and tests can read the rules without a kernel.

import { isIPv4 } from 'node:net'
import type { Endpoint, EndpointSource, Listener, ListenerStatus, Transport } from '../types.js'
import { baseChains, TABLES, type ChainNames, type Table } from './chains.js'

/** Owned chains by table, each with its rules in order (the arguments after `-A <chain>`). */
export type ChainSet = Record<Table, ReadonlyMap<string, readonly string[]>>

export interface RuleSet {
  readonly chains: ChainSet
  readonly statuses: readonly ListenerStatus[]
  /** Where the endpoints of each bound listener are, as written into its rules. */
  readonly routes: readonly ListenerRoute[]
  /**
   * `net.ipv4.conf.all.route_localnet`: a connection from a loopback address (to 127.x, or to
   * 127.0.0.1 on a published port) DNATed to another host leaves with a loopback source, which the
   * kernel drops as a martian unless this is 1; MASQUERADE then gives it the host's address.
   */
  readonly routeLocalnet: boolean
  /** `net.ipv4.ip_forward`: a connection from another host or a container sent on to a third host. */
  readonly ipForward: boolean
}

export interface ListenerRoute {
  readonly listener: Listener
  /** The endpoints in the DNAT rules: the ready local ones if there are any, else every ready one. */
  readonly endpoints: readonly Endpoint[]
}

/** What a rule-counted figure is: connections (nat DNAT rules), or bytes each way (mangle). */
export type CounterKind = 'total' | 'out' | 'in'

/** The comment on a counted rule: it names the endpoint, so counters read back map to it. */
export function counterComment(kind: CounterKind, endpoint: Endpoint, protocol: Transport): string {
  return `${kind} ${endpoint.slot} ${endpoint.address} ${endpoint.port} ${protocol}`
}

/** What packets a listener catches: two listeners with the same key would catch the same ones. */
export function listenerKey(listener: Listener): string {
  return `${listener.protocol} ${listener.host}:${listener.port}`
}

export const ANY_ADDRESS = '0.0.0.0'

/** Why the kernel cannot forward for `listener`, or undefined when it can. */
export function listenerProblem(listener: Listener): string | undefined {
  if (!Number.isInteger(listener.port) || listener.port < 1 || listener.port > 65535) return `port ${listener.port} is not 1 to 65535`
  if (listener.protocol !== 'tcp' && listener.protocol !== 'udp') return `protocol ${String(listener.protocol)} is neither tcp nor udp`
  if (!isIPv4(listener.host)) return `kernel forwarding handles IPv4 addresses only, not ${listener.host}`
  if (listener.host === ANY_ADDRESS && listener.role === 'service') return 'a service listener needs the service address, not 0.0.0.0'
  return undefined
}

/** Only ready endpoints, and only the local ones when any local one is ready (no extra hop). */
export function chooseEndpoints(ready: readonly Endpoint[]): Endpoint[] {
  // A tunnelled endpoint's address is not routable from here, and a NAT rule cannot open a libp2p
  // stream: those endpoints are the userspace proxy's alone (docs/edge.md).
  const usable = ready.filter((endpoint) => endpoint.ready && endpoint.tunnel !== true && isIPv4(endpoint.address))
  const local = usable.filter((endpoint) => endpoint.local)
  return local.length > 0 ? local : usable
}

/**
 * The probability for the i-th of k DNAT rules: each rule takes 1/(k−i) of what the rules before it
 * left, so every endpoint gets 1/k of new connections; the last rule takes the rest unconditionally.
 */
export function shareOf(index: number, count: number): string | undefined {
  const left = count - index
  return left > 1 ? (1 / left).toFixed(10) : undefined
}

const isLoopback = (address: string): boolean => address.startsWith('127.')

/** Matches a packet to the listener in the nat table: by port on any local address, or by address and port. */
function destinationMatch(listener: Listener): string {
  const { protocol, host, port } = listener
  return host === ANY_ADDRESS
    ? `-p ${protocol} -m addrtype --dst-type LOCAL -m ${protocol} --dport ${port}`
    : `-d ${host}/32 -p ${protocol} -m ${protocol} --dport ${port}`
}

/** Matches any packet, either way, of a connection the listener's DNAT rule redirected. */
function connectionMatch(listener: Listener): string {
  const address = listener.host === ANY_ADDRESS ? '' : ` --ctorigdst ${listener.host}`
  return `-p ${listener.protocol} -m conntrack --ctstate DNAT${address} --ctorigdstport ${listener.port}`
}

/**
 * `inTheWay` names, for a listener, a local socket its rules would steal traffic from (see
 * sockets.ts); such a listener is reported unbound, as the userspace proxy reports EADDRINUSE.
 */
export function desiredRules(listeners: readonly Listener[], source: EndpointSource, names: ChainNames, inTheWay: (listener: Listener) => string | undefined = () => undefined): RuleSet {
  const chains = Object.fromEntries(TABLES.map((table) => [table, new Map<string, string[]>()])) as Record<Table, Map<string, string[]>>
  for (const { table, chain } of baseChains(names)) chains[table].set(chain, [])
  const nat = chains.nat
  const services = nat.get(names.services)!
  const postrouting = nat.get(names.postrouting)!
  const reject = chains.filter.get(names.reject)!
  const forward = chains.filter.get(names.forward)!
  const count = chains.mangle.get(names.count)!

  const statuses: ListenerStatus[] = []
  const routes: ListenerRoute[] = []
  const taken = new Map<string, Listener>()
  let specific = 0
  let routeLocalnet = false
  let ipForward = false
  for (const listener of listeners) {
    const key = listenerKey(listener)
    const other = taken.get(key)
    const problem = listenerProblem(listener) ?? (other === undefined ? undefined : `${key} is already forwarded for ${other.service}`) ?? inTheWay(listener)
    if (problem !== undefined) {
      statuses.push({ listener, bound: false, error: problem })
      continue
    }
    taken.set(key, listener)
    statuses.push({ listener, bound: true })
    const { protocol } = listener
    const endpoints = chooseEndpoints(source.ready(listener.service, listener.target, protocol))
    routes.push({ listener, endpoints })
    if (endpoints.length === 0) {
      // DNAT is not allowed to refuse, so the refusal is in filter INPUT, where a packet no rule
      // redirected arrives: clients fail at once instead of waiting for a timeout.
      const match = listener.host === ANY_ADDRESS ? `-p ${protocol} -m ${protocol} --dport ${listener.port}` : `-d ${listener.host}/32 -p ${protocol} -m ${protocol} --dport ${listener.port}`
      // `! --ctstate DNAT`: a connection another listener redirected to a local endpoint on this
      // same port is not this listener's.
      reject.push(`${match} -m conntrack ! --ctstate DNAT -j REJECT --reject-with ${protocol === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable'}`)
      continue
    }
    const chain = names.listener(key)
    // Listeners on an address before those on a port of every local address (which would also
    // catch a service address's traffic on the same port).
    if (listener.host === ANY_ADDRESS) services.push(`${destinationMatch(listener)} -j ${chain}`)
    else services.splice(specific++, 0, `${destinationMatch(listener)} -j ${chain}`)
    nat.set(chain, endpoints.map((endpoint, index) => {
      const share = shareOf(index, endpoints.length)
      const statistic = share === undefined ? '' : ` -m statistic --mode random --probability ${share}`
      return `-p ${protocol} -m comment --comment "${counterComment('total', endpoint, protocol)}"${statistic} -j DNAT --to-destination ${endpoint.address}:${endpoint.port}`
    }))
    const connection = connectionMatch(listener)
    for (const endpoint of endpoints) {
      const replies = `--ctreplsrc ${endpoint.address} --ctreplsrcport ${endpoint.port}`
      count.push(`${connection} ${replies} --ctdir ORIGINAL -m comment --comment "${counterComment('out', endpoint, protocol)}"`)
      count.push(`${connection} ${replies} --ctdir REPLY -m comment --comment "${counterComment('in', endpoint, protocol)}"`)
    }
    const remote = endpoints.filter((endpoint) => !endpoint.local)
    if (remote.length === 0) continue
    // The endpoint's host must send its replies back through this one, which undoes the DNAT.
    for (const endpoint of remote) postrouting.push(`-d ${endpoint.address}/32 -p ${protocol} -m ${protocol} --dport ${endpoint.port} ${connection.slice(`-p ${protocol} `.length)} -j MASQUERADE`)
    forward.push(`${connection} -j ACCEPT`)
    const fromLoopback = isLoopback(listener.host) || listener.host === ANY_ADDRESS
    const fromElsewhere = listener.role === 'mesh' || !isLoopback(listener.host)
    routeLocalnet ||= fromLoopback
    ipForward ||= fromElsewhere
  }
  return { chains, statuses, routes, routeLocalnet, ipForward }
}
