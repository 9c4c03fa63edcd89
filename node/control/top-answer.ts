// The answer of `GET /v1/top` (`peer top --json`): what each peer and each service really uses,
// beside what its tasks requested. "Used" is measured by each peer for its own tasks (CPU over the
// last interval, resident memory) and carried in its advert, so any agent can answer for the whole
// cluster; null where nothing of it has been measured yet (a new task, a peer that does not measure).

/** CPU in millicores (1000 = one core), memory in MiB. */
export interface TopAmount {
  readonly cpuMilli: number
  readonly memoryMiB: number
}

export interface TopPeerRow {
  readonly peer: string
  /** The agent asked. */
  readonly self: boolean
  /** For placement: alive, suspect, dead, draining or cordoned. */
  readonly state: string
  readonly capacity: TopAmount
  /** What its active tasks reserved. */
  readonly requested: TopAmount
  /** What its measured tasks use; null when none is measured. */
  readonly used: TopAmount | null
  readonly tasks: number
  /** Tasks with a measurement (the others are not in `used`). */
  readonly measured: number
}

export interface TopServiceRow {
  readonly service: string
  readonly tasks: number
  readonly requested: TopAmount
  readonly used: TopAmount | null
  readonly measured: number
}

export interface TopAnswer {
  /** The agent asked. */
  readonly peer: string
  readonly peers: readonly TopPeerRow[]
  readonly services: readonly TopServiceRow[]
}
