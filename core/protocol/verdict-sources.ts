// Whose "dead" verdicts count here as verdicts. A verdict is a summary of its author's own evidence:
// the member stayed silent to it through a probe and a suspicion timeout (replaceAfterMs in all). If
// the author was itself cut off from this peer during that span, the silence it saw may be the cut's
// and not the member's: real agents behind NAT, rejoining after a site was cut off, delivered the
// verdicts that site had formed about healthy hosts on the other side (gossipsub brings a heartbeat's
// worth of old messages with the reconnection), and peers that had heard from those hosts all along
// held them dead for up to 306 ms and started copies of their slots. SWIM's supersede rule cannot tell
// the two apart: the verdict is at the member's current incarnation, and "dead" outranks "alive"
// there, so the member's refutation (a round trip away) came too late.
//
// The rule: a "dead" record received from another peer (a gossiped verdict's author, or the sender of
// a ping or ack carrying it) is a verdict only if
//   - that peer has been alive in this peer's table for at least replaceAfterMs without a break — the
//     whole span its evidence covers, so it was not cut off from here while gathering it; and
//   - the member has been silent here for at least the suspicion timeout — the least silence any
//     verdict implies: a member heard from since is alive as far as this peer can tell, however the
//     author (a peer this one never noticed was cut off, say) came to its verdict.
// Otherwise it counts as a suspicion: the member refutes it if alive (it hears of it the same way),
// and this peer's own suspicion timeout declares it dead if not, so a real death is still acted on,
// one suspicion timeout later at most. Verdicts this peer reaches itself and graceful "left"
// announcements are untouched; one about itself is refuted either way.

import type { PeerId } from '../placement/ids.js'
import type { MemberRecord, MemberStatus } from './messages.js'
import { PeerColumn, PeerNumbers } from './peer-numbers.js'

/** What this peer knows that a received verdict's evidence must be older than. */
export interface VerdictEvidence {
  /** How long the peer it came from has been alive here without a break (-Infinity: not at all). */
  readonly sourceAliveForMs: number
  /** How long ago this peer last heard from the member the record is about (Infinity: never). */
  readonly subjectSilentForMs: number
}

export interface VerdictWindows {
  /** The span a verdict's evidence covers: the source must have been alive here throughout. */
  readonly sourceMs: number
  /** The least silence a verdict implies: the member must have been silent here at least this long. */
  readonly subjectMs: number
}

/** How a member record received from another peer counts here: a "dead" one older than what this peer has seen is a suspicion. */
export function receivedRecord(record: MemberRecord, evidence: VerdictEvidence, windows: VerdictWindows): MemberRecord {
  if (record.status !== 'dead') return record
  if (evidence.sourceAliveForMs >= windows.sourceMs && evidence.subjectSilentForMs >= windows.subjectMs) return record
  return { ...record, status: 'suspect' }
}

export class VerdictSources {
  /** Per member held alive: since when, without a break. */
  private readonly aliveSince: PeerColumn
  /** Per peer: when a message it wrote last reached this one. */
  private readonly heardAt: PeerColumn

  /** `numbers`: the peer numbering of the machine's columns (peer-numbers.ts). */
  constructor(private readonly windows: VerdictWindows, numbers: PeerNumbers = new PeerNumbers()) {
    this.aliveSince = new PeerColumn(numbers)
    this.heardAt = new PeerColumn(numbers)
  }

  /** A message written by `peer` arrived (directly, or gossiped: the author is proven). */
  heard(peer: PeerId, now: number): void {
    this.heardAt.set(peer, now)
  }

  /** When a message written by `peer` last arrived (undefined: never), for the other rules that ask. */
  lastHeardAt(peer: PeerId): number | undefined {
    return this.heardAt.get(peer)
  }

  /** A member's status changed here to `status`. */
  memberChanged(peer: PeerId, status: MemberStatus, now: number): void {
    if (status !== 'alive') this.aliveSince.delete(peer)
    else if (!this.aliveSince.has(peer)) this.aliveSince.set(peer, now)
  }

  /** How `record`, received from `source` (which may not be a member yet), counts here. */
  received(record: MemberRecord, source: PeerId, now: number): MemberRecord {
    const since = this.aliveSince.get(source)
    const heard = this.heardAt.get(record.peer)
    return receivedRecord(record, {
      sourceAliveForMs: since === undefined ? -Infinity : now - since,
      subjectSilentForMs: heard === undefined ? Infinity : now - heard,
    }, this.windows)
  }
}
