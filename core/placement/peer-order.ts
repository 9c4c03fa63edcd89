// A view's peers in id order, as the planner walks them. Sorting 100k ids costs a planning pass
// about 1.7M string comparisons; a planner run again and again over one view (the simulator's
// capacity tools, the benchmark, `peer plan` in a loop) sorted the same list each time. The order is
// remembered for the last list, checked by comparing its N references, as ringOf remembers a ring.

import { compareStrings } from './ids.js'
import type { PeerView } from './view.js'
import { sameElements } from './same-elements.js'

let remembered: { readonly peers: readonly PeerView[]; readonly sorted: readonly PeerView[] } | undefined

/**
 * `peers` sorted by id (stable: peers of one id keep their order). The array returned may be the
 * one returned before for the same list: callers must not write to it.
 */
export function peersInIdOrder(peers: readonly PeerView[]): readonly PeerView[] {
  const last = remembered
  if (last !== undefined && sameElements(last.peers, peers)) return last.sorted
  const sorted = [...peers].sort((a, b) => compareStrings(a.id, b.id))
  remembered = { peers: [...peers], sorted }
  return sorted
}

