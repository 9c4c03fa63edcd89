// How fast a membership change reaches the cluster, read from the machines' own member tables (not
// from the network model): a broadcast lost on one link counts as missing until the piggybacked
// retransmissions or an anti-entropy exchange repair it, as in a real cluster.
//
// One run: N peers join (over the first second), settle, then one peer crashes; later it restarts.
// Two changes are timed, each from its origin — the first machine that holds it — to the moment each
// other live machine holds it:
//   - death: the first "dead" verdict about the crashed peer, then every live peer's table says dead;
//   - join:  the restarted peer's new life (its own machine holds it at start), then every live peer
//            holds it alive at that incarnation or later.
// The figures are the times by which 50 %, 99 %, 99.9 % and all of the live peers (the origin among
// them) held the change — Serf's measure: "a membership change reaches 99.9 % of 1k nodes in 1.84 s",
// so at 1,000 peers p999 is the 999th peer to hold it.

import { seededRandom, type MemberRecord, type PeerId, type PeerMachine } from '../core/index.js'
import { NO_FAULTS, networkConfigWithFaults } from './faults.js'
import { NETWORK_PROFILES } from './network.js'
import { Simulation } from './runner.js'
import { syntheticPeerViews } from './workload.js'

export interface SpreadOptions {
  readonly peers: number
  readonly seed: number
  readonly network: 'lan' | 'wan'
  /** Probability that a message is lost, replacing the profile's (the WAN profile's is 1 %). */
  readonly loss?: number
  /** When the peer crashes; the cluster has joined and settled by then. Default 15 s. */
  readonly killAtMs?: number
  /** How long it stays down. Default 10 s on a LAN, 20 s on a WAN (whose verdict comes ≈ 9.5 s after the crash). */
  readonly downMs?: number
  /** How long the run goes on after the restart. Default 10 s. */
  readonly afterMs?: number
  /**
   * Measures the process's live memory in bytes (the bench forces a garbage collection first); called
   * once, when the settled cluster reaches the crash, and reported per pair of peers. Never changes the run.
   */
  readonly liveBytes?: () => number
}

export interface ChangeSpread {
  /** Simulated time of the change's origin (the first machine that held it); null if none did. */
  readonly originMs: number | null
  /** Live peers while the change spreads (the origin among them, at 0 ms). */
  readonly peers: number
  /** Of them, how many held the change by the end of the run. */
  readonly reached: number
  /** Time from the origin until this share of the live peers held it (null when never reached). */
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  readonly p999Ms: number | null
  readonly allMs: number | null
}

export interface SpreadResult {
  readonly peers: number
  readonly seed: number
  readonly network: 'lan' | 'wan'
  readonly loss: number
  readonly death: ChangeSpread
  readonly join: ChangeSpread
  readonly events: number
  /** Live bytes when the crash came, divided by peers² (only with `liveBytes`). */
  readonly liveBytesPerPair?: number
}

/** One change's arrival at each watched peer, measured from its origin. */
class ChangeWatch {
  originMs: number | null = null
  private readonly arrivals: number[] = []
  private pending: Set<number> | undefined

  constructor(private readonly holds: (record: MemberRecord | undefined) => boolean) {}

  /** A machine acted: `isOrigin` says whether this one holding the change is its origin. */
  see(index: number, machine: PeerMachine, subject: PeerId, watched: () => Set<number>, nowMs: number, isOrigin: boolean): void {
    if (this.originMs === null) {
      if (!isOrigin || !this.holds(machine.memberRecord(subject))) return
      this.originMs = nowMs
      this.pending = watched()
    }
    if (this.pending === undefined || !this.pending.has(index)) return
    if (!this.holds(machine.memberRecord(subject))) return
    this.pending.delete(index)
    this.arrivals.push(nowMs - this.originMs)
  }

  result(peers: number): ChangeSpread {
    const by = (share: number): number | null => {
      const needed = Math.max(1, Math.ceil(share * peers))
      return this.arrivals.length >= needed ? round(this.arrivals[needed - 1]!) : null
    }
    return { originMs: this.originMs === null ? null : round(this.originMs), peers, reached: this.arrivals.length, p50Ms: by(0.5), p99Ms: by(0.99), p999Ms: by(0.999), allMs: by(1) }
  }
}

export function membershipSpread(options: SpreadOptions): SpreadResult {
  if (!Number.isSafeInteger(options.peers) || options.peers < 3) throw new RangeError(`membership spread needs at least 3 peers, not ${options.peers}`)
  const killAtMs = options.killAtMs ?? 15_000
  // Down long enough that every peer holds the verdict before the new life supersedes it.
  const restartAtMs = killAtMs + (options.downMs ?? (options.network === 'wan' ? 20_000 : 10_000))
  const durationMs = restartAtMs + (options.afterMs ?? 10_000)
  const base = NETWORK_PROFILES[options.network]
  const loss = options.loss ?? base.loss
  const network = { ...networkConfigWithFaults(base, NO_FAULTS), loss }
  const peers = syntheticPeerViews(seededRandom(options.seed).fork('peers'), options.peers)
  // The last peer to start is the one that crashes: any peer would do, and this one is not the
  // first peer, through which the others join.
  const subjectIndex = peers.length - 1
  const subject = peers[subjectIndex]!.id
  const others = (): Set<number> => new Set(peers.map((_, i) => i).filter((i) => i !== subjectIndex))
  const everyone = (): Set<number> => new Set(peers.map((_, i) => i))

  const death = new ChangeWatch((record) => record?.status === 'dead')
  let newLife = Infinity
  let liveBytesPerPair: number | undefined
  const join = new ChangeWatch((record) => record !== undefined && record.status === 'alive' && record.incarnation >= newLife)
  const simulation = new Simulation({
    seed: options.seed,
    peers,
    services: [],
    durationMs,
    faults: NO_FAULTS,
    network,
    profile: options.network,
    faultPlan: [{ atMs: killAtMs, kind: 'kill', peer: subject, restartAtMs }],
    watch: {
      acted(index, machine, nowMs) {
        if (nowMs < killAtMs) return
        if (options.liveBytes !== undefined && liveBytesPerPair === undefined) liveBytesPerPair = Math.round(options.liveBytes() / peers.length ** 2)
        if (index === subjectIndex) {
          // The restarted peer's own machine is the new life's origin.
          if (nowMs >= restartAtMs && newLife === Infinity) newLife = machine.currentIncarnation()
          join.see(index, machine, subject, everyone, nowMs, true)
          return
        }
        death.see(index, machine, subject, others, nowMs, true)
        if (newLife !== Infinity) join.see(index, machine, subject, everyone, nowMs, false)
      },
    },
  })
  const run = simulation.run()
  // The crashed peer is not live while its verdict spreads; after the restart every peer is, and the
  // restarted one holds its new life from the start.
  return { peers: peers.length, seed: options.seed, network: options.network, loss, death: death.result(peers.length - 1), join: join.result(peers.length), events: run.metrics.events, ...(liveBytesPerPair !== undefined ? { liveBytesPerPair } : {}) }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
