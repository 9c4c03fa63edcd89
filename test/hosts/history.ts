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

export type FaultKind = 'crash' | 'kill' | 'partition' | 'pause' | 'loss'

export interface FaultRecord {
  readonly kind: FaultKind
  readonly hosts: readonly string[]
  readonly fromMs: number
  /** Absent while the fault is still on. */
  toMs?: number
  readonly detail?: string
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

export interface History {
  /** Wall-clock time (ms since the epoch) of the run's start: times below are relative to it. */
  readonly startedAtMs: number
  readonly hosts: readonly HostCapacity[]
  readonly desired: DesiredEntry[]
  readonly samples: Sample[]
  readonly faults: FaultRecord[]
}

/** Collects a history as a run goes. */
export class HistoryRecorder {
  readonly history: History

  constructor(hosts: readonly HostCapacity[], startedAtMs = Date.now()) {
    this.history = { startedAtMs, hosts, desired: [], samples: [], faults: [] }
  }

  /** Ms since the run's start. */
  now(): number {
    return Date.now() - this.history.startedAtMs
  }

  desire(services: readonly ServiceSpec[]): void {
    this.history.desired.push({ fromMs: this.now(), services })
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
