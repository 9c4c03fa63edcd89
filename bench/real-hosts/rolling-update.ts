// A rolling update of the cluster's service (2 replicas per host: 20 tasks at 10 hosts): an env
// change applied through h1, the default update policy (one slot at a time, stop-first). How long
// each slot was down, two ways:
//
// - from the event logs: from the old copy's stop (on the host that ran it) to the new copy's
//   `running` (on the host that started it); a new copy running before the old one stops counts 0;
// - from the observer: the longest stretch of samples (every 100 ms) in which no copy of the slot ran.
//
// "A task start" is the time from a start to its `running`, taken from the same update. Issue 16's
// target is that no slot is down longer than its own task start; with `stop-first` (the default) a
// slot is down for its old copy's stop as well, so the figure judged is each slot's excess — its
// downtime beyond its own start — against the update's median task start: the stop and the
// hand-over between them took no longer than one more task start.

import { placementRequest } from '../../core/index.js'
import { percentile } from '../../sim/metrics.js'
import { serviceSpec, SERVICE } from '../../test/hosts/cluster.js'
import type { Sample } from '../../test/hosts/history.js'
import { hostsBySlot } from '../../test/hosts/observer.js'
import { eventsSince, firstStarts, runningAt, stoppedAt } from './agent-events.js'
import { sleep, type MeasureContext } from './fault-measures.js'
import { spread, type MeasureLine } from './figures.js'

const ROLLOUT_TIMEOUT_MS = 120_000

/** Per slot, the longest time in `samples` during which no copy of it ran (0 when always running). */
function longestGaps(samples: readonly Sample[], slots: readonly string[]): Map<string, number> {
  const gaps = new Map(slots.map((slot) => [slot, 0]))
  const downSince = new Map<string, number>()
  for (const sample of samples) {
    const bySlot = hostsBySlot(sample)
    for (const slot of slots) {
      const since = downSince.get(slot)
      if (!bySlot.has(slot)) {
        if (since === undefined) downSince.set(slot, sample.atMs)
      } else if (since !== undefined) {
        gaps.set(slot, Math.max(gaps.get(slot)!, sample.atMs - since))
        downSince.delete(slot)
      }
    }
  }
  return gaps
}

export async function rollingUpdate(context: MeasureContext): Promise<MeasureLine[]> {
  const { cluster, runs, log } = context
  const writer = cluster.hosts.hosts[0]!
  const downMs: number[] = []
  const observedDownMs: number[] = []
  const taskStartMs: number[] = []
  const rolloutMs: number[] = []
  const excessMs: number[] = []
  for (let run = 0; run < runs; run++) {
    await cluster.settled(30_000)
    const replicas = cluster.replicas
    const slots = Array.from({ length: replicas }, (_, i) => `${SERVICE}/${i}`)
    const homes = new Map([...hostsBySlot(cluster.observer.latest())].map(([slot, hosts]) => [slot, hosts[0]!]))
    const next = serviceSpec(replicas, cluster.round + 1)
    const newHash = placementRequest(next).specHash
    const fromEpoch = Date.now()
    const fromMs = cluster.recorder.now()
    cluster.recorder.desire([next], fromMs)
    await cluster.apply(writer, replicas, cluster.round + 1)
    cluster.round++
    for (const deadline = Date.now() + ROLLOUT_TIMEOUT_MS; ;) {
      const copies = cluster.observer.latest().copies
      if (copies.length === replicas && copies.every((copy) => copy.specHash === newHash) && new Set(copies.map((copy) => copy.slot)).size === replicas) break
      if (Date.now() > deadline) throw new Error(`rolling update: not every slot at ${newHash} after ${ROLLOUT_TIMEOUT_MS} ms`)
      await sleep(50)
    }
    const doneMs = cluster.recorder.now() - fromMs
    await sleep(500)
    const events = await eventsSince(cluster.hosts.hosts, fromEpoch)
    const starts = firstStarts(events, SERVICE, newHash)
    const downs: number[] = []
    const startTimes: number[] = []
    for (const slot of slots) {
      const start = starts.get(slot)
      const running = start === undefined ? undefined : runningAt(events, start.host, slot, start.at)
      const home = homes.get(slot)
      const stop = home === undefined ? undefined : stoppedAt(events, home, slot, fromEpoch)
      if (start === undefined || running === undefined) continue
      const down = stop === undefined ? 0 : Math.max(0, running - stop)
      startTimes.push(running - start.at)
      downs.push(down)
      excessMs.push(Math.max(0, down - (running - start.at)))
    }
    const gaps = longestGaps(cluster.recorder.history.samples.filter((sample) => sample.atMs >= fromMs), slots)
    downMs.push(...downs)
    observedDownMs.push(...gaps.values())
    taskStartMs.push(...startTimes)
    rolloutMs.push(doneMs)
    log(`rolling update ${run + 1}/${runs}: ${replicas} slots at the new version after ${doneMs} ms; down per slot (events) max ${Math.max(...downs)} ms, p50 ${percentile(downs, 50)} ms; observed gaps max ${Math.max(...gaps.values())} ms; task start max ${Math.max(...startTimes)} ms (${startTimes.length} of ${replicas} slots timed)`)
  }
  const startP50 = percentile(taskStartMs, 50)
  return [{
    measure: 'rolling-update',
    target: 'no slot down longer than its own task start (stop-first: its downtime beyond its own start ≤ the median task start)',
    met: Math.max(...excessMs) <= startP50,
    values: downMs,
    unit: 'ms of downtime per slot',
    detail: {
      tasks: cluster.replicas,
      excessOverOwnStartMs: spread(excessMs),
      taskStartMs: spread(taskStartMs),
      observedDownMs: spread(observedDownMs),
      rolloutMs,
    },
  }]
}
