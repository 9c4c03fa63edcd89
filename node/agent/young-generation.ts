// Gives back the young generation V8 grew while the agent started. V8 sizes its new space (two
// semi-spaces, up to 16 MiB each on 64-bit) by how much survives each scavenge; loading the agent's
// ~900 modules makes nearly everything survive, so it grows to the maximum within the first second.
// V8 shrinks it again only at a full collection while allocation is slow, and an idle agent allocates
// too little to trigger full collections: measured, an idle agent kept 21–32 MB committed for a new
// space holding 2 MB, about a quarter of its resident memory.
//
// `--max-semi-space-size` would cap it, but V8 reads that flag only when the process starts
// (v8.setFlagsFromString later changes nothing), so it would take NODE_OPTIONS or a launcher process,
// and a launcher is itself a node process of ~40 MB. Instead, every checkEveryMs, when the new space
// is larger than trimAboveBytes, the agent runs one full collection; V8 then shrinks the new space if
// allocation is slow (the agent is idle) and leaves it as it is if the agent is busy. A collection of
// an idle agent's ~30 MB heap takes tens of milliseconds: at most one per check, and none once the
// new space is small, which is where it stays while the agent is idle.

import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export interface YoungGenerationTrimInit {
  /** How often the size of the new space is looked at. */
  readonly checkEveryMs: number
  /** A new space committed above this is worth a full collection to shrink. */
  readonly trimAboveBytes: number
  /** After collections that did not shrink it, checks skipped before the next try: at most this many. */
  readonly maxBackoffChecks: number
  /** Whether V8 is told to favour memory over speed from now on (see trimYoungGeneration). */
  readonly optimizeForSize: boolean
}

export const YOUNG_GENERATION_DEFAULTS: YoungGenerationTrimInit = {
  checkEveryMs: 15_000,
  // V8 starts the new space at 1 MiB committed. Set to save memory, it still grows to 4–8 MiB in a
  // busy cluster by itself; only beyond that (the 32 MiB start-up leaves) is a full collection worth it.
  trimAboveBytes: 8 * 2 ** 20,
  // 15 s × 32: a busy agent is looked at again after 8 minutes at the latest.
  maxBackoffChecks: 32,
  optimizeForSize: true,
}

/** Bytes committed to the new space now. */
export function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0
}

/**
 * V8's `gc()`, obtained without starting node with --expose-gc: the flag is set only while a fresh
 * context is made (which installs `gc` in that context alone), then cleared again.
 */
function fullCollection(): () => void {
  setFlagsFromString('--expose-gc')
  try {
    return runInNewContext('gc') as () => void
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
}

/** Starts the checks; the returned function stops them. The timer never keeps the process alive. */
export function trimYoungGeneration(init: YoungGenerationTrimInit = YOUNG_GENERATION_DEFAULTS): () => void {
  const collect = fullCollection()
  // V8 shrinks the new space after a collection only when allocation is slow (under 1 KB/ms) or the
  // heap is set to save memory. An idle agent alone allocates far less; one in a cluster ~1 MB/s
  // (every message passes through Yamux, Noise and pnet buffers), so it is set to save memory.
  if (init.optimizeForSize) setFlagsFromString('--optimize-for-size')
  // A collection that leaves the new space large (the agent is busy) is wasted: each one costs tens
  // of milliseconds (hundreds on a loaded host). After one, the next is tried only after twice as
  // many checks, up to maxBackoffChecks; one that works resets the wait.
  let wait = 1
  let skip = 0
  const timer = setInterval(() => {
    if (skip > 0) {
      skip--
      return
    }
    if (newSpaceBytes() <= init.trimAboveBytes) {
      wait = 1
      return
    }
    collect()
    wait = newSpaceBytes() <= init.trimAboveBytes ? 1 : Math.min(wait * 2, init.maxBackoffChecks)
    skip = wait - 1
  }, init.checkEveryMs)
  timer.unref()
  return () => clearInterval(timer)
}
