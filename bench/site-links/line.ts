// What every line of the site-links benchmark holds, from the simulator or from real agents.

export interface SiteLinksLine {
  readonly bench: 'site-links'
  readonly source: 'sim' | 'real'
  readonly sites: number
  readonly hostsPerSite: number
  /** The idle window the figures are over. */
  readonly idleSeconds: number
  /** The mean over the sites' links (the cloud's left out) of what leaves a site and what enters it. */
  readonly meanOutBytesPerSec: number
  readonly meanInBytesPerSec: number
}
