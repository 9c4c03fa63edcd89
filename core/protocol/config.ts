// Protocol timing, in one place. Every knob states how it was chosen and what it trades, in the
// manner of memberlist's config.go. Defaults scale with cluster size where the protocol's cost does.

export interface MachineConfig {
  /**
   * How often a peer probes one other peer (SWIM). Each peer sends one ping per interval, so traffic
   * per peer is constant in N. Detection of a dead peer takes about one interval. Trade: shorter
   * detects faster and costs proportionally more messages.
   */
  readonly probeIntervalMs: number
  /** How long a direct ping waits for its ack before asking others to try (indirect probe). ≈ 99th percentile round trip × 2–5. */
  readonly probeTimeoutMs: number
  /** Peers asked to probe indirectly, so one bad link cannot get a healthy peer suspected. memberlist uses 3. */
  readonly indirectChecks: number
  /**
   * Longest time from a peer's death to its slots going to auction. Detection takes up to two probe
   * intervals (until some peer probes it, then the end of that probe), and suspicion lasts the rest:
   * replaceAfterMs − 2·probeIntervalMs (at least one interval, so a suspect can refute). Small on a LAN
   * (2 s); raise it for flaky edge links, where a false "dead" costs a needless migration.
   */
  readonly replaceAfterMs: number
  /**
   * Full anti-entropy with one random peer: exchanges compact digests of membership and adverts and
   * repairs what gossip lost (gossip is not reliable across partitions). memberlist scales its 30 s
   * by log N; here 5 s × max(1, log₂(N) / 4): 5 s up to 16 peers, 12.5 s at 1,000, 21 s at 100,000.
   */
  readonly pushPullIntervalMs: number
  /**
   * How long a peer that has just started waits before bidding for slots nobody seems to hold. It
   * cannot yet tell such a slot from one held by a peer it has not heard from: after a full restart
   * every peer's view is empty until the others are back, and without the wait each one placed the
   * whole service on itself (about four starts per slot on five agents). Its own restored tasks
   * restart at once. Default replaceAfterMs: the wait a dead peer's slots get anyway.
   */
  readonly startupGraceMs: number
  /**
   * The longest a restarted peer waits to hear from the members it knew before it restarts its tasks
   * from local state (rejoin.ts); it usually stops waiting much sooner, once each has been heard from
   * or declared dead (a gone member is probed like any other: dead within replaceAfterMs). The limit
   * binds when it hears from nobody — an offline reboot, an isolated host — which then restarts its
   * own tasks this long after start. Default 3 × replaceAfterMs: room for the dead connections of a
   * power cut to be noticed and replaced. Trade: an isolated reboot's tasks come back this much later.
   */
  readonly rejoinLimitMs: number
  /**
   * How long a bidder collects the other candidates' bids before running the auction. Must exceed
   * the one-way delay between candidates at the 99th percentile, or bids are missed and duplicate
   * claims follow (the conflict rule then resolves them, at the cost of a wasted start).
   */
  readonly bidWindowMs: number
  /**
   * How long after a round starts its claims must have arrived before peers move to the next
   * round's candidates and bid again: bid window plus broadcast of the claims.
   */
  readonly roundTimeoutMs: number
  /** Longest wait between bid rounds for slots no peer can take; rounds back off exponentially to this. */
  readonly pendingRetryMaxMs: number
  /** A full level-based reconcile of every service, as a safety net under the event-driven one. */
  readonly fullReconcileIntervalMs: number
  /**
   * How long a peer waits, after the first change that touches a service (an advert, a bid, a member's
   * status, a task's state), before it reconciles what was touched. The changes of one event arrive
   * together (the adverts of a round's claims, the services of a peer that died), so a short wait makes
   * a burst one pass over each touched service instead of one pass per message. Trade: every reaction
   * (a bid, a claim, a failover) starts this much later. Keep it small next to bidWindowMs, which a
   * round waits anyway; 5 ms on both profiles.
   */
  readonly reconcileCoalesceMs: number
  /** Least time between desired-state syncs with the same peer when heads digests differ. */
  readonly desiredSyncCooldownMs: number
  /**
   * How long two peers' heads digests must differ (the same two digests) before they sync: gossip
   * brings a change to everyone within this on a healthy network, so the sync protocol runs only to
   * repair what gossip lost. Trade: a lost change takes this much longer to repair.
   */
  readonly desiredSyncGraceMs: number
  /**
   * How often a peer tries to reach one random peer it holds dead (Serf's reconnect). Without it two
   * sides of a healed partition that declared each other dead never talk again. Trade: each attempt
   * costs one digest to a host that may really be gone.
   */
  readonly reconnectIntervalMs: number
  /**
   * How long a change of task state alone (starting → running → healthy) may wait before the advert
   * goes out, so several coalesce into one broadcast. Claims, stops and completions go at once.
   * Trade: conflict losers and rolling-update waves see "up" this much later.
   */
  readonly advertDebounceMs: number
  /** Most membership updates piggybacked on one ping or ack. */
  readonly piggybackLimit: number
  /**
   * `partition: majority` services (partition-quorum.ts): how long a peer keeps running them after
   * its view last showed a strict majority of the members it knew. Renewed on every input while the
   * majority holds, and inputs come at least every probe interval, so twice that survives a late
   * timer; a longer stall (a paused or starved agent) ends the lease and stops the copies. Trade:
   * every `majority` failover waits this much longer.
   */
  readonly partitionLeaseMs: number
  /**
   * How long a fenced task may take to stop when its spec names no stopGrace: the agent's default
   * stop grace (node/agent/config.ts). A `majority` slot is taken over only after its old copy is
   * surely gone, stop included.
   */
  readonly defaultStopGraceMs: number
  /**
   * How long the slots of a member of another site are held, not replaced, when it died with its
   * whole site out of reach (site-cut.ts): a WAN cut, most likely, behind which the site runs on.
   * Counted from the verdict; then they are replaced as any dead peer's. Default 5 minutes on both
   * profiles, Kubernetes' wait before it evicts the pods of an unreachable node: WAN drops at the
   * edge last seconds to minutes, and running a cut site's slots twice for that long costs each side
   * the other's capacity (often more than an edge site has) and a round of stops at the heal. Trade:
   * a site that really lost power has its slots down this long (`partition: majority` services are
   * not held; set it 0 to replace at once, as without sites). Agent flag `--site-cut-hold`.
   */
  readonly siteCutHoldMs: number
  /**
   * The lan and wan profiles' per-link timers, from which each link's own are derived by what it is
   * (a site-mate, a host of another site, a host of no site) and by its measured round trip
   * (link-timing.ts). Absent: every link keeps this config's timers, as one profile did for all.
   */
  readonly links?: LinkProfiles
}

/** The timers one link's timing is derived from, as one profile sets them. */
export interface LinkTimes {
  readonly probeTimeoutMs: number
  readonly replaceAfterMs: number
  readonly bidWindowMs: number
  readonly roundTimeoutMs: number
}

/**
 * The two ends each link's timers lie between. A link to or from a host with no site label keeps the
 * config's own timers (the profile chosen, `--profile`).
 */
export interface LinkProfiles {
  readonly lan: LinkTimes
  readonly wan: LinkTimes
  /** withProcessingSkew's skew, which every bid window adds to the link's one-way time. */
  readonly processingSkewMs: number
}

export type NetworkProfile = 'lan' | 'wan'

export function defaultConfig(clusterSize: number, profile: NetworkProfile = 'lan'): MachineConfig {
  return { ...profileConfig(clusterSize, profile), links: { lan: linkTimes('lan'), wan: linkTimes('wan'), processingSkewMs: 0 } }
}

/** One profile's per-link timers, as profileConfig sets them (they do not depend on cluster size). */
function linkTimes(profile: NetworkProfile): LinkTimes {
  const { probeTimeoutMs, replaceAfterMs, bidWindowMs, roundTimeoutMs } = profileConfig(1, profile)
  return { probeTimeoutMs, replaceAfterMs, bidWindowMs, roundTimeoutMs }
}

function profileConfig(clusterSize: number, profile: NetworkProfile): MachineConfig {
  const n = Math.max(1, clusterSize)
  const scale = Math.max(1, Math.log2(n) / 4)
  const wan = profile === 'wan'
  const probeIntervalMs = wan ? 1_000 : 500
  const replaceAfterMs = wan ? 10_000 : 2_000
  return {
    probeIntervalMs,
    probeTimeoutMs: wan ? 500 : 200,
    indirectChecks: 3,
    replaceAfterMs,
    startupGraceMs: replaceAfterMs,
    rejoinLimitMs: 3 * replaceAfterMs,
    pushPullIntervalMs: Math.round(5_000 * scale),
    bidWindowMs: wan ? 500 : 100,
    roundTimeoutMs: wan ? 2_000 : 400,
    pendingRetryMaxMs: 10_000,
    fullReconcileIntervalMs: 5_000,
    reconcileCoalesceMs: 5,
    desiredSyncCooldownMs: wan ? 2_000 : 500,
    desiredSyncGraceMs: wan ? 3_000 : 1_000,
    reconnectIntervalMs: wan ? 10_000 : 2_000,
    advertDebounceMs: wan ? 1_000 : 250,
    piggybackLimit: 8,
    partitionLeaseMs: 2 * probeIntervalMs,
    defaultStopGraceMs: 5_000,
    siteCutHoldMs: 5 * 60_000,
  }
}

/**
 * How long a bidder of `round` waits for the other candidates' bids at most; the auction runs as soon
 * as all are in. Round 0 waits longer, `roundTimeoutMs − bidWindowMs` (LAN 300 ms): every round-0
 * candidate answers, offering something or nothing, so a bid missing there is one still on its way —
 * a candidate on a slow link or a busy host, or a survivor that declared a dead peer dead a little
 * later than this one (each survivor's suspicion of a silent host expires at its own time). Closing
 * without it, this peer's auction differs from those of the peers that have it, and two peers claim
 * the same slot (power-cut failovers in the simulator, half the peers on links 100× the LAN's, p99
 * 300 ms: test/sim/failover.test.ts). The wait ends where a round's claims are due anyway, so a
 * silent candidate costs no extra round. Later rounds keep bidWindowMs: their candidates answer
 * too, but those new to a round hear of it only from another's bid, a hop later, and a bid missing
 * there costs at most the even share its bidder leaves unclaimed (bid-rounds.ts).
 */
export function bidWindowMs(config: Pick<MachineConfig, 'bidWindowMs' | 'roundTimeoutMs'>, round: number): number {
  return round === 0 ? Math.max(config.bidWindowMs, config.roundTimeoutMs - config.bidWindowMs) : config.bidWindowMs
}

/**
 * Suspicion timeout: what remains of replaceAfter once detection is spent. Every peer is probed by its
 * ring predecessor each interval, so detection takes at most two intervals (the probe, then its end).
 */
export function suspicionTimeoutMs(config: Pick<MachineConfig, 'probeIntervalMs' | 'replaceAfterMs'>): number {
  return Math.max(config.probeIntervalMs, config.replaceAfterMs - 2 * config.probeIntervalMs)
}

/**
 * Real hosts learn of a desired-state change at different times: the author at once, the others after
 * gossip and applying the change, and a busy event loop adds its own delay. Bid windows must cover
 * that spread as well as the network's, or a bidder closes its auction before a slower peer's bid
 * arrives and the duplicate claim costs a wasted start (and leaves the spread uneven); claims take as
 * long again to reach everyone. Since the auction runs as soon as every candidate has bid, a longer
 * window costs only when a candidate is silent. Measured on one 2-core host: the last of 5 agents
 * saw an apply up to 175 ms after its author, the last of 10 (each busy) up to 340 ms. The simulator
 * models network delay only.
 */
export function withProcessingSkew(config: MachineConfig, skewMs: number): MachineConfig {
  // Twice in the round: once for the bids to arrive, once for the winners' claims to.
  const skewed = <T extends Pick<MachineConfig, 'bidWindowMs' | 'roundTimeoutMs'>>(times: T): T =>
    ({ ...times, bidWindowMs: times.bidWindowMs + skewMs, roundTimeoutMs: times.roundTimeoutMs + 2 * skewMs })
  const links = config.links === undefined ? undefined
    : { ...config.links, lan: skewed(config.links.lan), wan: skewed(config.links.wan), processingSkewMs: config.links.processingSkewMs + skewMs }
  return { ...skewed(config), ...(links === undefined ? {} : { links }) }
}
