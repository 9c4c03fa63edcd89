// Whether a peer could ever host a service (couldHost) depends only on its drivers and labels, and a
// large cluster has few distinct combinations of them (zone × arch × drivers) among many peers.
// Candidate selection asks it of every peer it walks past, and at 100k peers each answer read from
// the peer's own objects is a handful of cache misses. So the planner groups peers into classes of
// equal drivers and labels, answers once per (service, class), and reads one small array per peer.

import { couldHost, type PlacementRequest } from './request.js'
import type { PeerView } from './view.js'

/** Beyond this many classes (labels that name each host, say), peers are asked directly. */
const MAX_CLASSES = 1024

type HostFacts = Pick<PeerView, 'drivers' | 'labels'>

export class HostClasses {
  /** Class of each peer by its index in the list given; empty when there are too many classes. */
  private readonly classOf: Uint16Array
  /** The drivers and labels of each class. */
  private readonly representatives: HostFacts[] = []

  constructor(private readonly peers: readonly HostFacts[]) {
    const last = remembered
    if (last !== undefined && sameFacts(last, peers)) {
      this.classOf = last.classOf
      this.representatives = last.representatives
      return
    }
    const classes = new Map<string, number>()
    const classOf = new Uint16Array(peers.length)
    for (let i = 0; i < peers.length && classes.size <= MAX_CLASSES; i++) {
      const peer = peers[i]!
      const key = classKey(peer)
      let found = classes.get(key)
      if (found === undefined) {
        classes.set(key, (found = classes.size))
        this.representatives.push({ drivers: peer.drivers, labels: peer.labels })
      }
      classOf[i] = found
    }
    this.classOf = classes.size <= MAX_CLASSES ? classOf : new Uint16Array(0)
    remembered = {
      drivers: peers.map((peer) => peer.drivers), labels: peers.map((peer) => peer.labels),
      classOf: this.classOf, representatives: this.representatives,
    }
  }

  /** Number of classes. */
  get size(): number {
    return this.representatives.length
  }

  /** Whether peers are grouped (false past MAX_CLASSES: then ask filter(), which asks each peer). */
  get grouped(): boolean {
    return this.classOf.length === this.peers.length
  }

  /** Class of the peer at `index` (when grouped). */
  classAt(index: number): number {
    return this.classOf[index]!
  }

  /** couldHost for every peer of class `group`. */
  admits(group: number, want: PlacementRequest): boolean {
    const peer = this.representatives[group]!
    return couldHost(want, peer.drivers, peer.labels)
  }

  /** The value of label `name` on every peer of class `group` ('' when unset, as a bid's domain). */
  label(group: number, name: string): string {
    return this.representatives[group]!.labels[name] ?? ''
  }

  /** couldHost for one service, by peer index, remembering each class's answer. */
  filter(want: PlacementRequest): (index: number) => boolean {
    const peers = this.peers
    if (this.classOf.length !== peers.length) return (index) => couldHost(want, peers[index]!.drivers, peers[index]!.labels)
    const classOf = this.classOf
    const representatives = this.representatives
    // 0 not asked yet, 1 yes, 2 no. A plain array: the planner makes a filter per service, and a
    // typed array's buffer per service was a good part of a pass's allocations.
    const verdicts: number[] = new Array<number>(representatives.length).fill(0)
    return (index) => {
      const group = classOf[index]!
      let verdict = verdicts[group]!
      if (verdict === 0) {
        const peer = representatives[group]!
        verdicts[group] = verdict = couldHost(want, peer.drivers, peer.labels) ? 1 : 2
      }
      return verdict === 1
    }
  }
}

/**
 * The classes of the last list of peers grouped, with the drivers and labels objects they were
 * made from. Views are immutable values, so the same objects in the same places mean the same
 * classes: a planner run again over one cluster compares 2N references instead of looking up the
 * key of each peer's labels, a cache miss each at 100k peers. The arrays are only read.
 */
let remembered: {
  readonly drivers: readonly HostFacts['drivers'][]
  readonly labels: readonly HostFacts['labels'][]
  readonly classOf: Uint16Array
  readonly representatives: HostFacts[]
} | undefined

function sameFacts(last: NonNullable<typeof remembered>, peers: readonly HostFacts[]): boolean {
  if (last.labels.length !== peers.length) return false
  for (let i = 0; i < peers.length; i++) {
    if (last.labels[i] !== peers[i]!.labels || last.drivers[i] !== peers[i]!.drivers) return false
  }
  return true
}

/**
 * A peer's labels and drivers as text, remembered per labels object: views are immutable values, so
 * a planner run again over the same cluster (the simulator, the benchmark) finds each peer's key
 * instead of writing 100k JSON texts a pass.
 */
const keys = new WeakMap<object, { readonly drivers: HostFacts['drivers']; readonly key: string }>()

function classKey(peer: HostFacts): string {
  const known = keys.get(peer.labels)
  if (known !== undefined && known.drivers === peer.drivers) return known.key
  // Equal text only for equal drivers and labels; key order differing only splits a class.
  const key = JSON.stringify([peer.drivers, peer.labels])
  keys.set(peer.labels, { drivers: peer.drivers, key })
  return key
}
