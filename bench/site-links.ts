// `npm run bench -- site-links [--only sim|real] [--sites 2,3] [--per-site 2,4] [--seconds 60] [--seed 1] [--usage-interval S] [--routers random-ports|keeps-ports]`:
// what an idle cluster sends over each site link — a site's one WAN link, to the reachable host and
// the other sites — in bytes per second each way, and whether it grows with the hosts of the sites.
// One JSON line per configuration (sites × hosts per site):
//
//   sim   the simulator (sim/site-links.ts), at 2, 5 and 20 sites of 2 and 5 hosts, and at every
//         configuration measured for real; application messages as the protocol encodes them, no
//         framing. Seconds of CPU.
//   real  real agents in network namespaces behind NAT routers (bench/site-links/real-measure.ts),
//         the kernel's counters of each router's WAN interface over an idle window: every byte on
//         the wire. Needs root; one configuration takes 2–4 minutes. Default: 2 sites of 2 and of 4.
//         --usage-interval S passes the agents' own flag: how often a host measures its tasks and
//         re-broadcasts its advert (default 10 s); 3600 leaves that periodic advert out.
//         --routers: NAT routers that draw a port per connection (default: every link between
//         sites stays relayed through the cloud host) or keep ports (the links are hole-punched).
//
// Default: both. What each figure counts and leaves out: BENCHMARKS.md, "Bytes over a site link".

import { parseArgs } from 'node:util'
import { measureRealSiteLinks } from './site-links/real-measure.js'
import { measureSimSiteLinks } from './site-links/sim-measure.js'

const SIM_SITES = [2, 5, 20]
const SIM_PER_SITE = [2, 5]

const log = (line: string): void => void process.stderr.write(`[site-links ${new Date().toISOString().slice(11, 19)}] ${line}\n`)

/** A comma-separated list of whole numbers in [least, most]. */
function counts(flag: string, text: string, least: number, most: number): number[] {
  const values = text.split(',').map((part) => part.trim())
  for (const value of values) {
    if (!/^\d+$/.test(value) || Number(value) < least || Number(value) > most) throw new Error(`--${flag}: expected whole numbers from ${least} to ${most}, comma-separated, got ${JSON.stringify(text)}`)
  }
  return values.map(Number)
}

try {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      sites: { type: 'string', default: '2' },
      'per-site': { type: 'string', default: '2,4' },
      seconds: { type: 'string', default: '60' },
      seed: { type: 'string', default: '1' },
      'usage-interval': { type: 'string' },
      routers: { type: 'string', default: 'random-ports' },
    },
    strict: true,
  })
  if (values.only !== undefined && values.only !== 'sim' && values.only !== 'real') throw new Error(`--only: sim or real, not ${JSON.stringify(values.only)}`)
  const realSites = counts('sites', values.sites!, 1, 6)
  const realPerSite = counts('per-site', values['per-site']!, 1, 8)
  const [seconds] = counts('seconds', values.seconds!, 5, 3600)
  const [seed] = counts('seed', values.seed!, 0, 2 ** 31)
  const routers = values.routers
  if (routers !== 'random-ports' && routers !== 'keeps-ports') throw new Error(`--routers: random-ports or keeps-ports, not ${JSON.stringify(routers)}`)
  const usageIntervalS = values['usage-interval'] === undefined ? undefined : counts('usage-interval', values['usage-interval'], 1, 86_400)[0]
  const real = realSites.flatMap((sites) => realPerSite.map((perSite) => [sites, perSite] as const))

  if (values.only !== 'real') {
    const grid = [...SIM_SITES.flatMap((sites) => SIM_PER_SITE.map((perSite) => [sites, perSite] as const)), ...real]
    const seen = new Set<string>()
    for (const [sites, perSite] of grid.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
      if (seen.has(`${sites}x${perSite}`)) continue
      seen.add(`${sites}x${perSite}`)
      console.log(JSON.stringify(measureSimSiteLinks(sites, perSite, seed!)))
    }
  }
  if (values.only !== 'sim') {
    for (const [sites, perSite] of real) console.log(JSON.stringify(await measureRealSiteLinks(sites, perSite, seconds!, log, usageIntervalS, routers)))
  }
} catch (error) {
  process.stderr.write(`site-links: ${(error as Error).message}\n`)
  process.exitCode = 1
}
