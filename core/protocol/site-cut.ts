// Sites as failure domains. Edge fleets put a few hosts per site on a LAN and join sites over a WAN
// that drops. When the WAN link of a site is cut, every host of that site falls silent at once, and
// SWIM on the other side declares each of them dead — but they are running, serving their own site's
// users. Replacing their slots elsewhere doubles the work for the length of the cut (each side runs
// every slot) and churns it at the heal. So a dead member of another site is told apart:
//
//   host death — some other member of its site was heard from (a message of its own reached this peer)
//                after the verdict: the site is reachable, that one host is gone. Replaced at once.
//   site cut   — no member of its site was heard from since: the whole site is out of reach, and most
//                likely runs on. Its slots are held (the peer counts as suspect: keeps its tasks, gets
//                no new ones) for siteCutHoldMs after the verdict, then replaced as any dead peer's.
//
// At a member's death verdict this peer pings a few of its site-mates (siteMatesToAsk): when the site
// is fine one answers within a round trip, and the death is a host death a round trip later than
// before. A host without a `site` label belongs to no site: its death is always a host death, so a
// cluster without site labels behaves as it did. A member of this peer's own site is never held (this
// peer is a site-mate it hears from). `partition: majority` services ignore the hold: their own rule
// (partition-quorum.ts) already keeps a singleton on the majority side and must not wait it out.
// Why and what it costs: docs/protocol.md#partitions, docs/edge.md#sites-as-failure-domains.

import type { PeerId } from '../placement/ids.js'

/** The label naming a host's site (`peer agent --label site=a`). */
export const SITE_LABEL = 'site'

/** Most site-mates pinged at a member's death: one answer settles it, three ride out a lost ping or a dead mate. */
const MATES_ASKED = 3

/** A host's site from its labels; undefined when it has none (an empty value is none). */
export function siteOf(labels: Readonly<Record<string, string>>): string | undefined {
  const site = labels[SITE_LABEL]
  return site === undefined || site === '' ? undefined : site
}

export interface LossFacts {
  /** The dead member's site (undefined: none). */
  readonly site: string | undefined
  /** When this peer declared it dead. */
  readonly deadAt: number
  /** The latest time this peer heard from any other member of that site (this peer itself, if in it: now). */
  readonly siteHeardAt: number
  readonly now: number
  readonly holdMs: number
}

/**
 * Whether a dead member's slots are held, not replaced: it has a site, nobody of that site was heard
 * from since its verdict, and the hold has not run out. The one rule every peer applies to its view.
 */
export function heldByCut(facts: LossFacts): boolean {
  if (facts.site === undefined) return false
  if (facts.siteHeardAt >= facts.deadAt) return false
  return facts.now < facts.deadAt + facts.holdMs
}

/** What SiteCuts needs from the machine: member sites and statuses, as this peer sees them now. */
export interface SiteCutsDeps {
  readonly self: PeerId
  readonly holdMs: number
  /** A member's site from its advert (with operator labels); undefined when none or no advert yet. */
  siteOf(peer: PeerId): string | undefined
  /** Members that did not leave, alive or not: the candidates for being a site-mate. */
  members(): Iterable<{ readonly peer: PeerId; readonly status: 'alive' | 'suspect' | 'dead' }>
  /** When a message of `peer`'s own last reached this peer (the machine keeps one record of it for every rule that asks). */
  heardAt(peer: PeerId): number | undefined
}

/** Which dead members are held because their whole site is out of reach; see the top of this file. */
export class SiteCuts {
  /** Members held dead, and when each was declared dead (this peer's clock). */
  private readonly deadAt = new Map<PeerId, number>()
  /** Members whose slots are held now. */
  private readonly held = new Set<PeerId>()

  constructor(private readonly deps: SiteCutsDeps) {}

  /**
   * A message of `peer`'s own arrived (and `deps.heardAt` says so already). Returns the members it
   * releases: held ones of its site, whose site has now answered after their verdicts (a host death
   * after all, or a healed cut that they did not come back from).
   */
  heard(peer: PeerId): PeerId[] {
    if (this.held.size === 0) return []
    const site = this.deps.siteOf(peer)
    if (site === undefined) return []
    const released = [...this.held].filter((member) => member !== peer && this.deps.siteOf(member) === site)
    for (const member of released) this.held.delete(member)
    return released
  }

  /**
   * A member was declared dead (or is no longer). Returns its site-mates to ping now, so a host death
   * in a reachable site is known for one within a round trip.
   */
  statusChanged(peer: PeerId, dead: boolean, now: number): PeerId[] {
    if (!dead) {
      this.deadAt.delete(peer)
      this.held.delete(peer)
      return []
    }
    const site = this.deps.siteOf(peer)
    // A member of no site is never held: its verdict need not be remembered.
    if (site === undefined) return []
    if (!this.deadAt.has(peer)) this.deadAt.set(peer, now)
    const asked: PeerId[] = []
    for (const member of this.deps.members()) {
      if (asked.length === MATES_ASKED) break
      if (member.peer !== peer && member.peer !== this.deps.self && member.status !== 'dead' && this.deps.siteOf(member.peer) === site) asked.push(member.peer)
    }
    return asked
  }

  /** Whether a dead member's slots are held now (as of the last update()). */
  isHeld(peer: PeerId): boolean {
    return this.held.has(peer)
  }

  /**
   * Re-applies the rule to the dead members `which` selects (all by default); returns those whose
   * held state changed, so the caller re-reads their tasks.
   */
  update(now: number, which: (peer: PeerId) => boolean = () => true): PeerId[] {
    const changed: PeerId[] = []
    for (const [peer, deadAt] of this.deadAt) {
      if (!which(peer)) continue
      const site = this.deps.siteOf(peer)
      const held = heldByCut({ site, deadAt, siteHeardAt: this.siteHeardAt(site, peer, now), now, holdMs: this.deps.holdMs })
      if (held === this.held.has(peer)) continue
      if (held) this.held.add(peer)
      else this.held.delete(peer)
      changed.push(peer)
    }
    return changed
  }

  /** When the next hold runs out: the caller must update() then. */
  nextWakeAt(): number {
    let at = Infinity
    for (const peer of this.held) at = Math.min(at, this.deadAt.get(peer)! + this.deps.holdMs)
    return at
  }

  /** The latest time anyone of `site` but `dead` was heard from; now when this peer is of that site. */
  private siteHeardAt(site: string | undefined, dead: PeerId, now: number): number {
    if (site === undefined) return -Infinity
    if (this.deps.siteOf(this.deps.self) === site) return now
    let latest = -Infinity
    for (const member of this.deps.members()) {
      if (member.peer === dead || this.deps.siteOf(member.peer) !== site) continue
      latest = Math.max(latest, this.deps.heardAt(member.peer) ?? -Infinity)
    }
    return latest
  }
}
