// The service-discovery scenario on real hosts, for either task driver: three agents, each in its own
// network namespace, run the two-tier app (two-tier.ts) — web pinned to h1, published on 8080 on
// every peer; kv, reachable by name only, on the other hosts, one replica of it never ready.
//
// 1. From a client outside every host (the bridge's namespace), each host's 8080 answers, with kv/0's
//    count: the mesh on every host reaches web, and web reaches kv by name.
// 2. A process on h1 asks h1's agent's DNS with Node's dns.Resolver: `kv.peer` is a service address;
//    SRV `_6379._tcp.kv.peer` names kv/0 alone, at its host's address and the host port it really
//    listens on (read from the task itself), which answers as kv/0 when asked directly.
// 3. Requests loop from the client through every host while the host running kv/0 loses power
//    (Faults.crash: traffic dropped, every process killed). Requests must be answered again within
//    3 s of the replacement kv/0 turning healthy (its agent's `healthy` event against the first
//    answered request sent after the old kv/0 was gone), and no request is ever answered by kv/1.

import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { ask } from '../../cli/agent-client.js'
import type { ServiceSpec } from '../../core/index.js'
import { waitFor, withLogTails } from '../node/agent/cluster-support.js'
import { Faults } from './faults.js'
import { HistoryRecorder } from './history.js'
import { Hosts, type Host, type HostsInit } from './hosts.js'
import { sweepStale } from './network.js'
import { Probe, type LoopResult } from './probe.js'
import { addrName, KV, KV_PORT, PUBLISHED, UNREADY_SLOT, WEB, WEB_PATH, WEB_PORT, type WebAnswer } from './two-tier.js'

/** Issue: requests succeed again within 3 s of the replacement turning healthy. */
const RECOVERY_LIMIT_MS = 3_000
const LOOP_INTERVAL_MS = 50
/** How long requests keep looping after the first answered one, to see that they stay answered. */
const WATCH_AFTER_RECOVERY_MS = 1_500
/** …and until each surviving host has answered this many requests sent after it. */
const SAMPLES_AFTER_RECOVERY = 2

/** Where a slot runs (exactly once) and the host port its tier's port is reached at. */
export interface Placed {
  readonly host: string
  readonly port: number
}

/** What differs between processes and containers. */
export interface TierDriver {
  /** For the log and the failure messages. */
  readonly name: string
  /** Flags and environment the agents need besides the mesh mode. */
  readonly hostsInit: Partial<HostsInit>
  /** The agents' DNS server, as each one's tasks are told it. */
  readonly dns: string
  /** Service addresses (`kv.peer`'s A record) are in this range. */
  readonly serviceAddress: RegExp
  /** After the hosts exist, before the agents start (engines, images…). */
  prepare(hosts: Hosts): Promise<void>
  services(webHost: string): ServiceSpec[]
  /** Where `slot`'s task runs now, if exactly once, and the host port `target` is reached at. */
  placed(hosts: Hosts, slot: string, target: number): Promise<Placed | undefined>
  /** What a power cut ends besides the processes in the host's namespace. */
  alsoOnPowerCut?(host: Host): Promise<void>
  /** After the hosts' teardown; throws if something was left behind. */
  teardown(): void
}

const log = (line: string): void => console.log(`    ${line}`)
const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
const parse = (result: LoopResult): WebAnswer | undefined => (result.ok ? JSON.parse(result.body!) as WebAnswer : undefined)

async function healthyAt(host: Host, slot: string, after: number): Promise<number | undefined> {
  const { events } = await ask({ peer: host.socket, timeoutMs: 3_000 }, 'GET /v1/events')
  return events.find((event) => event.kind === 'task' && event.slot === slot && event.state === 'healthy' && event.at >= after)?.at
}

/** kv's task state changes each host saw since `after`, for a failure's message. */
async function kvEvents(hosts: readonly Host[], after: number): Promise<string> {
  const seen = await Promise.all(hosts.map(async (host) => {
    const { events } = await ask({ peer: host.socket, timeoutMs: 3_000 }, 'GET /v1/events').catch(() => ({ events: [] }))
    return events.flatMap((event) => event.kind === 'task' && event.slot.startsWith(`${KV}/`) && event.at >= after
      ? [`${host.name} ${event.slot} ${event.state} at ${event.at}`] : [])
  }))
  return seen.flat().join('; ') || 'none'
}

export async function twoTierThroughAPowerCut(driver: TierDriver, mesh: 'userspace' | 'kernel'): Promise<void> {
  const swept = sweepStale()
  if (swept.length > 0) log(`removed namespaces of earlier runs: ${swept.join(' ')}`)
  const startedAt = Date.now()
  const { agentArgs, ...hostsInit } = driver.hostsInit
  const hosts = await Hosts.create({ count: 3, client: true, ...hostsInit, agentArgs: ['--mesh', mesh, ...(agentArgs ?? [])] })
  const recorder = new HistoryRecorder(hosts.hosts.map((host) => ({ name: host.name, cpuMilli: 2_000, memoryMiB: 2_048 })))
  const faults = new Faults(hosts, recorder, driver.alsoOnPowerCut?.bind(driver))
  const probes: Probe[] = []
  try {
    await driver.prepare(hosts)
    await hosts.startAll()
    await Promise.all(hosts.hosts.map((host) => hosts.waitForMembers(host, 3)))
    const h1 = hosts.hosts[0]!
    await ask({ peer: h1.socket, timeoutMs: 10_000 }, 'POST /v1/apply', { body: { services: driver.services(h1.name) } })
    const { nodes } = await ask({ peer: h1.socket, timeoutMs: 3_000 }, 'GET /v1/nodes')
    log(`${driver.name}: 3 agents up in ${Date.now() - startedAt} ms; forwarders: ${nodes.map((node) => node.labels['peer.mesh'] ?? '?').join(' ')}`)
    assert.ok(nodes.every((node) => node.labels['peer.mesh'] === mesh), `every agent forwards with ${mesh}`)

    const client = Probe.start(hosts.client.namespace)
    // A process on h1, where web runs (and which never loses power), asks h1's agent.
    const onH1 = Probe.start(h1.namespace)
    probes.push(client, onH1)
    const urls = hosts.hosts.map((host) => `http://${host.address}:${PUBLISHED}${WEB_PATH}`)

    // 1. Placed as pinned; every host's 8080 reaches web, and web reaches kv/0.
    const layout = await waitFor('web/0, kv/0 and kv/1 each running once', 60_000, async (note) => {
      const [web, kv0, kv1] = await Promise.all([driver.placed(hosts, `${WEB}/0`, WEB_PORT), driver.placed(hosts, `${KV}/0`, KV_PORT), driver.placed(hosts, UNREADY_SLOT, KV_PORT)])
      if (web === undefined || kv0 === undefined || kv1 === undefined) return void note(JSON.stringify({ web, kv0, kv1 }))
      return { web, kv0, kv1 }
    }, 200)
    assert.is(layout.web.host, h1.name, 'web runs where its constraint pins it')
    assert.not.equal(layout.kv0.host, h1.name, 'kv is kept off web\'s host')
    assert.not.equal(layout.kv1.host, h1.name, 'kv is kept off web\'s host')
    log(`placed: web/0 on ${layout.web.host}, kv/0 on ${layout.kv0.host}, kv/1 (never ready) on ${layout.kv1.host}`)
    for (const url of urls) {
      await waitFor(`${url} answered from outside with kv/0's count`, 30_000, async (note) => {
        const answer = await client.http(url)
        if (!answer.ok) return void note(`${answer.status ?? ''} ${answer.error ?? answer.body ?? ''}`)
        const body = JSON.parse(answer.body!) as WebAnswer
        return body.kv.slot === `${KV}/0` ? true : void note(answer.body!)
      }, 200)
    }

    // 2. DNS, asked by a process on h1 of h1's agent.
    const a = await onH1.dns(driver.dns, 'A', `${KV}.peer`)
    assert.ok(a.ok, `A ${KV}.peer: ${a.error}`)
    assert.is(a.records!.length, 1, `one address for ${KV}.peer: ${JSON.stringify(a.records)}`)
    assert.match(String(a.records![0]), driver.serviceAddress, 'a service address in the agents\' range')
    const kv0Host = hosts.host(layout.kv0.host)
    const srvName = `_${KV_PORT}._tcp.${KV}.peer`
    const srv = await onH1.dns(driver.dns, 'SRV', srvName)
    assert.ok(srv.ok, `SRV ${srvName}: ${srv.error}`)
    const named = (records: unknown[] | undefined): { name: string; port: number }[] => (records ?? []).map((record) => {
      const { name, port } = record as { name: string; port: number }
      return { name, port }
    })
    assert.equal(named(srv.records), [{ name: addrName(kv0Host.address), port: layout.kv0.port }], `SRV ${srvName} is kv/0 alone, where it really listens (kv/1 fails its healthcheck)`)
    // The SRV record is where kv/0 really is: asked there directly, it answers as kv/0.
    const direct = await onH1.http(`http://${kv0Host.address}:${layout.kv0.port}/cgi-bin/kv`)
    assert.ok(direct.ok, `kv/0 at ${kv0Host.address}:${layout.kv0.port}: ${direct.error ?? direct.body}`)
    assert.is((JSON.parse(direct.body!) as { slot: string }).slot, `${KV}/0`)
    // kv/1 runs (so its absence from DNS is its readiness) and is not healthy.
    const kv1Row = (await ask({ peer: hosts.host(layout.kv1.host).socket, timeoutMs: 3_000 }, 'GET /v1/tasks')).tasks.find((task) => task.slot === UNREADY_SLOT)
    assert.ok(kv1Row !== undefined && kv1Row.state !== 'healthy', `kv/1 runs unready: ${JSON.stringify(kv1Row)}`)
    log(`DNS from h1: A ${KV}.peer ${JSON.stringify(a.records)}; SRV ${JSON.stringify(srv.records)}; kv/1 is ${kv1Row!.state}`)

    // 3. Traffic from outside through every host, then the power cut of kv/0's host.
    client.loop(urls, LOOP_INTERVAL_MS)
    await waitFor('every host answering in the request loop', 10_000, (note) => {
      const answered = new Set(client.results.filter((result) => result.ok).map((result) => result.url))
      return answered.size === urls.length ? true : void note(`answered: ${[...answered].join(' ')}`)
    }, 100)
    const cutAt = Date.now()
    await faults.crash(kv0Host)
    // From here kv/0's old host is silent and its tasks are gone: a request sent now cannot reach the
    // old kv/0 (one sent a moment before, while the drop rules went in, may have).
    const goneAt = Date.now()
    const replacement = await waitFor(`kv/0 running again off ${kv0Host.name}`, 20_000, async (note) => {
      const placed = await driver.placed(hosts, `${KV}/0`, KV_PORT)
      return placed !== undefined && placed.host !== kv0Host.name ? placed : void note(JSON.stringify(placed))
    }, 100)
    const newHost = hosts.host(replacement.host)
    const healthy = await waitFor(`kv/0 healthy on ${newHost.name}`, 20_000, () => healthyAt(newHost, `${KV}/0`, cutAt), 100)
    const survivors = urls.filter((url) => !url.includes(`//${kv0Host.address}:`))
    const recovered = await waitFor('a request through a surviving host answered after the old kv/0 was gone', 20_000, () =>
      client.results.find((result) => result.at >= goneAt && result.ok && survivors.includes(result.url)), 50)
    // Watched for a while and until every surviving host has answered twice more: a fixed time alone
    // saw no request through a host at all when each took over a second on a loaded machine.
    await new Promise((resolve) => setTimeout(resolve, WATCH_AFTER_RECOVERY_MS))
    await waitFor(`${SAMPLES_AFTER_RECOVERY} requests through each surviving host after the recovery`, 20_000, (note) => {
      const short = survivors.filter((url) => client.results.filter((result) => result.url === url && result.at > recovered.at + 500).length < SAMPLES_AFTER_RECOVERY)
      return short.length === 0 ? true : void note(short.join(' '))
    }, 50)
    await client.stop()

    const recoveryMs = recovered.at - healthy
    const outage = client.results.filter((result) => result.at >= goneAt && result.at < recovered.at && survivors.includes(result.url))
    const after = client.results.filter((result) => result.at > recovered.at + 500 && survivors.includes(result.url))
    log(`${driver.name}, mesh ${mesh}: power cut of ${kv0Host.name}; kv/0 healthy on ${newHost.name} ${healthy - cutAt} ms after it; first answered request ${recoveryMs} ms after that (${outage.length} requests failed meanwhile); load ${loadAverage()}`)
    const byUnready = client.results.filter((result) => parse(result)?.kv.slot === UNREADY_SLOT)
    assert.equal(byUnready.map((result) => `${result.url} at ${result.at}`), [], `no request answered by ${UNREADY_SLOT}, which fails its healthcheck`)
    assert.ok(recoveryMs <= RECOVERY_LIMIT_MS, `first answered request ${recoveryMs} ms after the replacement turned healthy; limit ${RECOVERY_LIMIT_MS} ms`)
    const failedAfter = after.filter((result) => !result.ok)
    if (failedAfter.length > 0) log(`kv's task events on the survivors after the cut: ${await kvEvents(hosts.hosts.filter((host) => host !== kv0Host), cutAt)}`)
    assert.equal(failedAfter.map((result) => `${result.url} at ${result.at}: ${result.error ?? result.body}`), [], 'requests through the surviving hosts keep being answered')
    // Each request through a survivor from just before the cut, by its send time from the replacement's healthy event, for a failure's message.
    const timeline = (): string => client.results.filter((result) => result.at >= goneAt - 200 && survivors.includes(result.url))
      .map((result) => `${result.url.split('/')[2]} ${result.at - healthy} ms took ${result.ms} ms: ${result.ok ? parse(result)?.kv.slot : (result.error ?? result.body)}`).join('; ')
    for (const url of survivors) assert.ok(after.some((result) => result.url === url && parse(result)?.kv.slot === `${KV}/0`), `${url} answered by kv/0 after the recovery; requests: ${timeline()}`)

    // And DNS follows: SRV names kv/0 on its new host. Waited for, not asked once: on a loaded host a
    // container's healthcheck can time out once, and SRV rightly lists no unready task meanwhile.
    const expected = JSON.stringify([{ name: addrName(newHost.address), port: replacement.port }])
    await waitFor(`SRV ${srvName} naming kv/0 on ${newHost.name} after the move`, 10_000, async (note) => {
      const seen = JSON.stringify(named((await onH1.dns(driver.dns, 'SRV', srvName)).records))
      note(seen)
      return seen === expected ? true : undefined
    }, 200)
  } catch (error) {
    throw await withLogTails(error, hosts.hosts.map((host) => host.log))
  } finally {
    await Promise.all(probes.map((probe) => probe.stop()))
    try {
      hosts.teardown()
    } finally {
      driver.teardown()
    }
    log(`test took ${Date.now() - startedAt} ms`)
  }
}
