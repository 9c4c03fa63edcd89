// Counters fed from cumulative counts kept elsewhere (the transport's, gossip's, the forwarder's, the
// DNS server's): each count's last value is remembered, and only what it grew by since is added, so
// a scrape adds nothing twice and a counter never goes back, even when a count is read lower.

/** A prom-client counter, as far as adding to it goes. */
export interface Incrementable<L extends string> {
  inc(labels: Partial<Record<L, string>>, value: number): void
}

/**
 * Brings `counter`'s series `labels` up by what the cumulative count `total` grew since last read.
 * `key` names the count when several add to one series (each endpoint's connections to its
 * service's); by default the labels do.
 */
export type AddUp = <L extends string>(counter: Incrementable<L>, labels: Partial<Record<L, string>>, total: number, key?: string) => void

export class CumulativeCounts {
  readonly #added = new Map<string, number>()

  readonly addUp: AddUp = (counter, labels, total, key) => {
    const id = `${(counter as unknown as { name: string }).name} ${key ?? JSON.stringify(labels)}`
    const delta = total - (this.#added.get(id) ?? 0)
    if (delta <= 0) return
    this.#added.set(id, total)
    counter.inc(labels, delta)
  }
}
