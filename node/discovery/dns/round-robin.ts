// Per-name rotation for SRV answers: each query for a name starts one record further on, so
// clients that take the first record spread over the endpoints.

/**
 * Names are forgotten all at once beyond this many (the rotation then restarts at the first record,
 * which is harmless): removed services and ports would otherwise stay counted for the agent's life.
 */
const MAX_NAMES = 4096

export class RoundRobin {
  readonly #next = new Map<string, number>()

  /** Where the next answer for `key` starts among `length` records (length ≥ 1). */
  next(key: string, length: number): number {
    const turn = this.#next.get(key) ?? 0
    if (!this.#next.has(key) && this.#next.size >= MAX_NAMES) this.#next.clear()
    this.#next.set(key, turn + 1)
    return turn % length
  }
}
