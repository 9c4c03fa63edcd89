// When to try something again after it failed, per key (a peer): after `firstMs`, doubling with each
// failure in a row up to `mostMs`; a success forgets the failures. Used where a link upgrade is tried
// beside a working one (site-mate-links.ts, hole-punch.ts): a failure costs nothing but the chance,
// and a network that never allows it should be asked less and less often.

export class RetryBackoff {
  private readonly failures = new Map<string, { count: number; nextAt: number }>()

  constructor(
    private readonly firstMs: number,
    private readonly mostMs: number,
  ) {}

  /** Whether `key` may be tried at `now` (never failed, or its wait is over). */
  due(key: string, now: number): boolean {
    return (this.failures.get(key)?.nextAt ?? 0) <= now
  }

  /** `key` failed at `now`: its failures in a row so far, and the wait before it is due again. */
  failed(key: string, now: number): { count: number; waitMs: number } {
    const count = (this.failures.get(key)?.count ?? 0) + 1
    const waitMs = Math.min(this.mostMs, this.firstMs * 2 ** (count - 1))
    this.failures.set(key, { count, nextAt: now + waitMs })
    return { count, waitMs }
  }

  /** `key` succeeded: the failures in a row before it, now forgotten. */
  succeeded(key: string): number {
    const count = this.failures.get(key)?.count ?? 0
    this.failures.delete(key)
    return count
  }
}
