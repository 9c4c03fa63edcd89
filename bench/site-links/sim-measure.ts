// The simulator's figure for the same idle cluster as real-measure.ts: one reachable "cloud" host and
// `sites` sites of `hostsPerSite` hosts, each labelled with its site, the same protocol machines the
// agents run over the modelled LAN, and one service spread over the sites. Start-up and placement are
// left out: only what is sent in the second half of the run counts (sim/site-links.ts). Each site's
// WAN link is what its hosts exchange with every host outside the site.

import { peerId, validateServices, type PeerView } from '../../core/index.js'
import { NO_FAULTS } from '../../sim/faults.js'
import { NETWORK_PROFILES } from '../../sim/network.js'
import { Simulation } from '../../sim/runner.js'
import type { SiteBoundaryFigure } from '../../sim/site-links.js'
import type { SiteLinksLine } from './line.js'

const DURATION_MS = 120_000
const IDLE_FROM_MS = 60_000

export interface SimSiteLinks extends SiteLinksLine {
  readonly source: 'sim'
  readonly seed: number
  /** The largest over the sites' links, and the means of messages, each way. */
  readonly maxOutBytesPerSec: number
  readonly maxInBytesPerSec: number
  readonly meanOutMessagesPerSec: number
  readonly meanInMessagesPerSec: number
  /** Mean over the site links of both ways together, by message kind. */
  readonly meanBytesPerSecByKind: Readonly<Record<string, number>>
  /** Between two sites (not the cloud), both ways, mean over the pairs: the figure a mesh of site links would see. */
  readonly meanSitePairBytesPerSec: number
  /** The cloud's one link: what all sites exchange with the reachable host. */
  readonly cloud: SiteBoundaryFigure
  /** Slots not running at the end: 0 when the cluster was idle in steady state. */
  readonly pendingSlots: number
  readonly violations: number
  readonly wallMs: number
}

/** As long as a libp2p Ed25519 peer id (`12D3KooW…`, 52 characters): ids are in most messages, and their length is most of a probe's. */
const idOf = (host: string): string => `12D3KooW${host.padStart(44, 'x')}`

/** The cloud host, then site s1's hosts, s2's, …; labelled as the real hosts are (site, host). */
function sitePeers(sites: number, hostsPerSite: number): PeerView[] {
  const names = ['cloud', ...Array.from({ length: sites * hostsPerSite }, (_, i) => `s${Math.floor(i / hostsPerSite) + 1}`)]
  return names.map((site, i) => ({
    id: peerId(idOf(`h${i + 1}`)), state: 'alive', capacity: { cpuMilli: 2000, memoryMiB: 2048, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: { host: `h${i + 1}`, site }, drivers: ['process'], tasks: [],
  }))
}

export function measureSimSiteLinks(sites: number, hostsPerSite: number, seed: number): SimSiteLinks {
  const replicas = sites * hostsPerSite
  const services = validateServices({ services: { idle: { command: ['sleep', '3600'], replicas, spreadBy: 'site', constraints: ['site != cloud'], resources: { cpu: '50m', memory: '16Mi' } } } })
  if (!services.ok) throw new Error(`the measured service is invalid: ${JSON.stringify(services.errors)}`)
  const started = performance.now()
  const result = new Simulation({
    seed, peers: sitePeers(sites, hostsPerSite), services: services.services, durationMs: DURATION_MS, faults: NO_FAULTS,
    network: NETWORK_PROFILES.lan, profile: 'lan', siteLinksFromMs: IDLE_FROM_MS,
  }).run()
  const wallMs = Math.round(performance.now() - started)
  const figures = result.siteLinks!
  const links = figures.sites.filter((site) => site.site !== 'cloud')
  const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length)
  const kinds = [...new Set(links.flatMap((link) => Object.keys(link.bytesPerSecByKind)))].sort()
  const sitePairs = figures.pairs.filter((pair) => !pair.sites.includes('cloud'))
  return {
    bench: 'site-links', source: 'sim', sites, hostsPerSite, seed, idleSeconds: figures.seconds,
    meanOutBytesPerSec: Math.round(mean(links.map((link) => link.outBytesPerSec))),
    meanInBytesPerSec: Math.round(mean(links.map((link) => link.inBytesPerSec))),
    maxOutBytesPerSec: Math.max(...links.map((link) => link.outBytesPerSec)),
    maxInBytesPerSec: Math.max(...links.map((link) => link.inBytesPerSec)),
    meanOutMessagesPerSec: Math.round(mean(links.map((link) => link.outMessagesPerSec)) * 10) / 10,
    meanInMessagesPerSec: Math.round(mean(links.map((link) => link.inMessagesPerSec)) * 10) / 10,
    meanBytesPerSecByKind: Object.fromEntries(kinds.map((kind) => [kind, Math.round(mean(links.map((link) => link.bytesPerSecByKind[kind] ?? 0)))])),
    // Pairs that carried nothing are absent from the figures: they count as 0 in the mean.
    meanSitePairBytesPerSec: Math.round(sitePairs.reduce((sum, pair) => sum + pair.aToBBytesPerSec + pair.bToABytesPerSec, 0) / ((sites * (sites - 1)) / 2 || 1)),
    cloud: figures.sites.find((site) => site.site === 'cloud')!,
    pendingSlots: result.metrics.pendingSlots,
    violations: result.violations.length,
    wallMs,
  }
}
