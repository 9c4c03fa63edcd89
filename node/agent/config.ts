// Every knob of the agent with its default, why that value, and what moving it costs, as p2p/config.ts
// does for the libp2p layer and core/protocol/config.ts for the protocol's timing. These are the
// agent's own: how it runs tasks, serves sync and logs, and keeps events; the machine's timing comes
// from core/protocol/config.ts, scaled here only by clusterSizeHint and processingSkewMs.

import type { ServiceSpec } from '../../core/index.js'

export const AGENT_DEFAULTS = {
  /**
   * How long a stopped task gets between SIGTERM and SIGKILL, unless its service says (`stopGrace`,
   * stopGraceOf). Docker and Nomad give 10 s; 5 s keeps a dev cluster's Ctrl-C and a failover's stop
   * of the loser quick, at the cost of cutting off a task that needs longer to shut down cleanly —
   * such a service sets its own.
   */
  stopGraceMs: 5_000,
  /**
   * Spread between peers learning of one change (fsync, busy event loops), added to the machine's bid
   * windows (withProcessingSkew says how). Measured on one 2-core host: the last of 10 busy agents saw
   * an apply up to 340 ms after its author. Larger makes a silent candidate's auction wait longer;
   * smaller lets a slow peer's bid miss its auction and costs a duplicate start.
   */
  processingSkewMs: 300,
  /**
   * The cluster size the machine's timing is scaled for (defaultConfig): up to 16 peers nothing
   * scales, so the agent does not need to know the real size. Larger spaces out push-pull
   * anti-entropy (log₂ N / 4), which repairs lost gossip more slowly and costs less.
   */
  clusterSizeHint: 16,
  /**
   * After announcing that it leaves, how long the agent waits before stopping its host, so gossipsub
   * gets the announcement onto the wire. Too short and others find out by failure detection instead
   * (2 s on a LAN); longer only delays the exit.
   */
  leaveFlushMs: 100,
  /**
   * How often the agent looks at its data directory's free space (data-dir-space.ts): a statfs, so
   * cheap; a full disk is then known (and peers place around it) within this, usually before a task
   * start fails on it.
   */
  spaceCheckIntervalMs: 1_000,
  /**
   * Events kept for `peer events`: enough for minutes of a busy peer, a few hundred KB. Events are for
   * people watching, not an audit log (history is in the CRDT), so older ones are simply dropped.
   */
  eventLogCapacity: 2_000,
} as const

/** How long a task of `spec` gets between SIGTERM and SIGKILL: its service's stopGrace, else the default. */
export function stopGraceOf(spec: ServiceSpec | undefined): number {
  return spec?.stopGraceMs ?? AGENT_DEFAULTS.stopGraceMs
}

/** The desired-state sync protocol (DESIRED_SYNC_PROTOCOL) as node/agent/desired-replica.ts runs it. */
export const DESIRED_SYNC_DEFAULTS = {
  /**
   * Round trips one sync run may take before giving up. Automerge needs 2–4 to bring a peer level
   * (heads and bloom filter, then the changes, then confirmation); 16 leaves room for changes made on
   * either side while the run goes on, and stops two peers that cannot agree from looping forever.
   */
  maxRounds: 16,
  /**
   * A responder forgets a session unused for this long. A run takes milliseconds between rounds (a
   * request times out after 30 s), so only abandoned sessions (the requester crashed or gave up)
   * reach it. Shorter frees memory sooner but could drop a session a slow requester still uses.
   */
  sessionIdleMs: 60_000,
  /**
   * Sessions a responder keeps at most; the least recently used goes first. A run holds one, and a
   * peer runs at most one with each other peer at a time, so this covers a cluster of 64 peers all
   * syncing with this one at once; a SyncState is small (heads and a bloom filter). Past it, a
   * requester whose session was dropped starts over.
   */
  maxSessions: 64,
} as const

/** `peer logs` of a task that runs on another peer (LOGS_PROTOCOL, node/agent/logs.ts). */
export const LOGS_DEFAULTS = {
  /**
   * Lines per remote answer; a follower asks again at once while there is more. Larger pages mean
   * fewer round trips for a long log, and a larger answer held in memory on both sides.
   */
  pageLines: 1_000,
  /**
   * How often a follower of a remote task asks for new lines once it has caught up. Lower shows
   * output sooner; each poll costs a request and, today, a read of the whole log file on the owner.
   */
  remotePollMs: 500,
} as const

/** `peer exec` (node/agent/exec.ts): commands run in a task's container from any peer. */
export const EXEC_DEFAULTS = {
  /** How long a command may run when the CLI does not say (`--timeout`); then its output so far comes back without an exit code. */
  defaultTimeoutMs: 60_000,
  /**
   * The longest a command may run. Exec is for looking inside a task (a shell one-liner, a dump),
   * not for running work: work belongs in a service or a job, which the cluster restarts and moves.
   */
  maxTimeoutMs: 10 * 60_000,
  /** Arguments of one command, and characters of one argument: far beyond a command line a person types. */
  maxArguments: 256,
  maxArgumentChars: 16 * 1024,
  /**
   * Output kept from one command (its last lines): an answer must fit one request/response message
   * (p2p/request.ts limits), and a person reads a screenful, not megabytes.
   */
  maxOutputBytes: 1024 * 1024,
  /** Extra wait for a forwarded request beyond the command's own timeout: the round trip and the exec's setup. */
  forwardSlackMs: 5_000,
} as const
