// What really runs on each host, sampled from the kernel rather than asked of the agents: every
// ~100 ms, the task processes in each host's namespace, each mapped to its slot. The process driver
// starts every task as the leader of its own process group with PEER_SLOT, PEER_SERVICE and
// PEER_SPEC_HASH in its environment (node/runtime/process-driver.ts), so a copy of a slot is a live
// group leader whose environment names that slot. Children of a task and healthcheck probes carry
// the same variables but lead no group, so they are not counted as copies.
//
// The agents' own view (`GET /v1/tasks`, what `peer ps --json` prints) is there to compare with.

import { readFileSync } from 'node:fs'
import { ask } from '../../cli/agent-client.js'
import type { TaskRow } from '../../node/control/index.js'
import { readStat } from '../../node/runtime/proc.js'
import type { Copy, HistoryRecorder, Sample } from './history.js'
import type { Host } from './hosts.js'
import { namespaceInode, processesByNamespace } from './processes.js'

interface TaskIdentity {
  readonly slot: string
  readonly service: string
  readonly specHash: string
}

export const SAMPLE_INTERVAL_MS = 100

/** What a run needs of whatever watches the hosts: processes here, containers in container-observer.ts. */
export interface Watch {
  start(): void
  stop(): void
  /** The newest sample. */
  latest(): Sample
  /** A look now, as far as the watcher can take one at once. */
  sampleNow(): Sample
}

export class Observer implements Watch {
  /**
   * By `pid:startTicks`: a task's environment never changes after its exec, so it is read once. Only
   * tasks are remembered: between fork and exec a new task still shows the agent's environment.
   */
  private readonly identities = new Map<string, TaskIdentity>()
  private readonly hostByInode: Map<number, string>
  private timer: NodeJS.Timeout | undefined
  private latestSample: Sample | undefined

  constructor(
    hosts: readonly Host[],
    private readonly recorder: HistoryRecorder,
    private readonly intervalMs = SAMPLE_INTERVAL_MS,
  ) {
    this.hostByInode = new Map(hosts.map((host) => [namespaceInode(host.namespace), host.name]))
  }

  start(): void {
    if (this.timer !== undefined) return
    this.sampleNow()
    this.timer = setInterval(() => this.sampleNow(), this.intervalMs)
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The newest sample (taking one if none was taken yet). */
  latest(): Sample {
    return this.latestSample ?? this.sampleNow()
  }

  /** Looks once, records the sample in the history and returns it. */
  sampleNow(): Sample {
    const copies: Copy[] = []
    for (const [inode, pids] of processesByNamespace([...this.hostByInode.keys()])) {
      const host = this.hostByInode.get(inode)!
      for (const pid of pids) {
        const stat = readStat(pid)
        // Zombies run nothing; a process that is not its group's leader is not a task's main process.
        if (stat === undefined || stat.state === 'Z' || stat.state === 'X' || stat.group !== pid) continue
        const identity = this.identityOf(pid, stat.startTicks)
        if (identity !== null) copies.push({ host, pid, ...identity })
      }
    }
    this.latestSample = this.recorder.sample(copies)
    return this.latestSample
  }

  private identityOf(pid: number, startTicks: number): TaskIdentity | null {
    const key = `${pid}:${startTicks}`
    const known = this.identities.get(key)
    if (known !== undefined) return known
    const identity = readIdentity(pid)
    if (identity !== null) this.identities.set(key, identity)
    return identity
  }
}

function readIdentity(pid: number): TaskIdentity | null {
  let environment: string
  try {
    environment = readFileSync(`/proc/${pid}/environ`, 'latin1')
  } catch {
    return null
  }
  const variables = new Map(environment.split('\0').map((entry) => {
    const eq = entry.indexOf('=')
    return [entry.slice(0, eq), entry.slice(eq + 1)] as const
  }))
  const slot = variables.get('PEER_SLOT')
  const service = variables.get('PEER_SERVICE')
  const specHash = variables.get('PEER_SPEC_HASH')
  if (slot === undefined || service === undefined || specHash === undefined) return null
  return { slot, service, specHash }
}

/** Copies per slot in a sample: the hosts each slot runs on, a host twice if it runs two copies. */
export function hostsBySlot(sample: Sample): Map<string, string[]> {
  const bySlot = new Map<string, string[]>()
  for (const copy of sample.copies) bySlot.set(copy.slot, [...(bySlot.get(copy.slot) ?? []), copy.host])
  return bySlot
}

/** Whether `slots` slots each run exactly once and none on `lost`; else what is wrong. */
export function everySlotOnceOff(bySlot: ReadonlyMap<string, readonly string[]>, slots: number, lost: string): true | string {
  const wrong = [...bySlot].filter(([, on]) => on.length !== 1 || on.includes(lost))
  return bySlot.size === slots && wrong.length === 0 ? true : `${bySlot.size} slots, not once: ${JSON.stringify(Object.fromEntries(wrong))}`
}

/** The tasks `host`'s agent believes run in the cluster (what `peer ps --json` prints). */
export async function tasksSeenBy(host: Host): Promise<TaskRow[]> {
  return (await ask({ peer: host.socket, timeoutMs: 3_000 }, 'GET /v1/tasks')).tasks
}
