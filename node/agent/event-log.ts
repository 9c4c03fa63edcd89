// What happened on this peer, for `peer events [-f]`: membership changes it saw, tasks it started and
// stopped (and why), task state changes its driver reported, desired-state changes it learned. A bounded
// ring in memory: events are for people watching, not a durable audit log (history is in the CRDT).

import type { AgentEvent } from '../control/index.js'
import { AGENT_DEFAULTS } from './config.js'

export class EventLog {
  private readonly ring: AgentEvent[] = []
  private start = 0
  private readonly followers = new Set<(event: AgentEvent) => void>()

  constructor(private readonly capacity: number = AGENT_DEFAULTS.eventLogCapacity) {}

  push(event: AgentEvent): void {
    if (this.ring.length < this.capacity) this.ring.push(event)
    else {
      this.ring[this.start] = event
      this.start = (this.start + 1) % this.capacity
    }
    for (const follower of this.followers) follower(event)
  }

  /** The events kept, oldest first. */
  recent(): AgentEvent[] {
    return [...this.ring.slice(this.start), ...this.ring.slice(0, this.start)]
  }

  /** The events kept, then every new one until `signal` aborts. */
  async *follow(signal: AbortSignal): AsyncGenerator<AgentEvent> {
    const queue: AgentEvent[] = []
    let wake: (() => void) | undefined
    const follower = (event: AgentEvent): void => {
      queue.push(event)
      wake?.()
    }
    const onAbort = (): void => wake?.()
    this.followers.add(follower)
    signal.addEventListener('abort', onAbort)
    try {
      yield* this.recent()
      while (!signal.aborted) {
        const event = queue.shift()
        if (event !== undefined) {
          yield event
          continue
        }
        await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
      }
    } finally {
      this.followers.delete(follower)
      signal.removeEventListener('abort', onAbort)
    }
  }
}
