// Apply 100 replicas through one agent, as `peer apply` does, and time from the agents' own event
// logs (one machine, one clock): until every slot has been claimed (the last slot's first start),
// until every slot runs (its first `running`; the observer's processes confirm it), and until every
// agent holds the new desired state (its `desired` event with the writer's digest) after the apply
// was acknowledged. The service is removed after each run and the agents left to go quiet.

import { ask } from '../../cli/agent-client.js'
import { placementRequest, validateService, type ServiceSpec, type SpecError } from '../../core/index.js'
import { percentile } from '../../sim/metrics.js'
import { serviceSpec } from '../../test/hosts/cluster.js'
import { CONTROL_TIMEOUT_MS, eventsSince, firstRunning, firstStarts, learnedAt } from './agent-events.js'
import { sleep, type MeasureContext } from './fault-measures.js'
import type { MeasureLine } from './figures.js'
import { agentsCpuSeconds, untilAgentsQuiet } from './quiet.js'

const BULK = 'bulk'
export const BULK_REPLICAS = 100
const PLACE_TIMEOUT_MS = 60_000
/** How long the agents' event logs may lag behind what the observer sees. */
const EVENTS_WAIT_MS = 10_000
export const CLAIM_TARGET_MS = 1_000
export const SYNC_TARGET_MS = 200

function bulkSpec(): ServiceSpec {
  const errors: SpecError[] = []
  const spec = validateService(BULK, { command: ['sleep', '600'], replicas: BULK_REPLICAS, resources: { cpu: '50m', memory: '16Mi' } }, BULK, errors)
  if (spec === undefined) throw new Error(`bulk service is invalid: ${JSON.stringify(errors)}`)
  return spec
}

/** Until the observer sees `count` copies of `service`, one per slot (or none, for count 0). */
async function untilCopies(context: MeasureContext, service: string, count: number): Promise<void> {
  const deadline = Date.now() + PLACE_TIMEOUT_MS
  for (;;) {
    const copies = context.cluster.observer.latest().copies.filter((copy) => copy.service === service)
    if (copies.length === count && new Set(copies.map((copy) => copy.slot)).size === count) return
    if (Date.now() > deadline) throw new Error(`${service}: ${copies.length} copies, not ${count}, after ${PLACE_TIMEOUT_MS} ms`)
    await sleep(50)
  }
}

export async function applyHundred(context: MeasureContext): Promise<MeasureLine[]> {
  const { cluster, runs, log } = context
  const writer = cluster.hosts.hosts[0]!
  const spec = bulkSpec()
  const specHash = placementRequest(spec).specHash
  const claimedMs: number[] = []
  const runningMs: number[] = []
  const answerMs: number[] = []
  const syncLastMs: number[] = []
  const syncPerAgentMs: number[] = []
  // The agents' own CPU from the apply until every copy runs: on two cores ten agents that each need
  // more than ≈ 200 ms cannot all have claimed within a second, whatever the protocol.
  const cpuPerAgentMs: number[] = []
  let incomplete = 0
  for (let run = 0; run < runs; run++) {
    await cluster.settled(30_000)
    const web = serviceSpec(cluster.replicas, cluster.round)
    cluster.recorder.desire([web, spec])
    const cpuBefore = agentsCpuSeconds(context.cluster.hosts.hosts)
    const sentEpoch = Date.now()
    await ask({ peer: writer.socket, timeoutMs: CONTROL_TIMEOUT_MS }, 'POST /v1/apply', { body: { services: [spec] } })
    const ackEpoch = Date.now()
    // Nothing else writes meanwhile, so the writer's digest now is the one every agent must reach.
    const { desiredDigest } = await ask({ peer: writer.socket, timeoutMs: CONTROL_TIMEOUT_MS }, 'GET /v1/status')
    await untilCopies(context, BULK, BULK_REPLICAS)
    const observedMs = Date.now() - sentEpoch
    const cpuMs = agentsCpuSeconds(context.cluster.hosts.hosts).map((after, i) => Math.round((after - cpuBefore[i]!) * 1000))
    cpuPerAgentMs.push(...cpuMs)
    // A process is seen before its agent has logged it `running`: a starved agent logs it late.
    let events = await eventsSince(cluster.hosts.hosts, sentEpoch - 5)
    for (const until = Date.now() + EVENTS_WAIT_MS; Date.now() < until && (firstRunning(events, BULK).size < BULK_REPLICAS || learnedAt(events, desiredDigest).size < cluster.hosts.hosts.length);) {
      await sleep(250)
      events = await eventsSince(cluster.hosts.hosts, sentEpoch - 5)
    }
    const starts = firstStarts(events, BULK, specHash)
    const running = [...firstRunning(events, BULK).values()]
    const learned = learnedAt(events, desiredDigest)
    const others = [...learned].filter(([host]) => host !== writer.name).map(([, at]) => at - ackEpoch)
    if (starts.size !== BULK_REPLICAS || running.length !== BULK_REPLICAS || learned.size !== cluster.hosts.hosts.length) incomplete++
    else {
      claimedMs.push(Math.max(...[...starts.values()].map((start) => start.at)) - sentEpoch)
      runningMs.push(Math.max(...running) - sentEpoch)
      syncLastMs.push(Math.max(...others))
      syncPerAgentMs.push(...others)
    }
    answerMs.push(ackEpoch - sentEpoch)
    const perHost = new Map<string, number>()
    for (const start of starts.values()) perHost.set(start.host, (perHost.get(start.host) ?? 0) + 1)
    log(`apply ${run + 1}/${runs}: answered ${ackEpoch - sentEpoch} ms; all claimed ${claimedMs.at(-1) ?? '?'} ms, all running ${runningMs.at(-1) ?? '?'} ms (observer ${observedMs} ms); desired state on the last agent ${syncLastMs.at(-1) ?? '?'} ms after the answer (per agent ${others.sort((a, b) => a - b).join(' ')}); starts per host ${[...perHost].sort().map(([host, n]) => `${host}=${n}`).join(' ')}; agents' CPU ${cpuMs.join(' ')} ms`)
    await ask({ peer: writer.socket, timeoutMs: CONTROL_TIMEOUT_MS }, 'POST /v1/remove', { body: { services: [BULK] } })
    cluster.recorder.desire([web])
    await untilCopies(context, BULK, 0)
    await untilAgentsQuiet(cluster.hosts.hosts)
  }
  const detail = { replicas: BULK_REPLICAS, incompleteRuns: incomplete, answerMs, agentCpuMsP50: percentile(cpuPerAgentMs, 50), agentCpuMsMax: Math.max(...cpuPerAgentMs) }
  return [
    { measure: 'apply-claimed', target: `all ${BULK_REPLICAS} slots claimed ≤ ${CLAIM_TARGET_MS} ms p99`, met: incomplete === 0 && Math.max(...claimedMs) <= CLAIM_TARGET_MS, values: claimedMs, unit: 'ms', detail },
    { measure: 'apply-running', target: `all ${BULK_REPLICAS} running (no target; adds the task starts)`, met: incomplete === 0, values: runningMs, unit: 'ms', detail },
    {
      measure: 'desired-sync',
      target: `desired state on every agent ≤ ${SYNC_TARGET_MS} ms p99 after the apply's answer (per run: the last agent)`,
      met: incomplete === 0 && Math.max(...syncLastMs) <= SYNC_TARGET_MS,
      values: syncLastMs,
      unit: 'ms',
      detail: { perAgentP50: percentile(syncPerAgentMs, 50), perAgentP99: percentile(syncPerAgentMs, 99), samples: syncPerAgentMs.length },
    },
  ]
}

