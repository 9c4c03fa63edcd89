// The modelled network: for each message, whether it arrives, how many times, and after how long.
//
// The network decides everything at send time and returns delays; the runner turns them into queue
// events. It keeps no clock and no queue of its own, so one broadcast to 100k peers costs one delay
// per recipient and no copies of the message (the runner may keep one record of the message and
// schedule each recipient's arrival into it).
//
// Model, in one place:
// - Latency of one link is drawn from the configured distribution (log-normal by default: most
//   messages are fast, a few are very slow, as on real networks). Links that touch a slow peer take
//   `factor` times longer (once, even when both ends are slow).
// - Loss drops a point-to-point message with probability `loss`; duplication delivers a second copy,
//   with its own independently drawn delay, with probability `duplicate`.
// - Broadcast models gossipsub with mesh degree 6: the reachable recipients are put in a random
//   order and form a tree in which each peer forwards to the next 6, so the deepest peer is about
//   ceil(log_6 N) hops from the sender and each peer's delay is its parent's delay plus one link.
//   Loss is applied once per recipient, independently, with probability `loss`: gossipsub repairs a
//   lost forward through its other mesh links and IHAVE/IWANT gossip, so a lost hop inside the tree
//   does not cut off the subtree below it. (This is pessimistic for a peer, which in reality would
//   have to lose all its mesh copies, and optimistic about the repair's delay, which is ignored.)
//   Broadcasts are never duplicated: gossipsub drops repeats by message id before the application.
// - A broadcast's recipients come back sorted by delay, so a runner can keep one queue event per
//   broadcast in flight (deliver to recipient i, then reschedule itself for recipient i + 1) instead
//   of one event per recipient.
// - Reachability (partitions, isolation) is judged at send time. A message already in flight when a
//   partition starts still arrives; a runner that wants the stricter rule can call `reachable` again
//   at arrival.
// - Pauses are clock-free, like SIGSTOP or a long GC pause: the network does not know how long a
//   pause lasts. Messages still travel to a paused peer; on arrival the runner `hold`s them, and
//   `resume` hands them back in arrival order to be delivered at resume time. A paused peer also runs
//   no timers and sends nothing, which is the runner's part.
// - Sites (optional): peers named in `acrossSites.sites` whose sites differ talk over a WAN link
//   with its own latency distribution and loss (in place of the LAN's), as edge sites joined over
//   the internet do; links inside a site, or touching an unnamed peer, keep the base model.

import type { Random, SeededRandom } from '../core/index.js'
import { lognormal, lognormalSigma } from './random.js'

export type LatencyDistribution = 'lognormal' | 'uniform' | 'constant'

export interface LatencyConfig {
  readonly distribution: LatencyDistribution
  /** Median one-way latency of one link. */
  readonly medianMs: number
  /** 99th percentile of one link's one-way latency (ignored for `constant`). */
  readonly p99Ms: number
}

export interface NetworkConfig {
  readonly latencyMs: LatencyConfig
  /** Probability that a message is lost, in [0, 1]. */
  readonly loss: number
  /** Probability that a point-to-point message is delivered twice, in [0, 1]. */
  readonly duplicate: number
  /** A deterministic `fraction` of peers whose links are `factor` times slower. */
  readonly slowPeers: { readonly fraction: number; readonly factor: number }
  /** Links between peers of different sites, when the network has sites: see the model above. */
  readonly acrossSites?: AcrossSites
}

/** The WAN between sites: which peer is in which site, and what a link between two sites is like. */
export interface AcrossSites {
  /** Peer → site. */
  readonly sites: Readonly<Record<string, string>>
  readonly latencyMs: LatencyConfig
  /** Probability that a message between two sites is lost (instead of the base `loss`). */
  readonly loss: number
}

/** One switched LAN: sub-millisecond median, a few milliseconds at the tail, nothing lost. */
export const LAN_PROFILE: NetworkConfig = {
  latencyMs: { distribution: 'lognormal', medianMs: 0.5, p99Ms: 3 },
  loss: 0,
  duplicate: 0,
  slowPeers: { fraction: 0, factor: 1 },
}

/** Edge sites over the internet: tens of milliseconds, heavy tail, some loss, some slow links. */
export const WAN_PROFILE: NetworkConfig = {
  latencyMs: { distribution: 'lognormal', medianMs: 40, p99Ms: 300 },
  loss: 0.01,
  duplicate: 0.001,
  slowPeers: { fraction: 0.05, factor: 5 },
}

export const NETWORK_PROFILES: Readonly<Record<'lan' | 'wan', NetworkConfig>> = { lan: LAN_PROFILE, wan: WAN_PROFILE }

/** Gossipsub's target mesh degree (D): each peer forwards a new message to this many mesh peers. */
export const GOSSIP_MESH_DEGREE = 6

/** Recipients of one broadcast that will receive it, sorted by delay (ties keep the input order). */
export interface BroadcastDelivery {
  readonly peers: string[]
  /** The same recipients as indices into `Network.peers` (the order peers were added in). */
  readonly indices: Int32Array
  readonly delaysMs: Float64Array
  /** Recipients dropped by loss. */
  readonly lost: number
  /** Recipients the sender could not reach (partitioned or isolated). */
  readonly unreachable: number
}

/** What the network did, for metrics. */
export interface NetworkStats {
  sent: number
  delivered: number
  lost: number
  duplicated: number
  unreachable: number
}

/** Every problem with a configuration, as sentences naming the field; empty when valid. */
export function networkConfigProblems(config: NetworkConfig): string[] {
  const problems = latencyProblems('latencyMs', config.latencyMs)
  if (config.acrossSites !== undefined) {
    problems.push(...latencyProblems('acrossSites.latencyMs', config.acrossSites.latencyMs))
    if (!isProbability(config.acrossSites.loss)) problems.push(`acrossSites.loss: expected a probability in [0, 1], got ${config.acrossSites.loss}`)
  }
  if (!isProbability(config.loss)) problems.push(`loss: expected a probability in [0, 1], got ${config.loss}`)
  if (!isProbability(config.duplicate)) problems.push(`duplicate: expected a probability in [0, 1], got ${config.duplicate}`)
  if (!isProbability(config.slowPeers.fraction)) problems.push(`slowPeers.fraction: expected a fraction in [0, 1], got ${config.slowPeers.fraction}`)
  if (!(Number.isFinite(config.slowPeers.factor) && config.slowPeers.factor >= 1)) problems.push(`slowPeers.factor: expected a number >= 1, got ${config.slowPeers.factor}`)
  return problems
}

function latencyProblems(field: string, latency: LatencyConfig): string[] {
  const problems: string[] = []
  const { distribution, medianMs, p99Ms } = latency
  if (!['lognormal', 'uniform', 'constant'].includes(distribution)) problems.push(`${field}.distribution: expected lognormal, uniform or constant`)
  if (!(Number.isFinite(medianMs) && medianMs >= 0)) problems.push(`${field}.medianMs: expected a non-negative number, got ${medianMs}`)
  if (distribution !== 'constant' && !(Number.isFinite(p99Ms) && p99Ms >= medianMs)) problems.push(`${field}.p99Ms: expected a number at least medianMs, got ${p99Ms}`)
  if (distribution === 'lognormal' && !(medianMs > 0)) problems.push(`${field}.medianMs: a log-normal latency needs a positive median`)
  return problems
}

export class Network<M = unknown> {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, unreachable: 0 }
  private readonly names: string[] = []
  private readonly index = new Map<string, number>()
  /** Partition group per peer; all zeros when whole. */
  private group: Int32Array
  private isolated: Uint8Array
  private slow: Uint8Array
  private readonly held = new Map<number, M[]>()
  private lossProbability: number
  private duplicateProbability: number
  private readonly sampleLink: () => number
  private readonly latencyRandom: SeededRandom
  private readonly faultRandom: SeededRandom
  private readonly broadcastRandom: SeededRandom
  private readonly slowRandom: SeededRandom
  /** Site number per peer (0: none), and the WAN's sampler, when the network has sites. */
  private siteOf: Int32Array
  private readonly sampleAcross: (() => number) | undefined

  constructor(readonly config: NetworkConfig, random: SeededRandom, peers: readonly string[]) {
    const problems = networkConfigProblems(config)
    if (problems.length > 0) throw new RangeError(`invalid network config: ${problems.join('; ')}`)
    // Separate streams, so that (say) turning on loss does not change every latency that follows.
    this.latencyRandom = random.fork('latency')
    this.faultRandom = random.fork('loss-and-duplication')
    this.broadcastRandom = random.fork('broadcast-tree')
    this.slowRandom = random.fork('slow-peers')
    this.lossProbability = config.loss
    this.duplicateProbability = config.duplicate
    this.sampleLink = linkSampler(config.latencyMs, this.latencyRandom)
    // Its own stream, so a network without sites draws exactly the numbers it drew before.
    this.sampleAcross = config.acrossSites === undefined ? undefined : linkSampler(config.acrossSites.latencyMs, random.fork('across-sites'))
    this.siteOf = new Int32Array(peers.length)
    this.group = new Int32Array(peers.length)
    this.isolated = new Uint8Array(peers.length)
    this.slow = new Uint8Array(peers.length)
    for (const peer of peers) this.register(peer)
    this.chooseSlowPeers()
  }

  get peers(): readonly string[] {
    return this.names
  }

  get loss(): number {
    return this.lossProbability
  }

  get duplicate(): number {
    return this.duplicateProbability
  }

  /** Adds a peer that joins later. It is slow with probability `slowPeers.fraction`; during a partition it is with the unlisted peers. */
  addPeer(peer: string): void {
    const i = this.register(peer)
    if (this.slowRandom.chance(this.config.slowPeers.fraction)) this.slow[i] = 1
  }

  isSlow(peer: string): boolean {
    return this.slow[this.at(peer)] === 1
  }

  /**
   * Delays after which copies of one point-to-point message arrive: none when lost or unreachable,
   * one normally, two when duplicated.
   */
  deliveryDelays(from: string, to: string): number[] {
    const source = this.at(from)
    const target = this.at(to)
    this.stats.sent++
    if (!this.canReach(source, target)) {
      this.stats.unreachable++
      return []
    }
    if (this.faultRandom.chance(this.lossBetween(source, target))) {
      this.stats.lost++
      return []
    }
    const first = this.linkDelay(source, target)
    if (this.faultRandom.chance(this.duplicateProbability)) {
      this.stats.duplicated++
      this.stats.delivered += 2
      return [first, this.linkDelay(source, target)]
    }
    this.stats.delivered++
    return [first]
  }

  /**
   * Delivery of one gossipsub message from `from` to each of `peers` (the sender itself and repeats
   * in the list are skipped). See the model above.
   */
  broadcastDelays(from: string, peers: readonly string[]): BroadcastDelivery {
    const listed = new Uint8Array(this.names.length)
    const targets = new Int32Array(peers.length)
    let count = 0
    for (const peer of peers) {
      const target = this.at(peer)
      if (listed[target] === 1) continue
      listed[target] = 1
      targets[count++] = target
    }
    return this.broadcastFrom(this.at(from), targets.subarray(0, count))
  }

  /**
   * `broadcastDelays` to peers given by their index in `peers` (the order they were added in),
   * without looking each one up by name; the sender and repeats are skipped as there.
   */
  broadcastToIndices(from: string, targets: Int32Array): BroadcastDelivery {
    const listed = new Uint8Array(this.names.length)
    const distinct = new Int32Array(targets.length)
    let count = 0
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!
      if (!(target >= 0 && target < this.names.length)) throw new RangeError(`unknown peer index ${target}`)
      if (listed[target] === 1) continue
      listed[target] = 1
      distinct[count++] = target
    }
    return this.broadcastFrom(this.at(from), distinct.subarray(0, count))
  }

  /** `broadcastDelays` to every peer of the network, without looking each one up by name. */
  broadcastToAll(from: string): BroadcastDelivery {
    const targets = new Int32Array(this.names.length)
    for (let i = 0; i < targets.length; i++) targets[i] = i
    return this.broadcastFrom(this.at(from), targets)
  }

  private broadcastFrom(source: number, targets: Int32Array): BroadcastDelivery {
    const reachable = new Int32Array(targets.length)
    let count = 0
    let unreachable = 0
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!
      if (target === source) continue
      if (this.canReach(source, target)) reachable[count++] = target
      else unreachable++
    }
    // Random order = random mesh: node k (1-based, the sender is 0) hears from node floor((k-1)/D).
    const random = this.broadcastRandom
    for (let i = count - 1; i > 0; i--) {
      const j = random.int(i + 1)
      const held = reachable[i]!
      reachable[i] = reachable[j]!
      reachable[j] = held
    }
    const arrival = new Float64Array(count + 1)
    for (let k = 1; k <= count; k++) {
      const parentNode = Math.floor((k - 1) / GOSSIP_MESH_DEGREE)
      const parent = parentNode === 0 ? source : reachable[parentNode - 1]!
      arrival[k] = arrival[parentNode]! + this.linkDelay(parent, reachable[k - 1]!)
    }
    const kept = new Int32Array(count)
    let keptCount = 0
    let lost = 0
    for (let k = 1; k <= count; k++) {
      if (this.faultRandom.chance(this.lossBetween(source, reachable[k - 1]!))) lost++
      else kept[keptCount++] = k
    }
    const order = sortByArrival(kept.subarray(0, keptCount), arrival)
    const indices = new Int32Array(keptCount)
    for (let i = 0; i < keptCount; i++) indices[i] = reachable[order.nodes[i]! - 1]!
    const delaysMs = order.delaysMs
    this.stats.sent += count + unreachable
    this.stats.delivered += keptCount
    this.stats.lost += lost
    this.stats.unreachable += unreachable
    const all = this.names
    let names: string[] | undefined
    // Names only when asked for: a runner that works with indices makes no array of N strings per broadcast.
    return {
      get peers() {
        return (names ??= Array.from(indices, (i) => all[i]!))
      },
      indices, delaysMs, lost, unreachable,
    }
  }

  /** Whether a message sent now from `from` would reach `to` (ignoring loss). */
  reachable(from: string, to: string): boolean {
    return this.canReach(this.at(from), this.at(to))
  }

  /**
   * Splits the network: peers in different groups cannot reach each other. Peers not listed form one
   * more group together ("the rest of the cluster"), so `partition([[a, b]])` cuts a and b off from
   * everyone else. Replaces any earlier partition. Isolation (below) is separate and stays in force.
   */
  partition(groups: readonly (readonly string[])[]): void {
    const next = new Int32Array(this.group.length)
    const seen = new Set<string>()
    groups.forEach((members, g) => {
      for (const peer of members) {
        if (seen.has(peer)) throw new RangeError(`peer ${peer} is in more than one partition group`)
        seen.add(peer)
        next[this.at(peer)] = g + 1
      }
    })
    this.group = next
  }

  /** Ends the partition and every isolation. Loss, duplication and pauses are left as they are. */
  heal(): void {
    this.group.fill(0)
    this.isolated.fill(0)
  }

  /** Cuts one peer off from everyone (its links go down; the process keeps running). */
  isolate(peer: string): void {
    this.isolated[this.at(peer)] = 1
  }

  reconnect(peer: string): void {
    this.isolated[this.at(peer)] = 0
  }

  /** Overrides the loss probability (a loss episode); `setLoss(config.loss)` ends it. */
  setLoss(probability: number): void {
    if (!isProbability(probability)) throw new RangeError(`loss must be a probability in [0, 1], got ${probability}`)
    this.lossProbability = probability
  }

  /** Overrides the duplication probability; `setDuplicate(config.duplicate)` ends it. */
  setDuplicate(probability: number): void {
    if (!isProbability(probability)) throw new RangeError(`duplicate must be a probability in [0, 1], got ${probability}`)
    this.duplicateProbability = probability
  }

  /** Stops a peer taking messages until `resume`. */
  pause(peer: string): void {
    const i = this.at(peer)
    if (!this.held.has(i)) this.held.set(i, [])
  }

  isPaused(peer: string): boolean {
    return this.held.has(this.at(peer))
  }

  /** Keeps a message that arrived at a paused peer; the caller must have checked `isPaused`. */
  hold(peer: string, message: M): void {
    const queue = this.held.get(this.at(peer))
    if (queue === undefined) throw new Error(`hold: peer ${peer} is not paused`)
    queue.push(message)
  }

  /** Resumes a paused peer and returns the messages it missed, in arrival order (empty if it was not paused). */
  resume(peer: string): M[] {
    const i = this.at(peer)
    const queue = this.held.get(i) ?? []
    this.held.delete(i)
    return queue
  }

  /** Peers currently paused, in peer order. */
  pausedPeers(): string[] {
    return [...this.held.keys()].sort((a, b) => a - b).map((i) => this.names[i]!)
  }

  private canReach(source: number, target: number): boolean {
    return this.isolated[source] === 0 && this.isolated[target] === 0 && this.group[source] === this.group[target]
  }

  /** Whether two peers are in different sites (both named in acrossSites). */
  private acrossSites(source: number, target: number): boolean {
    const a = this.siteOf[source]!
    const b = this.siteOf[target]!
    return a !== 0 && b !== 0 && a !== b
  }

  private lossBetween(source: number, target: number): number {
    const across = this.config.acrossSites
    return across !== undefined && this.acrossSites(source, target) ? across.loss : this.lossProbability
  }

  private linkDelay(source: number, target: number): number {
    const delay = this.sampleAcross !== undefined && this.acrossSites(source, target) ? this.sampleAcross() : this.sampleLink()
    return this.slow[source] === 1 || this.slow[target] === 1 ? delay * this.config.slowPeers.factor : delay
  }

  private at(peer: string): number {
    const i = this.index.get(peer)
    if (i === undefined) throw new RangeError(`unknown peer ${JSON.stringify(peer)}`)
    return i
  }

  private register(peer: string): number {
    if (this.index.has(peer)) throw new RangeError(`peer ${JSON.stringify(peer)} is already in the network`)
    const i = this.names.length
    this.names.push(peer)
    this.index.set(peer, i)
    if (i >= this.group.length) {
      // A joiner is unlisted in any current partition, so it lands in the "rest of the cluster" group (0).
      const capacity = Math.max(16, this.group.length * 2)
      this.group = grown(this.group, new Int32Array(capacity))
      this.isolated = grown(this.isolated, new Uint8Array(capacity))
      this.slow = grown(this.slow, new Uint8Array(capacity))
      this.siteOf = grown(this.siteOf, new Int32Array(capacity))
    }
    const site = this.config.acrossSites?.sites[peer]
    if (site !== undefined) this.siteOf[i] = this.siteNumber(site)
    return i
  }

  private readonly siteNumbers = new Map<string, number>()

  private siteNumber(site: string): number {
    let n = this.siteNumbers.get(site)
    if (n === undefined) this.siteNumbers.set(site, (n = this.siteNumbers.size + 1))
    return n
  }

  /** Exactly round(fraction × N) slow peers, chosen by a partial shuffle of the initial peers. */
  private chooseSlowPeers(): void {
    const count = Math.round(this.config.slowPeers.fraction * this.names.length)
    const order = Array.from(this.names, (_, i) => i)
    for (let i = 0; i < count; i++) {
      const j = i + this.slowRandom.int(order.length - i)
      const held = order[i]!
      order[i] = order[j]!
      order[j] = held
      this.slow[order[i]!] = 1
    }
  }
}

/** A sampler of one link's latency for the configured distribution. */
export function linkSampler(latency: LatencyConfig, random: Random): () => number {
  const { medianMs, p99Ms } = latency
  switch (latency.distribution) {
    case 'constant':
      return () => medianMs
    case 'uniform': {
      // Uniform on [low, high] with the requested median and p99: high - low = (p99 - median) / 0.49.
      // When that would need a negative low end, low is 0 and p99 is kept (the median comes out lower).
      let width = (p99Ms - medianMs) / 0.49
      let low = medianMs - width / 2
      if (low < 0) {
        low = 0
        width = p99Ms / 0.99
      }
      return () => low + width * random.next()
    }
    case 'lognormal': {
      const sigma = lognormalSigma(medianMs, p99Ms)
      return () => lognormal(random, medianMs, sigma)
    }
  }
}

const INDEX_BITS = 20
const INDEX_MASK = (1 << INDEX_BITS) - 1
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1

/**
 * Tree nodes sorted by arrival time (ties in node order), and their arrival times.
 *
 * Sorting with a comparator costs most of a 100k-peer broadcast, so each node number is packed into
 * the lowest 20 of the 52 mantissa bits of its arrival time and the doubles are sorted natively. The
 * times handed back are the packed ones with those bits cleared: at most 2^-32 relative below the
 * drawn time, sorted exactly, and equal times stay in node order. Above 2^20 recipients (or on a
 * big-endian machine) it falls back to the comparator.
 */
function sortByArrival(nodes: Int32Array, arrival: Float64Array): { nodes: Int32Array; delaysMs: Float64Array } {
  const n = nodes.length
  if (n > INDEX_MASK || !LITTLE_ENDIAN) {
    const sorted = Array.from(nodes).sort((a, b) => arrival[a]! - arrival[b]! || a - b)
    return { nodes: Int32Array.from(sorted), delaysMs: Float64Array.from(sorted, (k) => arrival[k]!) }
  }
  const keys = new Float64Array(n)
  const words = new Uint32Array(keys.buffer)
  for (let i = 0; i < n; i++) {
    keys[i] = arrival[nodes[i]!]!
    // Word 2i is the low half of double i; i (not the node) is packed so the bits fit for any tree.
    words[2 * i] = ((words[2 * i]! & ~INDEX_MASK) | i) >>> 0
  }
  keys.sort()
  const sortedNodes = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    sortedNodes[i] = nodes[words[2 * i]! & INDEX_MASK]!
    words[2 * i] = (words[2 * i]! & ~INDEX_MASK) >>> 0
  }
  return { nodes: sortedNodes, delaysMs: keys }
}

function isProbability(value: number): boolean {
  return Number.isFinite(value) && value >= 0 && value <= 1
}

function grown<T extends Int32Array | Uint8Array>(from: T, into: T): T {
  into.set(from)
  return into
}
