// The discrete-event queue: every future happening of a run (a message arriving, a timer firing, a
// fault starting) waits here, ordered by simulated time.
//
// Events at the same time come out in the order they were pushed (FIFO by an insertion counter), so a
// run never depends on how a heap happens to break ties, and the same seed gives the same run.
//
// A 4-ary min-heap: each entry's time and sequence number sit side by side in one growable
// Float64Array (one cache line holds both, and a node's four children are adjacent), and payloads sit
// in a plain array. Four children per node halve the depth of a binary heap, which matters once a
// million events are pending and every level is a cache miss. Sifting moves a "hole" instead of
// swapping. Runs push tens of millions of events; no object is allocated per push.
//
// A batch of events decided together (one broadcast's arrivals at every recipient) can take its
// place in that order without all being in the heap at once: `reserve(n)` hands out the n sequence
// numbers n pushes would have taken now, and `pushReserved` schedules each one later with its own.
// The batch then comes out exactly where its n separate pushes would have, ties included, while the
// heap holds one entry for it at a time.

export interface ScheduledEvent<E> {
  readonly timeMs: number
  readonly event: E
}

const INITIAL_CAPACITY = 1024
/** Children per heap node. */
const ARITY = 4

export class EventQueue<E> {
  // keys[2i] is entry i's time, keys[2i + 1] its sequence number. Sequence numbers are doubles, not
  // 32-bit integers: a long run may push more than 2^32 events, and doubles count exactly to 2^53.
  private keys = new Float64Array(2 * INITIAL_CAPACITY)
  private events: (E | undefined)[] = []
  private length = 0
  private pushed = 0
  private lastPoppedTimeMs = -Infinity

  get size(): number {
    return this.length
  }

  /** Events pushed (or sequence numbers reserved) over the queue's life: a cheap measure of how much a run did. */
  get totalPushed(): number {
    return this.pushed
  }

  /** Time of the most recently popped event: the simulation's "now" when the caller uses it as a clock. */
  get nowMs(): number {
    return this.lastPoppedTimeMs === -Infinity ? 0 : this.lastPoppedTimeMs
  }

  /**
   * Schedules `event` at `timeMs`. Scheduling before the last popped event would let an effect
   * precede its cause, which is always a bug in the caller, so it throws.
   */
  push(timeMs: number, event: E): void {
    this.checkTime(timeMs)
    this.insert(timeMs, this.pushed++, event)
  }

  /**
   * Takes the sequence numbers of `count` pushes made now, without pushing anything, and returns the
   * first; the batch's events are then scheduled with pushReserved, each with its own number.
   */
  reserve(count: number): number {
    if (!(Number.isInteger(count) && count >= 0)) throw new RangeError(`cannot reserve ${count} sequence numbers`)
    const first = this.pushed
    this.pushed += count
    return first
  }

  /**
   * Schedules `event` at `timeMs` in the place of the reserved push numbered `sequence`: among
   * events at the same time it comes out where that push would have.
   */
  pushReserved(timeMs: number, sequence: number, event: E): void {
    this.checkTime(timeMs)
    if (!(Number.isInteger(sequence) && sequence >= 0 && sequence < this.pushed)) {
      throw new RangeError(`sequence ${sequence} was not reserved (${this.pushed} handed out so far)`)
    }
    this.insert(timeMs, sequence, event)
  }

  /** Sifts a new entry up from the end: it moves above every entry that comes out after it. */
  private insert(timeMs: number, sequence: number, event: E): void {
    if (2 * this.length === this.keys.length) this.grow()
    const keys = this.keys
    const events = this.events
    let hole = this.length++
    while (hole > 0) {
      const parent = ((hole - 1) / ARITY) | 0
      const parentTime = keys[2 * parent]!
      // A plain push has the largest sequence number so far, so for it equal times never move up.
      if (parentTime < timeMs || (parentTime === timeMs && keys[2 * parent + 1]! < sequence)) break
      keys[2 * hole] = parentTime
      keys[2 * hole + 1] = keys[2 * parent + 1]!
      events[hole] = events[parent]
      hole = parent
    }
    keys[2 * hole] = timeMs
    keys[2 * hole + 1] = sequence
    events[hole] = event
  }

  /** Removes and returns the earliest event (FIFO among equal times), or undefined when empty. */
  pop(): ScheduledEvent<E> | undefined {
    if (this.length === 0) return undefined
    const timeMs = this.keys[0]!
    const event = this.removeTop()
    return { timeMs, event }
  }

  /**
   * Like pop, without allocating a result: returns the event, and its time is then `nowMs`.
   * For the runner's hot loop. Returns undefined when empty (so events themselves must not be undefined).
   */
  popEvent(): E | undefined {
    if (this.length === 0) return undefined
    return this.removeTop()
  }

  /** Time of the earliest event, or undefined when empty. */
  peekTime(): number | undefined {
    return this.length === 0 ? undefined : this.keys[0]
  }

  /** Drops every pending event (the clock stays where it is). */
  clear(): void {
    this.events = []
    this.length = 0
  }

  private removeTop(): E {
    const keys = this.keys
    const events = this.events
    const top = events[0] as E
    this.lastPoppedTimeMs = keys[0]!
    const last = --this.length
    if (last === 0) {
      events[0] = undefined
      return top
    }
    // Sift the former last entry down from the root, each step to the earliest of up to four children.
    const time = keys[2 * last]!
    const sequence = keys[2 * last + 1]!
    const event = events[last]
    events[last] = undefined
    let hole = 0
    for (;;) {
      const first = ARITY * hole + 1
      if (first >= last) break
      const end = first + ARITY < last ? first + ARITY : last
      let child = first
      let childTime = keys[2 * first]!
      let childSequence = keys[2 * first + 1]!
      for (let c = first + 1; c < end; c++) {
        const t = keys[2 * c]!
        if (t < childTime || (t === childTime && keys[2 * c + 1]! < childSequence)) {
          child = c
          childTime = t
          childSequence = keys[2 * c + 1]!
        }
      }
      if (childTime > time || (childTime === time && childSequence > sequence)) break
      keys[2 * hole] = childTime
      keys[2 * hole + 1] = childSequence
      events[hole] = events[child]
      hole = child
    }
    keys[2 * hole] = time
    keys[2 * hole + 1] = sequence
    events[hole] = event
    return top
  }

  /** Scheduling before the last popped event would let an effect precede its cause: always a bug in the caller. */
  private checkTime(timeMs: number): void {
    if (!(timeMs >= this.lastPoppedTimeMs) || timeMs === Infinity) {
      throw new RangeError(`cannot schedule at ${timeMs} ms: the queue has already reached ${this.lastPoppedTimeMs} ms`)
    }
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2)
    keys.set(this.keys)
    this.keys = keys
  }
}
