// What each task this peer runs really uses, measured every interval: processes from /proc, containers
// from the Docker engine. CPU is a rate over the interval (cumulative CPU time between two samples of
// the same process group or container), so a task shows CPU from its second sample on. The result
// feeds the peer_task_* gauges and the advert (peer top, placement views).

import type { RunningTaskInfo } from '../runtime/index.js'
import type { ServiceName, SlotId } from '../../core/index.js'
import { ContainerUsage } from './container-usage.js'
import { processGroupUsage, type GroupUsage } from './process-usage.js'

export interface MeasuredTask {
  readonly slot: SlotId
  readonly service: ServiceName
  /** CPU over the last interval, in cores; undefined until a second sample. */
  readonly cpuCores: number | undefined
  readonly memoryBytes: number
  readonly requestedCpuMilli: number
  readonly requestedMemoryMiB: number
}

interface Previous {
  readonly cpuSeconds: number
  readonly atMs: number
}

export class TaskUsageSampler {
  /** Last cumulative sample per task instance (`slot handle`: a restarted task starts afresh). */
  private previous = new Map<string, Previous>()
  private readonly containers: ContainerUsage

  constructor(init: { readonly containers?: ContainerUsage } = {}) {
    this.containers = init.containers ?? new ContainerUsage()
  }

  /** Measures the given running tasks now. Tasks that could not be measured (just ended) are left out. */
  async sample(running: readonly RunningTaskInfo[], nowMs: number): Promise<MeasuredTask[]> {
    const processes = running.filter((task) => task.spec.driver === 'process')
    const containers = running.filter((task) => task.spec.driver === 'docker')
    const groups = await processGroupUsage(new Set(processes.map((task) => Number(task.handle))))
    const engine = containers.length === 0 ? new Map<string, GroupUsage>() : await this.containers.of(containers.map((task) => task.handle))
    const next = new Map<string, Previous>()
    const measured: MeasuredTask[] = []
    for (const task of running) {
      const usage = task.spec.driver === 'process' ? groups.get(Number(task.handle)) : engine.get(task.handle)
      if (usage === undefined) continue
      const key = `${task.slot} ${task.handle}`
      const before = this.previous.get(key)
      next.set(key, { cpuSeconds: usage.cpuSeconds, atMs: nowMs })
      const elapsedSeconds = before === undefined ? 0 : (nowMs - before.atMs) / 1000
      measured.push({
        slot: task.slot,
        service: task.service,
        cpuCores: elapsedSeconds > 0 ? Math.max(0, usage.cpuSeconds - before!.cpuSeconds) / elapsedSeconds : undefined,
        memoryBytes: usage.memoryBytes,
        requestedCpuMilli: task.spec.resources.cpuMilli,
        requestedMemoryMiB: task.spec.resources.memoryMiB,
      })
    }
    this.previous = next
    return measured
  }
}
