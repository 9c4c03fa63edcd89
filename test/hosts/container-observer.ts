// What really runs on each host when the agents run containers: every agent in its namespace talks
// to this machine's one Docker engine (/var/run/docker.sock; the file system is shared, only the
// networks are separate), so a host's copies are not its namespace's processes but the running
// containers labelled with its agent's peer id (peer.owner, set by node/runtime/docker-driver.ts).
// Sampled from the engine every ~200 ms, not asked of the agents. Also what a power cut needs: the
// host's containers, to kill with the rest of the host.

import Docker from 'dockerode'
import { LABEL } from '../../node/runtime/docker-driver.js'
import { runSync } from './command.js'
import type { Copy, HistoryRecorder, Sample } from './history.js'
import type { Host } from './hosts.js'
import type { Watch } from './observer.js'

export const CONTAINER_SAMPLE_INTERVAL_MS = 200

export class ContainerObserver implements Watch {
  private timer: NodeJS.Timeout | undefined
  private latestSample: Sample | undefined
  private sampling = false
  private readonly hostByPeer: Map<string, string>

  constructor(
    hosts: readonly Host[],
    private readonly recorder: HistoryRecorder,
    private readonly docker: Docker = new Docker(),
    private readonly intervalMs = CONTAINER_SAMPLE_INTERVAL_MS,
  ) {
    this.hostByPeer = new Map(hosts.map((host) => [host.peerId, host.name]))
  }

  start(): void {
    if (this.timer !== undefined) return
    void this.refresh()
    this.timer = setInterval(() => void this.refresh(), this.intervalMs)
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The newest sample; an empty one before the first answer. */
  latest(): Sample {
    return this.latestSample ?? { atMs: this.recorder.now(), copies: [] }
  }

  /**
   * The newest sample, and a look at the engine for the next: an answer from the engine cannot be
   * had synchronously, so a caller that wants a fresh look waits one sample interval.
   */
  sampleNow(): Sample {
    void this.refresh()
    return this.latest()
  }

  /** Asks the engine once (unless a look is under way) and records the sample. */
  async refresh(): Promise<void> {
    if (this.sampling) return
    this.sampling = true
    try {
      const copies: Copy[] = []
      for (const container of await this.docker.listContainers({ filters: { label: [LABEL.owner], status: ['running'] } })) {
        const host = this.hostByPeer.get(container.Labels[LABEL.owner] ?? '')
        const slot = container.Labels[LABEL.slot]
        const service = container.Labels[LABEL.service]
        const specHash = container.Labels[LABEL.specHash]
        if (host === undefined || slot === undefined || service === undefined || specHash === undefined) continue
        // A container's id stands for a pid: 48 bits of it are unique enough and a safe integer.
        copies.push({ host, slot, service, specHash, pid: Number.parseInt(container.Id.slice(0, 12), 16) })
      }
      if (this.timer !== undefined || this.latestSample === undefined) this.latestSample = this.recorder.sample(copies)
    } catch {
      // The engine did not answer this time: no sample rather than an empty one that says nothing runs.
    } finally {
      this.sampling = false
    }
  }
}

/** SIGKILLs every container of `host`'s agent: the containers' share of a power cut. */
export async function killContainersOf(host: Host, docker: Docker = new Docker()): Promise<void> {
  const running = await docker.listContainers({ filters: { label: [`${LABEL.owner}=${host.peerId}`], status: ['running'] } })
  await Promise.all(running.map((container) => docker.getContainer(container.Id).kill().catch((error: { statusCode?: number }) => {
    // Ended meanwhile (404 gone, 409 not running).
    if (error.statusCode !== 404 && error.statusCode !== 409) throw error
  })))
}

/**
 * Removes every container of the hosts' agents, running or not, so a run leaves nothing on the
 * engine. Blocking (the docker CLI), as teardown must be: it also runs from an 'exit' handler.
 */
export function removeContainersSync(hosts: readonly Host[]): void {
  for (const host of hosts) {
    const ids = runSync(['docker', 'ps', '-aq', '--filter', `label=${LABEL.owner}=${host.peerId}`]).split('\n').filter((id) => id !== '')
    if (ids.length > 0) runSync(['docker', 'rm', '-f', ...ids])
  }
}
