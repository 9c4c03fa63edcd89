// What a report card says: a person's words and a unit for each key of the `--json` output, so the
// report reads "placement p99 · 12.5 ms" rather than "placementMsP99 · 12.5". Keys not listed here
// are shown as they are (a summary may already be written in words).

export interface CardLabel {
  readonly label: string
  /** Shown after the number ("ms", "msg/s"). */
  readonly unit?: string
  /** The value is a share in [0, 1], shown as a percentage. */
  readonly percent?: boolean
  /** What a negative value means ("never", "none measured"). */
  readonly negative?: string
}

export const CARD_LABELS: Readonly<Record<string, CardLabel>> = {
  seed: { label: 'seed' },
  durationMs: { label: 'simulated time', unit: 'ms' },
  faults: { label: 'faults' },
  network: { label: 'network' },
  peers: { label: 'peers' },
  services: { label: 'services' },
  replicas: { label: 'replicas' },
  placementMsP50: { label: 'placement p50', unit: 'ms', negative: 'none measured' },
  placementMsP99: { label: 'placement p99', unit: 'ms', negative: 'none measured' },
  placementsMeasured: { label: 'placements measured' },
  failoverMsP50: { label: 'failover p50', unit: 'ms', negative: 'none measured' },
  failoverMsP99: { label: 'failover p99', unit: 'ms', negative: 'none measured' },
  failoversMeasured: { label: 'failovers measured' },
  convergeMs: { label: 'converged after the faults', unit: 'ms', negative: 'never' },
  duplicateSlotMs: { label: 'time slots ran twice', unit: 'slot·ms' },
  msgsPerPeerPerSec: { label: 'messages per peer', unit: 'msg/s' },
  bytesPerPeerPerSec: { label: 'traffic per peer', unit: 'B/s' },
  cpuUtilisation: { label: 'cpu allocated at the end', percent: true },
  memoryUtilisation: { label: 'memory allocated at the end', percent: true },
  events: { label: 'events simulated' },
  restartStartedTwice: { label: 'slots started twice after a restart' },
  restartMovedBack: { label: 'tasks moved back to a restarted peer' },
  failoverStartedTwice: { label: 'slots started twice in failover' },
  outdatedBesideDesired: { label: 'outdated copies left running' },
  pendingSlots: { label: 'slots pending at the end' },
  neverPlacedSlots: { label: 'slots never placed' },
}

/** A card for an allocation entry: `<resource> allocated, mean` or `… peak`, as a percentage. */
export function allocationCard(resource: string, which: 'mean' | 'peak'): [string, CardLabel] {
  return [`allocation.${resource}.${which}`, { label: `${resource} allocated, ${which}`, percent: true }]
}

/** The label of a summary key, and how to show its value. */
export function cardLabel(key: string): CardLabel {
  const known = CARD_LABELS[key]
  if (known !== undefined) return known
  const allocation = /^allocation\.(.+)\.(mean|peak)$/.exec(key)
  if (allocation !== null) return allocationCard(allocation[1]!, allocation[2] as 'mean' | 'peak')[1]
  return { label: key }
}
