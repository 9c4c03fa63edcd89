// mDNS on a real segment: three hosts in network namespaces on one bridge, each running a real
// `peer agent --mdns` with no `--join`, find each other by multicast and form one cluster — as
// `peer nodes` (the real CLI) on each of them shows. A fourth host on the same segment, with mDNS on
// but a swarm key of its own, never joins: its service tag is another (p2p/host.ts mdnsServiceTag),
// so neither side even learns of the other, and nobody lists it.
//
// Each namespace gets a route for multicast (224.0.0.0/4 on its one interface), as a host on a LAN
// has through its default route; without one the kernel refuses to send to 224.0.0.251 at all.
// Prints one line: how long after the last agent listened the three saw each other alive.
//
// Needs root (namespaces): it fails, never skips, without them.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../cli/run-cli.js'
import { nodesOf, until } from './agent-views.js'
import { run } from './command.js'
import { Hosts, type Topology } from './hosts.js'
import { createNetwork, planNetwork, sweepStale } from './network.js'

const MEMBERS = 3
const STRANGER = 4
/** A cluster that has not formed by then has not formed by mDNS: several query intervals (10 s each). */
const FORM_TIMEOUT_MS = 60_000
/** How long the stranger is given to (wrongly) join: past one query interval of everyone's. */
const STRANGER_WATCH_MS = 15_000

/** One bridge, four hosts, no join lists; h4 has a swarm key of its own. */
function segment(): Topology {
  const plan = planNetwork(MEMBERS + 1)
  return {
    plan,
    namespaces: [...plan.hosts.map((host) => host.namespace), plan.bridgeNamespace],
    strangers: [STRANGER],
    async create() {
      await createNetwork(plan)
      for (const host of plan.hosts) await run(['ip', '-n', host.namespace, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'])
    },
    joinFor: () => [],
  }
}

const mdns = suite('hosts: mDNS on one segment')

mdns('three agents with --mdns and no --join form one cluster; a fourth with another swarm key never joins', async () => {
  sweepStale()
  const hosts = await Hosts.create({ count: MEMBERS + 1, topology: segment(), agentArgs: ['--mdns'] })
  const members = hosts.hosts.filter((host) => host.index <= MEMBERS)
  const stranger = hosts.host(`h${STRANGER}`)
  try {
    await Promise.all(members.map((host) => hosts.startAgent(host)))
    const listening = Date.now()
    await until('every member alive in every member\'s view', async () => {
      for (const host of members) {
        const rows = await nodesOf(host)
        const alive = rows.filter((row) => row.status === 'alive').map((row) => row.peer).sort()
        if (alive.join() !== members.map((m) => m.peerId).sort().join()) return `${host.name} sees ${alive.length} alive of ${rows.length}`
      }
      return true
    }, FORM_TIMEOUT_MS)
    const formedMs = Date.now() - listening

    // What an operator sees on each host: `peer nodes`, the real CLI.
    for (const host of members) {
      const listed = await runCli(['nodes', '--data', host.dataDir])
      assert.is(listed.code, 0, listed.stderr)
      for (const other of members) assert.ok(listed.stdout.includes(`host=${other.name}`), `${host.name}'s \`peer nodes\` lists ${other.name}:\n${listed.stdout}`)
    }

    await hosts.startAgent(stranger)
    await new Promise((resolve) => setTimeout(resolve, STRANGER_WATCH_MS))
    assert.equal((await nodesOf(stranger)).map((row) => row.peer), [stranger.peerId], 'the stranger knows nobody')
    for (const host of members) {
      const rows = await nodesOf(host)
      assert.not.ok(rows.some((row) => row.peer === stranger.peerId), `${host.name} lists the stranger`)
      assert.is(rows.length, MEMBERS, `${host.name} lists ${rows.length} peers`)
    }
    process.stdout.write(`  mdns: ${MEMBERS} agents saw each other alive ${formedMs} ms after the last listened\n`)
  } finally {
    hosts.teardown()
  }
})

mdns.run()
