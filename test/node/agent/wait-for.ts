// Waiting on real agents: what the multi-process tests share.

/**
 * Polls `probe` until it returns a value or `timeoutMs` passes. The probe may call `note` to say what
 * it saw (the last note is in the timeout error); a probe that throws is retried, its error noted.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: (note: (seen: string) => void) => Promise<T | undefined> | T | undefined, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last = 'nothing yet'
  const note = (seen: string): void => void (last = seen)
  for (;;) {
    try {
      const value = await probe(note)
      if (value !== undefined) return value
    } catch (error) {
      last = `error: ${error instanceof Error ? error.message : String(error)}`
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen: ${last}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
