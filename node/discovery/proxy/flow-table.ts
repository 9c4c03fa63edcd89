// The UDP flows of one listener, by client address:port, least recently active first: idle ones are
// found from the front and, past the cap, the least recently active is the one evicted. A Map keeps
// insertion order, so moving a flow to the back on activity is a delete and a set.

export class FlowTable<Flow> {
  readonly #flows = new Map<string, { readonly flow: Flow; lastActive: number }>()

  constructor(private readonly maxFlows: number) {}

  get size(): number {
    return this.#flows.size
  }

  get(key: string): Flow | undefined {
    return this.#flows.get(key)?.flow
  }

  /** The flow was active at `now` (a datagram either way): it becomes the last to expire or be evicted. */
  touch(key: string, now: number): void {
    const held = this.#flows.get(key)
    if (held === undefined) return
    held.lastActive = now
    this.#flows.delete(key)
    this.#flows.set(key, held)
  }

  /** Adds a flow; returns the flows evicted to stay within the cap (the least recently active). */
  add(key: string, flow: Flow, now: number): Flow[] {
    this.#flows.delete(key)
    this.#flows.set(key, { flow, lastActive: now })
    const evicted: Flow[] = []
    for (const [oldest, held] of this.#flows) {
      if (this.#flows.size <= this.maxFlows) break
      this.#flows.delete(oldest)
      evicted.push(held.flow)
    }
    return evicted
  }

  /** Removes the flow under `key` if it is `flow` (a replaced flow must not remove its successor). */
  delete(key: string, flow: Flow): void {
    if (this.#flows.get(key)?.flow === flow) this.#flows.delete(key)
  }

  /** Removes and returns the flows inactive for `idleMs` or more at `now`. */
  expire(now: number, idleMs: number): Flow[] {
    const expired: Flow[] = []
    for (const [key, held] of this.#flows) {
      // Least recently active first: the first flow still fresh ends the search.
      if (now - held.lastActive < idleMs) break
      this.#flows.delete(key)
      expired.push(held.flow)
    }
    return expired
  }

  /** Removes and returns every flow. */
  clear(): Flow[] {
    const all = [...this.#flows.values()].map((held) => held.flow)
    this.#flows.clear()
    return all
  }
}
