// The bucket summary that keeps an anti-entropy exchange between two peers that agree at a fixed
// size, whatever the cluster's size. Peer ids hash into DIGEST_BUCKETS buckets; a bucket's value is
// the XOR of a 64-bit hash of each entry in it — a member record (peer, incarnation, status) or an
// advert's version (peer, incarnation, version). XOR is order-independent and its own inverse, so a
// table keeps its summary current in O(1) per change (toggle the old entry out, the new one in) and
// a digest costs O(buckets) to build, not O(members). Two peers compare the summaries' roots, then
// the summaries, and exchange entries only for the buckets that differ (anti-entropy.ts).
//
// The bucket count, the bucket of a peer and the entry hashes are part of the wire protocol: every
// peer must compute the same values, so changing any of them needs a new PROTOCOL_VERSION.

import { hash32, hash64, hash64Hex } from '../hash.js'
import type { PeerId } from '../placement/ids.js'
import type { MemberStatus } from './messages.js'

/**
 * 64 buckets of 64 bits: a summary is 1,024 hex digits. At 1,000 peers a differing bucket holds
 * about 16 members and their adverts; a difference hides from the summary only if the XORs of two
 * different sets of entries collide, about 2^-64 per differing bucket.
 */
export const DIGEST_BUCKETS = 64
/** Hex digits of one bucket's value. */
const BUCKET_HEX = 16
/** Length of an encoded summary. */
export const SUMMARY_LENGTH = DIGEST_BUCKETS * BUCKET_HEX

/** A fixed seed keeps the bucket of a peer apart from its other hashes (probe order, rings). */
const BUCKET_SEED = 0x5eed

/** The bucket a peer's entries fall in. */
export function bucketOf(peer: PeerId): number {
  return hash32(peer, BUCKET_SEED) % DIGEST_BUCKETS
}

/** An entry's 64-bit hash, [high, low]. Members and adverts are kept apart by a prefix, so neither can cancel the other. */
export function memberEntryHash(peer: PeerId, incarnation: number, status: MemberStatus): [number, number] {
  return hash64(`m ${peer} ${incarnation} ${status}`)
}

export function advertEntryHash(peer: PeerId, incarnation: number, version: number): [number, number] {
  return hash64(`a ${peer} ${incarnation} ${version}`)
}

/** One table's summary, maintained incrementally: toggle each entry in when it appears and out when it goes or changes. */
export class BucketSummary {
  /** [high, low] of bucket i at 2i and 2i + 1. */
  private readonly lanes = new Uint32Array(2 * DIGEST_BUCKETS)

  toggle(peer: PeerId, [high, low]: readonly [number, number]): void {
    const at = 2 * bucketOf(peer)
    this.lanes[at] = (this.lanes[at]! ^ high) >>> 0
    this.lanes[at + 1] = (this.lanes[at + 1]! ^ low) >>> 0
  }

  /** The two lanes of a bucket. */
  bucket(index: number): readonly [number, number] {
    return [this.lanes[2 * index]!, this.lanes[2 * index + 1]!]
  }
}

/** Encodes the bucket-wise XOR of summaries (a peer's members and its adverts) as SUMMARY_LENGTH lowercase hex digits. */
export function encodeSummary(...parts: readonly BucketSummary[]): string {
  let text = ''
  for (let i = 0; i < DIGEST_BUCKETS; i++) {
    let high = 0
    let low = 0
    for (const part of parts) {
      const [h, l] = part.bucket(i)
      high ^= h
      low ^= l
    }
    text += (high >>> 0).toString(16).padStart(8, '0') + (low >>> 0).toString(16).padStart(8, '0')
  }
  return text
}

/** Hex digits of a summary's root. */
export const ROOT_LENGTH = 16

/**
 * A 64-bit hash of a whole encoded summary: what an exchange opens with. Equal roots mean equal
 * summaries (but for a 2^-64 collision), so two peers that agree exchange 16 digits, not 1,024.
 */
export function summaryRoot(summary: string): string {
  return hash64Hex(summary)
}

/** The buckets whose values differ between two encoded summaries (both valid: the codec checks their shape). */
export function differingBuckets(ours: string, theirs: string): number[] {
  const out: number[] = []
  for (let i = 0; i < DIGEST_BUCKETS; i++) {
    const start = i * BUCKET_HEX
    if (ours.slice(start, start + BUCKET_HEX) !== theirs.slice(start, start + BUCKET_HEX)) out.push(i)
  }
  return out
}
