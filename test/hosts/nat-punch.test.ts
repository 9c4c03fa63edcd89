// Hole punching on real namespaces (nat-topology.ts with routers that keep ports, as Linux
// MASQUERADE and most home and office routers do): a reachable host h1 and two sites, each two hosts
// behind a NAT router that lets in only replies. Real `peer agent` processes.
//
//   - the hosts of the two sites first meet through h1's relay, then punch: every link between the
//     sites becomes `punched` (a direct connection to the far router's mapping), in every view, and
//     `peer nodes --wide` says so;
//   - placement across the sites works over those links (10 replicas spread, 2 per host), and so
//     does service traffic: a client in site A reaches an echo task pinned to site B through its own
//     agent's published port, tunnelled over the punched connection (the far host's own addresses
//     stay unreachable);
//   - then h1, the only reachable host and relay, loses power: the sites stay one cluster over their
//     punched links — no survivor ever holds another dead past a failover, the links stay punched —
//     and h1's slots run elsewhere with no slot doubled past the conflict window (checker.ts).
//
// The other NAT tests use routers that draw ports at random, where every punch misses (nat.test.ts
// checks that it was tried, failed, and that everything works over the relay).
//
// Needs root (namespaces, iptables NAT): it fails, never skips, without them.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ask } from '../../cli/agent-client.js'
import { HOST_DEFAULTS } from '../../p2p/config.js'
import { runCli } from '../cli/run-cli.js'
import { withLogTails } from '../node/agent/cluster-support.js'
import { nodesOf, until } from './agent-views.js'
import { check } from './checker.js'
import { assertLossHandled, DeadViews, describeHeld } from './dead-views.js'
import { ECHO, echoClient } from './echo-client.js'
import { Faults } from './faults.js'
import { HistoryRecorder } from './history.js'
import { Hosts } from './hosts.js'
import { natTopology } from './nat-topology.js'
import { sweepStale } from './network.js'
import { validService } from './service-spec.js'
import { everySlotOnceOff, hostsBySlot, Observer } from './observer.js'

const SERVICE = 'web'
const REPLICAS = 10
const SERVICE_BODY = { command: ['sleep', '600'], replicas: REPLICAS, strategy: 'spread', resources: { cpu: '50m', memory: '16Mi' } }
const MEMBERS = 5
const MESH_TIMEOUT_MS = 60_000
const TIMEOUT_MS = 45_000
/** Watched after the relay's loss: room for any late verdict and any link that would fall back. */
const WATCH_AFTER_MS = 12_000

/** The echo service's ports (echo-client.ts): published on every agent, the task's own. */
const PUBLISHED = 8080
const TARGET = 7000
const ECHO_BYTES = 1024 * 1024

const punch = suite('hosts: hole punching between two NAT\'d sites')

punch('hosts of two sites behind port-keeping NAT routers punch direct links, place across them, and stay one cluster when the only relay loses power', async () => {
  sweepStale()
  const startedAt = Date.now()
  const topology = natTopology(process.pid, { ports: 'keeps-ports' })
  // The userspace proxy: service traffic to a punched peer goes through a tunnel (kernel rules cannot open one).
  const hosts = await Hosts.create({ count: 6, topology, memory: '2Gi', cpu: '2', agentArgs: ['--mesh', 'userspace'] })
  const members = hosts.hosts.filter((host) => host.index <= MEMBERS)
  const relay = hosts.host('h1')
  const survivors = members.filter((host) => host !== relay)
  const byPeer = new Map(members.map((host) => [host.peerId, host.name]))
  const recorder = new HistoryRecorder(members.map((host) => ({ name: host.name, cpuMilli: 2_000, memoryMiB: 2_048 })))
  const observer = new Observer(members, recorder)
  const faults = new Faults(hosts, recorder)
  const deadViews = new DeadViews(survivors, (peer) => byPeer.get(peer))
  /** Where each of the web service's slots runs (the echo service's are left out). */
  const webSlots = (): Map<string, string[]> => {
    const sample = observer.latest()
    return hostsBySlot({ ...sample, copies: sample.copies.filter((copy) => copy.service === SERVICE) })
  }
  const across = (a: string, b: string): boolean => topology.siteOf(a) !== topology.siteOf(b) && topology.siteOf(a) !== 'cloud' && topology.siteOf(b) !== 'cloud'
  /** The links between the sites that are not punched yet, in every site host's view. */
  const notPunched = async (): Promise<string[]> => {
    const wrong: string[] = []
    for (const host of survivors) {
      for (const row of await nodesOf(host)) {
        const name = byPeer.get(row.peer)
        if (name === undefined || row.self || !across(host.name, name)) continue
        if (row.status !== 'alive' || row.link?.kind !== 'punched') wrong.push(`${host.name} → ${name}: ${row.status}, ${JSON.stringify(row.link ?? null)}`)
      }
    }
    return wrong
  }
  try {
    await hosts.startAgent(relay)
    await Promise.all(['h2', 'h3', 'h4', 'h5'].map((name) => hosts.startAgent(hosts.host(name))))
    const started = Date.now()
    await until('every host alive in every view', async () => {
      for (const host of members) {
        const alive = (await nodesOf(host)).filter((row) => row.status === 'alive').length
        if (alive !== MEMBERS) return `${host.name} sees ${alive} alive`
      }
      return true
    }, MESH_TIMEOUT_MS)
    const meshedMs = Date.now() - started
    await until('every link between the sites punched, in every view', async () => {
      const wrong = await notPunched()
      return wrong.length === 0 ? true : wrong.join('; ')
    }, MESH_TIMEOUT_MS)
    const punchedMs = Date.now() - started
    // The relayed connections stay until the duplicate rule's settle time has passed, and the
    // streams opened on them (direct messages, gossip) with them: the relay's loss is for after,
    // when the punched links alone carry the sites.
    await new Promise((resolve) => setTimeout(resolve, HOST_DEFAULTS.duplicateSettleMs + 2_000))

    // What an operator sees in site A.
    const wide = await runCli(['nodes', '--wide', '--data', hosts.host('h2').dataDir])
    assert.is(wide.code, 0, wide.stderr)
    const lineOf = (name: string): string => wide.stdout.split('\n').find((line) => line.includes(`host=${name}`)) ?? ''
    assert.match(lineOf('h1'), /\spublic\s+direct\s/)
    assert.match(lineOf('h3'), /\sbehind NAT\s+direct\s/)
    for (const far of ['h4', 'h5']) assert.match(lineOf(far), /\sbehind NAT\s+punched\s/)

    // Placement across the punched links, applied from site A.
    const file = join(hosts.base, 'web.yaml')
    writeFileSync(file, JSON.stringify({ services: { [SERVICE]: SERVICE_BODY } }))
    recorder.desire([validService(SERVICE, SERVICE_BODY)])
    const applied = await runCli(['apply', '-f', file, '--data', hosts.host('h2').dataDir])
    assert.is(applied.code, 0, applied.stderr)
    const applyAt = Date.now()
    observer.start()
    let counts: Record<string, number> = {}
    await until(`${REPLICAS} replicas placed, each once`, async () => {
      const bySlot = webSlots()
      counts = Object.fromEntries(members.map((host) => [host.name, [...bySlot.values()].filter((on) => on.length === 1 && on[0] === host.name).length]))
      const once = [...bySlot.values()].filter((on) => on.length === 1).length
      return once === REPLICAS && bySlot.size === REPLICAS ? true : JSON.stringify(Object.fromEntries(bySlot))
    }, TIMEOUT_MS)
    const placedMs = Date.now() - applyAt
    assert.equal(counts, { h1: 2, h2: 2, h3: 2, h4: 2, h5: 2 }, 'spread of 10 over 5 hosts across both sites')

    // Service traffic from site A to a task in site B, over the punched links.
    const h2 = hosts.host('h2')
    const echoFile = join(hosts.base, 'echo.json')
    const echoBody = {
      command: [process.execPath, '-e', ECHO], replicas: 2, constraints: ['host in (h4, h5)'],
      ports: [{ host: PUBLISHED, container: TARGET, mode: 'ingress' }], resources: { cpu: '50m', memory: '32Mi' },
    }
    writeFileSync(echoFile, JSON.stringify({ services: { echo: echoBody } }))
    recorder.desire([validService(SERVICE, SERVICE_BODY), validService('echo', echoBody)])
    const echoApplied = await runCli(['apply', '-f', echoFile, '--data', h2.dataDir])
    assert.is(echoApplied.code, 0, echoApplied.stderr)
    await until('h2 to list both echo tasks ready, on site B, tunnelled', async () => {
      const answer = await ask({ peer: h2.socket, timeoutMs: 10_000 }, 'GET /v1/endpoints', { query: { service: 'echo' } })
      const ready = answer.ports.find((row) => row.target === TARGET)?.endpoints.filter((endpoint) => endpoint.ready) ?? []
      return ready.length === 2 && ready.every((endpoint) => endpoint.tunnel === true && ['h4', 'h5'].includes(byPeer.get(endpoint.peer) ?? '')) ? true : JSON.stringify(ready)
    }, TIMEOUT_MS)
    for (let i = 0; i < 3; i++) {
      const greeted = await echoClient(h2, h2.address, PUBLISHED)
      assert.match(greeted.greeting ?? '', /^hello from echo\/[01]$/, JSON.stringify(greeted))
    }
    const bulk = await echoClient(h2, h2.address, PUBLISHED, ECHO_BYTES)
    assert.is(bulk.echoed, ECHO_BYTES, JSON.stringify(bulk))
    assert.is(bulk.mismatch, false)
    assert.equal(await notPunched(), [], 'the links between the sites stay punched while tunnels run over them')

    // The only relay loses power.
    deadViews.start()
    const cut = await faults.crash(relay)
    const cutAt = Date.now()
    await until(`every slot once on the survivors after ${relay.name}'s loss`, async () => everySlotOnceOff(webSlots(), REPLICAS, relay.name), TIMEOUT_MS)
    const replacedMs = Date.now() - cutAt
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, WATCH_AFTER_MS - (Date.now() - cutAt))))
    deadViews.stop()
    observer.stop()
    const stillNotPunched = await notPunched()

    const verdict = check(recorder.history)
    const load = (await import('node:os')).loadavg().map((n) => n.toFixed(1)).join(' ')
    process.stdout.write(`  nat-punch: meshed ${meshedMs} ms after the starts, every link between sites punched ${punchedMs} ms after them; placed in ${placedMs} ms; ${ECHO_BYTES / 1048576} MiB echoed from site A to site B in ${bulk.echoMs} ms; ${relay.name} lost: every slot once on the survivors ${replacedMs} ms after; survivors held dead: ${describeHeld(deadViews)}; load ${load}; whole run ${Date.now() - startedAt} ms\n`)
    assert.equal(stillNotPunched, [], `every link between the sites still punched ${WATCH_AFTER_MS} ms after the relay's loss`)
    assertLossHandled(verdict, cut.fromMs, relay.name, deadViews)
  } catch (error) {
    throw await withLogTails(error, members.map((host) => host.log))
  } finally {
    deadViews.stop()
    observer.stop()
    hosts.teardown()
  }
})

punch.run()
