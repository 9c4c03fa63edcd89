// A progress line for long `peer sim` runs, on stderr and only on a terminal: how far the run is
// (simulated time, or arrivals placed), how fast, and when it will end. It stays quiet for the first
// seconds (short runs print nothing), when stderr is not a TTY (a pipe, a CI log) and with --json,
// and it never touches stdout, so the reproducible output is the same with or without it.

export interface ProgressLine {
  /** `fraction` of the work done (undefined when the end is unknown) and what to say about it. */
  update(fraction: number | undefined, text: string): void
  /** Clears the line. */
  done(): void
}

export interface ProgressInit {
  readonly enabled: boolean
  readonly write?: (text: string) => void
  readonly nowMs?: () => number
  /** Nothing shows before this much wall time (default 2 s). */
  readonly quietForMs?: number
  /** At most one redraw per this much wall time (default 250 ms). */
  readonly everyMs?: number
}

export function progressLine(init: ProgressInit): ProgressLine {
  if (!init.enabled) return { update: () => {}, done: () => {} }
  const write = init.write ?? ((text: string) => process.stderr.write(text))
  const now = init.nowMs ?? (() => performance.now())
  const started = now()
  let lastDrawn = -Infinity
  let shown = false
  return {
    update(fraction, text) {
      const at = now()
      if (at - started < (init.quietForMs ?? 2_000) || at - lastDrawn < (init.everyMs ?? 250)) return
      lastDrawn = at
      shown = true
      write(`\r\x1b[K${progressText(fraction, text, at - started)}`)
    },
    done() {
      if (shown) write('\r\x1b[K')
    },
  }
}

/** The line's text: what is done, then the time left when the fraction is known. */
export function progressText(fraction: number | undefined, text: string, elapsedMs: number): string {
  if (fraction === undefined || fraction <= 0) return text
  const leftMs = (elapsedMs * (1 - fraction)) / fraction
  return `${text} · ${Math.floor(fraction * 100)}% · ETA ${formatEta(leftMs)}`
}

function formatEta(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  return minutes < 60 ? `${minutes}m${String(seconds % 60).padStart(2, '0')}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`
}

/** Events per second of wall time, rounded for reading. */
export function perSecond(count: number, elapsedMs: number): string {
  const rate = elapsedMs <= 0 ? 0 : (count * 1000) / elapsedMs
  return rate >= 1000 ? `${Math.round(rate / 1000)}k` : String(Math.round(rate))
}
