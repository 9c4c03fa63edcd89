// Probes by datagram between real hosts (p2p/datagrams.ts): three agents in network namespaces on one
// bridge send their pings and acks as UDP datagrams once keys are exchanged; when one host drops all
// UDP (a firewall that lets only TCP through), its probes fall back to the connections by themselves —
// no host is ever declared dead, nobody suspects anybody for long — and once UDP passes again the
// pairs go back to datagrams. Prints one line: the datagrams and fallbacks counted.
//
// Needs root (namespaces): it fails, never skips, without them.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ask } from '../../cli/agent-client.js'
import type { TransportStats } from '../../p2p/index.js'
import { nodesOf, until } from './agent-views.js'
import { Firewall } from './firewall.js'
import { Hosts, type Host } from './hosts.js'
import { sweepStale } from './network.js'

const HOSTS = 3
/** Keys are exchanged 5 s after a pair first has a probe (DATAGRAM_DEFAULTS.exchangeDelayMs). */
const PATHS_TIMEOUT_MS = 30_000
/** Longer than a failover (a member silent for 2 s is declared dead): a fallback that failed would show. */
const UDP_DROPPED_MS = 8_000
/** A pair out of datagram use is tried with a hello every 5 s; from both ends. */
const BACK_TIMEOUT_MS = 20_000

async function transportOf(host: Host): Promise<TransportStats> {
  return (await ask({ peer: host.socket, timeoutMs: 5_000 }, 'GET /v1/stats')).transport
}

const datagrams = suite('hosts: probes by datagram')

datagrams('agents probe each other by datagram; a host whose UDP is dropped falls back to its connections, nobody is declared dead, and datagrams resume', async () => {
  sweepStale()
  const hosts = await Hosts.create({ count: HOSTS })
  try {
    await hosts.startAll()
    await Promise.all(hosts.hosts.map((host) => hosts.waitForMembers(host, HOSTS)))
    await until('every pair probing by datagram', async () => {
      for (const host of hosts.hosts) {
        const stats = await transportOf(host)
        if (stats.datagramPeers < HOSTS - 1) return `${host.name} has ${stats.datagramPeers} datagram peers`
      }
      return true
    }, PATHS_TIMEOUT_MS)
    const [h1] = hosts.hosts
    const before = await transportOf(h1!)
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    const during = await transportOf(h1!)
    assert.ok(during.datagramsSent - before.datagramsSent >= 4, `h1 sent ${during.datagramsSent - before.datagramsSent} datagrams in 2 s`)
    assert.ok(during.datagramsReceived - before.datagramsReceived >= 4, `h1 received ${during.datagramsReceived - before.datagramsReceived} datagrams in 2 s`)

    const firewall = new Firewall(h1!.namespace)
    await firewall.dropAll('udp', [{ chain: 'INPUT', match: ['-p', 'udp'] }, { chain: 'OUTPUT', match: ['-p', 'udp'] }])
    const droppedAt = Date.now()
    const deadSeen: string[] = []
    while (Date.now() - droppedAt < UDP_DROPPED_MS) {
      for (const host of hosts.hosts) {
        for (const row of await nodesOf(host)) if (row.status === 'dead' || row.status === 'left') deadSeen.push(`${host.name} holds ${row.peer} ${row.status}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const cut = await transportOf(h1!)
    assert.equal(deadSeen, [], 'nobody declared dead while UDP was dropped')
    assert.ok(cut.datagramFallbacks > during.datagramFallbacks, 'h1 sent pings again over its connections')
    assert.is(cut.datagramPeers, 0, 'h1 probes over its connections only')

    await firewall.lift('udp')
    await until('h1 probing by datagram again', async () => {
      const stats = await transportOf(h1!)
      return stats.datagramPeers === HOSTS - 1 || `h1 has ${stats.datagramPeers} datagram peers`
    }, BACK_TIMEOUT_MS)
    for (const host of hosts.hosts) {
      const alive = (await nodesOf(host)).filter((row) => row.status === 'alive').length
      assert.is(alive, HOSTS, `${host.name} sees ${alive} alive`)
    }
    const after = await transportOf(h1!)
    process.stdout.write(`  datagrams: h1 sent ${after.datagramsSent}, received ${after.datagramsReceived}, ${after.datagramFallbacks} pings again over a connection (${cut.datagramFallbacks - during.datagramFallbacks} while UDP was dropped), ${after.datagramsRefused} refused\n`)
  } finally {
    hosts.teardown()
  }
})

datagrams.run()
