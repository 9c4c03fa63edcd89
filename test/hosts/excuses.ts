// Which faults explain what the checker sees. Some copies are the design working, not a bug:
//
// - During a partition every side runs every slot (`partition: serve`, the default): two hosts that
//   cannot reach each other may both run a slot until the partition heals.
// - A paused agent (SIGSTOP) or a killed one (its tasks run on as orphans) cannot stop what it runs,
//   while the others, rightly, declare it dead and replace its slots.
// - Those same hosts cannot learn of a write made meanwhile, so they may go on running a version or
//   a replica that is no longer desired.
// - A one-way drop (A's packets to B lost, B's to A delivered) is a partition of that pair: no TCP
//   connection works in one direction only, and each side's probes of the other go unanswered
//   directly, so the two may both run a slot until it ends, as two sides of a partition may.
// - An offline reboot is a crash inside an isolation: what the rebooted host restarts from its disk
//   after its rejoin limit is explained by the partition, not by the crash.
//
// A crash explains neither: a host that lost power runs nothing, so any copy on it was started by
// its agent after the restart. Loss on a link explains nothing either: the agents are meant to ride
// it out. Nor does a full disk: the agent keeps what it runs and takes nothing new, so it should
// neither double nor drop a slot. Once a fault ends, the agents get a budget of their own to converge (the checker's).

import type { FaultRecord } from './history.js'

function isOn(fault: FaultRecord, atMs: number): boolean {
  return fault.fromMs <= atMs && (fault.toMs === undefined || atMs < fault.toMs)
}

/** Whether the host's agent is cut off from the cluster by `fault` at `atMs`. */
function cutsOff(fault: FaultRecord, host: string, atMs: number): boolean {
  if (!isOn(fault, atMs)) return false
  if (fault.kind === 'pause' || fault.kind === 'kill') return fault.hosts.includes(host)
  if (fault.kind === 'partition' || fault.kind === 'one-way') return (fault.separated ?? []).some(([a, b]) => a === host || b === host)
  return false
}

/** The fault that explains a slot running on all of `hosts` at once at `atMs`, if one does. */
export function duplicateExcuse(faults: readonly FaultRecord[], hosts: readonly string[], atMs: number): FaultRecord | undefined {
  return faults.find((fault) => {
    if (!isOn(fault, atMs)) return false
    if (fault.kind === 'pause' || fault.kind === 'kill') return hosts.some((host) => fault.hosts.includes(host))
    if (fault.kind === 'partition' || fault.kind === 'one-way') return (fault.separated ?? []).some(([a, b]) => hosts.includes(a) && hosts.includes(b))
    return false
  })
}

/** Whether a copy on `host` that is no longer desired may be there because the host could not learn so. */
export function staleExcused(faults: readonly FaultRecord[], host: string, atMs: number): boolean {
  return staleExcuse(faults, host, atMs) !== undefined
}

/** The fault that kept `host` from learning of a change at `atMs`, if one did. */
export function staleExcuse(faults: readonly FaultRecord[], host: string, atMs: number): FaultRecord | undefined {
  return faults.find((fault) => cutsOff(fault, host, atMs))
}

/** Whether any fault (of any kind) involving `host` was on at some time within [fromMs, toMs]. */
export function touched(faults: readonly FaultRecord[], host: string, fromMs: number, toMs: number): boolean {
  return faults.some((fault) => fault.hosts.includes(host) && fault.fromMs <= toMs && (fault.toMs ?? Infinity) >= fromMs)
}

/** Whether `host` is cut off from some other host by a partition or a one-way drop at `atMs`. */
export function isolatedAt(faults: readonly FaultRecord[], host: string, atMs: number): boolean {
  return faults.some((fault) => (fault.kind === 'partition' || fault.kind === 'one-way') && isOn(fault, atMs) && cutsOff(fault, host, atMs))
}
