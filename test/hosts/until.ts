// Polling for the host tests: a condition that answers true, or a string saying what it sees instead
// (which becomes the error at the deadline, so a failure says how far things got).

/** Polls `check` every `intervalMs` until it answers true; throws its last answer at the deadline. */
export async function until(what: string, check: () => Promise<true | string>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: true | string = 'not checked'
  for (;;) {
    try {
      last = await check()
    } catch (error) {
      last = (error as Error).message
    }
    if (last === true) return
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${last}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
