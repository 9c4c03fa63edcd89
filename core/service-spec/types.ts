// The desired-state model: what a user writes in app.yaml, after validation and defaults.
// Every field is present (defaults filled in) so equal intent always has equal shape and hash — except
// the optional fields at the end of ServiceSpec, which came later: each is absent unless written (and
// never empty), so specs written before they existed keep their shape, specDigest and specHash.

import type { ServiceName } from '../placement/ids.js'

export type Driver = 'docker' | 'process'
export const DRIVERS: readonly Driver[] = ['docker', 'process']

export type Mode = 'replicated' | 'global' | 'job'
export const MODES: readonly Mode[] = ['replicated', 'global', 'job']

export type Strategy = 'spread' | 'binpack'
export const STRATEGIES: readonly Strategy[] = ['spread', 'binpack']

/** Resources a task reserves on its peer. Extended resources are integer counts (`gpu: 1`). */
export interface Resources {
  readonly cpuMilli: number
  readonly memoryMiB: number
  readonly extended: Readonly<Record<string, number>>
}

export type ConstraintOp = '==' | '!=' | 'in' | 'notin' | 'exists' | 'matches'
export const CONSTRAINT_OPS: readonly ConstraintOp[] = ['==', '!=', 'in', 'notin', 'exists', 'matches']

/**
 * A hard rule on a peer's labels. `values` holds one value for ==, != and matches (a label pattern,
 * label-pattern.ts: a regular expression of a linear-time subset, anchored by the user if wanted),
 * several for in/notin, none for exists.
 */
export interface Constraint {
  readonly label: string
  readonly op: ConstraintOp
  readonly values: readonly string[]
}

export type Protocol = 'tcp' | 'udp'

export type PortMode = 'host' | 'ingress'
export const PORT_MODES: readonly PortMode[] = ['host', 'ingress']

/**
 * A port of the task (`container`) and how it is published (docs/networking.md).
 * - Host mode (no `mode`): the task binds `host` on the peer that runs it, and nowhere else. Two
 *   tasks that bind the same host port never share a peer.
 * - Ingress mode: every peer accepts on `host` and forwards to a ready task of the service, wherever
 *   it runs (the routing mesh); `host` 0 publishes it nowhere, so it is reachable by name only. The
 *   task itself binds a port its peer picks from TASK_PORT_RANGE (ports.ts), told in PEER_PORT_<container>.
 * Every port of a service is reachable by name through the local agent (`<service>.peer:<container>`).
 */
export interface PortSpec {
  readonly host: number
  readonly container: number
  readonly protocol: Protocol
  /** Absent in host mode, so specs written before the mesh existed keep their shape and hash. */
  readonly mode?: 'ingress'
}

/** How the agent decides a task is healthy. `command` runs inside the task's environment. */
export interface HealthcheckSpec {
  readonly command: readonly string[]
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly retries: number
  readonly startPeriodMs: number
}

export type RestartCondition = 'always' | 'on-failure' | 'never'
export const RESTART_CONDITIONS: readonly RestartCondition[] = ['always', 'on-failure', 'never']

/**
 * Local restarts with exponential backoff from `delayMs` up to `maxDelayMs`. After `maxAttempts`
 * failures within `windowMs` the peer gives the slot up so another peer may try (0 = never give up).
 */
export interface RestartPolicy {
  readonly condition: RestartCondition
  readonly delayMs: number
  readonly maxDelayMs: number
  readonly maxAttempts: number
  readonly windowMs: number
}

export type UpdateOrder = 'stop-first' | 'start-first'
export const UPDATE_ORDERS: readonly UpdateOrder[] = ['stop-first', 'start-first']

/**
 * Rolling update: `parallelism` slots move to a new version at a time; the next wave starts once the
 * previous one has been healthy for `delayMs`. A wave not healthy within `healthDeadlineMs` fails the
 * update, and rolls it back when `autoRollback` is set.
 */
export interface UpdatePolicy {
  readonly parallelism: number
  readonly delayMs: number
  readonly order: UpdateOrder
  readonly autoRollback: boolean
  readonly healthDeadlineMs: number
}

/** A secret a service uses: see secrets.ts. */
export interface SecretRef {
  readonly name: string
  /** The secret's version as the cluster resolved it; 0 when unresolved or when no such secret exists. */
  readonly version: number
  /**
   * Where the task sees it; absent when that is a file named as the secret in the secrets directory
   * (`/run/secrets/<name>`, `$PEER_SECRETS_DIR/<name>`). A file name puts it there under that name;
   * an absolute path (docker only) bind-mounts the file read-only at that path — how a config file
   * reaches the place an image reads it from.
   */
  readonly target?: string
}

export type MountType = 'bind' | 'volume' | 'tmpfs'
export const MOUNT_TYPES: readonly MountType[] = ['bind', 'volume', 'tmpfs']

/**
 * A file system a container sees at `target` (see mounts.ts). `source` is a host path (bind), a
 * volume name (volume: a local volume of the peer that runs the task, made on first use and kept
 * when the task ends, so a replica that moves to another peer does not take its data along), or
 * empty (tmpfs: memory, gone with the container).
 */
export interface MountSpec {
  readonly type: MountType
  readonly source: string
  readonly target: string
  readonly readOnly: boolean
}

export interface ServiceSpec {
  readonly name: ServiceName
  readonly driver: Driver
  /** Container image (docker driver); empty for the process driver. */
  readonly image: string
  /** argv; for docker it overrides the image's command when non-empty. */
  readonly command: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly mode: Mode
  /** Replica count for replicated services, completions for jobs; ignored for global services. */
  readonly replicas: number
  readonly resources: Resources
  readonly constraints: readonly Constraint[]
  /** Most replicas of this service on one peer; 0 means no limit. */
  readonly maxPerNode: number
  readonly strategy: Strategy
  /** Soft spread over the values of this peer label (e.g. `zone`); empty for none. */
  readonly spreadBy: string
  readonly ports: readonly PortSpec[]
  readonly healthcheck: HealthcheckSpec | null
  readonly restart: RestartPolicy
  readonly update: UpdatePolicy
  readonly labels: Readonly<Record<string, string>>
  /**
   * Secrets the task sees as files, sorted by name; absent when there are none (never empty), so
   * specs without secrets keep the shape and hash they had before secrets existed.
   */
  readonly secrets?: readonly SecretRef[]
  /** Docker: replaces the image's ENTRYPOINT (and, as `docker run --entrypoint` does, its CMD). */
  readonly entrypoint?: readonly string[]
  /** Docker: the user (and group) the container runs as: `1000`, `1000:1000`, `nobody`. */
  readonly user?: string
  /** The task's working directory, an absolute path: the container's, or the process's cwd. */
  readonly workdir?: string
  /** Docker: file systems mounted into the container, sorted by target. */
  readonly mounts?: readonly MountSpec[]
  /** Docker: Linux capabilities added to and dropped from the engine's default set (capabilities.ts). */
  readonly capAdd?: readonly string[]
  readonly capDrop?: readonly string[]
  /** How long a stop waits between SIGTERM and SIGKILL; the agent's default when absent. */
  readonly stopGraceMs?: number
  /**
   * What a side of a network partition does with the service (docs/protocol.md#partitions). `serve`
   * (the default; absent when not written): every side runs every slot. `majority`: only a side that
   * sees a strict majority of the members runs it, so a slot never runs twice.
   */
  readonly partition?: PartitionPolicy
}

export type PartitionPolicy = 'serve' | 'majority'
export const PARTITION_POLICIES: readonly PartitionPolicy[] = ['serve', 'majority']
