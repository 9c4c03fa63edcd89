// The kernel forwarder on real hosts: three network namespaces on one bridge (A runs the forwarder,
// B and C run endpoints, C is also the outside client), the real KernelForwarder running inside A,
// real TCP and UDP connections. Nothing touches this machine's own namespace.

import * as assert from 'node:assert/strict'
import { suite } from 'uvu'
import { inNamespace, run } from '../../../hosts/command.js'
import { checkNamespacesWork, createNetwork, destroyNetworkSync, planNetwork, sweepStale, type HostAddress } from '../../../hosts/network.js'
import type { Endpoint, EndpointTraffic, Listener, ListenerStatus } from '../../../../node/discovery/types.js'
import { NamespaceProcess } from './namespace-process.js'

interface Tally {
  counts: Record<string, number>
  errors: Record<string, number>
  slowestErrorMs: number
}

const plan = planNetwork(3)
const [hostA, hostB, hostC] = plan.hosts as [HostAddress, HostAddress, HostAddress]
const namespaces = [...plan.hosts.map((host) => host.namespace), plan.bridgeNamespace]
const teardown = (): void => void destroyNetworkSync(namespaces)
process.once('exit', teardown)

const PORT = 9000
const endpoint = (slot: string, host: HostAddress, local: boolean, ready = true): Endpoint =>
  ({ slot, peer: `peer-${host.index}`, address: host.address, port: PORT, local, ready, state: ready ? 'running' : 'starting' }) as Endpoint
const onA = (ready = true) => endpoint('web/0', hostA, true, ready)
const onB = (ready = true) => endpoint('web/1', hostB, false, ready)
const onC = (ready = true) => endpoint('web/2', hostC, false, ready)

const mesh: Listener = { service: 'web', target: 80, protocol: 'tcp', host: '0.0.0.0', port: 8080, role: 'mesh' } as Listener
const meshUdp: Listener = { ...mesh, protocol: 'udp' }
const service: Listener = { service: 'web', target: 80, protocol: 'tcp', host: '127.77.0.5', port: 80, role: 'service' } as Listener
const table = (tcp: Endpoint[], udp: Endpoint[] = tcp) => ({ 'web 80 tcp': tcp, 'web 80 udp': udp })

/** iptables-save without what changes by itself (timestamps, counters). */
async function rules(host: HostAddress): Promise<string> {
  const saved = await run(inNamespace(host.namespace, ['iptables-save']))
  return saved.split('\n').filter((line) => !line.startsWith('#')).map((line) => line.replace(/ \[\d+:\d+\]$/, '')).join('\n')
}
const sysctl = async (host: HostAddress, name: string): Promise<string> => (await run(inNamespace(host.namespace, ['sysctl', '-n', name]))).trim()

const processes: NamespaceProcess[] = []
async function child(host: HostAddress): Promise<NamespaceProcess> {
  const made = await NamespaceProcess.start(host.namespace)
  processes.push(made)
  return made
}

const test = suite<{ a: NamespaceProcess; c: NamespaceProcess; baseline: string; sysctls: string[] }>('kernel forwarder in namespaces')

test.before(async (context) => {
  sweepStale()
  await checkNamespacesWork()
  await createNetwork(plan)
  // Rules of someone else on A, in every table the forwarder writes to: they must survive untouched.
  for (const rule of [['-t', 'nat', '-A', 'POSTROUTING', '-o', 'eth9', '-j', 'RETURN'], ['-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT'], ['-t', 'mangle', '-A', 'PREROUTING', '-j', 'RETURN']]) {
    await run(inNamespace(hostA.namespace, ['iptables', '-w', ...rule]))
  }
  // A as Docker leaves a host: forwarded packets dropped unless a rule lets them through. And no
  // forwarding, so the forwarder must switch it on while it needs it, and back off after.
  await run(inNamespace(hostA.namespace, ['iptables', '-w', '-P', 'FORWARD', 'DROP']))
  await run(inNamespace(hostA.namespace, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']))
  context.baseline = await rules(hostA)
  context.sysctls = [await sysctl(hostA, 'net.ipv4.conf.all.route_localnet'), await sysctl(hostA, 'net.ipv4.ip_forward')]
  assert.deepEqual(context.sysctls, ['0', '0'])
  const [a, b, c] = await Promise.all([child(hostA), child(hostB), child(hostC)])
  await Promise.all([a.call('serve', { name: 'A', port: PORT }), b.call('serve', { name: 'B', port: PORT }), c.call('serve', { name: 'C', port: PORT })])
  context.a = a
  context.c = c
})

test.after(async () => {
  await Promise.all(processes.map((process) => process.stop()))
  teardown()
})

test('kernel forwarding is available as root in a namespace', async ({ a }) => {
  assert.deepEqual(await a.call('available'), { ok: true })
})

test('a published port on A forwards TCP and UDP from a client on C to the endpoint on B', async ({ a, c }) => {
  await a.call('start', { endpoints: table([onB()]) })
  const statuses = await a.call<ListenerStatus[]>('apply', { listeners: [mesh, meshUdp] })
  assert.ok(statuses.every((status) => status.bound), JSON.stringify(statuses))
  const tcp = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 10, protocol: 'tcp' })
  assert.deepEqual(tcp.counts, { B: 10 }, JSON.stringify(tcp))
  const udp = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 5, protocol: 'udp' })
  assert.deepEqual(udp.counts, { B: 5 }, JSON.stringify(udp))
  assert.equal(await sysctl(hostA, 'net.ipv4.ip_forward'), '1')
})

test('a service address on A forwards a client inside A to the endpoint on B, with route_localnet set', async ({ a }) => {
  await a.call('apply', { listeners: [mesh, meshUdp, service] })
  const tally = await a.call<Tally>('probe', { host: '127.77.0.5', port: 80, count: 10, protocol: 'tcp' })
  assert.deepEqual(tally.counts, { B: 10 }, JSON.stringify(tally))
  assert.equal(await sysctl(hostA, 'net.ipv4.conf.all.route_localnet'), '1')
})

test('only ready endpoints get connections; several ready ones share them', async ({ a, c }) => {
  await a.call('endpoints', { endpoints: table([onB(), onC(false)]) })
  const onlyB = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 20, protocol: 'tcp' })
  assert.deepEqual(onlyB.counts, { B: 20 }, JSON.stringify(onlyB))
  await a.call('endpoints', { endpoints: table([onB(), onC()]) })
  const both = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 40, protocol: 'tcp' })
  // Each gets a half: all 40 on one side has a chance of 2 in 2^40.
  assert.ok((both.counts.B ?? 0) > 0 && (both.counts.C ?? 0) > 0 && both.counts.B! + both.counts.C! === 40, JSON.stringify(both))
})

test('with no ready endpoint, connections are refused at once', async ({ a, c }) => {
  await a.call('endpoints', { endpoints: table([onB(false)]) })
  const inside = await a.call<Tally>('probe', { host: '127.77.0.5', port: 80, count: 3, protocol: 'tcp' })
  const outside = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 3, protocol: 'tcp' })
  for (const tally of [inside, outside]) {
    assert.deepEqual(tally.counts, {}, JSON.stringify(tally))
    assert.deepEqual(tally.errors, { ECONNREFUSED: 3 }, JSON.stringify(tally))
    assert.ok(tally.slowestErrorMs < 1_000, `refused after ${tally.slowestErrorMs} ms`)
  }
})

test('a ready local endpoint takes every connection', async ({ a, c }) => {
  await a.call('endpoints', { endpoints: table([onA(), onB(), onC()]) })
  const outside = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 10, protocol: 'tcp' })
  const inside = await a.call<Tally>('probe', { host: '127.77.0.5', port: 80, count: 10, protocol: 'tcp' })
  assert.deepEqual(outside.counts, { A: 10 }, JSON.stringify(outside))
  assert.deepEqual(inside.counts, { A: 10 }, JSON.stringify(inside))
})

test('endpointsChanged moves new connections and keeps open ones', async ({ a }) => {
  await a.call('endpoints', { endpoints: table([onB()]) })
  const held = await a.call<{ connection: number; name: string }>('hold', { host: '127.77.0.5', port: 80 })
  assert.equal(held.name, 'B')
  await a.call('endpoints', { endpoints: table([onC()]) })
  const moved = await a.call<Tally>('probe', { host: '127.77.0.5', port: 80, count: 10, protocol: 'tcp' })
  assert.deepEqual(moved.counts, { C: 10 }, JSON.stringify(moved))
  assert.equal(await a.call('echo', { connection: held.connection, text: 'still there' }), 'still there')
})

test('traffic counts connections and bytes per endpoint, across rule rewrites, and open connections', async ({ a }) => {
  const find = (traffic: EndpointTraffic[], slot: string) => traffic.find((entry) => entry.slot === slot && entry.protocol === 'tcp')
  const before = find(await a.call<EndpointTraffic[]>('traffic'), 'web/2')!
  await a.call('probe', { host: '127.77.0.5', port: 80, count: 5, protocol: 'tcp' })
  // A rewrite of every chain: its counters must be carried, not lost.
  await a.call('endpoints', { endpoints: table([onC(), onB(false)], [onB()]) })
  const held = await a.call<{ connection: number; name: string }>('hold', { host: '127.77.0.5', port: 80 })
  assert.equal(held.name, 'C')
  const after = find(await a.call<EndpointTraffic[]>('traffic'), 'web/2')!
  assert.equal(after.total - before.total, 6, JSON.stringify({ before, after }))
  assert.ok(after.bytesOut > before.bytesOut && after.bytesIn > before.bytesIn, JSON.stringify({ before, after }))
  assert.ok(after.active >= 1, JSON.stringify(after))
  assert.equal(after.failed, 0)
})

test('rules something else removed are written again', async ({ a, c }) => {
  await run(inNamespace(hostA.namespace, ['iptables', '-w', '-t', 'nat', '-F', 'PREROUTING']))
  await run(inNamespace(hostA.namespace, ['iptables', '-w', '-t', 'nat', '-F', 'PEER-SERVICES']))
  const broken = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 1, protocol: 'tcp' })
  assert.deepEqual(broken.errors, { ECONNREFUSED: 1 }, JSON.stringify(broken))
  const deadline = Date.now() + 20_000
  let tally: Tally
  do {
    await new Promise((resolve) => setTimeout(resolve, 250))
    tally = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 1, protocol: 'tcp' })
  } while (tally.counts.C !== 1 && Date.now() < deadline)
  assert.deepEqual(tally.counts, { C: 1 }, JSON.stringify(tally))
  assert.match(a.stderr, /the jump from nat PREROUTING to PEER-SERVICES is gone; writing every rule again/)
})

test('a published port a local socket listens on is reported unbound, and its traffic left alone', async ({ a, c }) => {
  const taken = { ...mesh, service: 'other', port: PORT } as Listener
  const statuses = await a.call<ListenerStatus[]>('apply', { listeners: [mesh, meshUdp, service, taken] })
  assert.deepEqual(statuses.map((status) => status.bound), [true, true, true, false])
  assert.match(statuses[3]!.error!, /tcp port 9000 is in use/)
  const tally = await c.call<Tally>('probe', { host: hostA.address, port: PORT, count: 5, protocol: 'tcp' })
  assert.deepEqual(tally.counts, { A: 5 }, JSON.stringify(tally))
})

test('apply() without a listener removes its rules; the others keep forwarding', async ({ a, c }) => {
  const before = await rules(hostA)
  await a.call('apply', { listeners: [mesh] })
  const after = await rules(hostA)
  assert.equal((after.match(/^:PEER-L-/gm) ?? []).length, (before.match(/^:PEER-L-/gm) ?? []).length - 2, after)
  assert.doesNotMatch(after, /127\.77\.0\.5/)
  const gone = await a.call<Tally>('probe', { host: '127.77.0.5', port: 80, count: 2, protocol: 'tcp' })
  assert.deepEqual(gone.errors, { ECONNREFUSED: 2 }, JSON.stringify(gone))
  const kept = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 3, protocol: 'tcp' })
  assert.deepEqual(kept.counts, { C: 3 }, JSON.stringify(kept))
})

test('close() leaves the rules and sysctls as they were before start', async ({ a, baseline, sysctls }) => {
  assert.notEqual(await rules(hostA), baseline)
  await a.call('close')
  assert.equal(await rules(hostA), baseline)
  assert.deepEqual([await sysctl(hostA, 'net.ipv4.conf.all.route_localnet'), await sysctl(hostA, 'net.ipv4.ip_forward')], sysctls)
})

test('a start after a crash removes the chains the dead forwarder left', async ({ baseline, c }) => {
  const crashed = await child(hostA)
  await crashed.call('start', { endpoints: table([onB()]) })
  await crashed.call('apply', { listeners: [mesh, service] })
  const afterCrashStart = await rules(hostA)
  await crashed.kill()
  assert.equal(await rules(hostA), afterCrashStart, 'a killed forwarder leaves its rules')
  assert.match(afterCrashStart, /PEER-L-/)
  const next = await child(hostA)
  await next.call('start', { endpoints: table([onC()]) })
  const fresh = await rules(hostA)
  assert.doesNotMatch(fresh, /PEER-L-/)
  // One jump per hook, not one per start.
  assert.equal(fresh.match(/-A PREROUTING -j PEER-SERVICES/g)?.length, 1, fresh)
  await next.call('apply', { listeners: [mesh] })
  const tally = await c.call<Tally>('probe', { host: hostA.address, port: 8080, count: 5, protocol: 'tcp' })
  assert.deepEqual(tally.counts, { C: 5 }, JSON.stringify(tally))
  await next.call('close')
  assert.equal(await rules(hostA), baseline)
})

test.run()
