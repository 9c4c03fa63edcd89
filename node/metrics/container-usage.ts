// CPU time and memory of containers, from the Docker engine's stats (which it reads from the
// container's cgroup). `one-shot` asks for one sample without the engine's own second sample a second
// later, so a call costs milliseconds, not a second; CPU rates come from our own successive samples.
// Memory is reported as `docker stats` shows it: usage less the inactive page cache, which the kernel
// reclaims before it would kill the container.

import type Docker from 'dockerode'
import { loadDockerode } from '../runtime/index.js'
import type { GroupUsage } from './process-usage.js'

/** Containers asked at once: the engine answers each from its cgroup files; more in flight only queue there. */
const CONCURRENT_STATS = 8
const STATS_TIMEOUT_MS = 5000

export class ContainerUsage {
  /** dockerode is loaded on the first container asked about: an agent without containers never loads it (docker-loader.ts). */
  constructor(private docker?: Docker) {}

  /** The usage of each container that answers; one that is gone or does not answer in time is left out. */
  async of(ids: readonly string[]): Promise<Map<string, GroupUsage>> {
    const result = new Map<string, GroupUsage>()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++]!
        const usage = await this.one(id).catch(() => undefined)
        if (usage !== undefined) result.set(id, usage)
      }
    }
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_STATS, ids.length) }, worker))
    return result
  }

  private async one(id: string): Promise<GroupUsage | undefined> {
    this.docker ??= new (await loadDockerode())()
    const stats = await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true, abortSignal: AbortSignal.timeout(STATS_TIMEOUT_MS) } as { stream: false; 'one-shot': boolean })
    return containerUsageOf(stats)
  }
}

/** The shape of the engine's stats answer this reads (cgroup v1 and v2 name the cache differently). */
export interface EngineStats {
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number } }
  readonly memory_stats?: { readonly usage?: number; readonly stats?: Readonly<Record<string, number>> }
}

/** CPU seconds and memory bytes from one stats answer; undefined for a container that is not running. */
export function containerUsageOf(stats: EngineStats): GroupUsage | undefined {
  const cpuNanoseconds = stats.cpu_stats?.cpu_usage?.total_usage
  const usage = stats.memory_stats?.usage
  if (typeof cpuNanoseconds !== 'number' || typeof usage !== 'number') return undefined
  const cache = stats.memory_stats?.stats
  const inactive = cache?.['total_inactive_file'] ?? cache?.['inactive_file'] ?? 0
  return { cpuSeconds: cpuNanoseconds / 1e9, memoryBytes: Math.max(0, usage - (inactive < usage ? inactive : 0)) }
}
