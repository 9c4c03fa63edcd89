// A binary max-heap over an explicit "ranks before" comparison. Small and allocation-light: the
// auction pushes one entry per bidder and pops once per slot.

export class Heap<T> {
  private readonly items: T[] = []

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length
  }

  push(item: T): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): T | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]!
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let best = i
        if (left < items.length && this.before(items[left]!, items[best]!)) best = left
        if (right < items.length && this.before(items[right]!, items[best]!)) best = right
        if (best === i) break
        ;[items[i], items[best]] = [items[best]!, items[i]!]
        i = best
      }
    }
    return top
  }
}
