// Candidates: which peers are asked to bid for a service. Asking every peer would make each placement
// cost O(N) messages and O(N) work; Nomad scores only a bounded sample for the same reason. The sample
// must also be the same on every peer, so each peer can tell by itself whether it is a candidate.
//
// Multi-probe consistent hashing (Appleton & O'Reilly, 2015): peers sit on a ring at hash(peer id);
// the service's key is hashed with probe seeds 0, 1, 2, … and each probe picks the first peer at or
// after its point that is not chosen yet. The set depends only on the key and the membership, moves
// little when membership changes (peers that disagree about one member still agree on most
// candidates), and costs O(k log N) to compute.
//
// Size: k = 2·(slots to place) + ⌈log₂ N⌉ + 2 — twice the slots so spread has room to choose, plus
// Nomad-style log N for a choice even for one slot. When the candidates cannot take every slot the
// round widens k by 4× until it covers the whole cluster, so a slot that fits anywhere is eventually
// placed, while the common case stays O(k).

import { combine32, hash32 } from './hash.js'
import { compareStrings, type PeerId } from './ids.js'

export interface PeerRing {
  /** hash32 of each peer id, ascending. */
  readonly points: Uint32Array
  /** Peers in ring order, aligned with `points`. */
  readonly peers: readonly PeerId[]
}

/** Widening factor per round. */
export const WIDEN_FACTOR = 4

export function buildRing(peers: readonly PeerId[]): PeerRing {
  const unique = [...new Set(peers)]
  const hashed = unique.map((peer) => ({ peer, point: hash32(peer) }))
  hashed.sort((a, b) => a.point - b.point || compareStrings(a.peer, b.peer))
  return { points: Uint32Array.from(hashed, (h) => h.point), peers: hashed.map((h) => h.peer) }
}

/** Candidate count for `unplaced` slots in a cluster of `clusterSize` peers at bid round `round`. */
export function candidateCount(unplaced: number, clusterSize: number, round: number): number {
  if (clusterSize <= 0) return 0
  const base = 2 * Math.max(1, unplaced) + Math.ceil(Math.log2(clusterSize + 1)) + 2
  const widened = base * WIDEN_FACTOR ** Math.max(0, round)
  return Math.min(clusterSize, widened)
}

/** The first `count` candidates for `key` (a service name), in probe order. */
export function candidates(ring: PeerRing, key: string, count: number): PeerId[] {
  const size = ring.peers.length
  const wanted = Math.min(count, size)
  if (wanted <= 0) return []
  if (wanted * 2 > size) return rendezvousAll(ring, key, wanted)
  // A set, not a bitmap of the ring: the cost must stay O(k), not O(N), per service.
  const chosen = new Set<number>()
  const out: PeerId[] = []
  for (let probe = 0; out.length < wanted; probe++) {
    let index = lowerBound(ring.points, hash32(key, probe)) % size
    // Linear probing: at most half the ring is chosen, so this finds a free peer quickly.
    while (chosen.has(index)) index = (index + 1) % size
    chosen.add(index)
    out.push(ring.peers[index]!)
  }
  return out
}

/** Whether `peer` is among the first `count` candidates for `key`. */
export function isCandidate(ring: PeerRing, key: string, count: number, peer: PeerId): boolean {
  return candidates(ring, key, count).includes(peer)
}

/** When most of the ring is wanted, rank every peer by rendezvous weight instead of probing. */
function rendezvousAll(ring: PeerRing, key: string, wanted: number): PeerId[] {
  const keyHash = hash32(key)
  const ranked = ring.peers.map((peer, i) => ({ peer, weight: combine32(keyHash, ring.points[i]!) }))
  ranked.sort((a, b) => b.weight - a.weight || compareStrings(a.peer, b.peer))
  return ranked.slice(0, wanted).map((r) => r.peer)
}

function lowerBound(points: Uint32Array, value: number): number {
  let low = 0
  let high = points.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (points[mid]! < value) low = mid + 1
    else high = mid
  }
  return low
}
