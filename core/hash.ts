// Deterministic, dependency-free hashing. Every peer must compute the same value for the same input,
// on any platform, so these use only 32-bit integer arithmetic (Math.imul) over UTF-16 code units.
// They are not cryptographic: peers are authenticated by the private-network key, and these values
// only spread load and break ties.

/** murmur3's finaliser: full avalanche of a 32-bit value. */
export function mix32(value: number): number {
  let h = value | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** 32-bit hash of a string (FNV-1a over code units, then avalanched). */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return mix32(h)
}

/** Combines two 32-bit hashes into one, order-sensitive (combine(a,b) != combine(b,a)). */
export function combine32(a: number, b: number): number {
  return mix32(Math.imul(a ^ 0x9e3779b9, 0x7feb352d) + b)
}

/**
 * 64-bit hash of a string as two 32-bit lanes [high, low] (cyrb53-style): for values compared or
 * combined as numbers, such as the anti-entropy bucket summaries (bucket-digest.ts).
 */
export function hash64(text: string): [number, number] {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return [h2 >>> 0, h1 >>> 0]
}

/**
 * 64-bit digest as 16 hex digits (hash64's two lanes). Used for spec versions, where a 32-bit value
 * would collide once a cluster had seen tens of thousands of versions.
 */
export function hash64Hex(text: string): string {
  const [high, low] = hash64(text)
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0')
}

/**
 * Canonical JSON: object keys sorted, no whitespace. Two peers that hold equal values produce equal
 * text, whatever order the keys arrived in (Automerge materialises keys in differing orders).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number')
    return JSON.stringify(value) ?? 'null'
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort()
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`
}
