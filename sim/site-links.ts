// What crosses the links between sites, as the simulator models it: every message the runner counts
// (sim/runner.ts count()), attributed to its sender's and its recipient's sites (each peer's `site`
// label). Messages between peers of one site never touch a site link and are not counted here.
//
// Two views of the same bytes:
// - per unordered pair of sites, each way: what would flow if every site could reach every other
//   directly (a mesh of site links);
// - per site, out of it and into it: what the site's one WAN link carries whoever is at the far end.
//   With hosts behind NAT reaching each other through a relay outside their sites, this is what the
//   site's router counts, and the figure to hold against a real measurement.
//
// Only messages sent at or after `fromMs` count (the idle steady state, after start-up and
// placement); figures are per second of the window [fromMs, untilMs).

/** Traffic over one site link, per second. */
export interface SitePairFigure {
  /** The two sites, in sorted order: `aToB` flows from sites[0] to sites[1]. */
  readonly sites: readonly [string, string]
  readonly aToBBytesPerSec: number
  readonly bToABytesPerSec: number
  readonly messagesPerSec: number
  /** Both ways together, by message kind. */
  readonly bytesPerSecByKind: Readonly<Record<string, number>>
}

/** What one site's WAN link carries, per second. */
export interface SiteBoundaryFigure {
  readonly site: string
  readonly outBytesPerSec: number
  readonly inBytesPerSec: number
  readonly outMessagesPerSec: number
  readonly inMessagesPerSec: number
  /** Both ways together, by message kind. */
  readonly bytesPerSecByKind: Readonly<Record<string, number>>
}

export interface SiteLinkFigures {
  readonly seconds: number
  /** Pairs that carried anything, sorted by their sites. */
  readonly pairs: readonly SitePairFigure[]
  /** Every site, sorted by name. */
  readonly sites: readonly SiteBoundaryFigure[]
}

/** A peer without a `site` label stands in a site of this name. */
export const NO_SITE = '-'

export class SiteLinkLedger {
  private readonly siteNames: readonly string[]
  /** Each peer's site, as an index into siteNames. */
  private readonly siteOf: Int32Array
  /** Directed bytes and messages, [from * sites + to]. */
  private readonly bytes: Float64Array
  private readonly messages: Float64Array
  private readonly bytesByKind = new Map<string, Float64Array>()

  /** `sitesOfPeers[i]` is peer i's site (the runner's peer order); undefined counts as NO_SITE. */
  constructor(sitesOfPeers: ReadonlyArray<string | undefined>, private readonly fromMs: number) {
    this.siteNames = [...new Set(sitesOfPeers.map((site) => site ?? NO_SITE))].sort()
    const index = new Map(this.siteNames.map((site, i) => [site, i]))
    this.siteOf = Int32Array.from(sitesOfPeers, (site) => index.get(site ?? NO_SITE)!)
    const cells = this.siteNames.length * this.siteNames.length
    this.bytes = new Float64Array(cells)
    this.messages = new Float64Array(cells)
  }

  /** One message of `kind` and `bytes` from peer `from` to peer `to`, sent at `atMs`. */
  record(from: number, to: number, kind: string, bytes: number, atMs: number): void {
    if (atMs < this.fromMs) return
    const a = this.siteOf[from]
    const b = this.siteOf[to]
    if (a === undefined || b === undefined) throw new RangeError(`site links: no peer ${a === undefined ? from : to}`)
    if (a === b) return
    const cell = a * this.siteNames.length + b
    this.bytes[cell]! += bytes
    this.messages[cell]! += 1
    let byKind = this.bytesByKind.get(kind)
    if (byKind === undefined) this.bytesByKind.set(kind, (byKind = new Float64Array(this.bytes.length)))
    byKind[cell]! += bytes
  }

  /** One message from `from` to each of `recipients`. */
  recordEach(from: number, recipients: ArrayLike<number>, kind: string, bytes: number, atMs: number): void {
    for (let i = 0; i < recipients.length; i++) this.record(from, recipients[i]!, kind, bytes, atMs)
  }

  /** The figures of the window from `fromMs` to `untilMs`. */
  figures(untilMs: number): SiteLinkFigures {
    const seconds = (untilMs - this.fromMs) / 1000
    if (!(seconds > 0)) throw new RangeError(`site links: the window ends (${untilMs} ms) before it starts (${this.fromMs} ms)`)
    const n = this.siteNames.length
    const rate = (value: number): number => Math.round(value / seconds)
    const rateToTenths = (value: number): number => Math.round((value / seconds) * 10) / 10
    const pairs: SitePairFigure[] = []
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const there = a * n + b
        const back = b * n + a
        const messages = this.messages[there]! + this.messages[back]!
        if (messages === 0) continue
        const byKind = this.byKind(seconds, [there, back])
        pairs.push({
          sites: [this.siteNames[a]!, this.siteNames[b]!], aToBBytesPerSec: rate(this.bytes[there]!), bToABytesPerSec: rate(this.bytes[back]!),
          messagesPerSec: rateToTenths(messages), bytesPerSecByKind: byKind,
        })
      }
    }
    const sites = this.siteNames.map((site, s) => {
      let outBytes = 0
      let inBytes = 0
      let outMessages = 0
      let inMessages = 0
      for (let other = 0; other < n; other++) {
        outBytes += this.bytes[s * n + other]!
        inBytes += this.bytes[other * n + s]!
        outMessages += this.messages[s * n + other]!
        inMessages += this.messages[other * n + s]!
      }
      const cells = Array.from({ length: n }, (_, other) => [s * n + other, other * n + s]).flat()
      return {
        site, outBytesPerSec: rate(outBytes), inBytesPerSec: rate(inBytes), outMessagesPerSec: rateToTenths(outMessages), inMessagesPerSec: rateToTenths(inMessages),
        bytesPerSecByKind: this.byKind(seconds, cells),
      }
    })
    return { seconds, pairs, sites }
  }

  /** Bytes per second by kind over `cells` (kinds sorted; a kind with nothing there left out). */
  private byKind(seconds: number, cells: readonly number[]): Record<string, number> {
    const result: Record<string, number> = {}
    for (const kind of [...this.bytesByKind.keys()].sort()) {
      const bytes = this.bytesByKind.get(kind)!
      let sum = 0
      for (const cell of cells) sum += bytes[cell]!
      if (sum > 0) result[kind] = Math.round(sum / seconds)
    }
    return result
  }
}
