// Sites as failure domains on real namespaces (nat-topology.ts): the reachable host h1 labelled
// site=cloud, site A's h2 and h3 labelled site=a, site B's h4 and h5 site=b; real `peer agent`
// processes, the process driver. Site B's WAN link is cut at its router for well past the failover
// time, then healed:
//
//   - `peer nodes` shows every host's site in its SITE column;
//   - during the cut each side declares the other's hosts dead, but nobody starts anything: what
//     each host ran before the cut, and only that, runs throughout (read from the kernel, not the
//     agents), and site A's view shows B's hosts dead but held (state suspect);
//   - after the heal every host is alive again and every slot still runs once, where it ran.
//
// Needs root (namespaces, iptables NAT): it fails, never skips, without them.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ask } from '../../cli/agent-client.js'
import type { NodeRow } from '../../node/control/index.js'
import { runCli } from '../cli/run-cli.js'
import type { Sample } from './history.js'
import { HistoryRecorder } from './history.js'
import { Hosts, type Host } from './hosts.js'
import { natTopology } from './nat-topology.js'
import { sweepStale } from './network.js'
import { Observer } from './observer.js'

const MEMBERS = ['h1', 'h2', 'h3', 'h4', 'h5']
const SITE_OF: Record<string, string> = { h1: 'cloud', h2: 'a', h3: 'a', h4: 'b', h5: 'b' }
const TIMEOUT_MS = 45_000
/** How long the cut lasts after both sides hold each other dead: several failover times (LAN ~2 s). */
const HELD_FOR_MS = 15_000

async function nodesOf(host: Host): Promise<NodeRow[]> {
  return (await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/nodes')).nodes
}

async function until(what: string, check: () => Promise<true | string>, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: true | string = 'not checked'
  for (;;) {
    try {
      last = await check()
    } catch (error) {
      last = (error as Error).message
    }
    if (last === true) return
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${last}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** `slot@host` of every copy, sorted: what runs where. */
const placement = (sample: Sample): string[] => sample.copies.map((copy) => `${copy.slot}@${copy.host}`).sort()

const sites = suite('hosts: sites as failure domains')

sites('a WAN cut of site B: each side holds the other, nothing starts or stops, one copy of every slot after the heal', async () => {
  sweepStale()
  const topology = natTopology()
  const hosts = await Hosts.create({
    count: 6, topology, memory: '2Gi', cpu: '2',
    agentArgsFor: (host) => (SITE_OF[host.name] === undefined ? [] : ['--labels', `site=${SITE_OF[host.name]}`]),
  })
  const members = hosts.hosts.filter((host) => MEMBERS.includes(host.name))
  const nameOf = new Map(members.map((host) => [host.peerId as string, host.name]))
  const observer = new Observer(members, new HistoryRecorder(members.map((host) => ({ name: host.name, cpuMilli: 2_000, memoryMiB: 2_048 }))))
  const statusesIn = async (host: Host): Promise<Record<string, string>> =>
    Object.fromEntries((await nodesOf(host)).map((row) => [nameOf.get(row.peer) ?? row.peer, `${row.status}/${row.state}`]))
  try {
    await hosts.startAgent(hosts.host('h1'))
    await Promise.all(['h2', 'h3', 'h4', 'h5'].map((name) => hosts.startAgent(hosts.host(name))))
    const allAlive = async (): Promise<true | string> => {
      for (const host of members) {
        const statuses = await statusesIn(host)
        const wrong = MEMBERS.filter((name) => statuses[name] !== 'alive/alive')
        if (wrong.length > 0) return `${host.name} sees ${wrong.map((name) => `${name} ${statuses[name] ?? 'missing'}`).join(', ')}`
      }
      return true
    }
    await until('every host alive in every view', allAlive)

    // SITE in `peer nodes`, asked in site A.
    const listed = await runCli(['nodes', '--data', hosts.host('h2').dataDir])
    assert.is(listed.code, 0, listed.stderr)
    assert.match(listed.stdout.split('\n')[0]!, /^PEER\s+STATUS\s+STATE\s+SITE\s+LAST SEEN/)
    for (const name of MEMBERS) {
      const line = listed.stdout.split('\n').find((candidate) => candidate.includes(`host=${name}`)) ?? ''
      assert.match(line, new RegExp(`\\salive\\s+alive\\s+${SITE_OF[name]}\\s`), `${name}: ${line}`)
    }

    // A tier spread over the sites, and one pinned to site B.
    const file = join(hosts.base, 'sites.yaml')
    const resources = { cpu: '50m', memory: '16Mi' }
    writeFileSync(file, JSON.stringify({
      services: {
        web: { command: ['sleep', '600'], replicas: 6, spreadBy: 'site', resources },
        till: { command: ['sleep', '600'], replicas: 2, constraints: ['site == b'], resources },
      },
    }))
    const applied = await runCli(['apply', '-f', file, '--data', hosts.host('h2').dataDir])
    assert.is(applied.code, 0, applied.stderr)
    observer.start()
    await until('8 slots running once each', async () => {
      const copies = observer.latest().copies
      return copies.length === 8 && new Set(copies.map((copy) => copy.slot)).size === 8 ? true : placement(observer.latest()).join(' ')
    })
    // Settled: the same for 3 s (a conflict's loser stopping, a late claim).
    let before = placement(observer.latest())
    await until('placement settled for 3 s', async () => {
      const now = placement(observer.latest())
      if (now.join() !== before.join()) {
        before = now
        return `moved: ${now.join(' ')}`
      }
      return true
    })
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    before = placement(observer.latest())
    assert.ok(before.filter((copy) => copy.startsWith('till/')).every((copy) => /@h[45]$/.test(copy)), `till outside site B: ${before.join(' ')}`)
    const unchanged = (): true | string => {
      const now = placement(observer.latest())
      return now.join() === before.join() ? true : `ran ${before.join(' ')}, now ${now.join(' ')}`
    }

    // The cut. Until both sides hold the other dead, and for HELD_FOR_MS after, nothing may change.
    const cutAt = Date.now()
    await topology.cutSite('b')
    let heldAt = 0
    await until('each side to hold the other dead', async () => {
      const moved = unchanged()
      if (moved !== true) throw new Error(`during the cut: ${moved}`)
      const inA = await statusesIn(hosts.host('h2'))
      const inB = await statusesIn(hosts.host('h4'))
      const farFromA = ['h4', 'h5'].map((name) => inA[name])
      const farFromB = ['h1', 'h2', 'h3'].map((name) => inB[name])
      if (![...farFromA, ...farFromB].every((status) => status === 'dead/suspect')) return `site A sees ${farFromA.join(', ')}; site B sees ${farFromB.join(', ')}`
      heldAt = Date.now()
      return true
    })
    while (Date.now() < heldAt + HELD_FOR_MS) {
      const moved = unchanged()
      assert.ok(moved === true, `during the cut: ${moved}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const cutMs = Date.now() - cutAt

    // The heal: everyone alive again, every slot once where it ran.
    await topology.healSite('b')
    const healAt = Date.now()
    await until('every host alive in every view after the heal', allAlive, 60_000)
    const rejoinedMs = Date.now() - healAt
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    assert.equal(placement(observer.latest()), before, 'after the heal')
    process.stdout.write(`  sites: held on both sides ${heldAt - cutAt} ms after the cut, cut ${cutMs} ms in all with nothing started or stopped, all alive ${rejoinedMs} ms after the heal\n`)
  } catch (error) {
    // The agents' logs (their stops and starts, with reasons) outlive the teardown for a look.
    const kept = mkdtempSync(join(tmpdir(), 'peer-sites-failed-'))
    for (const host of members) {
      copyFileSync(host.log, join(kept, `${host.name}.log`))
      const events = await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/events').catch((failed: Error) => failed.message)
      writeFileSync(join(kept, `${host.name}.events.json`), JSON.stringify(events, null, 1))
    }
    process.stdout.write(`  sites: the agents' logs are in ${kept}\n`)
    throw error
  } finally {
    observer.stop()
    hosts.teardown()
  }
})

sites.run()
