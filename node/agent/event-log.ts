// What happened on this peer, for `peer events [-f]`: membership changes it saw, tasks it started and
// stopped (and why), task state changes its driver reported, desired-state changes it learned. A bounded
// ring in memory: events are for people watching, not a durable audit log (history is in the CRDT).

export type AgentEvent =
  | { readonly at: number; readonly kind: 'agent'; readonly message: string }
  | { readonly at: number; readonly kind: 'member'; readonly peer: string; readonly status: string; readonly incarnation: number }
  | { readonly at: number; readonly kind: 'start'; readonly slot: string; readonly specHash: string }
  | { readonly at: number; readonly kind: 'stop'; readonly slot: string; readonly reason: string }
  | { readonly at: number; readonly kind: 'task'; readonly slot: string; readonly state: string; readonly exitCode?: number; readonly detail?: string }
  | { readonly at: number; readonly kind: 'desired'; readonly digest: string; readonly services: number }
  | { readonly at: number; readonly kind: 'rollback'; readonly service: string; readonly detail: string }

/** Default events kept: enough for minutes of a busy peer, a few hundred KB. */
export const EVENT_LOG_CAPACITY = 2_000

export class EventLog {
  private readonly ring: AgentEvent[] = []
  private start = 0
  private readonly followers = new Set<(event: AgentEvent) => void>()

  constructor(private readonly capacity = EVENT_LOG_CAPACITY) {}

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
