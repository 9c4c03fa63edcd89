// The faults beyond power cuts, kills, symmetric partitions, loss and pauses, on one cluster of five
// hosts (one service of ten replicas, each data directory a tmpfs of its own), one after another,
// each judged on its own stretch of the history:
//
// - a one-way drop: h1's packets to h2 dropped, h2's to h1 delivered, for 12 s;
// - an offline reboot: h3 isolated, its power cut, back while still isolated (it restarts its tasks
//   from its disk after its rejoin limit), then healed: one copy of every slot within the heal budget;
// - a full disk under h4's data directory: the agent lives on, keeps its tasks, says so, takes no new
//   slot, and recovers when space frees;
// - writes on both sides of partitions (scale, apply, create and `peer rm` of a second service),
//   then the heal: every acknowledged write on every agent, one digest everywhere.
//
// Needs root (network namespaces, iptables, mount): it fails, never skips, without them — CI runs as root.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ask } from '../../cli/agent-client.js'
import { waitFor } from '../node/agent/cluster-support.js'
import { check, describeAnomaly, HEAL_BUDGET_MS, type Anomaly } from './checker.js'
import { AUX, startCluster, type Cluster } from './cluster.js'
import type { Host, Hosts } from './hosts.js'
import { DATA_DIR_MIB, writeConcurrently } from './nemesis.js'
import { OFFLINE_AFTER_RESTART_MS } from './schedule.js'
import { SuiteCluster } from './suite-cluster.js'

const HOSTS = 5
const REPLICAS = 10
const ONE_WAY_MS = 12_000
const DISK_FULL_MS = 10_000
const PARTITION_MS = 10_000
/** Failing tests' bound: a cluster that has not settled by then is stuck, not slow. */
const STUCK_MS = 20_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const log = (line: string): void => console.log(`    ${line}`)

let cluster: Cluster | undefined
const more = suite('hosts: one-way drop, offline reboot, full disk, writes across a partition')
const shared = new SuiteCluster('more-faults', async () => (cluster = await startCluster(HOSTS, REPLICAS, log, { dataDirMiB: DATA_DIR_MIB })))
const anomaliesSince = (fromMs: number): Anomaly[] => shared.anomaliesSince(fromMs)
const withLogs = (test: () => Promise<void>): Promise<void> => shared.run(test)

more.after(() => shared.finish())

/** After a fault ends at `endedMs`: until every slot runs once, and whether any slot doubled again after that. */
async function onceAfter(endedAt: number, endedMs: number): Promise<{ onceMs: number; doubledAgain: string[] }> {
  await cluster!.settled(STUCK_MS)
  const onceMs = Date.now() - endedAt
  await sleep(3_000)
  const doubledAgain = cluster!.recorder.history.samples
    .filter((sample) => sample.atMs >= endedMs + onceMs)
    .flatMap((sample) => {
      const slots = sample.copies.map((copy) => copy.slot)
      return slots.filter((slot, i) => slots.indexOf(slot) !== i).map((slot) => `${slot} at ${sample.atMs} ms`)
    })
  return { onceMs, doubledAgain }
}

more('a one-way drop (h1 → h2 lost, h2 → h1 delivered) loses nothing, and no slot stays doubled after it ends', () => withLogs(async () => {
  const { faults, hosts, recorder } = cluster!
  await cluster!.settled(STUCK_MS)
  const fromMs = recorder.now()
  await faults.oneWay(hosts.host('h1'), hosts.host('h2'))
  await sleep(ONE_WAY_MS)
  const endedMs = recorder.now()
  const endedAt = Date.now()
  await faults.endOneWay()
  const { onceMs, doubledAgain } = await onceAfter(endedAt, endedMs)
  const anomalies = anomaliesSince(fromMs)
  log(`one-way h1 → h2 for ${ONE_WAY_MS} ms: every slot once ${onceMs} ms after it ended; ${check(recorder.history, { settledAtEnd: false }).duplicates.filter((interval) => interval.toMs >= fromMs).length} brief doubles`)
  for (const anomaly of anomalies) log(`  anomaly: ${describeAnomaly(anomaly)}`)
  assert.equal(anomalies.map(describeAnomaly), [], 'nothing lost, nothing undesired, no over-commit, nothing doubled beyond the heal budget')
  assert.equal(doubledAgain, [], 'no slot doubled again once back to one copy')
}))

more('an offline reboot (isolated, power cut, back while isolated, then healed) comes back to one copy of every slot after the heal, with nothing lost', () => withLogs(async () => {
  const { faults, hosts, recorder, observer } = cluster!
  await cluster!.settled(STUCK_MS)
  const victim: Host = hosts.host('h3')
  const others = hosts.hosts.filter((host) => host !== victim)
  const fromMs = recorder.now()
  await faults.partition([[victim], others])
  await sleep(1_000)
  const ranBefore = new Set(observer.latest().copies.filter((copy) => copy.host === victim.name).map((copy) => copy.slot))
  await faults.crash(victim)
  await sleep(3_000)
  const restartAt = Date.now()
  await faults.restart(victim)
  // Alone, it hears from none of the members it knew: it restarts from its disk after its rejoin limit.
  const restartedMs = await waitFor(`${victim.name} runs tasks again from its disk while isolated`, STUCK_MS, (note) => {
    const slots = observer.latest().copies.filter((copy) => copy.host === victim.name).map((copy) => copy.slot)
    note(`${slots.length} copies on ${victim.name}`)
    return slots.length > 0 ? Date.now() - restartAt : undefined
  }, 100)
  await sleep(Math.max(0, OFFLINE_AFTER_RESTART_MS - (Date.now() - restartAt)))
  const ranIsolated = new Set(observer.latest().copies.filter((copy) => copy.host === victim.name).map((copy) => copy.slot))
  const healedMs = recorder.now()
  const healedAt = Date.now()
  await faults.heal()
  const { onceMs, doubledAgain } = await onceAfter(healedAt, healedMs)
  const anomalies = anomaliesSince(fromMs)
  log(`offline reboot of ${victim.name}: ran ${ranBefore.size} slots when cut off, restarted from its disk ${restartedMs} ms after power came back (${ranIsolated.size} slots); every slot once ${onceMs} ms after the heal (budget ${HEAL_BUDGET_MS} ms)`)
  for (const anomaly of anomalies) log(`  anomaly: ${describeAnomaly(anomaly)}`)
  assert.ok(ranIsolated.size > 0, `${victim.name} restarted tasks from its disk while isolated`)
  assert.equal(anomalies.map(describeAnomaly), [], 'nothing lost, nothing undesired, no over-commit, nothing doubled beyond the heal budget')
  assert.ok(onceMs <= HEAL_BUDGET_MS, `one copy of every slot ${onceMs} ms after the heal of an offline reboot; budget ${HEAL_BUDGET_MS} ms`)
  assert.equal(doubledAgain, [], 'no slot doubled again once back to one copy')
}))

more('a full disk under one host\'s data directory: its agent lives on, keeps its tasks, says so, takes no new slot, and recovers when space frees', () => withLogs(async () => {
  const { faults, hosts, recorder, observer } = cluster!
  await cluster!.settled(STUCK_MS)
  const victim: Host = hosts.host('h4')
  const via = hosts.host('h1')
  const fromMs = recorder.now()
  const exitsBefore = hosts.exits.length
  const before = observer.latest().copies.filter((copy) => copy.host === victim.name).map((copy) => copy.slot).sort()
  await faults.fillDisk(victim)
  await waitFor(`${victim.name} says its data directory is full`, 5_000, async (note) => {
    const { warnings } = await ask({ peer: victim.socket, timeoutMs: 3_000 }, 'GET /v1/status')
    note(JSON.stringify(warnings))
    return warnings.some((warning) => warning.source === 'data-dir') ? true : undefined
  }, 100)
  // A write while it is full: the new slots must go elsewhere, none fail here.
  const grown = REPLICAS + 4
  await writeConcurrently(cluster!, { offsetMs: 0, scaleVia: 'h1', applyVia: 'h2', replicas: grown, round: cluster!.round + 1 }, log)
  await cluster!.settled(STUCK_MS)
  const during = observer.latest().copies.filter((copy) => copy.host === victim.name).map((copy) => copy.slot).sort()
  const { events } = await ask({ peer: victim.socket, timeoutMs: 3_000 }, 'GET /v1/events')
  await sleep(Math.max(0, DISK_FULL_MS - (recorder.now() - fromMs)))
  await faults.freeDisk(victim)
  await waitFor(`${victim.name} has room again`, 5_000, async (note) => {
    const { warnings } = await ask({ peer: victim.socket, timeoutMs: 3_000 }, 'GET /v1/status')
    note(JSON.stringify(warnings))
    return warnings.length === 0 ? true : undefined
  }, 100)
  await writeConcurrently(cluster!, { offsetMs: 0, scaleVia: 'h2', applyVia: 'h1', replicas: REPLICAS, round: cluster!.round + 1 }, log)
  await cluster!.settled(STUCK_MS)
  await sleep(2_000)
  const anomalies = anomaliesSince(fromMs)
  log(`disk full on ${victim.name}: it ran [${before.join(' ')}] before, [${during.join(' ')}] while full (after web scaled to ${grown}); events: ${events.filter((event) => event.kind === 'agent').map((event) => (event.kind === 'agent' ? event.message : '')).join(' | ')}`)
  for (const anomaly of anomalies) log(`  anomaly: ${describeAnomaly(anomaly)}`)
  assert.is(hosts.exits.length, exitsBefore, `no agent exited: ${JSON.stringify(hosts.exits.slice(exitsBefore))}`)
  assert.ok(victim.agent !== undefined, `${victim.name}'s agent runs`)
  // Scale and env change replace copies (a new version), so compare the slots it holds, not pids:
  // it may hold fewer (its old-version copies replaced elsewhere), never a new one.
  assert.ok(during.every((slot) => before.includes(slot)), `${victim.name} took no new slot while full: before [${before.join(' ')}], during [${during.join(' ')}]`)
  assert.ok(events.some((event) => event.kind === 'agent' && /data directory .* is full/.test(event.message)), 'an event says the disk is full')
  assert.ok(!events.some((event) => event.kind === 'task' && event.state === 'failed' && event.at >= recorder.history.startedAtMs + fromMs), 'no task start failed on the full host')
  assert.equal(anomalies.map(describeAnomaly), [], 'nothing lost, doubled, undesired or over-committed')
}))

/** Waits until every agent holds the same desired-state digest; returns the digests. */
function oneDesiredDigest(hosts: Hosts): Promise<string[]> {
  return waitFor('every agent holds one desired-state digest', STUCK_MS, async (note) => {
    const seen = await Promise.all(hosts.hosts.map((host) => ask({ peer: host.socket, timeoutMs: 3_000 }, 'GET /v1/status').then((status) => status.desiredDigest)))
    note(seen.join(' '))
    return new Set(seen).size === 1 ? seen : undefined
  })
}

more('writes on both sides of partitions (scale, apply, create and rm of a second service) are all on every agent after the heal', () => withLogs(async () => {
  const { faults, hosts, recorder } = cluster!
  await cluster!.settled(STUCK_MS)
  const fromMs = recorder.now()
  const named = (...names: string[]) => names.map((name) => hosts.host(name))
  // Halves: scale through one side, the env change through the other, aux created on the first.
  await faults.partition([named('h1', 'h2'), named('h3', 'h4', 'h5')])
  await sleep(1_000)
  await writeConcurrently(cluster!, { offsetMs: 0, scaleVia: 'h1', applyVia: 'h4', replicas: REPLICAS + 2, round: cluster!.round + 1, auxVia: 'h2' }, log)
  assert.ok(cluster!.aux, `${AUX} created`)
  await sleep(PARTITION_MS)
  const firstHealAt = Date.now()
  await faults.heal()
  await cluster!.settled(STUCK_MS)
  // aux must be known on h5 before h5 is cut off to remove it: every slot once says only that its
  // holder knows it, and the desired state reaches the far side of a heal by sync, seconds later.
  await oneDesiredDigest(hosts)
  log(`one desired-state digest ${Date.now() - firstHealAt} ms after the first heal`)
  // One host alone: the removal of aux and the env change there, the scale on the other side.
  await faults.partition([named('h5'), named('h1', 'h2', 'h3', 'h4')])
  await sleep(1_000)
  await writeConcurrently(cluster!, { offsetMs: 0, scaleVia: 'h3', applyVia: 'h5', replicas: REPLICAS, round: cluster!.round + 1, auxVia: 'h5' }, log)
  assert.ok(!cluster!.aux, `${AUX} removed`)
  await sleep(PARTITION_MS)
  const healedAt = Date.now()
  await faults.heal()
  await cluster!.settled(STUCK_MS)
  const digests = await oneDesiredDigest(hosts)
  const convergedMs = Date.now() - healedAt
  await sleep(2_000)
  await cluster!.readBack()
  const operations = (recorder.history.operations ?? []).filter((operation) => operation.fromMs >= fromMs)
  const anomalies = anomaliesSince(fromMs)
  log(`writes across two partitions: ${operations.map((operation) => `${operation.kind} ${operation.detail} via ${operation.host} ${operation.ok ? 'ok' : 'failed'}`).join('; ')}; one digest (${digests[0]!.slice(0, 8)}) ${convergedMs} ms after the last heal`)
  for (const anomaly of anomalies) log(`  anomaly: ${describeAnomaly(anomaly)}`)
  assert.equal(operations.filter((operation) => !operation.ok).map((operation) => `${operation.kind} via ${operation.host}: ${operation.detail}`), [], 'every write answered')
  assert.equal(anomalies.filter((anomaly) => anomaly.kind === 'write-missing').map(describeAnomaly), [], 'every acknowledged write on every agent, the removal included; one digest')
  assert.equal(anomalies.map(describeAnomaly), [], 'nothing lost, undesired or over-committed; no slot doubled and no removed service\'s copy left beyond the heal budget')
}))

more.run()
