// The one timer that wakes the protocol machine at its next deadline (machine.nextWakeAt()).

/** setTimeout's largest delay; a longer one fires at once. */
const MAX_DELAY_MS = 2 ** 31 - 1

/**
 * Node starts a timer's delay from the event loop's cached time, which lags the clock by however long
 * the current turn has run: a timer set for a deadline fired a millisecond before it about one time in
 * ten, the machine had nothing due yet, and the agent woke again a millisecond later.
 */
const MARGIN_MS = 1

/**
 * Wakes once at the latest deadline asked for, through setTimeout then setImmediate: the immediate runs
 * after the poll phase, so messages that arrived while the timer waited (acks, refutations, bids) are
 * taken in before the machine judges its deadlines.
 *
 * Each arming has its own token and a fire whose token is no longer current does nothing. Without it,
 * a deadline moved between the timeout and its immediate (a message taken in between them) let the
 * old immediate fire and armed a second timer that fired again; the fire then forgot the armed timer,
 * so two chains of wake-ups ran from then on (one agent of five idle ones woke its machine 3.9 times a
 * second instead of 2), and every such race added one more.
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined
  private token = 0
  private at = Infinity

  constructor(
    /** The clock the deadlines are on (ms). */
    private readonly clock: () => number,
    private readonly fire: () => void,
  ) {}

  /** The deadline it will fire at (Infinity: none). */
  get deadline(): number {
    return this.at
  }

  /** Fires at `at` (Infinity: never), instead of at any deadline asked for before. */
  set(at: number): void {
    if (at === this.at) return
    this.cancel()
    this.at = at
    if (at !== Infinity) this.arm(this.token)
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.at = Infinity
    this.token++
  }

  private arm(token: number): void {
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, this.at - this.clock()) + MARGIN_MS)
    this.timer = setTimeout(() => setImmediate(() => this.due(token)), delay)
  }

  private due(token: number): void {
    if (token !== this.token) return
    // Still early (a turn longer than the margin): wait for the rest rather than fire before the deadline.
    if (this.clock() < this.at) return this.arm(token)
    this.timer = undefined
    this.at = Infinity
    this.token++
    this.fire()
  }
}
