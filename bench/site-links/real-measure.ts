// One real measurement of what crosses site links when a cluster is idle: a reachable "cloud" host
// h1 and `sites` sites of `hostsPerSite` hosts each behind NAT routers (test/hosts/sites-topology.ts),
// real `peer agent` processes in network namespaces, every host labelled with its site. Once every
// host sees every other alive and a service spread over the sites runs, the agents are left alone
// for `idleSeconds`; the kernel's counters of each router's WAN interface before and after give the
// bytes and packets each site link carried, each way. The agents' own transport counters over the
// same window say how many application messages (and their encoded bytes) the site's hosts sent.

import { ask } from '../../cli/agent-client.js'
import { validateService, type SpecError } from '../../core/index.js'
import type { TransportStats } from '../../p2p/index.js'
import { nodesOf, until } from '../../test/hosts/agent-views.js'
import { Hosts, type Host } from '../../test/hosts/hosts.js'
import { sweepStale } from '../../test/hosts/network.js'
import type { NatPorts } from '../../test/hosts/netns-wiring.js'
import { sitesTopology, type LinkCounters } from '../../test/hosts/sites-topology.js'
import { loadAverage } from '../real-hosts/figures.js'
import type { SiteLinksLine } from './line.js'
import { untilAgentsQuiet } from '../real-hosts/quiet.js'

/** Agents loading at once: more on two busy cores can miss the ready timeout. */
const START_CONCURRENCY = 2
const READY_TIMEOUT_MS = 120_000
const MESH_TIMEOUT_MS = 180_000
/** After the agents are quiet, a little more: relay reservations and hole-punch attempts settle. */
const SETTLE_MS = 10_000

/** One interface's traffic, per second: out of the site (or cloud host) and into it. */
export interface LinkRate {
  readonly site: string
  readonly outBytesPerSec: number
  readonly inBytesPerSec: number
  readonly outPacketsPerSec: number
  readonly inPacketsPerSec: number
}

export interface RealSiteLinks extends SiteLinksLine {
  readonly source: 'real'
  /** The agents' --usage-interval, seconds. */
  readonly usageIntervalS: number
  /** How the sites' routers map ports: at random (links between sites relayed) or kept (punched). */
  readonly routers: NatPorts
  /** Each site link (its router's wan0): bytes and packets per second out of the site and into it. */
  readonly links: readonly LinkRate[]
  /**
   * The cloud host's own interface: what it exchanges with every site, and every relayed byte
   * between two sites twice (in from one, out to the other).
   */
  readonly cloud: LinkRate
  /**
   * What each site's agents (and the cloud host's) sent per second, as the agents count it (p2p/transport.ts): direct
   * messages and broadcasts published, and their encoded bytes without libp2p framing — to every
   * peer, those of their own site included, and a broadcast counted once however many peers it
   * reaches.
   */
  readonly agentsPerSite: ReadonlyArray<{ readonly site: string; readonly directPerSec: number; readonly publishedPerSec: number; readonly messageBytesPerSec: number }>
  /**
   * Links from site hosts to hosts of other sites, as the site hosts' agents hold them at the end;
   * and how many (viewer, member) pairs then were not alive (0 when membership was quiet).
   */
  readonly crossSiteLinks: { readonly direct: number; readonly punched: number; readonly relayed: number; readonly none: number; readonly notAlive: number }
  readonly loadBefore: readonly number[]
  readonly loadAfter: readonly number[]
}

/**
 * `usageIntervalS`: the agents' `--usage-interval` (absent: their default, 10 s). Each measurement of
 * a host's tasks re-broadcasts its advert, the one thing an idle agent publishes on a timer.
 */
export async function measureRealSiteLinks(sites: number, hostsPerSite: number, idleSeconds: number, log: (line: string) => void, usageIntervalS?: number, ports: NatPorts = 'random-ports'): Promise<RealSiteLinks> {
  const swept = sweepStale()
  if (swept.length > 0) log(`removed namespaces of earlier runs: ${swept.join(' ')}`)
  const topology = sitesTopology(sites, hostsPerSite, process.pid, ports)
  const count = topology.plan.hosts.length
  const hosts = await Hosts.create({
    count, topology, cpu: '2', memory: '2Gi', readyTimeoutMs: READY_TIMEOUT_MS,
    agentArgs: usageIntervalS === undefined ? [] : ['--usage-interval', String(usageIntervalS)],
    agentArgsFor: (host) => ['--labels', `site=${topology.siteOf(host.name)}`],
  })
  try {
    const startedAt = Date.now()
    // The reachable host first: every other host joins through it.
    await hosts.startAgent(hosts.host('h1'))
    const waiting = hosts.hosts.filter((host) => host.name !== 'h1')
    const starter = async (): Promise<void> => {
      for (let host = waiting.shift(); host !== undefined; host = waiting.shift()) await hosts.startAgent(host)
    }
    await Promise.all(Array.from({ length: START_CONCURRENCY }, starter))
    await Promise.all(hosts.hosts.map((host) => hosts.waitForMembers(host, count, MESH_TIMEOUT_MS)))
    log(`${sites} sites × ${hostsPerSite} hosts + cloud: ${count} agents meshed in ${Date.now() - startedAt} ms`)

    const replicas = sites * hostsPerSite
    const errors: SpecError[] = []
    const spec = validateService('idle', { command: ['sleep', '3600'], replicas, spreadBy: 'site', constraints: ['site != cloud'], resources: { cpu: '50m', memory: '16Mi' } }, 'idle', errors)
    if (spec === undefined) throw new Error(`the measured service is invalid: ${JSON.stringify(errors)}`)
    await ask({ peer: hosts.host('h2').socket, timeoutMs: 30_000 }, 'POST /v1/apply', { body: { services: [spec] } })
    await until(`${replicas} copies of idle running`, async () => {
      const { tasks } = await ask({ peer: hosts.host('h1').socket, timeoutMs: 5_000 }, 'GET /v1/tasks', { query: { service: 'idle' } })
      const running = tasks.filter((task) => task.state === 'running').length
      return running === replicas ? true : `${running} running`
    }, MESH_TIMEOUT_MS, 500)
    log(`idle placed; agents quiet after ${await untilAgentsQuiet(hosts.hosts, 60_000)} ms`)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

    const loadBefore = loadAverage()
    const linked = [...topology.sites, 'cloud']
    const countersBefore = await Promise.all(linked.map((site) => topology.wanCounters(site)))
    const statsBefore = await Promise.all(hosts.hosts.map(transportOf))
    const windowStart = performance.now()
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000))
    const countersAfter = await Promise.all(linked.map((site) => topology.wanCounters(site)))
    const statsAfter = await Promise.all(hosts.hosts.map(transportOf))
    const seconds = (performance.now() - windowStart) / 1000
    const loadAfter = loadAverage()

    const perSecond = (value: number): number => Math.round(value / seconds)
    const rates = linked.map((site, s) => {
      const delta = difference(countersBefore[s]!, countersAfter[s]!)
      // wan0 sends what leaves the site and receives what comes in.
      return { site, outBytesPerSec: perSecond(delta.txBytes), inBytesPerSec: perSecond(delta.rxBytes), outPacketsPerSec: perSecond(delta.txPackets), inPacketsPerSec: perSecond(delta.rxPackets) }
    })
    const links = rates.slice(0, -1)
    const cloud = rates.at(-1)!
    const agentsPerSite = linked.map((site) => {
      let direct = 0
      let published = 0
      let bytes = 0
      hosts.hosts.forEach((host, i) => {
        if (topology.siteOf(host.name) !== site) return
        direct += statsAfter[i]!.directSent - statsBefore[i]!.directSent
        published += statsAfter[i]!.published - statsBefore[i]!.published
        bytes += statsAfter[i]!.bytesSent - statsBefore[i]!.bytesSent + statsAfter[i]!.bytesPublished - statsBefore[i]!.bytesPublished
      })
      return { site, directPerSec: round1(direct / seconds), publishedPerSec: round1(published / seconds), messageBytesPerSec: perSecond(bytes) }
    })
    const mean = (values: readonly number[]): number => Math.round(values.reduce((sum, value) => sum + value, 0) / values.length)
    return {
      bench: 'site-links', source: 'real', sites, hostsPerSite, routers: ports, idleSeconds: Math.round(seconds), usageIntervalS: usageIntervalS ?? 10,
      links, cloud, meanOutBytesPerSec: mean(links.map((link) => link.outBytesPerSec)), meanInBytesPerSec: mean(links.map((link) => link.inBytesPerSec)),
      agentsPerSite, crossSiteLinks: await crossSiteLinks(hosts.hosts, topology.siteOf), loadBefore, loadAfter,
    }
  } finally {
    hosts.teardown()
  }
}

const round1 = (value: number): number => Math.round(value * 10) / 10

async function transportOf(host: Host): Promise<TransportStats> {
  return (await ask({ peer: host.socket, timeoutMs: 10_000 }, 'GET /v1/stats')).transport
}

function difference(before: LinkCounters, after: LinkCounters): LinkCounters {
  return { rxBytes: after.rxBytes - before.rxBytes, txBytes: after.txBytes - before.txBytes, rxPackets: after.rxPackets - before.rxPackets, txPackets: after.txPackets - before.txPackets }
}

/** How each site host's agent is linked to each host of another site (cloud excluded), and views of members not alive. */
async function crossSiteLinks(hosts: readonly Host[], siteOf: (name: string) => string): Promise<RealSiteLinks['crossSiteLinks']> {
  const siteOfPeer = new Map(hosts.map((host) => [host.peerId, siteOf(host.name)]))
  const tally = { direct: 0, punched: 0, relayed: 0, none: 0, notAlive: 0 }
  for (const host of hosts) {
    const own = siteOf(host.name)
    const rows = await nodesOf(host)
    tally.notAlive += rows.filter((row) => row.status !== 'alive').length
    if (own === 'cloud') continue
    for (const row of rows) {
      const far = siteOfPeer.get(row.peer)
      if (far === undefined || far === own || far === 'cloud') continue
      if (row.link === undefined || row.link === null) tally.none++
      else tally[row.link.kind]++
    }
  }
  return tally
}
