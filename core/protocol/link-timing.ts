// Per-link protocol timing. One profile for every link runs LAN timers over a WAN (bids across sites
// missed, far hosts suspected for a slow answer) or WAN timers inside each site (a host death there
// replaced after 10 s instead of 2 s). So each link gets its own timers, from what it is and from its
// measured round trip:
//
//   site-mate   a host of this host's own site (`site` label): starts from the lan profile's timers;
//   other site  a host of another site: starts from the wan profile's;
//   no site     either end has no site label: the timers of this host's own config (`--profile`),
//               measured or not, so a cluster without site labels runs exactly as before. (Letting
//               such links widen their bid windows by measurement halved the slots started twice at
//               a first placement on heavy links, but lengthened failovers on links of busy hosts
//               past the 3 s budget: docs/edge.md#per-link-timing.)
//
// Every ping the failure detector answers times the link (ping → ack). The estimate is TCP's (RFC
// 6298): a smoothed round trip plus four mean deviations, an upper bound most round trips stay under.
// It was chosen over a windowed high percentile because a percentile needs tens of samples per peer
// and a window of them kept, while a peer is timed only when probed — by its ring predecessor each
// interval, by the rest about once every N intervals — so a window would be mostly empty, and at
// 100k simulated peers the windows would cost memory per pair; the smoothed pair is two numbers, is
// usable after one sample, and one slow answer raises it at once through the deviation.
//
// What each measured link derives (all clamped between the lan and wan profiles' values):
//   - the direct-probe timeout: PROBE_TIMEOUT_ROUND_TRIPS × the estimate;
//   - the suspicion time: the lan one for a site-mate, longer when the link is so slow that a
//     refutation (REFUTATION_ROUND_TRIPS round trips) would not fit; the wan one for another site;
//     the config's own for no site (the operator's failover budget for every link);
//   - the bid window: its one-way time (half the estimate) plus the processing skew. A round waits
//     for its slowest candidate (roundTiming), and its round timeout scales with the window along
//     it, as a processing skew of the link's one-way time would (roundTimeoutForWindowMs).
// The window only decides how long a bidder waits for bids, never what the auction does with them,
// so peers whose estimates differ still compute the same auction over the same bids.
//
// Why and what it costs: docs/edge.md#per-link-timing, docs/protocol.md (Membership).

import type { PeerId } from '../placement/ids.js'
import { suspicionTimeoutMs, type LinkProfiles, type LinkTimes, type MachineConfig } from './config.js'

/** A link's round trip as the detector has timed it (RFC 6298's SRTT and RTTVAR). */
export interface RoundTripEstimate {
  readonly smoothedMs: number
  readonly deviationMs: number
}

/** RFC 6298's gains: the smoothed round trip follows a new sample by 1/8, the deviation by 1/4. */
const SMOOTHING_GAIN = 1 / 8
const DEVIATION_GAIN = 1 / 4
/** Deviations above the smoothed round trip that most round trips stay under (RFC 6298's K). */
const DEVIATIONS = 4
/** A direct probe waits this many estimated round trips before others are asked to probe (≈ 3 × p99). */
export const PROBE_TIMEOUT_ROUND_TRIPS = 3
/**
 * Round trips a suspect needs to refute: the suspicion reaching it and its refutation coming back are
 * one; gossip adds a hop on either side. A site-mate's suspicion is never shorter than this.
 */
export const REFUTATION_ROUND_TRIPS = 2

/** The estimate after one more sample; the first sample starts it as RFC 6298 does (deviation half of it). */
export function nextEstimate(previous: RoundTripEstimate | undefined, sampleMs: number): RoundTripEstimate {
  const sample = Math.max(0, sampleMs)
  if (previous === undefined) return { smoothedMs: sample, deviationMs: sample / 2 }
  const deviationMs = (1 - DEVIATION_GAIN) * previous.deviationMs + DEVIATION_GAIN * Math.abs(previous.smoothedMs - sample)
  const smoothedMs = (1 - SMOOTHING_GAIN) * previous.smoothedMs + SMOOTHING_GAIN * sample
  return { smoothedMs, deviationMs }
}

/** The round trip most of this link's round trips stay under: smoothed + 4 × deviation (TCP's RTO before its floor). */
export function upperRoundTripMs(estimate: RoundTripEstimate): number {
  return estimate.smoothedMs + DEVIATIONS * estimate.deviationMs
}

/**
 * Links whose estimates a peer keeps at most. Each interval a peer times two links, so without a
 * bound a long run of many peers would keep an estimate per pair it ever probed (a simulated
 * 100k-peer cluster, hundreds of millions). The least recently timed link is dropped first and
 * starts again from its kind's timers; a peer's monitor and its site-mates are timed every few
 * intervals and stay.
 */
export const MAX_LINKS_ESTIMATED = 1_024

/**
 * Samples a link's estimate needs before it may shorten its kind's timers (it may lengthen them from
 * the first). One or two quick answers over a long-tailed WAN link put the estimate far under its
 * tail: a first sample of 100 ms estimates 300 ms, and a bid window from that misses every bid
 * slower than 150 ms. Far hosts are probed as a site (probe-rotation.ts), each a few times a
 * minute, so their links would otherwise run on such estimates for a long while (in the simulator,
 * a host death inside a site over p99-1.5 s WAN links was replaced past the 3 s budget in 3 of 40
 * seeds, against 0 when far links were probed four times as often). RFC 6298 starts from a
 * conservative 1 s for the same reason.
 */
export const SAMPLES_TO_SHORTEN = 5

const clamp = (value: number, low: number, high: number): number => Math.max(low, Math.min(high, value))

/** A measured link's direct-probe timeout: 3 × its upper round trip, between the lan and wan profiles' timeouts. */
export function measuredProbeTimeoutMs(lan: LinkTimes, wan: LinkTimes, estimate: RoundTripEstimate): number {
  return clamp(PROBE_TIMEOUT_ROUND_TRIPS * upperRoundTripMs(estimate), lan.probeTimeoutMs, Math.max(lan.probeTimeoutMs, wan.probeTimeoutMs))
}

/** A measured link's bid window: its one-way time plus the processing skew, between `floorMs` and the wan profile's window. */
export function measuredBidWindowMs(floorMs: number, wan: LinkTimes, skewMs: number, estimate: RoundTripEstimate): number {
  return clamp(upperRoundTripMs(estimate) / 2 + skewMs, floorMs, Math.max(floorMs, wan.bidWindowMs))
}

/**
 * A round's timeout for a round whose bid window is `windowMs`: the lan profile's, plus twice what
 * the window adds to the lan window — the slow link's one-way time delays the bids and then the
 * winners' claims, as withProcessingSkew adds a busy host's skew (config.ts). Round 0's longer wait
 * (bidWindowMs in config.ts) then grows by that one-way time once. Not the wan profile's timeout:
 * its round 0 waits 1.5 s for survivors whose wan suspicions of a dead host expire far apart, while
 * across sites the far survivors learn of a death from its site-mates' verdict, one link later
 * (failover.ts-like runs across two sites took up to 5.8 s with it, against a 3 s budget).
 */
export function roundTimeoutForWindowMs(lan: LinkTimes, wan: LinkTimes, windowMs: number): number {
  const addedMs = Math.max(0, windowMs - lan.bidWindowMs)
  return Math.min(Math.max(lan.roundTimeoutMs, wan.roundTimeoutMs), lan.roundTimeoutMs + 2 * addedMs)
}

/** How long one round waits: its bid window and its timeout (the two knobs bidWindowMs() in config.ts reads). */
export interface RoundTiming {
  readonly bidWindowMs: number
  readonly roundTimeoutMs: number
}

export type LinkKind = 'site-mate' | 'other-site' | 'no-site'

/** What the link to `peerSite` is, seen from a host of `selfSite` (undefined: no site). */
export function linkKind(selfSite: string | undefined, peerSite: string | undefined): LinkKind {
  if (selfSite === undefined || peerSite === undefined) return 'no-site'
  return selfSite === peerSite ? 'site-mate' : 'other-site'
}

export interface LinkTimingDeps {
  readonly self: PeerId
  readonly config: MachineConfig
  /** This host's site (its own `site` label); undefined: none. */
  readonly selfSite: string | undefined
  /** A member's site from its advert; undefined while it has none or no advert has come. */
  siteOf(peer: PeerId): string | undefined
}

/** Each link's timers, from its kind and its measured round trip; see the top of this file. */
interface Measured {
  readonly estimate: RoundTripEstimate
  readonly samples: number
}

export class LinkTiming {
  private readonly estimates = new Map<PeerId, Measured>()

  constructor(private readonly deps: LinkTimingDeps) {}

  /** A ping to `peer` was answered after `roundTripMs`. */
  sample(peer: PeerId, roundTripMs: number): void {
    // A link with no site keeps the config's timers whatever is measured: nothing to keep.
    if (this.deps.config.links === undefined || this.kind(peer) === 'no-site') return
    const previous = this.estimates.get(peer)
    // Deleted and set again, so the map's order is the order links were last timed in.
    this.estimates.delete(peer)
    this.estimates.set(peer, { estimate: nextEstimate(previous?.estimate, roundTripMs), samples: (previous?.samples ?? 0) + 1 })
    if (this.estimates.size > MAX_LINKS_ESTIMATED) this.estimates.delete(this.estimates.keys().next().value!)
  }

  /** A member left: a host joining again may come over another path, so it is measured afresh. (A dead one's link is kept: the site-cut rule still asks for it.) */
  forget(peer: PeerId): void {
    this.estimates.delete(peer)
  }

  estimate(peer: PeerId): RoundTripEstimate | undefined {
    return this.estimates.get(peer)?.estimate
  }

  /**
   * A timer of the link to `peer`: its kind's value until measured; then `fromEstimate`'s, which
   * may only lengthen the kind's value until SAMPLES_TO_SHORTEN samples are in.
   */
  private timer(peer: PeerId, kindValue: number, fromEstimate: (estimate: RoundTripEstimate) => number): number {
    const measured = this.estimates.get(peer)
    if (measured === undefined) return kindValue
    const value = fromEstimate(measured.estimate)
    return measured.samples < SAMPLES_TO_SHORTEN ? Math.max(kindValue, value) : value
  }

  kind(peer: PeerId): LinkKind {
    return linkKind(this.siteOf(this.deps.self), this.siteOf(peer))
  }

  /**
   * Each member's site as this host sees it (this host's own included), for the detector's site-aware
   * choices (whom to monitor, who announces a verdict). None at all when the config has no link
   * profiles: then every link, and the detector, runs as one profile did.
   */
  siteOf(peer: PeerId): string | undefined {
    if (this.deps.config.links === undefined) return undefined
    return peer === this.deps.self ? this.deps.selfSite : this.deps.siteOf(peer)
  }

  /** How long a direct ping to `peer` waits for its ack before others are asked to probe it. */
  probeTimeoutMs(peer: PeerId): number {
    return this.perLink(peer, 'probeTimeoutMs', (links, estimate) => measuredProbeTimeoutMs(links.lan, links.wan, estimate))
  }

  /**
   * A timer named `key`: the config's own for a link with no site, the link kind's profile's (lan for a
   * site-mate, wan for another site) until measured, then `fromEstimate`'s (see timer()).
   */
  private perLink(peer: PeerId, key: 'probeTimeoutMs' | 'bidWindowMs', fromEstimate: (links: LinkProfiles, estimate: RoundTripEstimate) => number): number {
    const { config } = this.deps
    const links = config.links
    const kind = this.kind(peer)
    if (links === undefined || kind === 'no-site') return config[key]
    return this.timer(peer, (kind === 'site-mate' ? links.lan : links.wan)[key], (estimate) => fromEstimate(links, estimate))
  }

  /** How long `peer` stays suspect here before this peer declares it dead. */
  suspicionMs(peer: PeerId): number {
    const { config } = this.deps
    const links = config.links
    const kind = this.kind(peer)
    if (links === undefined || kind === 'no-site') return suspicionTimeoutMs(config)
    const wan = suspicionTimeoutMs({ probeIntervalMs: config.probeIntervalMs, replaceAfterMs: links.wan.replaceAfterMs })
    if (kind === 'other-site') return wan
    const lan = suspicionTimeoutMs({ probeIntervalMs: config.probeIntervalMs, replaceAfterMs: links.lan.replaceAfterMs })
    return this.timer(peer, lan, (estimate) => clamp(REFUTATION_ROUND_TRIPS * upperRoundTripMs(estimate), lan, Math.max(lan, wan)))
  }

  /**
   * How long a held member of another site whose site came back has to be heard from before it is
   * replaced (site-cut.ts refuteMs): the config's suspicion time, as any suspect has, and at least
   * the round trips of a refutation over its measured link.
   */
  refuteMs(peer: PeerId): number {
    const estimate = this.estimates.get(peer)?.estimate
    const base = suspicionTimeoutMs(this.deps.config)
    return estimate === undefined ? base : Math.max(base, REFUTATION_ROUND_TRIPS * upperRoundTripMs(estimate))
  }

  /** The bid window a bid from `peer` needs: its link's one-way time plus the skew, or its kind's window until measured. */
  bidWindowMs(peer: PeerId): number {
    return this.perLink(peer, 'bidWindowMs', (links, estimate) => measuredBidWindowMs(links.lan.bidWindowMs, links.wan, links.processingSkewMs, estimate))
  }

  /**
   * How long a round among `candidates` waits: the bid window of its slowest candidate (this host's
   * own floor when all are fast or it is alone), and the round timeout that goes with that window.
   * A round whose window is this config's own keeps this config's timeout exactly.
   */
  roundTiming(candidates: readonly PeerId[]): RoundTiming {
    const { config, self, selfSite } = this.deps
    const links = config.links
    if (links === undefined) return config
    let windowMs = selfSite === undefined ? config.bidWindowMs : links.lan.bidWindowMs
    for (const peer of candidates) if (peer !== self) windowMs = Math.max(windowMs, this.bidWindowMs(peer))
    if (windowMs === config.bidWindowMs) return { bidWindowMs: config.bidWindowMs, roundTimeoutMs: config.roundTimeoutMs }
    return { bidWindowMs: windowMs, roundTimeoutMs: roundTimeoutForWindowMs(links.lan, links.wan, windowMs) }
  }
}
