// Sites as failure domains. Edge fleets put a few hosts per site on a LAN and join sites over a WAN
// that drops. When the WAN link of a site is cut, every host of that site falls silent at once, and
// SWIM on the other side declares each of them dead — but they are running, serving their own site's
// users. Replacing their slots elsewhere doubles the work for the length of the cut (each side runs
// every slot) and churns it at the heal. So a dead member of another site is told apart:
//
//   host death — some other member of its site answered the verdict (a message of its own reached this
//                peer within answerMs of it): the site is reachable, that one host is gone. Replaced
//                at once.
//   site cut   — no member of its site was heard from by then: the whole site is out of reach, and most
//                likely runs on. Its slots are held (the peer counts as suspect: keeps its tasks, gets
//                no new ones) for siteCutHoldMs after the verdict, then replaced as any dead peer's.
//
// At a member's death verdict this peer pings a few of its site-mates (siteMatesToAsk): when the site
// is fine one answers within a round trip, and the death is a host death a round trip later than
// before. A host without a `site` label belongs to no site: its death is always a host death, so a
// cluster without site labels behaves as it did. A member of this peer's own site is never held (this
// peer is a site-mate it hears from). `partition: majority` services ignore the hold: their own rule
// (partition-quorum.ts) already keeps a singleton on the majority side and must not wait it out.
//
// When a held member's site is heard from again (the cut healed), the hold does not end at the first
// message: every host of the site comes back at once, but their messages arrive one by one, and the
// member's own refutation of its verdict is a round trip or two behind its site-mates' first word.
// Released at that first word, its slots were lost for those milliseconds, and a peer on the other
// side claimed one and started it (real agents did, 6 ms before the holder's refutation arrived; the
// new copy's later epoch won, and the slot that ran through the whole cut moved). So a member whose
// site came back is pinged, and stays held until it has been silent for refuteMs (the time any
// suspect has to refute) since its site came back and since its own last message: alive, it refutes
// meanwhile and is alive again with its tasks where they ran; dead, it is replaced refuteMs later.
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
  /**
   * When this peer first heard from another member of that site after the verdict (this peer itself,
   * if in it: the verdict's time); undefined while nobody of the site has been heard since.
   */
  readonly siteBackAt: number | undefined
  /** When this peer last heard from the dead member itself (undefined: never). */
  readonly heardAt: number | undefined
  readonly now: number
  readonly holdMs: number
  /** How soon after the verdict a site-mate's word counts as the site answering it: a host death. */
  readonly answerMs: number
  /** How long a member whose site came back after a cut has to be heard from, or be released. */
  readonly refuteMs: number
}

/**
 * Whether a dead member's slots are held, not replaced: it has a site, and the hold has not run out,
 * and either nobody of its site has been heard from since its verdict, or the site came back after
 * a cut and the member has been silent for less than refuteMs since then. The one rule every peer
 * applies to its view.
 */
export function heldByCut(facts: LossFacts): boolean {
  if (facts.site === undefined) return false
  if (facts.now >= facts.deadAt + facts.holdMs) return false
  if (facts.siteBackAt === undefined) return true
  // The site answered the verdict: it is reachable, that one host is gone.
  if (facts.siteBackAt <= facts.deadAt + facts.answerMs) return false
  return facts.now < releaseAt(facts.siteBackAt, facts.heardAt, facts.refuteMs)
}

/** When a member whose site came back at `siteBackAt` is released if it stays silent. */
function releaseAt(siteBackAt: number, heardAt: number | undefined, refuteMs: number): number {
  return Math.max(siteBackAt, heardAt ?? -Infinity) + refuteMs
}

/** What SiteCuts needs from the machine: member sites and statuses, as this peer sees them now. */
export interface SiteCutsDeps {
  readonly self: PeerId
  readonly holdMs: number
  /**
   * LossFacts.answerMs: a site-mate's answer to the verdict's pings is due within it (the probe
   * timeout) — one for every member, or per member: its link's (link-timing.ts).
   */
  readonly answerMs: PerMember
  /** LossFacts.refuteMs: the time a suspect has to refute (the suspicion timeout), for all or per member. */
  readonly refuteMs: PerMember
  /** A member's site from its advert (with operator labels); undefined when none or no advert yet. */
  siteOf(peer: PeerId): string | undefined
  /** Members that did not leave, alive or not: the candidates for being a site-mate. */
  members(): Iterable<{ readonly peer: PeerId; readonly status: 'alive' | 'suspect' | 'dead' }>
  /** When a message of `peer`'s own last reached this peer (the machine keeps one record of it for every rule that asks). */
  heardAt(peer: PeerId): number | undefined
}

/** A time that is the same for every member, or each member's own. */
type PerMember = number | ((peer: PeerId) => number)

const forMember = (time: PerMember, peer: PeerId): number => (typeof time === 'number' ? time : time(peer))

/** What a message from a member of a site means for the held members of that site. */
export interface SiteHeard {
  /** Held members released: their site answered their verdict, a host death. */
  readonly released: PeerId[]
  /** Held members whose site came back after a cut: ping them, so a live one is heard within a round trip. */
  readonly ask: PeerId[]
}

const NOTHING_HEARD: SiteHeard = { released: [], ask: [] }

/** Which dead members are held because their whole site is out of reach; see the top of this file. */
export class SiteCuts {
  /** Dead members held, or not yet judged, and when each was declared dead (this peer's clock). A released one is forgotten: it is never held again. */
  private readonly deadAt = new Map<PeerId, number>()
  /** Per dead member: when its site was first heard from after its verdict. */
  private readonly siteBackAt = new Map<PeerId, number>()
  /** Members whose slots are held now. */
  private readonly held = new Set<PeerId>()

  constructor(private readonly deps: SiteCutsDeps) {}

  /**
   * A message of `peer`'s own arrived (and `deps.heardAt` says so already). For the held members of
   * its site this is their site heard from again: those whose site answered their verdict are
   * released (a host death); those whose site comes back after a cut are to be pinged, and stay held
   * while they may still refute.
   */
  heard(peer: PeerId, now: number): SiteHeard {
    if (this.held.size === 0) return NOTHING_HEARD
    const site = this.deps.siteOf(peer)
    if (site === undefined) return NOTHING_HEARD
    const back = [...this.held].filter((member) => member !== peer && !this.siteBackAt.has(member) && this.deps.siteOf(member) === site)
    if (back.length === 0) return NOTHING_HEARD
    for (const member of back) this.siteBackAt.set(member, now)
    const released = this.update(now, (member) => back.includes(member))
    return { released, ask: back.filter((member) => !released.includes(member)) }
  }

  /**
   * A member was declared dead (or is no longer). Returns its site-mates to ping now, so a host death
   * in a reachable site is known for one within a round trip.
   */
  statusChanged(peer: PeerId, dead: boolean, now: number): PeerId[] {
    if (!dead) {
      this.forget(peer)
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
    for (const [peer, deadAt] of [...this.deadAt]) {
      if (!which(peer)) continue
      const held = heldByCut({
        site: this.deps.siteOf(peer), deadAt, siteBackAt: this.backAt(peer, deadAt, now), heardAt: this.deps.heardAt(peer),
        now, holdMs: this.deps.holdMs, answerMs: forMember(this.deps.answerMs, peer), refuteMs: forMember(this.deps.refuteMs, peer),
      })
      if (!held) this.forget(peer)
      if (held === this.held.has(peer)) continue
      if (held) this.held.add(peer)
      else this.held.delete(peer)
      changed.push(peer)
    }
    return changed
  }

  /** When the next hold runs out (its bound, or a member silent since its site came back): the caller must update() then. */
  nextWakeAt(): number {
    let at = Infinity
    for (const peer of this.held) {
      at = Math.min(at, this.deadAt.get(peer)! + this.deps.holdMs)
      const back = this.siteBackAt.get(peer)
      if (back !== undefined) at = Math.min(at, releaseAt(back, this.deps.heardAt(peer), forMember(this.deps.refuteMs, peer)))
    }
    return at
  }

  /** A member's hold is over (released, or no longer dead): nothing of its verdict is kept. */
  private forget(peer: PeerId): void {
    this.deadAt.delete(peer)
    this.siteBackAt.delete(peer)
  }

  /**
   * When `dead`'s site was first heard from after its verdict, if it was: as heard() recorded it, or,
   * at the verdict itself, a site-mate heard at that very moment (the verdict came with its message),
   * or this peer being of that site.
   */
  private backAt(dead: PeerId, deadAt: number, now: number): number | undefined {
    const recorded = this.siteBackAt.get(dead)
    if (recorded !== undefined) return recorded
    const site = this.deps.siteOf(dead)
    if (site === undefined) return undefined
    if (this.deps.siteOf(this.deps.self) === site) return now
    let latest = -Infinity
    for (const member of this.deps.members()) {
      if (member.peer === dead || this.deps.siteOf(member.peer) !== site) continue
      latest = Math.max(latest, this.deps.heardAt(member.peer) ?? -Infinity)
    }
    if (latest < deadAt) return undefined
    this.siteBackAt.set(dead, latest)
    return latest
  }
}
