// SWIM failure detection, as memberlist does it: each interval a peer probes two members, asks others
// to probe indirectly when a ping goes unanswered, suspects a member that stays silent, and declares
// a suspect dead when its suspicion expires. The member table and what a status change means for
// placement belong to the machine; this holds the probing state and decides when to accuse.

import { combine32, hash32 } from '../hash.js'
import type { PeerId } from '../placement/ids.js'
import type { Random } from '../random.js'
import type { MachineConfig } from './config.js'
import { ProbeRotation } from './probe-rotation.js'
import type { LinkTiming } from './link-timing.js'
import type { MemberTable } from './membership.js'
import type { MemberRecord, Message, MemberStatus } from './messages.js'

/** Peers that broadcast a "dead" verdict when a suspicion expires, besides those that raised it. */
const DEAD_WITNESSES = 3

interface Probe {
  target: PeerId
  seq: number
  sentAt: number
  indirectAt: number
  /** When the target is suspected if neither it nor a helper answered (see probeDeadlines). */
  suspectAt: number
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
  /** Each link's probe timeout and suspicion time, and where its round trips are recorded. */
  readonly links: Pick<LinkTiming, 'probeTimeoutMs' | 'suspicionMs' | 'sample' | 'siteOf' | 'kind'>
  send(to: PeerId, message: Message): void
  broadcast(message: Message): void
  /** Applies a member record this peer concluded (suspect, dead) as if it had been received. */
  apply(record: MemberRecord): void
  /** The desired-state digest pings and acks carry. */
  desiredDigest(): string
}

export class FailureDetector {
  private seq = 0
  /** The round-robin probe's turns: site-mates one by one, other sites as wholes (probe-rotation.ts). */
  private readonly rotation: ProbeRotation
  /** This interval's probes: the SWIM round-robin target and the ring successor. */
  private probes: Probe[] = []
  private successorCache: PeerId | undefined | null = null
  private nextProbeAt = 0
  private readonly relays = new Map<number, Relay>()
  private readonly suspects = new Set<PeerId>()
  private readonly suspectedByMe = new Set<PeerId>()

  constructor(private readonly host: DetectorHost) {
    this.rotation = new ProbeRotation({
      self: host.self,
      reachable: () => host.members.reachable(),
      probeable: (peer) => {
        const status = host.members.status(peer)
        return status === 'alive' || status === 'suspect'
      },
      siteOf: (peer) => host.links.siteOf(peer),
      shuffled: (items) => this.shuffled(items),
    })
  }

  start(now: number): void {
    this.nextProbeAt = now + this.host.config.probeIntervalMs * this.host.random.next()
  }

  /** The earliest time tick() has detection work to do. */
  nextWakeAt(): number {
    let at = this.nextProbeAt
    for (const probe of this.probes) {
      if (probe.acked) continue
      at = Math.min(at, probe.indirectSent ? probe.suspectAt : probe.indirectAt)
    }
    for (const peer of this.suspects) {
      const deadAt = this.host.members.deadAt(peer)
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
    if (wasIn !== isIn || record.status !== previous) this.successorCache = null
    if (isIn && !wasIn) {
      // As memberlist does: a new member joins the current probe pass at a random place, instead of
      // waiting for the next pass (N intervals away), so it is probed as often as everyone else.
      this.rotation.joined(record.peer, (choices) => this.host.random.int(choices))
    }
    if (record.status === 'suspect') {
      this.suspects.add(record.peer)
      this.host.members.setDeadline(record.peer, now + this.host.links.suspicionMs(record.peer))
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

  onAck(from: PeerId, seq: number, target: PeerId | undefined, now: number): void {
    const relay = this.relays.get(seq)
    if (relay !== undefined && relay.target === from) {
      this.relays.delete(seq)
      this.host.send(relay.requester, { kind: 'ack', seq: relay.seq, desired: this.host.desiredDigest(), updates: [], target: relay.target })
      return
    }
    const answered = this.probes.find((probe) => probe.seq === seq && (target === undefined ? from === probe.target : target === probe.target))
    if (answered === undefined) return
    // The target's own answer times its link; a helper's relayed one times two links and a detour.
    if (target === undefined && !answered.acked) this.host.links.sample(from, now - answered.sentAt)
    // An answer proves the target alive now, so an older probe of it still waiting (a slow link's
    // deadlines reach past the interval) is answered too.
    for (const probe of this.probes) if (probe.target === answered.target) probe.acked = true
  }

  /**
   * This peer's own timer came `stalledMs` late: its event loop was busy (a starved host, a long
   * garbage collection). Acks and refutations that arrived meanwhile are still queued behind this
   * tick, so probe and suspicion deadlines that passed during the stall say nothing about the others:
   * they move by the stall (Lifeguard's point that a slow member must not blame healthy ones). Ten
   * agents on one 2-core host, without this, declared each other dead in turns while placing work.
   */
  forgiveStall(stalledMs: number): void {
    for (const probe of this.probes) {
      if (probe.acked) continue
      probe.indirectAt += stalledMs
      probe.suspectAt += stalledMs
    }
    this.nextProbeAt += stalledMs
    for (const peer of this.suspects) this.host.members.postponeDeadline(peer, stalledMs)
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
    for (const probe of this.probes) if (!probe.acked && now >= probe.suspectAt) this.suspect(probe.target)
    this.probes = this.probes.filter((probe) => !probe.acked && now < probe.suspectAt)
    if (now < this.nextProbeAt) return
    const targets = new Set<PeerId>()
    const roundRobin = this.rotation.next()
    if (roundRobin !== undefined) targets.add(roundRobin)
    const successor = this.successor()
    if (successor !== undefined) targets.add(successor)
    for (const target of targets) {
      const seq = ++this.seq
      this.probes.push({ target, seq, sentAt: now, ...this.probeDeadlines(target, now), indirectSent: false, acked: false })
      this.host.send(target, { kind: 'ping', seq, desired: this.host.desiredDigest(), updates: members.piggyback(config.piggybackLimit) })
    }
    this.nextProbeAt = now + config.probeIntervalMs
  }

  /**
   * When a probe of `target` sent now asks helpers (its link's probe timeout) and when, unanswered,
   * it suspects the target. The profile's timeout leaves the rest of the interval for the helpers'
   * answers, and the target is suspected when the next interval begins, as SWIM does. A link whose
   * timeout is longer by d (a far site, a measured slow link) asks d later, and its helpers' answers
   * cross the same slow links, so its suspicion waits 2d past the interval: without it a probe of a
   * far host would end at the interval before any helper could answer.
   */
  private probeDeadlines(target: PeerId, now: number): { indirectAt: number; suspectAt: number } {
    const { config, links } = this.host
    const timeoutMs = links.probeTimeoutMs(target)
    const longerMs = Math.max(0, timeoutMs - config.probeTimeoutMs)
    return { indirectAt: now + timeoutMs, suspectAt: now + config.probeIntervalMs + 2 * longerMs }
  }

  /**
   * The next reachable peer after this one in peer-id order (wrapping): the peer this one monitors.
   *
   * A host with a site monitors the next host *of its site* while it has a reachable site-mate: the
   * sites' rings are closed, so every host is monitored by a site-mate over the LAN, with the lan
   * probe timeout, and found dead after the lan suspicion. On the one ring of all hosts a host's
   * monitor was often in another site, whose probe waits the wan timeout (link-timing.ts): a host
   * dying inside a site was suspected 1.5 s after its death instead of 0.5–1 s, and replaced past
   * the 3 s budget. A host alone in its site, or with no site, monitors on the ring of all hosts.
   *
   * A suspect of another site is passed over: it stays suspect for the wan suspicion time, and a
   * whole far site cut off stays so for seconds, during which the members after it on the ring
   * would have no monitor (a host death inside a site during a cut took 2.2 s to be suspected).
   */
  private successor(): PeerId | undefined {
    if (this.successorCache !== null) return this.successorCache
    const { members, links, self } = this.host
    const site = links.siteOf(self)
    const reachable = members.reachable()
    const ring = site === undefined ? reachable : reachable.filter((peer) => links.siteOf(peer) === site)
    let next: PeerId | undefined
    let first: PeerId | undefined
    for (const peer of ring.length > 0 ? ring : reachable) {
      if (members.status(peer) === 'suspect' && links.kind(peer) === 'other-site') continue
      if (first === undefined || peer < first) first = peer
      if (peer > self && (next === undefined || peer < next)) next = peer
    }
    // Sites come with adverts, after the member records: a host with a site looks again each time.
    if (site === undefined) this.successorCache = next ?? first
    return next ?? first
  }

  private suspect(peer: PeerId): void {
    const known = this.host.members.record(peer)
    if (known === undefined || known.status !== 'alive') return
    const record: MemberRecord = { peer, incarnation: known.incarnation, status: 'suspect' }
    this.suspectedByMe.add(peer)
    this.host.apply(record)
    this.host.broadcast({ kind: 'member', record })
  }

  private expireSuspicions(now: number): void {
    for (const peer of [...this.suspects]) {
      const known = this.host.members.record(peer)
      if (known === undefined || known.status !== 'suspect') {
        this.suspects.delete(peer)
        continue
      }
      const deadAt = this.host.members.deadAt(peer)
      if (deadAt === undefined || deadAt > now) continue
      const record: MemberRecord = { peer, incarnation: known.incarnation, status: 'dead' }
      const announce = this.suspectedByMe.has(peer) || this.isWitness(peer)
      this.host.apply(record)
      // Everyone marks the peer dead at its own deadline; only a few announce it, so one death does
      // not cost N broadcasts. Peers that missed the suspicion learn it from them.
      if (announce) this.host.broadcast({ kind: 'member', record })
    }
  }

  /**
   * Whether this peer is one of the few that announce `peer`'s death. The member's site-mates come
   * first: they decide after the lan suspicion while hosts of other sites wait the wan one
   * (link-timing.ts), so their word is what brings the verdict to the far sites in lan time.
   */
  private isWitness(peer: PeerId): boolean {
    const target = hash32(peer)
    const self = this.host.self
    const site = this.host.links.siteOf(peer)
    const mate = (p: PeerId): number => (site !== undefined && this.host.links.siteOf(p) === site ? 1 : 0)
    const ranked = this.host.members.reachable().concat(self)
      .filter((p) => p !== peer)
      .map((p) => ({ p, m: mate(p), w: combine32(target, hash32(p)) }))
      .sort((a, b) => b.m - a.m || b.w - a.w || (a.p < b.p ? -1 : 1))
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
