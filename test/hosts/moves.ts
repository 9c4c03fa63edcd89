// Moves: a slot that ran once on one host and later ran once on another. A move is the cluster's
// answer to a fault (a crashed host's slots go elsewhere) or to a write (a rolling update may place
// a slot anew); a move between two hosts that no fault touched, with no write nearby, is spurious:
// work stopped and started again for nothing — what a false death verdict or a disagreeing auction
// looks like from outside.

import { touched } from './excuses.js'
import type { History } from './history.js'

/** How long after a fault or a write has ended a move is still put down to it. */
export const MOVE_SETTLE_MS = 10_000

export interface Move {
  readonly slot: string
  readonly from: string
  readonly to: string
  /** When the slot was last seen once on `from`. */
  readonly leftMs: number
  /** When it was first seen once on `to`. */
  readonly arrivedMs: number
  readonly spurious: boolean
}

export function slotMoves(history: History, settleMs = MOVE_SETTLE_MS): Move[] {
  const writes = [...history.desired.slice(1).map((entry) => entry.fromMs), ...(history.operations ?? []).map((operation) => operation.fromMs)]
  const home = new Map<string, { host: string; lastMs: number }>()
  const moves: Move[] = []
  for (const sample of history.samples) {
    const bySlot = new Map<string, string[]>()
    for (const copy of sample.copies) bySlot.set(copy.slot, [...(bySlot.get(copy.slot) ?? []), copy.host])
    for (const [slot, hosts] of bySlot) {
      if (hosts.length !== 1) continue
      const host = hosts[0]!
      const was = home.get(slot)
      if (was !== undefined && was.host !== host) {
        const fromMs = was.lastMs - settleMs
        const explained = touched(history.faults, was.host, fromMs, sample.atMs) || touched(history.faults, host, fromMs, sample.atMs) || writes.some((atMs) => atMs >= fromMs && atMs <= sample.atMs)
        moves.push({ slot, from: was.host, to: host, leftMs: was.lastMs, arrivedMs: sample.atMs, spurious: !explained })
      }
      home.set(slot, { host, lastMs: sample.atMs })
    }
  }
  return moves
}
