// A site of two routed subnets behind one NAT router (routed-site-topology.ts): h2 and h3, both
// labelled site=s1, each on its own subnet, each joining only the reachable host h1. The route
// between the subnets is refused at first (a firewall between VLANs, opened later), so the two link
// through h1's relay. Once it opens, nothing in libp2p dials again a peer it is connected to; told
// by their labels that they share a site, the two dial each other's own addresses beside the
// relayed link, and the direct connection is kept.
//
// Needs root (namespaces, iptables NAT): it fails, never skips, without them.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { nodesOf, until } from './agent-views.js'
import { Hosts } from './hosts.js'
import { sweepStale } from './network.js'
import { routedSiteTopology } from './routed-site-topology.js'

const TIMEOUT_MS = 45_000
/**
 * A check every 5 s and a dial; or, when a check came while the route was still closed, the retry
 * 30 s after that failure.
 */
const DIRECT_WITHIN_MS = 45_000

/** How h2 and h3 are linked, as each reports it (`peer nodes`' LINK column). */
async function linkKinds(hosts: Hosts, byPeer: ReadonlyMap<string, string>): Promise<string[]> {
  const lines: string[] = []
  for (const [from, to] of [['h2', 'h3'], ['h3', 'h2']] as const) {
    const row = (await nodesOf(hosts.host(from))).find((candidate) => candidate.peer === hosts.host(to).peerId)
    const link = row?.link
    lines.push(`${from} → ${to}: ${link === undefined || link === null ? 'none' : link.kind === 'relayed' ? `relayed through ${byPeer.get(link.via ?? '') ?? link.via}` : link.kind}`)
  }
  return lines
}

/** Waits until h2 and h3 both report a direct link to the other; their last report. */
async function linkedDirectly(hosts: Hosts, byPeer: ReadonlyMap<string, string>, timeoutMs: number): Promise<string[]> {
  let seen: string[] = []
  await until('h2 and h3 linked directly both ways', async () => {
    seen = await linkKinds(hosts, byPeer)
    return seen.every((line) => line.endsWith(': direct')) ? true : seen.join(', ')
  }, timeoutMs)
  return seen
}

const routed = suite('hosts: a site of two routed subnets behind one NAT')

routed('two hosts of one site on different subnets, linked through the relay while the route between them was closed, end up linked directly once it opens', async () => {
  sweepStale()
  const topology = routedSiteTopology()
  const hosts = await Hosts.create({
    count: 3, topology, memory: '2Gi', cpu: '2',
    agentArgsFor: (host) => ['--labels', `site=${host.index === 1 ? 'cloud' : 's1'}`],
  })
  const byPeer = new Map(hosts.hosts.map((host) => [host.peerId, host.name]))
  try {
    await topology.closeRoute()
    await hosts.startAgent(hosts.host('h1'))
    await Promise.all(['h2', 'h3'].map((name) => hosts.startAgent(hosts.host(name))))
    const started = Date.now()
    await until('every host alive in every view, h2 and h3 behind NAT and linked through h1', async () => {
      for (const host of hosts.hosts) {
        const rows = await nodesOf(host)
        if (rows.length !== 3) return `${host.name} lists ${rows.length} peers`
        for (const row of rows) {
          const name = byPeer.get(row.peer) ?? row.peer
          if (row.status !== 'alive') return `${host.name} sees ${name} ${row.status}`
          if (name !== 'h1' && row.reachability !== 'nat') return `${host.name} sees ${name} as ${row.reachability ?? 'nothing'}`
        }
      }
      const links = await linkKinds(hosts, byPeer)
      return links.every((line) => line.endsWith(': relayed through h1')) ? true : links.join(', ')
    }, TIMEOUT_MS)
    const relayedMs = Date.now() - started
    await topology.openRoute()
    const openedAt = Date.now()
    const links = await linkedDirectly(hosts, byPeer, DIRECT_WITHIN_MS)
    const directMs = Date.now() - openedAt
    // Each end still reaches h1 directly: the direct link to the site-mate came beside that one.
    for (const name of ['h2', 'h3']) {
      const row = (await nodesOf(hosts.host(name))).find((candidate) => candidate.peer === hosts.host('h1').peerId)
      assert.equal(row?.link, { kind: 'direct' }, `${name} → h1`)
    }
    process.stdout.write(`  routed site: alive and relayed ${relayedMs} ms after the starts; direct both ways ${directMs} ms after the route opened (${links.join(', ')})\n`)
  } finally {
    hosts.teardown()
  }
})

routed.run()
