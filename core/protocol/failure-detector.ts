// SWIM failure detection, as memberlist does it: each interval a peer probes two members, asks others
// to probe indirectly when a ping goes unanswered, suspects a member that stays silent, and declares
// a suspect dead when its suspicion expires. The member table and what a status change means for
// placement belong to the machine; this holds the probing state and decides when to accuse.

import { combine32, hash32 } from '../hash.js'
import type { PeerId } from '../placement/ids.js'
import type { Random } from '../random.js'
import { suspicionTimeoutMs, type MachineConfig } from './config.js'
import type { MemberTable } from './membership.js'
import type { MemberRecord, Message, MemberStatus } from './messages.js'

/** Peers that broadcast a "dead" verdict when a suspicion expires, besides those that raised it. */
const DEAD_WITNESSES = 3

interface Probe {
  target: PeerId
  seq: number
  indirectAt: number
  indirectSent: boolean
  acked: boolean
}

interface Relay {
  requester: PeerId
  seq: number
  target: PeerId
  expiresAt: number
}

/** What the detector needs from the machine around it. */
export interface DetectorHost {
  readonly self: PeerId
  readonly config: MachineConfig
  readonly random: Random
  readonly members: MemberTable
  send(to: PeerId, message: Message): void
  broadcast(message: Message): void
  /** Applies a member record this peer concluded (suspect, dead) as if it had been received. */
  apply(record: MemberRecord): void
  /** The desired-state digest pings and acks carry. */
  desiredDigest(): string
}

export class FailureDetector {
  private seq = 0
  private probeOrder: PeerId[] = []
  private probeIndex = 0
  /** This interval's probes: the SWIM round-robin target and the ring successor. */
  private probes: Probe[] = []
  private successorCache: PeerId | undefined | null = null
  private nextProbeAt = 0
  private readonly relays = new Map<number, Relay>()
  private readonly suspects = new Set<PeerId>()
  private readonly suspectedByMe = new Set<PeerId>()

  constructor(private readonly host: DetectorHost) {}

  start(now: number): void {
    this.nextProbeAt = now + this.host.config.probeIntervalMs * this.host.random.next()
  }

  /** The earliest time tick() has detection work to do. */
  nextWakeAt(): number {
    let at = this.nextProbeAt
    for (const probe of this.probes) if (!probe.acked && !probe.indirectSent) at = Math.min(at, probe.indirectAt)
    for (const peer of this.suspects) {
      const deadAt = this.host.members.get(peer)?.deadAt
      if (deadAt !== undefined) at = Math.min(at, deadAt)
    }
    return at
  }

  tick(now: number): void {
    this.runProbes(now)
    this.expireSuspicions(now)
    for (const [seq, relay] of this.relays) if (relay.expiresAt <= now) this.relays.delete(seq)
  }

  /** A member's status changed (`previous` is undefined for a new member). */
  memberChanged(record: MemberRecord, previous: MemberStatus | undefined, now: number): void {
    const wasIn = previous === 'alive' || previous === 'suspect'
    const isIn = record.status === 'alive' || record.status === 'suspect'
    if (wasIn !== isIn) this.successorCache = null
    if (isIn && !wasIn) {
      // As memberlist does: a new member joins the current probe pass at a random place, instead of
      // waiting for the next pass (N intervals away), so it is probed as often as everyone else.
      const at = this.probeIndex + this.host.random.int(this.probeOrder.length - this.probeIndex + 1)
      this.probeOrder.splice(at, 0, record.peer)
    }
    if (record.status === 'suspect') {
      this.suspects.add(record.peer)
      this.host.members.setDeadline(record.peer, now + suspicionTimeoutMs(this.host.config))
    } else {
      this.suspects.delete(record.peer)
      this.suspectedByMe.delete(record.peer)
    }
  }

  /** Another peer asks us to probe `target` for it (indirect probe). */
  onPingReq(from: PeerId, message: Extract<Message, { kind: 'ping-req' }>, now: number): void {
    const seq = ++this.seq
    this.relays.set(seq, { requester: from, seq: message.seq, target: message.target, expiresAt: now + this.host.config.probeIntervalMs })
    this.host.send(message.target, { kind: 'ping', seq, desired: this.host.desiredDigest(), updates: [] })
  }

  onAck(from: PeerId, seq: number, target: PeerId | undefined): void {
    const relay = this.relays.get(seq)
    if (relay !== undefined && relay.target === from) {
      this.relays.delete(seq)
      this.host.send(relay.requester, { kind: 'ack', seq: relay.seq, desired: this.host.desiredDigest(), updates: [], target: relay.target })
      return
    }
    for (const probe of this.probes) {
      if (probe.seq === seq && (target === undefined ? from === probe.target : target === probe.target)) {
        probe.acked = true
      }
    }
  }

  /**
   * This peer's own timer came `stalledMs` late: its event loop was busy (a starved host, a long
   * garbage collection). Acks and refutations that arrived meanwhile are still queued behind this
   * tick, so probe and suspicion deadlines that passed during the stall say nothing about the others:
   * they move by the stall (Lifeguard's point that a slow member must not blame healthy ones). Ten
   * agents on one 2-core host, without this, declared each other dead in turns while placing work.
   */
  forgiveStall(stalledMs: number): void {
    for (const probe of this.probes) if (!probe.acked) probe.indirectAt += stalledMs
    this.nextProbeAt += stalledMs
    for (const peer of this.suspects) {
      const member = this.host.members.get(peer)
      if (member?.deadAt !== undefined) member.deadAt += stalledMs
    }
  }

  /**
   * Each interval a peer probes two members: the next of its shuffled round-robin (SWIM: every pair is
   * checked eventually, and gossip spreads what is found) and its successor on the ring of peer ids.
   * Random probing alone leaves the wait until a dead peer is first probed roughly exponential (p99
   * about four intervals); with the successor probe every peer is probed at least once per interval,
   * which bounds detection — and so failover — at one interval plus the probe timeout.
   */
  private runProbes(now: number): void {
    const { config, members } = this.host
    for (const probe of this.probes) {
      if (probe.acked || probe.indirectSent || now < probe.indirectAt) continue
      probe.indirectSent = true
      const helpers = this.shuffled(members.reachable().filter((p) => p !== probe.target)).slice(0, config.indirectChecks)
      for (const helper of helpers) this.host.send(helper, { kind: 'ping-req', seq: probe.seq, target: probe.target })
    }
    if (now < this.nextProbeAt) return
    for (const probe of this.probes) if (!probe.acked) this.suspect(probe.target)
    this.probes = []
    const targets = new Set<PeerId>()
    const roundRobin = this.nextProbeTarget()
    if (roundRobin !== undefined) targets.add(roundRobin)
    const successor = this.successor()
    if (successor !== undefined) targets.add(successor)
    for (const target of targets) {
      const seq = ++this.seq
      this.probes.push({ target, seq, indirectAt: now + config.probeTimeoutMs, indirectSent: false, acked: false })
      this.host.send(target, { kind: 'ping', seq, desired: this.host.desiredDigest(), updates: members.piggyback(config.piggybackLimit) })
    }
    this.nextProbeAt = now + config.probeIntervalMs
  }

  /** The next reachable peer after this one in peer-id order (wrapping): the peer this one monitors. */
  private successor(): PeerId | undefined {
    if (this.successorCache !== null) return this.successorCache
    let next: PeerId | undefined
    let first: PeerId | undefined
    for (const peer of this.host.members.reachable()) {
      if (first === undefined || peer < first) first = peer
      if (peer > this.host.self && (next === undefined || peer < next)) next = peer
    }
    this.successorCache = next ?? first
    return this.successorCache
  }

  /** Round-robin over a shuffled list, reshuffled each pass (SWIM's bounded detection time). */
  private nextProbeTarget(): PeerId | undefined {
    for (let attempts = 0; attempts < 2; attempts++) {
      while (this.probeIndex < this.probeOrder.length) {
        const peer = this.probeOrder[this.probeIndex++]!
        const status = this.host.members.status(peer)
        if (status === 'alive' || status === 'suspect') return peer
      }
      this.probeOrder = this.shuffled(this.host.members.reachable())
      this.probeIndex = 0
      if (this.probeOrder.length === 0) return undefined
    }
    return undefined
  }

  private suspect(peer: PeerId): void {
    const member = this.host.members.get(peer)
    if (member === undefined || member.record.status !== 'alive') return
    const record: MemberRecord = { peer, incarnation: member.record.incarnation, status: 'suspect' }
    this.suspectedByMe.add(peer)
    this.host.apply(record)
    this.host.broadcast({ kind: 'member', record })
  }

  private expireSuspicions(now: number): void {
    for (const peer of [...this.suspects]) {
      const member = this.host.members.get(peer)
      if (member === undefined || member.record.status !== 'suspect') {
        this.suspects.delete(peer)
        continue
      }
      if (member.deadAt === undefined || member.deadAt > now) continue
      const record: MemberRecord = { peer, incarnation: member.record.incarnation, status: 'dead' }
      const announce = this.suspectedByMe.has(peer) || this.isWitness(peer)
      this.host.apply(record)
      // Everyone marks the peer dead at its own deadline; only a few announce it, so one death does
      // not cost N broadcasts. Peers that missed the suspicion learn it from them.
      if (announce) this.host.broadcast({ kind: 'member', record })
    }
  }

  private isWitness(peer: PeerId): boolean {
    const target = hash32(peer)
    const self = this.host.self
    const ranked = this.host.members.reachable().concat(self)
      .filter((p) => p !== peer)
      .map((p) => ({ p, w: combine32(target, hash32(p)) }))
      .sort((a, b) => b.w - a.w || (a.p < b.p ? -1 : 1))
    return ranked.slice(0, DEAD_WITNESSES).some((r) => r.p === self)
  }

  private shuffled<T>(items: T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.host.random.int(i + 1)
      ;[out[i], out[j]] = [out[j]!, out[i]!]
    }
    return out
  }
}
