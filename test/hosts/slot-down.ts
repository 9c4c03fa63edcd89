// How long slots ran nowhere, read from a history's samples, and how long the copy that brought each
// one back took to start by its own agent's account. The observer sees a slot only at its samples,
// so a stretch is known between bounds: it began after the last sample that saw a copy and at or
// before the first that saw none, and ended after the last that saw none and at or before the first
// that saw one again. `shortestMs` (last sample down − first sample down) is what it surely lasted.

import type { AgentEvent } from '../../node/control/index.js'
import type { Sample } from './history.js'

export interface ObservedStretch {
  readonly slot: string
  /** The last sample with a copy, the first and last without, the first with one again (history ms). */
  readonly lastUpMs: number
  readonly firstDownMs: number
  readonly lastDownMs: number
  readonly upAgainMs: number
  /** Hosts of the copies seen at upAgainMs. */
  readonly hosts: readonly string[]
}

/** Between these bounds, the stretch's true length. */
export const shortestMs = (stretch: ObservedStretch): number => stretch.lastDownMs - stretch.firstDownMs
export const longestMs = (stretch: ObservedStretch): number => stretch.upAgainMs - stretch.lastUpMs

/**
 * Every stretch from `fromMs` on in which one of `slots` had run and then ran nowhere until a copy
 * was seen again. A stretch still open at the last sample is returned with upAgainMs Infinity.
 */
export function observedStretches(samples: readonly Sample[], slots: readonly string[], fromMs: number): ObservedStretch[] {
  const stretches: ObservedStretch[] = []
  for (const slot of slots) {
    let lastUp: number | undefined
    let down: { first: number; last: number } | undefined
    for (const sample of samples) {
      if (sample.atMs < fromMs) continue
      const hosts = sample.copies.filter((copy) => copy.slot === slot).map((copy) => copy.host)
      if (hosts.length === 0) {
        if (lastUp !== undefined) down = down === undefined ? { first: sample.atMs, last: sample.atMs } : { ...down, last: sample.atMs }
        continue
      }
      if (down !== undefined && lastUp !== undefined) {
        stretches.push({ slot, lastUpMs: lastUp, firstDownMs: down.first, lastDownMs: down.last, upAgainMs: sample.atMs, hosts })
      }
      down = undefined
      lastUp = sample.atMs
    }
    if (down !== undefined && lastUp !== undefined) {
      stretches.push({ slot, lastUpMs: lastUp, firstDownMs: down.first, lastDownMs: down.last, upAgainMs: Infinity, hosts: [] })
    }
  }
  return stretches.sort((a, b) => a.firstDownMs - b.firstDownMs)
}

/**
 * How long the agent took to start the copy of `slot` that was up by `upByMs` (history ms): from its
 * last `start` event of the slot before then to the `running` report that followed. `startedAtMs`
 * converts the events' wall clock to history ms. Undefined when its events do not show that start.
 */
export function agentStartMs(events: readonly AgentEvent[], slot: string, upByMs: number, historyStartedAtMs: number): number | undefined {
  const at = (event: AgentEvent): number => event.at - historyStartedAtMs
  let start: number | undefined
  for (const event of events) {
    if (event.kind === 'start' && event.slot === slot && at(event) <= upByMs) start = at(event)
  }
  if (start === undefined) return undefined
  const running = events.find((event) => event.kind === 'task' && event.slot === slot && event.state === 'running' && at(event) >= start!)
  return running === undefined ? undefined : at(running) - start
}
