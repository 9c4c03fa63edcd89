// Whom the failure detector's round-robin probe picks next (SWIM: every member is probed in turn,
// each pass in a new random order). A host with a site goes round its site-mates one by one and round
// each other site as a whole: one entry per far site, which names the next member of that site in
// that site's own rotation. Why: a far host is already watched by its site-mates over their LAN (the
// ring of a site, failure-detector.ts), and their verdict reaches every site in lan time; what the
// far probes are for is noticing a whole site cut off and timing the link (link-timing.ts). Probing
// every far host one by one made each site's WAN link carry probes in proportion to the hosts on
// both sides: a site of 8 hosts sent twice what a site of 2 did (`npm run bench -- site-links`).
// Probed as wholes, a site of H hosts sends about H / (H + S − 2) probes per interval to the other S −
// 1 sites together: under one per interval for 2 sites, whatever H. A cut-off site still has every member
// probed in turn, one per probe of the site. Members with no site, and every member when this
// host has none, are probed one by one as before.

import type { PeerId } from '../placement/ids.js'

export interface ProbeRotationDeps {
  /** Members that may be probed (alive or suspect), this host left out. */
  reachable(): PeerId[]
  /** Whether `peer` may still be probed when its turn comes. */
  probeable(peer: PeerId): boolean
  /** A member's site (this host's own included); undefined: none. */
  siteOf(peer: PeerId): string | undefined
  readonly self: PeerId
  shuffled<T>(items: T[]): T[]
}

/** A member to reach on its own, or a far site reached as a whole (through one of its members). */
export type SiteEntry = { readonly peer: PeerId } | { readonly site: string }

/**
 * `peers` as a host of `ownSite` reaches them: site-mates and members of no site one by one, each
 * other site once (sites in name order, so the list is the same on every run). With no own site,
 * every peer on its own, in the order given.
 */
export function siteEntries(peers: readonly PeerId[], ownSite: string | undefined, siteOf: (peer: PeerId) => string | undefined): SiteEntry[] {
  if (ownSite === undefined) return peers.map((peer) => ({ peer }))
  const entries: SiteEntry[] = []
  const farSites = new Set<string>()
  for (const peer of peers) {
    const site = siteOf(peer)
    if (site === undefined || site === ownSite) entries.push({ peer })
    else farSites.add(site)
  }
  for (const site of [...farSites].sort()) entries.push({ site })
  return entries
}

/**
 * One of `peers` drawn as site-aware gossip draws a partner (anti-entropy's push-pull): an entry of
 * siteEntries at random, then a member of the site it names at random. A host of a site then
 * exchanges with each far site, whatever its size, as often as with one site-mate. With no site,
 * one draw over the peers, as before.
 */
export function drawBySite(peers: readonly PeerId[], ownSite: string | undefined, siteOf: (peer: PeerId) => string | undefined, draw: (choices: number) => number): PeerId | undefined {
  const entries = siteEntries(peers, ownSite, siteOf)
  if (entries.length === 0) return undefined
  const entry = entries[draw(entries.length)]!
  if ('peer' in entry) return entry.peer
  const members = peers.filter((peer) => siteOf(peer) === entry.site)
  return members[draw(members.length)]
}

/**
 * Items taken in turn from a list reshuffled each pass (SWIM's round-robin): `next` returns the next
 * item `accept` maps to a peer, refilling the pass from `fill` when it runs out, at most once a call.
 */
class Turns<T> {
  private order: T[] = []
  private index = 0

  next(fill: () => T[], shuffled: (items: T[]) => T[], accept: (item: T) => PeerId | undefined): PeerId | undefined {
    for (let passes = 0; passes < 2; passes++) {
      while (this.index < this.order.length) {
        const peer = accept(this.order[this.index++]!)
        if (peer !== undefined) return peer
      }
      this.order = shuffled(fill())
      this.index = 0
      if (this.order.length === 0) return undefined
    }
    return undefined
  }

  /** Puts `item` in the rest of the current pass, at the place `pick(n)` draws of the n there are. */
  insert(item: T, pick: (choices: number) => number): void {
    this.order.splice(this.index + pick(this.order.length - this.index + 1), 0, item)
  }
}

/**
 * A turn of the rotation: a member's id, or a far site. Ids themselves, not siteEntries' `{ peer }`
 * objects: a pass holds one turn per member, and a turn object per member was 32 bytes per pair of
 * peers in the simulator, where every machine holds a pass.
 */
type Turn = PeerId | { readonly site: string }

export class ProbeRotation {
  private readonly turns = new Turns<Turn>()
  /** Each far site's own rotation over its members. */
  private readonly sites = new Map<string, Turns<PeerId>>()

  constructor(private readonly deps: ProbeRotationDeps) {}

  /** The next member to probe, or undefined when there is none. */
  next(): PeerId | undefined {
    const { reachable, siteOf, self, probeable, shuffled } = this.deps
    return this.turns.next(
      () => siteEntries(reachable(), siteOf(self), siteOf).map((entry) => ('peer' in entry ? entry.peer : entry)),
      shuffled,
      (turn) => (typeof turn === 'string' ? (probeable(turn) ? turn : undefined) : this.nextOfSite(turn.site)),
    )
  }

  /**
   * A member that came in (or back) joins the current pass at a random place (`pick(n)` draws one of
   * n places), one by one: its site is usually not known yet (sites come with adverts, after member
   * records), and the next pass groups it with its site.
   */
  joined(peer: PeerId, pick: (choices: number) => number): void {
    this.turns.insert(peer, pick)
  }

  /** The next probeable member of `site` in its own rotation, reshuffled each time round. */
  private nextOfSite(site: string): PeerId | undefined {
    const { reachable, siteOf, probeable, shuffled } = this.deps
    let turns = this.sites.get(site)
    if (turns === undefined) this.sites.set(site, (turns = new Turns<PeerId>()))
    return turns.next(
      () => reachable().filter((peer) => siteOf(peer) === site),
      shuffled,
      (peer) => (probeable(peer) && siteOf(peer) === site ? peer : undefined),
    )
  }
}
