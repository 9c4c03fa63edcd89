// The bounds every spec field is held to, in one place: how many of each thing, how long each kind of
// string, what each number and duration may be, and the rules for keys. Validation (validate.ts,
// constraints.ts) enforces them; docs/spec.md lists them; the written-form property test generates
// specs across exactly these ranges.

/** Limits that keep one document from asking for absurd amounts of work. */
export const SPEC_LIMITS = {
  maxServices: 10_000,
  maxReplicas: 1_000_000,
  maxConstraints: 64,
  /** Values of one `in` / `notin` constraint. */
  maxConstraintValues: 64,
  maxPorts: 64,
  /** Entries of env, and of labels. */
  maxEnvEntries: 1024,
  /** Arguments of a command, and of a healthcheck command. */
  maxCommandArgs: 1024,
  /** Extended resource kinds (gpu, fpga, …) per service: what a peer's advert may carry for one task. */
  maxExtendedResources: 64,
  /** Env names, label keys, spreadBy and constraint labels. */
  maxKeyLength: 253,
  maxImageLength: 1024,
  /** A constraint's value or pattern: a peer's label values are at most 256 characters, so a longer one never matches. */
  maxConstraintValueLength: 256,
  /** Every other string: env values, label values, command arguments. */
  maxStringLength: 64 * 1024,
  /**
   * Failed probes before a task counts as unhealthy. Slow starters ask for many (ragflow's compose
   * file gives Elasticsearch 120 × 10 s); a thousand at the shortest interval is still minutes.
   */
  maxHealthcheckRetries: 1000,
  /** Mounts of one container. */
  maxMounts: 64,
  /** Entries of capAdd, and of capDrop: there are about 40 capabilities. */
  maxCapabilities: 64,
  /** A path (workdir, a mount's source or target, a secret's target): Linux's PATH_MAX. */
  maxPathLength: 4096,
  /** `user`: a user and a group name (Linux allows 32 characters each) or ids, with room to spare. */
  maxUserLength: 256,
} as const

/**
 * Most resources one task may ask for. Cpu follows the cores form's typo guard (units.ts: more cores
 * than any host has); memory and extended counts are far beyond any host. At these bounds the sum over
 * the most replicas a service may have (SPEC_LIMITS.maxReplicas) is still an exact integer.
 */
export const RESOURCE_LIMITS = {
  maxCpuMilli: 1024 * 1000,
  /** 1 PiB. */
  maxMemoryMiB: 1024 * 1024 * 1024,
  maxExtended: 1_000_000,
} as const

export interface DurationRange {
  readonly minMs: number
  readonly maxMs: number
}

const HOUR_MS = 60 * 60 * 1000
const DAY_MS = 24 * HOUR_MS

/**
 * The range of every duration in a spec, by the name a user writes it under. Nothing waits longer
 * than a day. The minimums keep timers from firing in a storm: a healthcheck every 10 ms at most, a
 * crashing task restarted at most every 10 ms, and an update deadline no task could ever meet is
 * refused rather than failing (and rolling back) every wave. A stop waits at most an hour for a task
 * to shut down: longer would hold a drain or an update that long per task. `service` holds the
 * durations written at the service's top level.
 */
export const DURATION_RANGES = {
  service: {
    stopGrace: { minMs: 0, maxMs: HOUR_MS },
  },
  healthcheck: {
    interval: { minMs: 10, maxMs: DAY_MS },
    timeout: { minMs: 1, maxMs: DAY_MS },
    startPeriod: { minMs: 0, maxMs: DAY_MS },
  },
  restart: {
    delay: { minMs: 10, maxMs: DAY_MS },
    maxDelay: { minMs: 10, maxMs: DAY_MS },
    window: { minMs: 1, maxMs: DAY_MS },
  },
  update: {
    delay: { minMs: 0, maxMs: DAY_MS },
    healthDeadline: { minMs: 1000, maxMs: DAY_MS },
  },
} as const satisfies Record<string, Record<string, DurationRange>>

/**
 * Label keys (service labels, constraint labels, spreadBy, peer labels): a letter or digit, then
 * letters, digits and `.`, `_`, `/`, `-`; at most 253 characters (room for Kubernetes-style keys such
 * as `topology.kubernetes.io/zone`).
 */
export const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,252}$/
/** LABEL_KEY in words, for error messages. */
export const LABEL_KEY_RULE = 'a letter or digit, then letters, digits, ".", "_", "/" or "-", at most 253 characters'

/** Environment variable names, as POSIX shells accept them, at most 253 characters. */
// Kubernetes' rule rather than the shell's: programs configured through the environment read names
// such as `discovery.type` (Elasticsearch) or `JAVA-OPTS`, which exec passes on like any other.
export const ENV_NAME = /^[A-Za-z_.-][A-Za-z0-9_.-]{0,252}$/
/** ENV_NAME in words, for error messages. */
export const ENV_NAME_RULE = 'a letter, "_", "." or "-", then letters, digits, "_", "." or "-", at most 253 characters'

/** `10ms`, `1s`, `24h`: a duration in the units a spec is written in, for messages and docs. */
export function formatDurationMs(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return ms === 0 ? '0s' : `${ms}ms`
}

