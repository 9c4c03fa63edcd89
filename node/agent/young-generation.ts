// Gives back the young generation V8 grew while the agent started, and keeps V8 frugal while the
// agent is idle. V8 sizes its new space (two semi-spaces, up to 16 MiB each on 64-bit) by how much
// survives each scavenge; loading the agent's ~900 modules makes nearly everything survive, so it grows
// to the maximum within the first second. V8 shrinks it again only at a full collection while
// allocation is slow or while it is set to save memory, and an idle agent allocates too little to
// trigger full collections: measured, an idle agent kept 21–32 MB committed for a new space holding
// 2 MB, about a quarter of its resident memory.
//
// `--max-semi-space-size` would cap it, but V8 reads that flag only when the process starts
// (v8.setFlagsFromString later changes nothing), so it would take NODE_OPTIONS or a launcher process,
// and a launcher is itself a node process of ~40 MB. Instead the agent looks every checkEveryMs:
//
// - idle (it used less than idleCpuFraction of a core since the last look, and its event loop was busy
//   less than that share of the time — on a host starved of CPU a busy agent gets little CPU time,
//   but its loop still runs rather than waits): V8 is set to favour memory
//   (`--optimize-for-size`, read by V8 at each collection), and a new space larger than trimAboveBytes
//   gets one full collection, which shrinks it. In a cluster an idle agent still allocates ~1 MB/s
//   (every message passes through Yamux, Noise and pnet buffers), above V8's "slow", so without the
//   setting the collection would not shrink it.
// - busy: V8 is set back to favour speed. Favouring memory throughout cut peak memory under
//   bench/agent-load by a third (238–350 MB per agent against 406–535 MB) with more, smaller
//   collections; what that costs in speed could not be told apart from the shared host's noise (its
//   phase times varied 1.5–2× between runs of one build), so it is kept to idle agents until it can.
//
// A collection that leaves the new space large is wasted (tens of milliseconds, hundreds on a loaded
// host): after one, the next is tried only after twice as many looks, up to maxBackoffChecks.

import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export interface YoungGenerationTrimInit {
  /** How often the agent's CPU and the size of the new space are looked at. */
  readonly checkEveryMs: number
  /** Below this share of one core since the last look, and of the event loop's time, the agent counts as idle. */
  readonly idleCpuFraction: number
  /** A new space committed above this is worth a full collection to shrink. */
  readonly trimAboveBytes: number
  /** After collections that did not shrink it, looks skipped before the next try: at most this many. */
  readonly maxBackoffChecks: number
}

export const YOUNG_GENERATION_DEFAULTS: YoungGenerationTrimInit = {
  checkEveryMs: 15_000,
  // An idle agent alone uses 0.1 % of a core, one in a cluster of five 2–3 %; placing work, tens of %.
  idleCpuFraction: 0.1,
  // V8 starts the new space at 1 MiB committed. Set to save memory, it still grows to 4–8 MiB in an
  // idle cluster by itself; only beyond that (the 32 MiB start-up leaves) is a full collection worth it.
  trimAboveBytes: 8 * 2 ** 20,
  // 15 s × 32: an agent whose new space would not shrink is looked at again after 8 minutes at the latest.
  maxBackoffChecks: 32,
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

/** CPU seconds this process has used so far (user + system). */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

/** Starts the looks; the returned function stops them and leaves V8 favouring speed. The timer never keeps the process alive. */
export function trimYoungGeneration(init: YoungGenerationTrimInit = YOUNG_GENERATION_DEFAULTS): () => void {
  const collect = fullCollection()
  let frugal = false
  const setFrugal = (wanted: boolean): void => {
    if (wanted === frugal) return
    setFlagsFromString(wanted ? '--optimize-for-size' : '--no-optimize-for-size')
    frugal = wanted
  }
  let wait = 1
  let skip = 0
  let lastCpu = cpuSeconds()
  let lastAt = performance.now()
  let lastLoop: EventLoopUtilization = performance.eventLoopUtilization()
  const timer = setInterval(() => {
    const cpu = cpuSeconds()
    const now = performance.now()
    const loop = performance.eventLoopUtilization(lastLoop)
    const idle = (cpu - lastCpu) / ((now - lastAt) / 1000) < init.idleCpuFraction && loop.utilization < init.idleCpuFraction
    lastCpu = cpu
    lastAt = now
    lastLoop = performance.eventLoopUtilization()
    setFrugal(idle)
    if (!idle) return
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
    // The collection's own CPU and time are not the agent's work.
    lastCpu = cpuSeconds()
    lastAt = performance.now()
    lastLoop = performance.eventLoopUtilization()
  }, init.checkEveryMs)
  timer.unref()
  return () => {
    clearInterval(timer)
    setFrugal(false)
  }
}
