// gossipsub's catch-up after a heal. A broadcast does not only travel the mesh at the moment it is
// published: each peer keeps the ids of the messages of its last three heartbeats (mcacheGossip = 3,
// heartbeat 1 s: the library's defaults, which the agent keeps) and offers them (IHAVE) at every
// heartbeat to peers outside its mesh, which ask for those they lack (IWANT). So when a partition
// heals, what one side published in its last seconds apart reaches the other side a heartbeat or so
// after the links are back — old news, arriving with the reconnection. Real agents saw exactly that
// (a cut-off site's "dead" verdicts about healthy hosts, delivered after the heal), and a simulator
// that dropped every cut-off broadcast at send time could not show it.

/** How far back a heal brings broadcasts across: gossipsub's mcacheGossip × its heartbeat. */
export const GOSSIP_HISTORY_MS = 3_000
/** gossipsub's heartbeat: a caught-up message arrives within one after the heal. */
export const GOSSIP_HEARTBEAT_MS = 1_000

export interface HeldBroadcast<P> {
  readonly atMs: number
  /** The sender's index. */
  readonly from: number
  readonly payload: P
  /** The recipients (indices) it could not reach when it was sent. */
  readonly missed: readonly number[]
}

/** Broadcasts a partition kept from some of their recipients, for as long as a heal could still bring them. */
export class GossipHistory<P> {
  private held: HeldBroadcast<P>[] = []

  hold(broadcast: HeldBroadcast<P>): void {
    const from = broadcast.atMs - GOSSIP_HISTORY_MS
    if (this.held.length > 0 && this.held[0]!.atMs < from) this.held = this.held.filter((b) => b.atMs >= from)
    this.held.push(broadcast)
  }

  /** At a heal at `nowMs`: the broadcasts of the last history window, each with the recipients it missed; the rest are forgotten. */
  takeAtHeal(nowMs: number): HeldBroadcast<P>[] {
    const recent = this.held.filter((b) => b.atMs >= nowMs - GOSSIP_HISTORY_MS)
    this.held = []
    return recent
  }
}
