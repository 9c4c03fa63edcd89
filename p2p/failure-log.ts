// One log line per peer for direct messages that cannot be delivered, rate-limited. Without it a link
// that fails several times a second (a peer behind NAT that nobody can dial) showed only as a counter
// in /v1/stats. The first failure to a peer is logged at once; then at most one line per intervalMs,
// saying how many failed meanwhile; and one line when messages to it go through again.

export class FailureLog {
  private readonly peers = new Map<string, { loggedAt: number; since: number; failures: number; unlogged: number }>()

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  failed(peer: string, reason: string): void {
    const now = this.now()
    const state = this.peers.get(peer)
    if (state === undefined) {
      this.peers.set(peer, { loggedAt: now, since: now, failures: 1, unlogged: 0 })
      this.log(`direct messages to ${peer} fail: ${reason}`)
      return
    }
    state.failures++
    state.unlogged++
    if (now - state.loggedAt < this.intervalMs) return
    this.log(`direct messages to ${peer} fail: ${reason} (${state.unlogged} more failed in the last ${Math.round((now - state.loggedAt) / 1000)} s)`)
    state.loggedAt = now
    state.unlogged = 0
  }

  delivered(peer: string): void {
    const state = this.peers.get(peer)
    if (state === undefined) return
    this.peers.delete(peer)
    this.log(`direct messages to ${peer} go through again after ${state.failures} failed over ${Math.round((this.now() - state.since) / 1000)} s`)
  }
}
