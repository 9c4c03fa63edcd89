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

type Entry = SiteEntry

interface SiteTurns {
  order: PeerId[]
  index: number
}

export class ProbeRotation {
  private order: Entry[] = []
  private index = 0
  private readonly sites = new Map<string, SiteTurns>()

  constructor(private readonly deps: ProbeRotationDeps) {}

  /** The next member to probe, or undefined when there is none. */
  next(): PeerId | undefined {
    for (let passes = 0; passes < 2; passes++) {
      while (this.index < this.order.length) {
        const entry = this.order[this.index++]!
        const peer = 'peer' in entry ? (this.deps.probeable(entry.peer) ? entry.peer : undefined) : this.nextOfSite(entry.site)
        if (peer !== undefined) return peer
      }
      this.order = this.deps.shuffled(this.entries())
      this.index = 0
      if (this.order.length === 0) return undefined
    }
    return undefined
  }

  /**
   * A member that came in (or back) joins the current pass at a random place (`pick(n)` draws one of
   * n places), one by one: its site is usually not known yet (sites come with adverts, after member
   * records), and the next pass groups it with its site.
   */
  joined(peer: PeerId, pick: (choices: number) => number): void {
    const at = this.index + pick(this.order.length - this.index + 1)
    this.order.splice(at, 0, { peer })
  }

  /** One pass's entries: this host's site-mates and members of no site one by one, each other site once. */
  private entries(): Entry[] {
    const { reachable, siteOf, self } = this.deps
    return siteEntries(reachable(), siteOf(self), siteOf)
  }

  /** The next probeable member of `site` in its own rotation, reshuffled each time round. */
  private nextOfSite(site: string): PeerId | undefined {
    let turns = this.sites.get(site)
    if (turns === undefined) this.sites.set(site, (turns = { order: [], index: 0 }))
    for (let passes = 0; passes < 2; passes++) {
      while (turns.index < turns.order.length) {
        const peer = turns.order[turns.index++]!
        if (this.deps.probeable(peer) && this.deps.siteOf(peer) === site) return peer
      }
      turns.order = this.deps.shuffled(this.deps.reachable().filter((peer) => this.deps.siteOf(peer) === site))
      turns.index = 0
      if (turns.order.length === 0) return undefined
    }
    return undefined
  }
}
