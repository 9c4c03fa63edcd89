// Service discovery and the routing mesh on real hosts, with the process driver: three agents, each in
// its own network namespace, run a two-tier app (two-tier.ts) — web pinned to h1, published on 8080
// on every peer; kv, a counter reachable by name only, on the other hosts, one replica of it never
// ready. From a client outside every host (the bridge's namespace), each host's 8080 answers; a
// process on a host resolves kv.peer and its SRV records through Node's dns.Resolver; then the host
// running the ready kv loses power, and requests succeed again within 3 s of the replacement turning
// healthy, without ever being answered by the unready kv/1. Once with the userspace proxy and once
// with kernel NAT rules (iptables works inside each namespace).
//
// Needs root (namespaces, iptables): it fails, never skips, without them — CI runs as root.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { ask } from '../../cli/agent-client.js'
import { waitFor, withLogTails } from '../node/agent/cluster-support.js'
import { Faults } from './faults.js'
import { HistoryRecorder, type Sample } from './history.js'
import { Hosts, type Host } from './hosts.js'
import { sweepStale } from './network.js'
import { Observer } from './observer.js'
import { Probe, type LoopResult } from './probe.js'
import { addrName, KV, KV_PORT, processApp, PUBLISHED, UNREADY_SLOT, WEB, type WebAnswer } from './two-tier.js'

/** Issue: requests succeed again within 3 s of the replacement turning healthy. */
const RECOVERY_LIMIT_MS = 3_000
/** The agents' default DNS as root: the default service range's first address, port 53. */
const AGENT_DNS = '127.77.0.1:53'
const LOOP_INTERVAL_MS = 50

const log = (line: string): void => console.log(`    ${line}`)

/** The PORT a task process was given, read from its environment. */
function portOf(pid: number): number {
  const entry = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').find((variable) => variable.startsWith('PORT='))
  if (entry === undefined) throw new Error(`pid ${pid} has no PORT`)
  return Number(entry.slice('PORT='.length))
}

/** Where each slot runs in `sample`, when it runs exactly once. */
function placed(sample: Sample, slot: string): { host: string; pid: number } | undefined {
  const copies = sample.copies.filter((copy) => copy.slot === slot)
  return copies.length === 1 ? copies[0] : undefined
}

const parse = (result: LoopResult): WebAnswer | undefined => (result.ok ? JSON.parse(result.body!) as WebAnswer : undefined)

async function healthyAt(host: Host, slot: string, after: number): Promise<number | undefined> {
  const { events } = await ask({ peer: host.socket, timeoutMs: 3_000 }, 'GET /v1/events')
  return events.find((event) => event.kind === 'task' && event.slot === slot && event.state === 'healthy' && event.at >= after)?.at
}

async function twoTierThroughAPowerCut(mesh: 'userspace' | 'kernel'): Promise<void> {
  const swept = sweepStale()
  if (swept.length > 0) log(`removed namespaces of earlier runs: ${swept.join(' ')}`)
  const startedAt = Date.now()
  const hosts = await Hosts.create({ count: 3, client: true, agentArgs: ['--mesh', mesh] })
  const recorder = new HistoryRecorder(hosts.hosts.map((host) => ({ name: host.name, cpuMilli: 2_000, memoryMiB: 2_048 })))
  const observer = new Observer(hosts.hosts, recorder)
  const faults = new Faults(hosts, recorder)
  const probes: Probe[] = []
  try {
    await hosts.startAll()
    await Promise.all(hosts.hosts.map((host) => hosts.waitForMembers(host, 3)))
    observer.start()
    const [h1] = hosts.hosts
    const services = processApp(h1!.name)
    await ask({ peer: h1!.socket, timeoutMs: 10_000 }, 'POST /v1/apply', { body: { services } })
    const meshed = await ask({ peer: h1!.socket, timeoutMs: 3_000 }, 'GET /v1/nodes')
    log(`3 agents up (mesh ${mesh}) in ${Date.now() - startedAt} ms; forwarders: ${meshed.nodes.map((node) => node.labels['peer.mesh'] ?? '?').join(' ')}`)
    assert.ok(meshed.nodes.every((node) => node.labels['peer.mesh'] === mesh), `every agent forwards with ${mesh}`)

    const client = Probe.start(hosts.client.namespace)
    // A process on h1, where web runs (and which never loses power), asks h1's agent.
    const onH1 = Probe.start(h1!.namespace)
    probes.push(client, onH1)
    const urls = hosts.hosts.map((host) => `http://${host.address}:${PUBLISHED}/`)

    // Placed: web on h1, kv/0 and kv/1 off it; every host's 8080 reaches web, and web reaches kv/0.
    const layout = await waitFor('web/0, kv/0 and kv/1 each running once', 30_000, (note) => {
      const sample = observer.latest()
      const web = placed(sample, `${WEB}/0`)
      const kv0 = placed(sample, `${KV}/0`)
      const kv1 = placed(sample, UNREADY_SLOT)
      if (web === undefined || kv0 === undefined || kv1 === undefined) return void note(JSON.stringify(sample.copies.map((copy) => `${copy.slot}@${copy.host}`)))
      return { web, kv0, kv1 }
    }, 100)
    assert.is(layout.web.host, h1!.name, 'web runs where its constraint pins it')
    assert.not.equal(layout.kv0.host, h1!.name, 'kv is kept off web\'s host')
    assert.not.equal(layout.kv1.host, h1!.name, 'kv is kept off web\'s host')
    log(`placed: web/0 on ${layout.web.host}, kv/0 on ${layout.kv0.host}, kv/1 (never ready) on ${layout.kv1.host}`)
    for (const url of urls) {
      await waitFor(`${url} answered from outside with kv/0's count`, 20_000, async (note) => {
        const answer = await client.http(url)
        if (!answer.ok) return void note(`${answer.status ?? ''} ${answer.error ?? answer.body ?? ''}`)
        const body = JSON.parse(answer.body!) as WebAnswer
        return body.kv.slot === `${KV}/0` ? true : void note(answer.body!)
      }, 200)
    }

    // DNS, asked by a process on h1 of h1's agent: kv.peer is h1's service address for kv; SRV names
    // only the ready task, at its host's address and the port it really listens on.
    const a = await onH1.dns(AGENT_DNS, 'A', `${KV}.peer`)
    assert.ok(a.ok, `A ${KV}.peer: ${a.error}`)
    assert.is(a.records!.length, 1, `one address for ${KV}.peer: ${JSON.stringify(a.records)}`)
    assert.match(String(a.records![0]), /^127\.77\./, 'a service address in the default range')
    const kv0Host = hosts.host(layout.kv0.host)
    const srvName = `_${KV_PORT}._tcp.${KV}.peer`
    const srv = await onH1.dns(AGENT_DNS, 'SRV', srvName)
    assert.ok(srv.ok, `SRV ${srvName}: ${srv.error}`)
    const kv0Port = portOf(layout.kv0.pid)
    assert.equal(srv.records!.map((record) => { const { name, port } = record as { name: string; port: number }; return { name, port } }),
      [{ name: addrName(kv0Host.address), port: kv0Port }], `SRV ${srvName} is kv/0 alone (kv/1 fails its healthcheck)`)
    // The SRV record is where kv/0 really is: asked there directly, it answers as kv/0.
    const direct = await onH1.tcp(kv0Host.address, kv0Port, 'get\n')
    assert.ok(direct.ok, `kv/0 at ${kv0Host.address}:${kv0Port}: ${direct.error}`)
    assert.is((JSON.parse(direct.body!) as { slot: string }).slot, `${KV}/0`)
    // kv/1 runs (so its absence is its readiness, not its absence) and is not healthy.
    const kv1Row = (await ask({ peer: hosts.host(layout.kv1.host).socket, timeoutMs: 3_000 }, 'GET /v1/tasks')).tasks.find((task) => task.slot === UNREADY_SLOT)
    assert.ok(kv1Row !== undefined && kv1Row.state !== 'healthy', `kv/1 runs unready: ${JSON.stringify(kv1Row)}`)
    log(`DNS from h1: A ${KV}.peer ${JSON.stringify(a.records)}; SRV ${JSON.stringify(srv.records)}; kv/1 is ${kv1Row!.state}`)

    // Traffic from outside through every host, then the power cut of kv/0's host.
    client.loop(urls, LOOP_INTERVAL_MS)
    await waitFor('every host answering in the request loop', 10_000, (note) => {
      const answered = new Set(client.results.filter((result) => result.ok).map((result) => result.url))
      return answered.size === urls.length ? true : void note(`answered: ${[...answered].join(' ')}`)
    }, 100)
    const cutAt = Date.now()
    await faults.crash(kv0Host)
    // From here kv/0's old host is silent and its processes are gone: a request sent now cannot reach
    // the old kv/0 (one sent a moment before, while the drop rules went in, may have).
    const goneAt = Date.now()
    const replacement = await waitFor(`kv/0 running again off ${kv0Host.name}`, 15_000, (note) => {
      const copy = placed(observer.latest(), `${KV}/0`)
      return copy !== undefined && copy.host !== kv0Host.name ? copy : void note(JSON.stringify(copy))
    }, 100)
    const newHost = hosts.host(replacement.host)
    const healthy = await waitFor(`kv/0 healthy on ${newHost.name}`, 15_000, () => healthyAt(newHost, `${KV}/0`, cutAt), 100)
    const survivors = urls.filter((url) => !url.includes(`//${kv0Host.address}:`))
    const recovered = await waitFor('a request through a surviving host answered after the replacement turned healthy', 15_000, () =>
      client.results.find((result) => result.at >= goneAt && result.ok && survivors.includes(result.url)), 50)
    // Then a while of traffic, to see that it stays answered.
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    await client.stop()
    observer.stop()

    const recoveryMs = recovered.at - healthy
    const outage = client.results.filter((result) => result.at >= goneAt && result.at < recovered.at && survivors.includes(result.url))
    const after = client.results.filter((result) => result.at > recovered.at + 500 && survivors.includes(result.url))
    log(`power cut of ${kv0Host.name}: kv/0 healthy on ${newHost.name} ${healthy - cutAt} ms after it; first answered request ${recoveryMs} ms after it turned healthy (${outage.length} failed meanwhile); load ${loadAverage()}`)
    const byUnready = client.results.filter((result) => parse(result)?.kv.slot === UNREADY_SLOT)
    assert.equal(byUnready.map((result) => `${result.url} at ${result.at}`), [], `no request answered by ${UNREADY_SLOT}, which fails its healthcheck`)
    assert.ok(recoveryMs <= RECOVERY_LIMIT_MS, `first answered request ${recoveryMs} ms after the replacement turned healthy; limit ${RECOVERY_LIMIT_MS} ms`)
    const failedAfter = after.filter((result) => !result.ok)
    assert.equal(failedAfter.map((result) => `${result.url}: ${result.error ?? result.body}`), [], 'requests through the surviving hosts keep being answered')
    assert.ok(after.length > 0, 'requests were made after the recovery')
    for (const url of survivors) assert.ok(after.some((result) => result.url === url && parse(result)?.kv.slot === `${KV}/0`), `${url} answered by kv/0 after the recovery`)

    // And DNS follows: SRV names kv/0 on its new host.
    const srvAfter = await onH1.dns(AGENT_DNS, 'SRV', srvName)
    assert.equal(srvAfter.records?.map((record) => (record as { name: string }).name), [addrName(newHost.address)], `SRV ${srvName} after the move`)
  } catch (error) {
    throw await withLogTails(error, hosts.hosts.map((host) => host.log))
  } finally {
    observer.stop()
    await Promise.all(probes.map((probe) => probe.stop()))
    hosts.teardown()
    log(`test took ${Date.now() - startedAt} ms`)
  }
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

const discovery = suite('hosts: service discovery and the routing mesh')

discovery('two tiers by name through the userspace proxy: every host\'s published port answers from outside, DNS names the ready task only, and a power cut of the back end\'s host is recovered within 3 s of the replacement turning healthy', async () => {
  await twoTierThroughAPowerCut('userspace')
})

discovery('the same through kernel NAT rules', async () => {
  await twoTierThroughAPowerCut('kernel')
})

discovery.run()
