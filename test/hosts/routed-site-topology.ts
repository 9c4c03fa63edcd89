// One site of two routed subnets behind one NAT router, and a reachable host, as a site with VLANs
// is wired:
//
//              WAN bridge (ph<pid>-br, 10.W.0/24)
//       ┌───────────────┐
//   h1 "cloud" .1   router .11 (-11): MASQUERADE to the WAN, routes between its two LANs untranslated
//                    ├── lan0 → bridge (-21), 10.X.0/24, gw .254: h2 .2
//                    └── lan1 → bridge (-22), 10.Y.0/24, gw .254: h3 .3
//
// h2 and h3 reach each other directly through the router, but neither is on the other's subnet,
// and both are behind NAT as the cloud host sees them. Each joins the cloud host only. The route
// between the two subnets can be refused at the router (as a firewall between VLANs would: a TCP
// reset, so a dial fails at once) and opened again. Namespaces are named ph<pid>-<digits|br>, swept
// by network.ts's sweepStale().

import { AGENT_PORT, type Host, type Topology } from './hosts.js'
import { inNamespace, run } from './command.js'
import type { HostAddress, NetworkPlan } from './network.js'
import { addBridge, addNamespace, natRouter, wire } from './netns-wiring.js'

export interface RoutedSiteTopology extends Topology {
  /** Refuses, or opens again, every connection between the two subnets at the router. */
  closeRoute(): Promise<void>
  openRoute(): Promise<void>
}

export function routedSiteTopology(pid = process.pid): RoutedSiteTopology {
  const octet = pid % 250
  const wan = `10.${200 + (pid % 50)}.${octet}`
  const lans = [
    { inside: 'lan0', bridge: 21, subnet: `10.${150 + (pid % 50)}.${octet}`, host: 2 },
    { inside: 'lan1', bridge: 22, subnet: `10.${100 + (pid % 50)}.${octet}`, host: 3 },
  ]
  const ns = (suffix: number | 'br'): string => `ph${pid}-${suffix}`
  const hostAddress = (index: number): string => {
    const lan = lans.find((candidate) => candidate.host === index)
    return lan === undefined ? `${wan}.${index}` : `${lan.subnet}.${index}`
  }
  const hosts: HostAddress[] = [1, 2, 3].map((index) => ({ index, namespace: ns(index), address: hostAddress(index) }))
  const plan: NetworkPlan = { bridgeNamespace: ns('br'), hosts, prefixLength: 24, clientAddress: `${wan}.254` }
  const router = ns(11)
  return {
    plan,
    // Hosts first, then the router, then bridges: each veth is deleted from its inner side.
    namespaces: [...hosts.map((host) => host.namespace), router, ...lans.map((lan) => ns(lan.bridge)), plan.bridgeNamespace],
    async create() {
      await addBridge(plan.bridgeNamespace)
      await addNamespace(ns(1))
      await wire(ns(1), 'eth0', plan.bridgeNamespace, 'p1', hostAddress(1))
      await addNamespace(router)
      await wire(router, 'wan0', plan.bridgeNamespace, 'r', `${wan}.11`)
      for (const lan of lans) {
        await addBridge(ns(lan.bridge))
        await wire(router, lan.inside, ns(lan.bridge), 'gw', `${lan.subnet}.254`)
        await addNamespace(ns(lan.host))
        await wire(ns(lan.host), 'eth0', ns(lan.bridge), `p${lan.host}`, hostAddress(lan.host))
        await run(['ip', '-n', ns(lan.host), 'route', 'add', 'default', 'via', `${lan.subnet}.254`])
      }
      await natRouter(router, 'random-ports', lans.map((lan) => lan.inside))
    },
    async closeRoute() {
      for (const [from, to] of [['lan0', 'lan1'], ['lan1', 'lan0']]) {
        await run(inNamespace(router, ['iptables', '-w', '-I', 'FORWARD', '-i', from!, '-o', to!, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset']))
      }
    },
    async openRoute() {
      for (const [from, to] of [['lan0', 'lan1'], ['lan1', 'lan0']]) {
        await run(inNamespace(router, ['iptables', '-w', '-D', 'FORWARD', '-i', from!, '-o', to!, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset']))
      }
    },
    // The cloud host only: what an operator of the site writes down.
    joinFor: (host: Host, all: readonly Host[]): string[] => host.index === 1 ? [] : all.filter((other) => other.index === 1).map((other) => `${other.address}:${AGENT_PORT}`),
  }
}
