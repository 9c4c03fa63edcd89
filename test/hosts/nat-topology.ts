// Two sites behind NAT and a reachable host, as an edge fleet is wired:
//
//              WAN bridge (ph<pid>-br, 10.W.0/24)
//       ┌───────────────┼──────────────────┬────────────────┐
//   h1 "cloud" .1   router A .11 (-11)   router B .12 (-12)   h6 stranger .6 (a swarm key of its own)
//                    │ MASQUERADE          │ MASQUERADE
//           site A bridge (-21)      site B bridge (-22)
//           10.A.0/24, gw .254       10.B.0/24, gw .254
//             h2 .2   h3 .3            h4 .4   h5 .5
//
// With `reachable: 2` a second reachable host h7 (.7) stands on the WAN bridge beside h1: every
// site host joins both, and each is a relay (RelayKeeper reserves on two public peers), so losing
// one leaves the other.
//
// Each router forwards its site's traffic to the WAN with source NAT and drops connections opened
// from the WAN into its site; nothing on the WAN has a route to a site. So a site's hosts can dial
// each other and h1, and nobody can dial into a site. By default the routers draw a new port for
// every connection, so hole punching always misses and hosts of one site never reach the other's
// directly; with `ports: 'keeps-ports'` they keep source ports, and the sites punch direct links
// (netns-wiring.ts, natRouter). Every namespace is named ph<pid>-<digits|br>, so network.ts's sweepStale() removes
// the leftovers of a killed run.

import { AGENT_PORT, type Host, type Topology } from './hosts.js'
import { inNamespace, run } from './command.js'
import type { HostAddress, NetworkPlan } from './network.js'
import { addBridge, addNamespace, natRouter, wire, type NatPorts } from './netns-wiring.js'

export const SITES = { cloud: ['h1', 'h7'], a: ['h2', 'h3'], b: ['h4', 'h5'], stranger: ['h6'] } as const

/** Reachable hosts on the WAN (by index): h1, and h7 when there are two. */
const REACHABLE = [1, 7]

export interface NatTopologyOptions {
  /** How many reachable hosts stand on the WAN: h1, or h1 and h7. Default 1. */
  readonly reachable?: 1 | 2
  /**
   * How the routers map ports (netns-wiring.ts): with `random-ports` (the default) no hole punch can
   * succeed and every link between sites is relayed; with `keeps-ports` they are punched.
   */
  readonly ports?: NatPorts
}

export interface NatTopology extends Topology {
  /** Each host's site: cloud, a, b or stranger. */
  siteOf(host: string): keyof typeof SITES
  /** Join addresses of the stranger (h6), set by the test before it starts h6. */
  strangerJoin: string[]
  /** Cuts a site's WAN link at its router (both ways, connections open or not), or heals it. */
  cutSite(site: 'a' | 'b'): Promise<void>
  healSite(site: 'a' | 'b'): Promise<void>
}

export function natTopology(pid = process.pid, options: NatTopologyOptions = {}): NatTopology {
  const onWan = [...REACHABLE.slice(0, options.reachable ?? 1), 6]
  const octet = pid % 250
  const wan = `10.${200 + (pid % 50)}.${octet}`
  const siteNet = { a: `10.${150 + (pid % 50)}.${octet}`, b: `10.${100 + (pid % 50)}.${octet}` }
  const ns = (suffix: number | 'br'): string => `ph${pid}-${suffix}`
  const hostAddress = (index: number): string => {
    if (onWan.includes(index)) return `${wan}.${index}`
    return `${index <= 3 ? siteNet.a : siteNet.b}.${index}`
  }
  const hosts: HostAddress[] = [1, 2, 3, 4, 5, ...onWan.slice(1)].sort((a, b) => a - b).map((index) => ({ index, namespace: ns(index), address: hostAddress(index) }))
  const plan: NetworkPlan = { bridgeNamespace: ns('br'), hosts, prefixLength: 24, clientAddress: `${wan}.254` }
  const routers = [
    { site: 'a' as const, namespace: ns(11), wanAddress: `${wan}.11`, bridge: ns(21), hosts: [2, 3] },
    { site: 'b' as const, namespace: ns(12), wanAddress: `${wan}.12`, bridge: ns(22), hosts: [4, 5] },
  ]
  const siteOf = (name: string): keyof typeof SITES => {
    for (const [site, names] of Object.entries(SITES)) if ((names as readonly string[]).includes(name)) return site as keyof typeof SITES
    throw new RangeError(`no host ${name}`)
  }

  const topology: NatTopology = {
    plan,
    // Hosts first, then routers, then bridges: each veth is deleted from its inner side.
    namespaces: [...hosts.map((host) => host.namespace), ...routers.map((r) => r.namespace), ...routers.map((r) => r.bridge), plan.bridgeNamespace],
    strangers: [6],
    strangerJoin: [],
    siteOf,
    async create() {
      await addBridge(plan.bridgeNamespace)
      for (const index of onWan) {
        await addNamespace(ns(index))
        await wire(ns(index), 'eth0', plan.bridgeNamespace, `p${index}`, hostAddress(index))
      }
      for (const router of routers) {
        await addNamespace(router.namespace)
        await addBridge(router.bridge)
        await wire(router.namespace, 'wan0', plan.bridgeNamespace, `r${router.site}`, router.wanAddress)
        await wire(router.namespace, 'lan0', router.bridge, 'gw', `${siteNet[router.site]}.254`)
        await natRouter(router.namespace, options.ports ?? 'random-ports')
        for (const index of router.hosts) {
          await addNamespace(ns(index))
          await wire(ns(index), 'eth0', router.bridge, `p${index}`, hostAddress(index))
          await run(['ip', '-n', ns(index), 'route', 'add', 'default', 'via', `${siteNet[router.site]}.254`])
        }
      }
    },
    async cutSite(site) {
      const router = routers.find((r) => r.site === site)!.namespace
      for (const direction of ['-i', '-o']) await run(inNamespace(router, ['iptables', '-w', '-I', 'FORWARD', direction, 'wan0', '-j', 'DROP']))
    },
    async healSite(site) {
      const router = routers.find((r) => r.site === site)!.namespace
      for (const direction of ['-i', '-o']) await run(inNamespace(router, ['iptables', '-w', '-D', 'FORWARD', direction, 'wan0', '-j', 'DROP']))
    },
    joinFor(host: Host, all: readonly Host[]): string[] {
      if (host.index === 6) return topology.strangerJoin
      const site = siteOf(host.name)
      // The reachable hosts, and the other hosts of one's own site: what an operator can write down.
      return all.filter((other) => other !== host && (REACHABLE.includes(other.index) || (site !== 'cloud' && siteOf(other.name) === site))).map((other) => `${other.address}:${AGENT_PORT}`)
    },
  }
  return topology
}
