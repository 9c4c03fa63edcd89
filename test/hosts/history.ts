// A run's history, as data: what ran where over time (the observer's samples), which faults were on
// when (the nemesis's records) and what was desired. The checker reads only this, never the cluster,
// so a verdict can be recomputed from a saved history. Times are ms since the run's start.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ServiceSpec } from '../../core/index.js'

/** One task process seen running on one host. */
export interface Copy {
  readonly host: string
  readonly slot: string
  readonly service: string
  readonly specHash: string
  readonly pid: number
}

/** Everything seen running on every host at one instant. */
export interface Sample {
  readonly atMs: number
  readonly copies: readonly Copy[]
}

export type FaultKind = 'crash' | 'kill' | 'partition' | 'pause' | 'loss' | 'one-way' | 'disk-full'

export interface FaultRecord {
  readonly kind: FaultKind
  readonly hosts: readonly string[]
  readonly fromMs: number
  /** Absent while the fault is still on. */
  toMs?: number
  readonly detail?: string
  /**
   * For a partition: the pairs of hosts that cannot reach each other. Halves, one host isolated and
   * a bridge host that sees both sides are all lists of such pairs. For a one-way drop, the one pair
   * (sender first): no connection between them works when only one direction does.
   */
  readonly separated?: readonly (readonly [string, string])[]
  /**
   * Whether slots may go missing during this fault without counting as lost: true only for faults
   * that leave nowhere to run them (every host down). A single crash is not one: replacing its slots
   * within the failover budget is exactly what is judged.
   */
  readonly excusesLoss?: boolean
}

export interface HostCapacity {
  readonly name: string
  readonly cpuMilli: number
  readonly memoryMiB: number
}

/** The desired services from `fromMs` on (until the next entry). */
export interface DesiredEntry {
  readonly fromMs: number
  readonly services: readonly ServiceSpec[]
}

/** A write a client made to the desired state through one host's agent, and how it answered. */
export interface Operation {
  readonly kind: 'apply' | 'scale' | 'rm'
  readonly host: string
  readonly fromMs: number
  readonly toMs: number
  readonly ok: boolean
  /** What was asked (`web=12`, `env ROUND=3`), or why it failed. */
  readonly detail: string
}

/** What one agent held after the run healed: read back from its control API, as a client would. */
export interface FinalRead {
  readonly host: string
  readonly atMs: number
  /** Its desired-state heads digest; absent when it did not answer. */
  readonly digest?: string
  /** Its spec of each desired service, by name. */
  readonly services?: readonly ServiceSpec[]
  readonly error?: string
}

export interface History {
  /** Wall-clock time (ms since the epoch) of the run's start: times below are relative to it. */
  readonly startedAtMs: number
  readonly hosts: readonly HostCapacity[]
  readonly desired: DesiredEntry[]
  readonly samples: Sample[]
  readonly faults: FaultRecord[]
  /** Writes made during the run (histories made by hand may have none). */
  readonly operations?: Operation[]
  /** Each agent's desired state once the run healed and settled. */
  readonly finalReads?: FinalRead[]
}

/** Collects a history as a run goes. */
export class HistoryRecorder {
  readonly history: History

  constructor(hosts: readonly HostCapacity[], startedAtMs = Date.now()) {
    this.history = { startedAtMs, hosts, desired: [], samples: [], faults: [], operations: [], finalReads: [] }
  }

  /** Ms since the run's start. */
  now(): number {
    return Date.now() - this.history.startedAtMs
  }

  /**
   * `services` are desired from `fromMs` (now, by default). A write is recorded from when it was
   * sent: an agent may act on it before its answer comes back.
   */
  desire(services: readonly ServiceSpec[], fromMs = this.now()): void {
    this.history.desired.push({ fromMs, services })
    this.history.desired.sort((a, b) => a.fromMs - b.fromMs)
  }

  operation(record: Operation): void {
    this.history.operations!.push(record)
  }

  finalRead(record: FinalRead): void {
    this.history.finalReads!.push(record)
  }

  sample(copies: readonly Copy[]): Sample {
    const sample = { atMs: this.now(), copies }
    this.history.samples.push(sample)
    return sample
  }

  faultBegins(record: Omit<FaultRecord, 'fromMs' | 'toMs'>): FaultRecord {
    const fault: FaultRecord = { ...record, fromMs: this.now() }
    this.history.faults.push(fault)
    return fault
  }

  faultEnds(fault: FaultRecord): void {
    fault.toMs ??= this.now()
  }

  /** The faults of `kind` on `host` still on. */
  openFaults(kind: FaultKind, host?: string): FaultRecord[] {
    return this.history.faults.filter((fault) => fault.kind === kind && fault.toMs === undefined && (host === undefined || fault.hosts.includes(host)))
  }
}

/** Writes the history and its verdict as one JSON file in `dir`; returns its path. */
export function saveHistory(dir: string, name: string, history: History, verdict: unknown): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${name}-${new Date(history.startedAtMs).toISOString().replaceAll(':', '')}.json`)
  writeFileSync(path, `${JSON.stringify({ history, verdict })}\n`)
  return path
}
