// Any number of sites behind NAT and one reachable host, for measuring what crosses a site link:
//
//                 WAN bridge (ph<pid>-br, 10.W.0/24)
//       ┌───────────────┬───────────────────┬──── …
//   h1 "cloud" .1   router 1 .101 (-101)   router 2 .102 (-102)
//                    │ MASQUERADE           │ MASQUERADE
//           site s1 bridge (-201)    site s2 bridge (-202)
//           10.S1.0/24, gw .254      10.S2.0/24, gw .254
//           h2 … h(1+H)              h(2+H) … h(1+2H)
//
// The routers are wired as nat-topology.ts's (netns-wiring.ts natRouter): nobody dials into a site,
// so hosts of different sites reach each other through h1. A router's wan0 carries everything its
// site exchanges with the rest of the cluster: it is the site link, and its counters are what the
// site pays on its WAN. Namespaces are named ph<pid>-<digits|br>, swept by network.ts's sweepStale().

import { AGENT_PORT, type Host, type Topology } from './hosts.js'
import { inNamespace, run } from './command.js'
import type { HostAddress, NetworkPlan } from './network.js'
import { addBridge, addNamespace, natRouter, wire, type NatPorts } from './netns-wiring.js'

/** Bytes and packets through one interface, as the kernel counts them (Ethernet frames). */
export interface LinkCounters {
  readonly rxBytes: number
  readonly txBytes: number
  readonly rxPackets: number
  readonly txPackets: number
}

export interface SitesTopology extends Topology {
  /** Site names, s1 … sN. */
  readonly sites: readonly string[]
  /** `cloud` for h1, else the host's site. */
  siteOf(host: string): string
  /**
   * The counters of `site`'s router's WAN interface now (rx is what came into the site, tx what
   * left), or of the cloud host's interface for `cloud`.
   */
  wanCounters(site: string): Promise<LinkCounters>
}

const MOST_SITES = 50
const MOST_PER_SITE = 40

/** `ports`: how the routers map (netns-wiring.ts): drawn at random (every link between sites relayed) or kept (links punched). */
export function sitesTopology(siteCount: number, hostsPerSite: number, pid = process.pid, ports: NatPorts = 'random-ports'): SitesTopology {
  if (!Number.isInteger(siteCount) || siteCount < 1 || siteCount > MOST_SITES) throw new RangeError(`sites: 1 to ${MOST_SITES}, not ${siteCount}`)
  if (!Number.isInteger(hostsPerSite) || hostsPerSite < 1 || hostsPerSite > MOST_PER_SITE) throw new RangeError(`hosts per site: 1 to ${MOST_PER_SITE}, not ${hostsPerSite}`)
  const wan = `10.${200 + (pid % 50)}.${pid % 250}`
  const ns = (suffix: number | 'br'): string => `ph${pid}-${suffix}`
  const sites = Array.from({ length: siteCount }, (_, s) => `s${s + 1}`)
  const routers = sites.map((site, s) => ({
    site, namespace: ns(101 + s), bridge: ns(201 + s), wanAddress: `${wan}.${101 + s}`, subnet: `10.${100 + s}.${pid % 250}`,
    hosts: Array.from({ length: hostsPerSite }, (_, i) => 2 + s * hostsPerSite + i),
  }))
  const routerOf = (index: number) => routers.find((router) => router.hosts.includes(index))
  const hostAddress = (index: number): string => {
    const router = routerOf(index)
    return router === undefined ? `${wan}.${index}` : `${router.subnet}.${index}`
  }
  const indices = [1, ...routers.flatMap((router) => router.hosts)]
  const hosts: HostAddress[] = indices.map((index) => ({ index, namespace: ns(index), address: hostAddress(index) }))
  const plan: NetworkPlan = { bridgeNamespace: ns('br'), hosts, prefixLength: 24, clientAddress: `${wan}.254` }
  const siteOf = (name: string): string => {
    const index = Number(/^h(\d+)$/.exec(name)?.[1])
    if (index === 1) return 'cloud'
    const router = routerOf(index)
    if (router === undefined) throw new RangeError(`no host ${name}`)
    return router.site
  }

  const topology: SitesTopology = {
    plan,
    sites,
    siteOf,
    // Hosts first, then routers, then bridges: each veth is deleted from its inner side.
    namespaces: [...hosts.map((host) => host.namespace), ...routers.map((r) => r.namespace), ...routers.map((r) => r.bridge), plan.bridgeNamespace],
    async create() {
      await addBridge(plan.bridgeNamespace)
      await addNamespace(ns(1))
      await wire(ns(1), 'eth0', plan.bridgeNamespace, 'p1', hostAddress(1))
      for (const router of routers) {
        await addNamespace(router.namespace)
        await addBridge(router.bridge)
        await wire(router.namespace, 'wan0', plan.bridgeNamespace, `r${router.site}`, router.wanAddress)
        await wire(router.namespace, 'lan0', router.bridge, 'gw', `${router.subnet}.254`)
        await natRouter(router.namespace, ports)
        for (const index of router.hosts) {
          await addNamespace(ns(index))
          await wire(ns(index), 'eth0', router.bridge, `p${index}`, hostAddress(index))
          await run(['ip', '-n', ns(index), 'route', 'add', 'default', 'via', `${router.subnet}.254`])
        }
      }
    },
    async wanCounters(site) {
      // The cloud host stands on the WAN itself: its one interface is its link.
      if (site === 'cloud') return parseLinkCounters(await run(inNamespace(ns(1), ['ip', '-s', '-j', 'link', 'show', 'eth0'])))
      const router = routers.find((candidate) => candidate.site === site)
      if (router === undefined) throw new RangeError(`no site ${site}`)
      return parseLinkCounters(await run(inNamespace(router.namespace, ['ip', '-s', '-j', 'link', 'show', 'wan0'])))
    },
    joinFor(host: Host, all: readonly Host[]): string[] {
      const site = siteOf(host.name)
      // The reachable host, and the other hosts of one's own site: what an operator can write down.
      return all.filter((other) => other !== host && (other.index === 1 || (site !== 'cloud' && siteOf(other.name) === site))).map((other) => `${other.address}:${AGENT_PORT}`)
    },
  }
  return topology
}

/** The counters in `ip -s -j link show <one interface>`'s output. */
export function parseLinkCounters(json: string): LinkCounters {
  const links = JSON.parse(json) as Array<{ stats64?: { rx?: { bytes?: unknown; packets?: unknown }; tx?: { bytes?: unknown; packets?: unknown } } }>
  if (!Array.isArray(links) || links.length !== 1) throw new Error(`expected one interface in ip -s -j link output, got ${Array.isArray(links) ? links.length : typeof links}`)
  const stats = links[0]!.stats64
  const number = (value: unknown, what: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error(`ip -s -j link: ${what} is not a count: ${JSON.stringify(value)}`)
    return value
  }
  return {
    rxBytes: number(stats?.rx?.bytes, 'rx bytes'), txBytes: number(stats?.tx?.bytes, 'tx bytes'),
    rxPackets: number(stats?.rx?.packets, 'rx packets'), txPackets: number(stats?.tx?.packets, 'tx packets'),
  }
}
