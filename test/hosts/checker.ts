// The checker: reads a finished history and returns a verdict, as Jepsen's checkers do; it never
// talks to the cluster. It judges with the simulator's named invariants (sim/invariants.ts), given
// time, because a real cluster is observed in samples and allowed to take a moment:
//
// - every-slot-once, split in its two halves:
//   - `duplicate`: a slot running more than once for longer than the conflict window. The design
//     lets two peers briefly run one slot (a lost claim, a partition) and resolves it by a
//     deterministic rule that stops the loser only once the winner runs; 1 s covers that. While a
//     fault explains the copies (excuses.ts: hosts on two sides of a partition, a paused or killed
//     agent) they are not counted; once it ends, the cluster has the heal budget (2 s) to get
//     back to one copy.
//   - `lost`: a slot that had been placed, still desired, running nowhere for longer than the
//     failover budget (3 s: a dead peer is declared dead after 2 s on a LAN, and its slots must then
//     be auctioned and started). Time inside faults marked `excusesLoss` does not count, nor, for a
//     `partition: majority` slot, time inside a partition (it is stopped there on purpose).
//   - `never-placed`: a desired slot never seen running within the placement budget.
// - only-desired → `undesired`: a copy of a service, a replica index or a version not desired,
//   running longer than the conflict window (stopping takes a moment too) — or, for a version that
//   was desired earlier, longer than the rollout budget, since a rolling update replaces the copies
//   a few at a time. A copy on a host that could not learn of the change (excuses.ts) counts from
//   when the fault ends, and has the heal budget from then.
// - every acknowledged write is present on every live agent after heal → `write-missing`: each
//   agent's read-back services (history.finalReads) are the last desired ones — each spec as written,
//   none removed still held — and all hold one digest. Writes made on two sides of a partition are
//   judged the same way: their merge is what the history desires from when they were sent.
// - no-overcommit → `overcommit`: checked in every sample with no window at all: it is safety.
// - At the end of the run (after faults healed and the run settled), the simulator's own functions
//   everySlotOnce, onlyDesired and noOvercommit over the last sample: `final-state`.
//
// Figures: every duplicate interval, also those within the window (a restart running replaced
// slots twice for 0.2 s is worth seeing), and per crash or kill the time until every slot the host
// ran was running on another host; and every time a slot moved between hosts, with whether a fault
// or a write explains it (moves.ts).

import { fencedByMajority, placementRequest, type ServiceSpec } from '../../core/index.js'
import { everySlotOnce, noOvercommit, onlyDesired, type RunningTask, type Violation, type WorldState } from '../../sim/invariants.js'
import { duplicateExcuse, isolatedAt, staleExcuse } from './excuses.js'
import type { Copy, FaultRecord, History, Sample } from './history.js'
import { slotMoves, MOVE_SETTLE_MS, type Move } from './moves.js'

export interface CheckOptions {
  /** How long a slot may run twice (or a not-desired copy linger) before it is an anomaly. */
  readonly conflictWindowMs?: number
  /** How long a placed, desired slot may run nowhere before it is lost. */
  readonly failoverBudgetMs?: number
  /** After a fault that explained two copies ends, how long they may take to become one. */
  readonly healBudgetMs?: number
  /** How long copies of an earlier desired version may run after a change (a rolling update). */
  readonly rolloutBudgetMs?: number
  /** How long after a fault or a write a move between hosts is still put down to it. */
  readonly moveSettleMs?: number
  /** How long a newly desired slot may take to be first seen running. */
  readonly placementBudgetMs?: number
  /** Whether the last sample is after a settled period, so it must satisfy the invariants exactly. */
  readonly settledAtEnd?: boolean
}

export const CONFLICT_WINDOW_MS = 1_000
export const FAILOVER_BUDGET_MS = 3_000
export const PLACEMENT_BUDGET_MS = 10_000
/** Issue 16's target: one copy of every slot within 2 s after a partition heals. */
export const HEAL_BUDGET_MS = 2_000
export const ROLLOUT_BUDGET_MS = 15_000

export type AnomalyKind = 'duplicate' | 'lost' | 'never-placed' | 'undesired' | 'overcommit' | 'final-state' | 'write-missing'

export interface Anomaly {
  readonly kind: AnomalyKind
  /** The slot concerned; absent for overcommit (a host's fault, not a slot's). */
  readonly slot?: string
  readonly hosts: readonly string[]
  readonly fromMs: number
  readonly toMs: number
  readonly detail?: string
}

/** A time a slot ran on more than one host (or twice on one), whether or not beyond the window. */
export interface DuplicateInterval {
  readonly slot: string
  readonly hosts: readonly string[]
  readonly fromMs: number
  readonly toMs: number
  /** Still running twice at the end of the history. */
  readonly open: boolean
}

export interface Failover {
  readonly kind: FaultRecord['kind']
  readonly host: string
  readonly fromMs: number
  /** Slots the host ran just before the fault. */
  readonly slots: readonly string[]
  /** Until every one of them ran on another host; absent if that was never seen. */
  readonly ms?: number
}

export interface Verdict {
  readonly valid: boolean
  readonly anomalies: readonly Anomaly[]
  readonly failoverMs: readonly number[]
  readonly failovers: readonly Failover[]
  readonly duplicates: readonly DuplicateInterval[]
  /** Every change of the host a slot runs on; `spurious` when no fault or write explains it. */
  readonly moves: readonly Move[]
  readonly samples: number
}

/** One line for a person: kind, slot, hosts, when, and the detail. */
export function describeAnomaly(anomaly: Anomaly): string {
  return `${anomaly.kind} ${anomaly.slot ?? ''} on [${anomaly.hosts.join(' ')}] ${anomaly.fromMs}–${anomaly.toMs} ms${anomaly.detail === undefined ? '' : `: ${anomaly.detail}`}`
}

export function check(history: History, options: CheckOptions = {}): Verdict {
  const conflictWindowMs = options.conflictWindowMs ?? CONFLICT_WINDOW_MS
  const failoverBudgetMs = options.failoverBudgetMs ?? FAILOVER_BUDGET_MS
  const placementBudgetMs = options.placementBudgetMs ?? PLACEMENT_BUDGET_MS
  const samples = history.samples
  const duplicates = duplicateIntervals(samples)
  const anomalies: Anomaly[] = [
    ...unexplainedDuplicates(history, conflictWindowMs, options.healBudgetMs ?? HEAL_BUDGET_MS),
    ...missingSlots(history, failoverBudgetMs, placementBudgetMs),
    ...undesiredCopies(history, conflictWindowMs, options.rolloutBudgetMs ?? ROLLOUT_BUDGET_MS, options.healBudgetMs ?? HEAL_BUDGET_MS),
    ...overcommits(history),
    ...(options.settledAtEnd === false ? [] : finalState(history)),
    ...missingWrites(history),
  ]
  anomalies.sort((a, b) => a.fromMs - b.fromMs || (a.slot ?? '').localeCompare(b.slot ?? ''))
  // A host crashed while cut off (an offline reboot) had its slots replaced when the cut began:
  // the crash has no failover of its own to measure.
  const failovers = history.faults
    .filter((fault) => fault.kind === 'crash' || fault.kind === 'kill')
    .flatMap((fault) => fault.hosts.filter((host) => !isolatedAt(history.faults, host, fault.fromMs)).map((host) => failoverAfter(history, fault, host)))
  return {
    valid: anomalies.length === 0,
    anomalies,
    failoverMs: failovers.flatMap((failover) => (failover.ms === undefined ? [] : [failover.ms])),
    failovers,
    duplicates,
    moves: slotMoves(history, options.moveSettleMs ?? MOVE_SETTLE_MS),
    samples: samples.length,
  }
}

/**
 * Runs of samples in which a slot ran more than once and no fault explained it, longer than the
 * conflict window — or than the heal budget, for a run that began as its explaining fault ended.
 */
function unexplainedDuplicates(history: History, conflictWindowMs: number, healBudgetMs: number): Anomaly[] {
  const anomalies: Anomaly[] = []
  const open = new Map<string, { fromMs: number; hosts: Set<string>; budgetMs: number; after?: FaultRecord }>()
  /** Slots whose copies a fault explained in the previous sample, with that fault. */
  let excused = new Map<string, FaultRecord>()
  const close = (slot: string, toMs: number): void => {
    const run = open.get(slot)!
    open.delete(slot)
    if (toMs - run.fromMs <= run.budgetMs) return
    const detail = run.after === undefined ? undefined : `${toMs - run.fromMs} ms after the ${run.after.kind} (${run.after.detail ?? run.after.hosts.join(' ')}) ended`
    anomalies.push({ kind: 'duplicate', slot, hosts: [...run.hosts].sort(), fromMs: run.fromMs, toMs, ...(detail === undefined ? {} : { detail }) })
  }
  for (const sample of history.samples) {
    const nowExcused = new Map<string, FaultRecord>()
    const bySlot = hostsBySlot(sample.copies)
    for (const [slot, hosts] of bySlot) {
      if (hosts.length < 2) continue
      const excuse = duplicateExcuse(history.faults, hosts, sample.atMs)
      if (excuse !== undefined) {
        nowExcused.set(slot, excuse)
        if (open.has(slot)) close(slot, sample.atMs)
        continue
      }
      const run = open.get(slot)
      if (run !== undefined) {
        for (const host of hosts) run.hosts.add(host)
        continue
      }
      const after = excused.get(slot)
      open.set(slot, { fromMs: sample.atMs, hosts: new Set(hosts), budgetMs: after === undefined ? conflictWindowMs : healBudgetMs, ...(after === undefined ? {} : { after }) })
    }
    for (const slot of [...open.keys()]) if ((bySlot.get(slot)?.length ?? 0) < 2) close(slot, sample.atMs)
    excused = nowExcused
  }
  const lastMs = history.samples.at(-1)?.atMs ?? 0
  for (const slot of [...open.keys()]) close(slot, lastMs)
  return anomalies
}

/** Each agent's read-back desired state against the last desired entry, and against each other. */
function missingWrites(history: History): Anomaly[] {
  const reads = history.finalReads ?? []
  const wanted = history.desired.at(-1)?.services ?? []
  const anomalies: Anomaly[] = []
  for (const read of reads) {
    const problems: string[] = []
    if (read.services === undefined) problems.push(`no answer: ${read.error ?? 'unknown'}`)
    else {
      for (const spec of wanted) {
        const held = read.services.find((candidate) => candidate.name === spec.name)
        if (held === undefined) problems.push(`${spec.name} missing`)
        else if (placementRequest(held).specHash !== placementRequest(spec).specHash || held.replicas !== spec.replicas) {
          problems.push(`${spec.name}: holds ${held.replicas} replicas at ${placementRequest(held).specHash}, written ${spec.replicas} at ${placementRequest(spec).specHash}`)
        }
      }
      // A removal is a write too: a service removed last must be gone.
      for (const held of read.services) if (!wanted.some((spec) => spec.name === held.name)) problems.push(`${held.name} held, but removed`)
    }
    if (problems.length > 0) anomalies.push({ kind: 'write-missing', hosts: [read.host], fromMs: read.atMs, toMs: read.atMs, detail: problems.join('; ') })
  }
  const digests = new Set(reads.flatMap((read) => (read.digest === undefined ? [] : [read.digest])))
  if (digests.size > 1) {
    const atMs = Math.max(...reads.map((read) => read.atMs))
    anomalies.push({ kind: 'write-missing', hosts: reads.map((read) => read.host), fromMs: atMs, toMs: atMs, detail: `agents hold ${digests.size} different desired-state digests: ${reads.map((read) => `${read.host}=${read.digest?.slice(0, 8) ?? 'none'}`).join(' ')}` })
  }
  return anomalies
}

/** The services desired at `atMs`: the last entry from before it. */
export function desiredAt(history: History, atMs: number): readonly ServiceSpec[] | undefined {
  let found: readonly ServiceSpec[] | undefined
  for (const entry of history.desired) if (entry.fromMs <= atMs) found = entry.services
  return found
}

/** The slots of replicated services (global services' slots depend on live hosts: not judged here). */
function desiredSlots(services: readonly ServiceSpec[]): Set<string> {
  return new Set(services.filter((spec) => spec.mode !== 'global').flatMap((spec) => Array.from({ length: spec.replicas }, (_, i) => `${spec.name}/${i}`)))
}

function hostsBySlot(copies: readonly Copy[]): Map<string, string[]> {
  const bySlot = new Map<string, string[]>()
  for (const copy of copies) bySlot.set(copy.slot, [...(bySlot.get(copy.slot) ?? []), copy.host])
  return bySlot
}

/** Maximal runs of samples in which a slot ran more than once; each ends at the first sample without. */
export function duplicateIntervals(samples: readonly Sample[]): DuplicateInterval[] {
  const open = new Map<string, { fromMs: number; hosts: Set<string> }>()
  const done: DuplicateInterval[] = []
  for (const sample of samples) {
    const bySlot = hostsBySlot(sample.copies)
    for (const [slot, hosts] of bySlot) {
      if (hosts.length < 2) continue
      const interval = open.get(slot)
      if (interval === undefined) open.set(slot, { fromMs: sample.atMs, hosts: new Set(hosts) })
      else for (const host of hosts) interval.hosts.add(host)
    }
    for (const [slot, interval] of open) {
      if ((bySlot.get(slot)?.length ?? 0) >= 2) continue
      done.push({ slot, hosts: [...interval.hosts].sort(), fromMs: interval.fromMs, toMs: sample.atMs, open: false })
      open.delete(slot)
    }
  }
  const lastMs = samples.at(-1)?.atMs ?? 0
  for (const [slot, interval] of open) done.push({ slot, hosts: [...interval.hosts].sort(), fromMs: interval.fromMs, toMs: lastMs, open: true })
  return done.sort((a, b) => a.fromMs - b.fromMs || a.slot.localeCompare(b.slot))
}

/**
 * How much of [fromMs, toMs] no fault that excuses loss covers. For a slot of a `partition: majority`
 * service a partition excuses it too: such a slot stops on the minority side and is taken over on the
 * majority side only after the takeover delay (~10 s on a LAN, docs/protocol.md#partitions), far
 * beyond the failover budget — and on an even split it runs nowhere until the heal. The simulator's
 * every-slot-once skips such a slot while no majority is alive; here the whole partition is excused,
 * and the tests of that policy measure the takeover against its own bound.
 */
function unexcusedMs(faults: readonly FaultRecord[], fromMs: number, toMs: number, majority = false): number {
  let excused = 0
  for (const fault of faults) {
    if (fault.excusesLoss !== true && !(majority && fault.kind === 'partition')) continue
    const overlap = Math.min(toMs, fault.toMs ?? Infinity) - Math.max(fromMs, fault.fromMs)
    if (overlap > 0) excused += overlap
  }
  return Math.max(0, toMs - fromMs - excused)
}

/** `lost` and `never-placed` slots. */
function missingSlots(history: History, failoverBudgetMs: number, placementBudgetMs: number): Anomaly[] {
  const anomalies: Anomaly[] = []
  /** Slot → when it became desired (not yet seen running). */
  const awaited = new Map<string, number>()
  /** Slot → when it was last seen running, while it is missing now. */
  const gaps = new Map<string, { fromMs: number; lastHosts: readonly string[]; majority: boolean }>()
  const placed = new Set<string>()
  const lastSeen = new Map<string, readonly string[]>()
  const closeGap = (slot: string, toMs: number): void => {
    const gap = gaps.get(slot)
    if (gap === undefined) return
    gaps.delete(slot)
    if (unexcusedMs(history.faults, gap.fromMs, toMs, gap.majority) > failoverBudgetMs) anomalies.push({ kind: 'lost', slot, hosts: gap.lastHosts, fromMs: gap.fromMs, toMs, detail: `ran nowhere for ${toMs - gap.fromMs} ms` })
  }
  for (const sample of history.samples) {
    const services = desiredAt(history, sample.atMs) ?? []
    const desired = desiredSlots(services)
    const fenced = new Set(services.filter(fencedByMajority).map((spec) => spec.name as string))
    const bySlot = hostsBySlot(sample.copies)
    for (const slot of desired) {
      const hosts = bySlot.get(slot)
      if (hosts !== undefined) {
        awaited.delete(slot)
        placed.add(slot)
        lastSeen.set(slot, hosts)
        closeGap(slot, sample.atMs)
      } else if (placed.has(slot)) {
        if (!gaps.has(slot)) gaps.set(slot, { fromMs: sample.atMs, lastHosts: lastSeen.get(slot) ?? [], majority: fenced.has(slot.slice(0, slot.lastIndexOf('/'))) })
      } else if (!awaited.has(slot)) {
        awaited.set(slot, sample.atMs)
      }
    }
    // A slot no longer desired is neither awaited nor missing (scaled down, removed).
    for (const slot of [...awaited.keys()]) if (!desired.has(slot)) awaited.delete(slot)
    for (const slot of [...gaps.keys()]) if (!desired.has(slot)) gaps.delete(slot)
    for (const slot of [...placed]) if (!desired.has(slot)) placed.delete(slot)
  }
  const lastMs = history.samples.at(-1)?.atMs ?? 0
  for (const slot of [...gaps.keys()]) closeGap(slot, lastMs)
  for (const [slot, fromMs] of awaited) {
    if (unexcusedMs(history.faults, fromMs, lastMs) > placementBudgetMs) anomalies.push({ kind: 'never-placed', slot, hosts: [], fromMs, toMs: lastMs, detail: `desired ${lastMs - fromMs} ms, never seen running` })
  }
  return anomalies
}

/** Why `copy` is not desired at `atMs`, or undefined when it is. */
function undesiredReason(copy: Copy, services: readonly ServiceSpec[]): string | undefined {
  const spec = services.find((candidate) => candidate.name === copy.service)
  if (spec === undefined) return `service ${copy.service} is not desired`
  const hash = placementRequest(spec).specHash
  if (copy.specHash !== hash) return `version ${copy.specHash}, desired ${hash}`
  if (spec.mode !== 'global' && !desiredSlots([spec]).has(copy.slot)) return `beyond ${spec.replicas} replicas`
  return undefined
}

/** Spec hashes desired at some time up to `atMs`, by service. */
function versionsSoFar(history: History, atMs: number): Set<string> {
  const seen = new Set<string>()
  for (const entry of history.desired) if (entry.fromMs <= atMs) for (const spec of entry.services) seen.add(`${spec.name} ${placementRequest(spec).specHash}`)
  return seen
}

function undesiredCopies(history: History, conflictWindowMs: number, rolloutBudgetMs: number, healBudgetMs: number): Anomaly[] {
  const anomalies: Anomaly[] = []
  /** Copies (`host pid`) not desired that a fault explained in the previous sample, with that fault. */
  let excused = new Map<string, FaultRecord>()
  const open = new Map<string, { copy: Copy; fromMs: number; reason: string; budgetMs: number; after?: FaultRecord }>()
  const close = (key: string, toMs: number): void => {
    const entry = open.get(key)!
    open.delete(key)
    const after = entry.after === undefined ? '' : `; ${toMs - entry.fromMs} ms after the ${entry.after.kind} (${entry.after.detail ?? entry.after.hosts.join(' ')}) ended`
    if (toMs - entry.fromMs > entry.budgetMs) anomalies.push({ kind: 'undesired', slot: entry.copy.slot, hosts: [entry.copy.host], fromMs: entry.fromMs, toMs, detail: `${entry.reason}${after}` })
  }
  for (const sample of history.samples) {
    const services = desiredAt(history, sample.atMs) ?? []
    const now = new Set<string>()
    const nowExcused = new Map<string, FaultRecord>()
    for (const copy of sample.copies) {
      const reason = undesiredReason(copy, services)
      if (reason === undefined) continue
      const key = `${copy.host} ${copy.pid}`
      const excuse = staleExcuse(history.faults, copy.host, sample.atMs)
      if (excuse !== undefined) {
        nowExcused.set(key, excuse)
        continue
      }
      now.add(key)
      if (open.has(key)) continue
      const earlier = reason.startsWith('version ') && versionsSoFar(history, sample.atMs).has(`${copy.service} ${copy.specHash}`)
      // A copy a fault explained until now has the heal budget, as a doubled slot does: its host
      // must first be reached again, then learn of the change.
      const after = excused.get(key)
      const budgetMs = earlier ? rolloutBudgetMs : after !== undefined ? Math.max(conflictWindowMs, healBudgetMs) : conflictWindowMs
      open.set(key, { copy, fromMs: sample.atMs, reason, budgetMs, ...(after === undefined ? {} : { after }) })
    }
    for (const key of [...open.keys()]) if (!now.has(key)) close(key, sample.atMs)
    excused = nowExcused
  }
  const lastMs = history.samples.at(-1)?.atMs ?? 0
  for (const key of [...open.keys()]) close(key, lastMs)
  return anomalies
}

/** The sample as the simulator's invariants see a world: hosts are peers, copies are tasks. */
export function worldAt(history: History, sample: Sample): WorldState {
  const services = desiredAt(history, sample.atMs) ?? []
  const tasks: RunningTask[] = sample.copies.map((copy) => {
    const resources = services.find((spec) => spec.name === copy.service)?.resources
    return { peer: copy.host, slot: copy.slot, service: copy.service, specHash: copy.specHash, cpuMilli: resources?.cpuMilli ?? 0, memoryMiB: resources?.memoryMiB ?? 0 }
  })
  return {
    atMs: sample.atMs,
    peers: history.hosts.map((host) => ({ id: host.name, cpuMilli: host.cpuMilli, memoryMiB: host.memoryMiB })),
    tasks,
    services,
    done: new Set(),
    digests: new Map(),
    globalPeers: new Map(),
  }
}

/** noOvercommit in every sample, merged into one anomaly per run of samples with the same finding. */
function overcommits(history: History): Anomaly[] {
  const anomalies: Anomaly[] = []
  let open = new Map<string, { fromMs: number; violation: Violation }>()
  for (const sample of history.samples) {
    const next = new Map<string, { fromMs: number; violation: Violation }>()
    for (const violation of noOvercommit(worldAt(history, sample))) next.set(violation.detail, open.get(violation.detail) ?? { fromMs: sample.atMs, violation })
    for (const [detail, entry] of open) if (!next.has(detail)) anomalies.push(overcommitAnomaly(entry, sample.atMs))
    open = next
  }
  const lastMs = history.samples.at(-1)?.atMs ?? 0
  for (const entry of open.values()) anomalies.push(overcommitAnomaly(entry, lastMs))
  return anomalies
}

function overcommitAnomaly(entry: { fromMs: number; violation: Violation }, toMs: number): Anomaly {
  // The simulator's detail starts with the peer: here, the host's name.
  return { kind: 'overcommit', hosts: [entry.violation.detail.split(' ')[0]!], fromMs: entry.fromMs, toMs, detail: entry.violation.detail }
}

/** The simulator's liveness invariants, exactly, over the last sample. */
function finalState(history: History): Anomaly[] {
  const last = history.samples.at(-1)
  if (last === undefined) return []
  const world = worldAt(history, last)
  return [...everySlotOnce(world), ...onlyDesired(world), ...noOvercommit(world)].map((violation) => ({
    kind: 'final-state',
    hosts: [],
    fromMs: last.atMs,
    toMs: last.atMs,
    detail: `${violation.invariant}: ${violation.detail}`,
  }))
}

/**
 * Time from the fault until every slot `host` ran just before it ran on some other host — of those
 * still desired then: a slot scaled away meanwhile need not run anywhere.
 */
function failoverAfter(history: History, fault: FaultRecord, host: string): Failover {
  const samples = history.samples
  const before = samples.filter((sample) => sample.atMs < fault.fromMs).at(-1)
  const slots = [...new Set((before?.copies ?? []).filter((copy) => copy.host === host).map((copy) => copy.slot))].sort()
  for (const sample of samples) {
    if (sample.atMs < fault.fromMs) continue
    const desired = desiredSlots(desiredAt(history, sample.atMs) ?? [])
    const elsewhere = new Set(sample.copies.filter((copy) => copy.host !== host).map((copy) => copy.slot))
    if (slots.every((slot) => elsewhere.has(slot) || !desired.has(slot))) return { kind: fault.kind, host, fromMs: fault.fromMs, slots, ms: sample.atMs - fault.fromMs }
  }
  return { kind: fault.kind, host, fromMs: fault.fromMs, slots }
}
