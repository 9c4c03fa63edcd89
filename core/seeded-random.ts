// A seeded, portable random stream: the simulator derives every random choice of a run from one seed,
// so a failing run is reproduced by its seed alone; the agent seeds one from the operating system.
//
// Generator: xoshiro128** (Blackman and Vigna), 128 bits of state, 32-bit output, all in Math.imul
// and shifts so every platform produces the same numbers. Its state is filled by splitmix32 from a
// 128-bit *key*; the key is what identifies a stream.
//
// `fork(label)` derives a child key from (parent key, label) without drawing from the parent, so a
// component that takes its own fork never shifts the numbers any other component sees. Adding a new
// consumer, or reordering when components are built, leaves existing runs unchanged. Forking twice
// with the same label yields the same stream: labels name consumers, so give each its own.

import { hash32, mix32 } from './hash.js'
import type { Random } from './random.js'

/** The core's Random (what the protocol machine takes), with the extras a simulation wants. */
export interface SeededRandom extends Random {
  /** Uniform in [0, 1), with 32 bits of resolution. */
  next(): number
  /** Uniform 32-bit unsigned integer. */
  uint32(): number
  /** Uniform integer in [0, maxExclusive); maxExclusive must be a positive safe integer. */
  int(maxExclusive: number): number
  /** A uniformly chosen element; the list must not be empty. */
  pick<T>(items: readonly T[]): T
  /** True with probability p (p <= 0 never, p >= 1 always, without drawing). */
  chance(p: number): boolean
  /** An independent stream named by `label`, derived without consuming this stream. */
  fork(label: string): SeededRandom
  /** The stream's identity, for debugging: the seed followed by the fork labels. */
  readonly path: string
}

const TWO_POW_32 = 4294967296

/** A stream from a seed: a number (its integer part and sign are used) or any string. */
export function seededRandom(seed: number | string): SeededRandom {
  return new Xoshiro128(keyOfSeed(seed), String(seed))
}

/** The 128-bit key of a seed. Numbers and their decimal strings give different keys on purpose. */
function keyOfSeed(seed: number | string): Uint32Array {
  if (typeof seed === 'number') {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be finite, got ${seed}`)
    const whole = Math.trunc(Math.abs(seed))
    const low = whole % TWO_POW_32
    const high = Math.floor(whole / TWO_POW_32) % TWO_POW_32
    const sign = seed < 0 ? 1 : 0
    return Uint32Array.of(mix32(low ^ 0x6a09e667), mix32(high ^ 0xbb67ae85), mix32(sign ^ 0x3c6ef372), 0xa54ff53a)
  }
  return Uint32Array.of(hash32(seed, 1), hash32(seed, 2), hash32(seed, 3), hash32(seed, 4))
}

/** splitmix32: turns any 32-bit value into a well-mixed one; used to fill generator state. */
function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0
  let z = next
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return { state: next, value: (z ^ (z >>> 16)) >>> 0 }
}

class Xoshiro128 implements SeededRandom {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor(private readonly key: Uint32Array, readonly path: string) {
    // Each state word comes from splitmix32 over one key word plus the previous output, so no key
    // (not even all zeros) can produce the all-zero state xoshiro must avoid in practice.
    let carry = 0
    const words: number[] = []
    for (let i = 0; i < 4; i++) {
      const step = splitmix32((key[i]! ^ carry) >>> 0)
      carry = step.value
      words.push(step.value)
    }
    this.s0 = words[0]!
    this.s1 = words[1]!
    this.s2 = words[2]!
    this.s3 = words[3]!
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  next(): number {
    return this.uint32() / TWO_POW_32
  }

  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
      throw new RangeError(`int(maxExclusive) needs a positive safe integer, got ${maxExclusive}`)
    }
    if (maxExclusive <= TWO_POW_32) {
      // Rejection sampling keeps every value exactly equally likely.
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive)
      for (;;) {
        const value = this.uint32()
        if (value < limit) return value % maxExclusive
      }
    }
    // Above 2^32: 53 random bits, then scale; the bias is below 2^-20 and irrelevant for simulation.
    const high = this.uint32() >>> 11
    const low = this.uint32()
    return Math.floor(((high * TWO_POW_32 + low) / 2 ** 53) * maxExclusive)
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list')
    return items[this.int(items.length)]!
  }

  chance(p: number): boolean {
    if (p <= 0) return false
    if (p >= 1) return true
    return this.next() < p
  }

  fork(label: string): SeededRandom {
    const child = new Uint32Array(4)
    for (let i = 0; i < 4; i++) child[i] = mix32((this.key[i]! ^ hash32(label, 0x51ed270b + i)) + Math.imul(i + 1, 0x9e3779b9))
    return new Xoshiro128(child, `${this.path}/${label}`)
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
