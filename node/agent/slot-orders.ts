// The machine's start-task and stop-task outputs for one slot must take effect in the order it gave
// them. The agent carries them out asynchronously, and a start passes through more awaits (secret
// files, the driver set) before it reaches the driver than a stop does: a start followed at once by
// a stop of the same slot let the stop reach the driver first, and the driver then waited for that
// stop and launched the task again — a process the machine no longer held, which nothing would ever
// stop (an old-version copy left beside the new one). Each start is issued a ticket and goes ahead
// only while no later output for its slot was issued: the later one decides. Past that check, the
// driver keeps the order: a stop that reaches it while the start waits for the slot's previous task
// cancels that start (node/runtime/task-table.ts).

import type { SlotId } from '../../core/index.js'

export class SlotOrders {
  private readonly latest = new Map<SlotId, number>()
  private issued = 0

  /** Records an output for `slot`, in the machine's order; its ticket. */
  issue(slot: SlotId): number {
    const ticket = ++this.issued
    this.latest.set(slot, ticket)
    return ticket
  }

  /** Whether `ticket` is still the last output issued for `slot`. */
  isLatest(slot: SlotId, ticket: number): boolean {
    return this.latest.get(slot) === ticket
  }

  /**
   * The slot's start was carried out and nothing newer came: its entry can go. A stop's entry stays
   * until the slot's next output (one number per slot this peer ever ran).
   */
  settle(slot: SlotId, ticket: number): void {
    if (this.latest.get(slot) === ticket) this.latest.delete(slot)
  }
}
