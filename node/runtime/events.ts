// Event delivery shared by the drivers: in order, asynchronously (never inside a driver method's
// call stack), and never after close. Drivers await `delivered()` where the contract promises that
// an event has reached the listeners before a method resolves.

import type { TaskEvent, TaskListener } from './driver.js'

export class EventHub {
  private readonly listeners = new Set<TaskListener>()
  private queue: TaskEvent[] = []
  private scheduled = false
  private closed = false
  private waiting: Array<() => void> = []

  on(listener: TaskListener): () => void {
    if (!this.closed) this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  emit(event: TaskEvent): void {
    if (this.closed) return
    this.queue.push(event)
    this.schedule()
  }

  /** Resolves once every event emitted so far has been handed to the listeners (or dropped by close). */
  delivered(): Promise<void> {
    if (this.queue.length === 0 && !this.scheduled) return Promise.resolve()
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /** From now on nothing reaches a listener, including events already queued. */
  close(): void {
    this.closed = true
    this.queue = []
    this.listeners.clear()
    this.release()
  }

  get isClosed(): boolean {
    return this.closed
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => this.flush())
  }

  private flush(): void {
    this.scheduled = false
    // A listener may emit (through a driver call that emits synchronously): those events join the
    // queue and go out in this same flush, after the ones already waiting.
    while (this.queue.length > 0 && !this.closed) {
      const event = this.queue.shift()!
      for (const listener of [...this.listeners]) {
        try {
          listener(event)
        } catch (error) {
          // A throwing listener is a bug; do not let it starve the other listeners or the queue.
          queueMicrotask(() => {
            throw error
          })
        }
      }
    }
    this.release()
  }

  private release(): void {
    const waiting = this.waiting
    this.waiting = []
    for (const resolve of waiting) resolve()
  }
}
