// An agent killed alone on real hosts (issue 16, bug 4): SIGKILL ends only the agent process, and
// the tasks the process driver started run on as orphans (each leads its own session, recorded in
// the data directory). The others see the agent go at once (the kernel closes its sockets) and
// replace its slots; the agent is started again 8 s after the kill. What docs/protocol.md
// ("Placement epochs", "Rejoining after a restart") promises, checked in the observer's samples:
//
// - the orphans do survive the kill (if they did not, this test would be about something else);
// - the replacements stay where they are: no slot moves back to the restarted host;
// - the restarted agent stops its orphans within a few seconds of listening again;
// - after that no slot runs twice, and the checker finds nothing at all.
//
// The orphans overlap their replacements for as long as the agent is down — nothing can stop them
// then — and this test prints how long that was.
//
// Needs root (network namespaces, iptables): it fails, never skips, without them — CI runs as root.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ask } from '../../cli/agent-client.js'
import { waitFor, withLogTails } from '../node/agent/cluster-support.js'
import { check, type Anomaly } from './checker.js'
import { startCluster, type Cluster } from './cluster.js'
import { saveHistory, type Sample } from './history.js'
import { hostsBySlot } from './observer.js'
import { savePostMortem } from './post-mortem.js'

const HOSTS = 5
const REPLICAS = 10
const RESTART_AFTER_KILL_MS = 8_000
/** "A few seconds" from the restarted agent listening to its orphans gone. */
const ORPHANS_STOPPED_LIMIT_MS = 5_000
const SETTLE_MS = 5_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const signed = (ms: number): string => (ms >= 0 ? `+${ms}` : `${ms}`)
const describe = (anomaly: Anomaly): string => `${anomaly.kind} ${anomaly.slot ?? ''} on [${anomaly.hosts.join(' ')}] ${anomaly.fromMs}–${anomaly.toMs} ms${anomaly.detail === undefined ? '' : `: ${anomaly.detail}`}`

/** The copies on `host` in `sample`, by slot. */
function copiesOn(sample: Sample, host: string): Map<string, number> {
  return new Map(sample.copies.filter((copy) => copy.host === host).map((copy) => [copy.slot, copy.pid]))
}

/** The restarted agent's members (status, last heard) and its last events, for a failure's output. */
async function restartedView(socket: string): Promise<string> {
  try {
    const { nodes } = await ask({ peer: socket, timeoutMs: 3_000 }, 'GET /v1/nodes')
    const { events } = await ask({ peer: socket, timeoutMs: 3_000 }, 'GET /v1/events')
    const members = nodes.map((node) => `${node.peer.slice(-6)} ${node.status}/${node.state} tasks ${node.tasks} heard ${node.lastSeen === null ? 'never' : `${Date.now() - node.lastSeen} ms ago`}`)
    const last = events.slice(-25).map((event) => `${new Date(event.at).toISOString().slice(11, 23)} ${JSON.stringify({ ...event, at: undefined })}`)
    return [`    the restarted agent's members: ${members.join('; ')}`, '    its last events:', ...last.map((line) => `      ${line}`)].join('\n')
  } catch (error) {
    return `    the restarted agent did not answer: ${(error as Error).message}`
  }
}

const orphans = suite('hosts: agent killed alone')

orphans('a killed agent\'s orphans are stopped after its restart and its replaced slots do not move back', async () => {
  const startedAt = Date.now()
  let cluster: Cluster | undefined
  try {
    cluster = await startCluster(HOSTS, REPLICAS, (line) => console.log(`    ${line}`))
    const { hosts, recorder, observer, faults } = cluster
    // The host holding the most slots: the most orphans.
    const before = observer.latest()
    const counts = new Map<string, number>()
    for (const copy of before.copies) counts.set(copy.host, (counts.get(copy.host) ?? 0) + 1)
    const victim = hosts.host([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0])
    const orphaned = copiesOn(before, victim.name)
    const slots = [...orphaned.keys()].sort()

    const kill = await faults.kill(victim)
    const killWall = Date.now()
    // The process driver's tasks lead their own sessions: SIGKILL of the agent leaves them running.
    await sleep(300)
    const survivors = copiesOn(observer.sampleNow(), victim.name)
    const survived = slots.filter((slot) => survivors.get(slot) === orphaned.get(slot))
    console.log(`    killed ${victim.name}'s agent (${slots.length} slots: ${slots.join(' ')}); ${survived.length} of its tasks still run 300 ms later`)
    assert.equal(survived, slots, 'every task of the killed agent runs on as an orphan')

    // Replaced: every one of its slots runs on another host too.
    await waitFor(`every slot of ${victim.name} running on another host`, RESTART_AFTER_KILL_MS - 500, (note) => {
      const elsewhere = hostsBySlot(observer.latest())
      const missing = slots.filter((slot) => !(elsewhere.get(slot) ?? []).some((host) => host !== victim.name))
      return missing.length === 0 ? true : void note(`not yet elsewhere: ${missing.join(' ')}`)
    }, 100)
    const replacedMs = recorder.now() - kill.fromMs
    const replacements = hostsBySlot(observer.latest())
    const replacedOn = new Map(slots.map((slot) => [slot, replacements.get(slot)!.find((host) => host !== victim.name)!]))

    await sleep(Math.max(0, killWall + RESTART_AFTER_KILL_MS - Date.now()))
    const restartAtMs = recorder.now()
    await faults.restart(victim)
    const listeningAtMs = recorder.now()
    const orphansLeft = (sample: Sample): string[] => slots.filter((slot) => copiesOn(sample, victim.name).get(slot) === orphaned.get(slot))
    const deadline = Date.now() + ORPHANS_STOPPED_LIMIT_MS + 5_000
    while (Date.now() < deadline) {
      if (orphansLeft(observer.latest()).length === 0) break
      await sleep(100)
    }
    const gone = recorder.history.samples.find((sample) => sample.atMs >= restartAtMs && orphansLeft(sample).length === 0)
    const stoppedAtMs = gone?.atMs
    await sleep(SETTLE_MS)
    observer.stop()

    const samples = recorder.history.samples
    const afterRestart = samples.filter((sample) => sample.atMs >= restartAtMs)
    // A slot moved back: a copy on the restarted host that is not its orphan (a new start there),
    // or the replacement gone from where it was put.
    const movedBack = slots.filter((slot) => afterRestart.some((sample) => {
      const here = copiesOn(sample, victim.name).get(slot)
      return (here !== undefined && here !== orphaned.get(slot)) || !(hostsBySlot(sample).get(slot) ?? []).includes(replacedOn.get(slot)!)
    }))
    const verdict = check(recorder.history)
    const keep = process.env.PEER_HOSTS_HISTORY
    if (keep !== undefined) console.log(`    history: ${saveHistory(keep, 'orphans', recorder.history, verdict)}; agents: ${await savePostMortem(keep, 'orphans', hosts)}`)
    const overlaps = verdict.duplicates.filter((interval) => slots.includes(interval.slot) && interval.hosts.includes(victim.name))
    const overlapMs = overlaps.map((interval) => interval.toMs - interval.fromMs)
    const doubledAfter = stoppedAtMs === undefined ? [] : verdict.duplicates.filter((interval) => interval.toMs > stoppedAtMs)
    console.log(`    replaced elsewhere ${replacedMs} ms after the kill; restarted ${restartAtMs - kill.fromMs} ms after it, listening ${listeningAtMs - restartAtMs} ms later`)
    console.log(`    orphans stopped ${stoppedAtMs === undefined ? 'never' : `${stoppedAtMs - restartAtMs} ms after the restart began, listening${signed(stoppedAtMs - listeningAtMs)} ms`} (limit ${ORPHANS_STOPPED_LIMIT_MS}); agent down ${listeningAtMs - kill.fromMs} ms`)
    console.log(`    orphans overlapped their replacements ${Math.min(...overlapMs)}–${Math.max(...overlapMs)} ms (${overlaps.length} slots), ending at listening${overlaps.length === 0 ? ' ?' : signed(Math.max(...overlaps.map((interval) => interval.toMs)) - listeningAtMs)} ms`)
    console.log(`    moved back to ${victim.name}: ${movedBack.join(' ') || 'none'}; doubled after the orphans stopped: ${doubledAfter.map((d) => d.slot).join(' ') || 'none'}; verdict ${verdict.valid ? 'valid' : 'not valid'}`)
    for (const anomaly of verdict.anomalies) console.log(`      anomaly: ${describe(anomaly)}`)
    // Rarely (once in CI) the restarted agent kept its orphans: say what it saw, since its log is
    // quiet — whom it heard from, and what its last events were.
    if (stoppedAtMs === undefined || stoppedAtMs - listeningAtMs > ORPHANS_STOPPED_LIMIT_MS) console.log(await restartedView(victim.socket))

    assert.equal(movedBack, [], 'the replacements stay where they are')
    assert.ok(stoppedAtMs !== undefined && stoppedAtMs - listeningAtMs <= ORPHANS_STOPPED_LIMIT_MS, `orphans stopped ${stoppedAtMs === undefined ? 'never' : stoppedAtMs - listeningAtMs} ms after the agent listened; limit ${ORPHANS_STOPPED_LIMIT_MS} ms`)
    assert.equal(doubledAfter.map((interval) => `${interval.slot} on [${interval.hosts.join(' ')}]`), [], 'no slot doubled after the orphans stopped')
    assert.equal(verdict.anomalies.map(describe), [], 'no anomaly')
  } catch (error) {
    throw await withLogTails(error, cluster?.hosts.hosts.map((host) => host.log) ?? [])
  } finally {
    cluster?.teardown()
    console.log(`    test took ${Date.now() - startedAt} ms`)
  }
})

orphans.run()
