// Named invariants, each a separate checker over the simulated world's ground truth (what really
// runs where), not over what any peer believes. A violation names the invariant, the time and the
// detail; the runner adds `reproduce with --seed=…`.

import { feasible, placementRequest, type PeerView, type ServiceSpec } from '../core/index.js'

export interface Violation {
  readonly invariant: string
  readonly atMs: number
  readonly detail: string
}

/** A task as it really runs in the simulated world. */
export interface RunningTask {
  readonly peer: string
  readonly slot: string
  readonly service: string
  readonly specHash: string
  readonly cpuMilli: number
  readonly memoryMiB: number
  /** Extended resources the task holds (gpu: 1); absent: none. */
  readonly extended?: Readonly<Record<string, number>>
}

/** A live peer's capacity as the invariants read it. */
export interface WorldPeer {
  readonly id: string
  readonly cpuMilli: number
  readonly memoryMiB: number
  /** Extended resources it has (gpu: 8); absent: none. */
  readonly extended?: Readonly<Record<string, number>>
}

export interface WorldState {
  readonly atMs: number
  /** Live peers with their capacity. */
  readonly peers: readonly WorldPeer[]
  readonly tasks: readonly RunningTask[]
  /** The desired state as the majority of live peers hold it (the one they converge to). */
  readonly services: readonly ServiceSpec[]
  /** Slots already done for good (completed jobs), keyed `${slot}#${specHash}`. */
  readonly done: ReadonlySet<string>
  /** Each live peer's desired-state digest. */
  readonly digests: ReadonlyMap<string, string>
  /** Live peers on which each global service's constraints hold, by service. */
  readonly globalPeers: ReadonlyMap<string, readonly string[]>
  /**
   * Live peers as they really are (capacity, labels, what runs), to tell a slot the protocol failed to
   * place from one no peer can take (pending, which `peer why` explains). Absent: every missing slot counts.
   */
  readonly liveViews?: readonly PeerView[]
  /**
   * Members of the cluster, live or dead (none leaves gracefully in a run): a `partition: majority`
   * slot runs only where a strict majority of them is live. Absent: such slots count like any other.
   */
  readonly memberCount?: number
}

/** Safety, checked throughout: no peer runs more than its capacity, in cpu, memory or any extended resource. */
export function noOvercommit(world: WorldState): Violation[] {
  const used = new Map<string, { cpu: number; memory: number; extended: Map<string, number> }>()
  for (const task of world.tasks) {
    let entry = used.get(task.peer)
    if (entry === undefined) used.set(task.peer, (entry = { cpu: 0, memory: 0, extended: new Map() }))
    entry.cpu += task.cpuMilli
    entry.memory += task.memoryMiB
    for (const name in task.extended) entry.extended.set(name, (entry.extended.get(name) ?? 0) + task.extended[name]!)
  }
  const out: Violation[] = []
  for (const peer of world.peers) {
    const entry = used.get(peer.id)
    if (entry === undefined) continue
    if (entry.cpu > peer.cpuMilli || entry.memory > peer.memoryMiB) {
      out.push({ invariant: 'no-overcommit', atMs: world.atMs, detail: `${peer.id} runs ${entry.cpu}m/${entry.memory}Mi on ${peer.cpuMilli}m/${peer.memoryMiB}Mi` })
    }
    for (const name of [...entry.extended.keys()].sort()) {
      const have = peer.extended?.[name] ?? 0
      const held = entry.extended.get(name)!
      if (held > have) out.push({ invariant: 'no-overcommit', atMs: world.atMs, detail: `${peer.id} runs ${held} ${name} on ${have}` })
    }
  }
  return out
}

export const AT_MOST_ONE_MAJORITY_COPY = 'at-most-one-majority-copy'

/**
 * Safety, checked throughout: a slot of a `partition: majority` service never runs on two peers at
 * once — not during a partition, not at its heal, not during a failover (core/protocol/partition-quorum.ts).
 * The runner also checks it at every task start (sim/copies.ts), so a duplicate shorter than the
 * sampling interval is caught too.
 */
export function atMostOneMajorityCopy(world: WorldState): Violation[] {
  const majority = new Set(world.services.filter((spec) => spec.partition === 'majority' && spec.mode !== 'global').map((spec) => spec.name as string))
  if (majority.size === 0) return []
  const holders = new Map<string, string[]>()
  for (const task of world.tasks) {
    if (!majority.has(task.service)) continue
    const list = holders.get(task.slot)
    if (list === undefined) holders.set(task.slot, [task.peer])
    else list.push(task.peer)
  }
  const out: Violation[] = []
  for (const [slot, peers] of holders) {
    if (peers.length > 1) out.push({ invariant: AT_MOST_ONE_MAJORITY_COPY, atMs: world.atMs, detail: `${slot} runs on ${peers.sort().join(', ')}` })
  }
  return out
}

/** Liveness, after heal and a convergence window: every desired slot runs exactly once. */
export function everySlotOnce(world: WorldState): Violation[] {
  const bySlot = new Map<string, RunningTask[]>()
  for (const task of world.tasks) {
    const list = bySlot.get(task.slot)
    if (list === undefined) bySlot.set(task.slot, [task])
    else list.push(task)
  }
  const out: Violation[] = []
  for (const spec of world.services) {
    const hash = placementRequest(spec).specHash
    const slots = spec.mode === 'global'
      ? (world.globalPeers.get(spec.name) ?? []).map((peer) => `${spec.name}@${peer}`)
      : Array.from({ length: spec.replicas }, (_, i) => `${spec.name}/${i}`)
    for (const slot of slots) {
      if (world.done.has(`${slot}#${hash}`)) continue
      const running = bySlot.get(slot) ?? []
      if (running.length === 0 && couldRunSomewhere(world, spec)) out.push({ invariant: 'every-slot-once', atMs: world.atMs, detail: `${slot} is not running` })
      else if (running.length > 1) out.push({ invariant: 'every-slot-once', atMs: world.atMs, detail: `${slot} runs ${running.length} times (${running.map((t) => t.peer).join(', ')})` })
    }
  }
  return out
}

function couldRunSomewhere(world: WorldState, spec: ServiceSpec): boolean {
  if (spec.partition === 'majority' && spec.mode !== 'global' && world.memberCount !== undefined && 2 * world.peers.length <= world.memberCount) return false
  if (world.liveViews === undefined || spec.mode === 'global') return true
  const want = placementRequest(spec)
  return world.liveViews.some((peer) => feasible(peer, want).ok)
}

/** Liveness: no task runs for a service or version that is no longer desired. */
export function onlyDesired(world: WorldState): Violation[] {
  const hashes = new Map(world.services.map((spec) => [spec.name as string, placementRequest(spec).specHash]))
  const replicas = new Map(world.services.map((spec) => [spec.name as string, spec]))
  const out: Violation[] = []
  for (const task of world.tasks) {
    const hash = hashes.get(task.service)
    if (hash === undefined) {
      out.push({ invariant: 'only-desired', atMs: world.atMs, detail: `${task.slot} on ${task.peer}: service ${task.service} is not desired` })
    } else if (hash !== task.specHash) {
      out.push({ invariant: 'only-desired', atMs: world.atMs, detail: `${task.slot} on ${task.peer} runs version ${task.specHash}, desired ${hash}` })
    } else {
      const spec = replicas.get(task.service)!
      const index = Number(task.slot.slice(task.slot.lastIndexOf('/') + 1))
      if (spec.mode !== 'global' && !(index < spec.replicas)) {
        out.push({ invariant: 'only-desired', atMs: world.atMs, detail: `${task.slot} on ${task.peer}: beyond ${spec.replicas} replicas` })
      }
    }
  }
  return out
}

/** Liveness: every live peer holds the same desired state. */
export function desiredIdentical(world: WorldState): Violation[] {
  const digests = new Set(world.digests.values())
  if (digests.size <= 1) return []
  const counts = new Map<string, number>()
  for (const digest of world.digests.values()) counts.set(digest, (counts.get(digest) ?? 0) + 1)
  return [{ invariant: 'desired-identical', atMs: world.atMs, detail: `${digests.size} different desired states among ${world.digests.size} live peers (${[...counts.values()].join('/')})` }]
}

export const SAFETY_INVARIANTS = [noOvercommit, atMostOneMajorityCopy] as const
export const LIVENESS_INVARIANTS = [everySlotOnce, onlyDesired, desiredIdentical] as const
