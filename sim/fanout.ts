// One broadcast in flight: a single record of the message and, per recipient, where and when it
// arrives. The runner keeps one queue event per broadcast, which delivers to the next recipient and
// reschedules itself for the one after (DESIGN.md: "keep one event log and give each peer its own
// delivery delay into it"), instead of one queued copy per recipient — at N peers a placement wave
// otherwise holds N queue entries and N event objects for every advert.
//
// Each recipient keeps the sequence number its own push would have taken when the broadcast was
// sent (EventQueue.reserve), so arrivals come out of the queue in exactly the order N separate
// pushes would have given, ties with other events included: a run is the same either way.

import type { EventQueue } from './event-queue.js'

export class Fanout<P> {
  /** The next recipient to deliver to. */
  private next = 0
  private readonly firstSequence: number

  /**
   * `to`, `lives` and `atMs` are parallel: recipient i is peer `to[i]`, in the life it had when the
   * message was sent, reached at `atMs[i]`; arrival times must not decrease.
   */
  constructor(
    queue: EventQueue<unknown>,
    readonly payload: P,
    readonly to: Int32Array,
    readonly lives: Int32Array,
    readonly atMs: Float64Array,
  ) {
    if (to.length !== lives.length || to.length !== atMs.length) throw new RangeError('fanout: recipients, lives and arrival times differ in length')
    for (let i = 1; i < atMs.length; i++) {
      if (!(atMs[i]! >= atMs[i - 1]!)) throw new RangeError(`fanout: arrival ${i} at ${atMs[i]} ms is before arrival ${i - 1} at ${atMs[i - 1]} ms`)
    }
    this.firstSequence = queue.reserve(to.length)
  }

  get size(): number {
    return this.to.length
  }

  /** Schedules the first arrival as `event` (which must carry this fanout); nothing when there are no recipients. */
  start<E>(queue: EventQueue<E>, event: E): void {
    if (this.to.length > 0) queue.pushReserved(this.atMs[0]!, this.firstSequence, event)
  }

  /**
   * Called when `event` comes out of the queue: returns the recipient it arrives at now and
   * schedules the same event for the next recipient, if any.
   */
  advance<E>(queue: EventQueue<E>, event: E): number {
    const i = this.next++
    if (i >= this.to.length) throw new Error('fanout: advanced past its last recipient')
    if (this.next < this.to.length) queue.pushReserved(this.atMs[this.next]!, this.firstSequence + this.next, event)
    return i
  }
}
