// Hosts of two sites with no connection at all when a relay loses power (nat-topology.ts with
// `reachable: 2`): relay-failover.ts moves only links that exist, so such a pair is linked by
// libp2p's dial by peer id, in the order of p2p/dial-order.ts. Made on demand: site B's h5 restarts
// its agent (so it holds no connection) at the moment h1 loses power; every survivor has h1's
// circuits for h5 and the site A hosts still in its peer store, and h1 still looks connected for
// a few seconds.
//
//   - h5 is linked again with every survivor, site A's hosts through h7, the remaining relay.
//
// Prints how long after h5's agent listened again each survivor had a link to h5 and h5 one to each,
// and what the agents logged about links and failed direct messages meanwhile (times from then too). Needs root (namespaces, iptables NAT): it fails, never
// skips, without them.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { ask } from '../../cli/agent-client.js'
import { nodesOf, until } from './agent-views.js'
import { withLogTails } from '../node/agent/cluster-support.js'
import { Faults } from './faults.js'
import { HistoryRecorder } from './history.js'
import { Hosts, type Host } from './hosts.js'
import { natTopology } from './nat-topology.js'
import { sweepStale } from './network.js'

/** The first mesh of seven agents on a loaded two-core machine (nat-relays.test.ts). */
const MESH_TIMEOUT_MS = 150_000
const RELINK_TIMEOUT_MS = 60_000
const POLL_MS = 100

const redial = suite('hosts: a site host with no connection when a relay loses power')

redial('a site B host restarted as h1 loses power is linked with every survivor, site A through the remaining relay h7', async () => {
  sweepStale()
  const topology = natTopology(process.pid, { reachable: 2 })
  const hosts = await Hosts.create({ count: 7, topology, memory: '2Gi', cpu: '2' })
  const members = hosts.hosts.filter((host) => host.index !== 6)
  const lost = hosts.host('h1')
  const relay = hosts.host('h7')
  const restarted = hosts.host('h5')
  const others = members.filter((host) => host !== lost && host !== restarted)
  const byPeer = new Map(members.map((host) => [host.peerId, host.name]))
  const faults = new Faults(hosts, new HistoryRecorder(members.map((host) => ({ name: host.name, cpuMilli: 2_000, memoryMiB: 2_048 }))))
  try {
    await hosts.startAgent(lost)
    await hosts.startAgent(relay)
    await Promise.all(['h2', 'h3', 'h4', 'h5'].map((name) => hosts.startAgent(hosts.host(name))))
    await until('every host alive in every view, every site host reserved on both reachable hosts', async () => {
      for (const host of members) {
        const alive = (await nodesOf(host)).filter((row) => row.status === 'alive').length
        if (alive !== members.length) return `${host.name} sees ${alive} alive`
        if (topology.siteOf(host.name) === 'cloud') continue
        const { addresses } = await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/status')
        for (const each of [lost, relay]) if (!addresses.some((address) => address.includes(`/p2p/${each.peerId}/p2p-circuit`))) return `${host.name} holds no reservation on ${each.name}`
      }
      return true
    }, MESH_TIMEOUT_MS)

    await faults.kill(restarted)
    const lossAt = Date.now()
    await Promise.all([faults.crash(lost), faults.restart(restarted)])
    const listeningAt = Date.now()

    // Each direction on its own: when every survivor has a link to h5, and h5 one to each.
    const linkedAt = new Map<string, number>()
    const relayedWrong = new Map<string, string>()
    await until('h5 linked with every survivor, and every survivor with h5', async () => {
      const now = Date.now()
      const views = await Promise.all([restarted, ...others].map(async (host) => ({ host, rows: await nodesOf(host).catch(() => []) })))
      for (const { host, rows } of views) {
        for (const row of rows) {
          const name = byPeer.get(row.peer)
          if (row.self || name === undefined || name === lost.name) continue
          if (host !== restarted && name !== restarted.name) continue
          const pair = `${host.name} → ${name}`
          if (row.link === null || row.link === undefined || row.status !== 'alive') continue
          if (!linkedAt.has(pair)) linkedAt.set(pair, now - listeningAt)
          const across = topology.siteOf(host.name) !== topology.siteOf(name) && topology.siteOf(host.name) !== 'cloud' && topology.siteOf(name) !== 'cloud'
          if (across && (row.link.kind !== 'relayed' || row.link.via !== relay.peerId)) relayedWrong.set(pair, JSON.stringify(row.link))
        }
      }
      const missing = [...others.map((host) => `${host.name} → h5`), ...others.map((host) => `h5 → ${host.name}`)].filter((pair) => !linkedAt.has(pair))
      return missing.length === 0 ? true : `no link or not alive: ${missing.join(', ')}`
    }, RELINK_TIMEOUT_MS, POLL_MS)

    const load = loadavg().map((n) => n.toFixed(1)).join(' ')
    const sorted = [...linkedAt].sort((a, b) => a[1] - b[1])
    process.stdout.write(`  nat-relay-redial: h5's agent listening ${listeningAt - lossAt} ms after h1's loss; linked (ms after it listened): ${sorted.map(([pair, ms]) => `${pair} ${ms}`).join(', ')}; load ${load}\n`)
    for (const host of [restarted, ...others]) {
      for (const line of readFileSync(host.log, 'utf8').split('\n')) {
        const at = Date.parse(line.slice(0, 24))
        if (at >= lossAt && /direct messages to|relayed link|behind NAT/.test(line)) process.stdout.write(`    ${at - listeningAt} ms ${host.name}: ${line.slice(25).replace(/12D3KooW\w+/g, (id) => byPeer.get(id) ?? id.slice(-6))}\n`)
      }
    }
    assert.equal(Object.fromEntries(relayedWrong), {}, 'links across sites go through h7')
  } catch (error) {
    throw await withLogTails(error, members.map((host) => host.log))
  } finally {
    hosts.teardown()
  }
})

redial.run()
