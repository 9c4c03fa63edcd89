// The failure detector on per-link timing (failure-detector.ts with link-timing.ts): which timeout a
// probe waits, when an unanswered probe of a far host suspects it, which round trips are recorded,
// how long each kind of member stays suspect, and whom a host with a site monitors. One detector
// over a real member table, driven tick by tick; the cluster-wide proof is test/sim/link-timing.test.ts.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defaultConfig, LinkTiming, MemberTable, seededRandom, suspicionTimeoutMs, type MachineConfig, type MemberRecord, type Message, type PeerId } from '../../../core/index.js'
import { FailureDetector } from '../../../core/protocol/failure-detector.js'
import { p } from './harness.js'

const LAN = defaultConfig(10, 'lan')
const WAN = defaultConfig(10, 'wan')

interface Sent { readonly at: number; readonly to: PeerId | 'all'; readonly message: Message }

/** A detector for `self` (site = its first letter) that knows `peers` as alive; sites are first letters too. */
function detector(self: string, peers: readonly string[], config: MachineConfig = LAN) {
  const members = new MemberTable(p(self))
  const sent: Sent[] = []
  let now = 0
  const siteOf = (peer: PeerId): string | undefined => peer[0]
  const links = new LinkTiming({ self: p(self), config, selfSite: self[0], siteOf })
  const host = {
    self: p(self), config, random: seededRandom(7), members, links,
    send: (to: PeerId, message: Message) => sent.push({ at: now, to, message }),
    broadcast: (message: Message) => sent.push({ at: now, to: 'all', message }),
    apply: (record: MemberRecord) => {
      const previous = members.apply(record, 1)
      if (previous !== null) fd.memberChanged(record, previous, now)
    },
    desiredDigest: () => 'd',
  }
  const fd: FailureDetector = new FailureDetector(host)
  for (const peer of peers) host.apply({ peer: p(peer), incarnation: 1, status: 'alive' })
  fd.start(0)
  /** Ticks at every wake until `until`; `answer` says which pings are acked, after how long. */
  const runUntil = (until: number, answer: (to: PeerId) => number | undefined = () => undefined) => {
    const acks: Array<{ at: number; from: PeerId; seq: number }> = []
    for (;;) {
      const next = Math.min(fd.nextWakeAt(), ...acks.map((a) => a.at))
      if (next > until) break
      now = next
      for (const ack of acks.filter((a) => a.at <= now)) {
        acks.splice(acks.indexOf(ack), 1)
        fd.onAck(ack.from, ack.seq, undefined, now)
      }
      const before = sent.length
      fd.tick(now)
      for (const out of sent.slice(before)) {
        if (out.to === 'all' || out.message.kind !== 'ping') continue
        const after = answer(out.to)
        if (after !== undefined) acks.push({ at: now + after, from: out.to, seq: out.message.seq })
      }
    }
    now = until
  }
  const suspected = (peer: string) => sent.filter((s) => s.to === 'all' && s.message.kind === 'member' && s.message.record.peer === peer && s.message.record.status === 'suspect')
  return { fd, members, links, sent, runUntil, suspected }
}

const probes = suite('detector on per-link timing: probes')

probes('an unanswered probe of a far host asks helpers after the wan timeout, and suspects it 2d after the interval', () => {
  const d = detector('a0', ['a1', 'b0', 'b1'])
  d.runUntil(10_000)
  const ping = d.sent.find((s) => s.to === 'b0' && s.message.kind === 'ping')!
  assert.ok(ping !== undefined, 'b0 was probed')
  const asked = d.sent.find((s) => s.message.kind === 'ping-req' && s.message.target === 'b0')!
  assert.is(asked.at - ping.at, WAN.probeTimeoutMs, 'helpers asked after the wan probe timeout')
  const longerMs = WAN.probeTimeoutMs - LAN.probeTimeoutMs
  assert.is(d.suspected('b0')[0]!.at - ping.at, LAN.probeIntervalMs + 2 * longerMs, 'suspected 2d after the interval, not at its end')
})

probes('an unanswered probe of a site-mate asks helpers after the lan timeout and suspects it when the interval ends', () => {
  const d = detector('a0', ['a1', 'b0'])
  d.runUntil(2_000)
  const ping = d.sent.find((s) => s.to === 'a1' && s.message.kind === 'ping')!
  const asked = d.sent.find((s) => s.message.kind === 'ping-req' && s.message.target === 'a1')!
  assert.is(asked.at - ping.at, LAN.probeTimeoutMs)
  assert.is(d.suspected('a1')[0]!.at - ping.at, LAN.probeIntervalMs)
})

probes('a far host answering after 700 ms is not suspected: its probe waits past the interval\'s end', () => {
  const d = detector('a0', ['a1', 'b0'])
  d.runUntil(20_000, (to) => (to === 'b0' ? 700 : 1))
  assert.equal(d.suspected('b0'), [])
  assert.equal(d.suspected('a1'), [])
})

probes('the target\'s own ack times its link; an ack relayed by a helper does not', () => {
  const d = detector('a0', ['a1', 'b0'])
  d.runUntil(20_000, (to) => (to === 'b0' ? 300 : undefined))
  assert.is(d.links.estimate(p('b0'))!.smoothedMs, 300)
  // a1 never answers itself; an ack for it relayed by b0 proves it alive but times no link of a1's.
  const ping = [...d.sent].reverse().find((s) => s.to === 'a1' && s.message.kind === 'ping')!
  if (ping.message.kind === 'ping') d.fd.onAck(p('b0'), ping.message.seq, p('a1'), ping.at + 50)
  assert.is(d.links.estimate(p('a1')), undefined)
})

probes.run()

const suspicion = suite('detector on per-link timing: suspicion')

suspicion('a suspected site-mate is declared dead after the lan suspicion, a far host after the wan one', () => {
  const d = detector('a0', ['a1', 'b0'])
  d.runUntil(100)
  for (const peer of ['a1', 'b0']) d.fd.memberChanged({ peer: p(peer), incarnation: 1, status: 'suspect' }, 'alive', 100)
  assert.is(d.members.deadAt(p('a1')), 100 + suspicionTimeoutMs(LAN))
  assert.is(d.members.deadAt(p('b0')), 100 + suspicionTimeoutMs({ probeIntervalMs: LAN.probeIntervalMs, replaceAfterMs: WAN.replaceAfterMs }))
})

/** Whether `self` broadcasts the verdict when a suspicion of a0 (raised by another peer) expires. */
function announcesDeathOfA0(self: string, config: MachineConfig): boolean {
  const far = Array.from({ length: 12 }, (_, i) => `b${i}`)
  const d = detector(self, ['a0', 'a1', 'a2', 'a3', ...far].filter((peer) => peer !== self), config)
  d.runUntil(100, () => 1)
  d.fd.memberChanged({ peer: p('a0'), incarnation: 1, status: 'suspect' }, 'alive', 100)
  d.members.apply({ peer: p('a0'), incarnation: 1, status: 'suspect' }, 1)
  d.runUntil(20_000, (to) => (to === 'a0' ? undefined : 1))
  return d.sent.some((s) => s.to === 'all' && s.message.kind === 'member' && s.message.record.peer === 'a0' && s.message.record.status === 'dead')
}

suspicion('a dead host\'s site-mates are the ones that announce its verdict, so far sites hear it in lan time', () => {
  assert.equal(['a1', 'a2', 'a3'].map((self) => announcesDeathOfA0(self, LAN)), [true, true, true])
  // On the ring of all hosts (no link profiles) the three witnesses are drawn from all fifteen.
  const { links: _, ...flat } = LAN
  assert.ok(['a1', 'a2', 'a3'].some((self) => !announcesDeathOfA0(self, flat)), 'without sites the site-mates are not all witnesses')
})

suspicion.run()

const monitor = suite('detector on per-link timing: whom a host monitors')

/** The peers pinged in every probe interval from `from` to `until`. */
function pingedEveryInterval(d: ReturnType<typeof detector>, from: number, until: number): string[] {
  const intervals: Array<Set<string>> = []
  for (let start = from; start < until; start += LAN.probeIntervalMs) {
    intervals.push(new Set(d.sent.filter((s) => s.message.kind === 'ping' && s.at >= start && s.at < start + LAN.probeIntervalMs).map((s) => s.to as string)))
  }
  return [...intervals[0]!].filter((peer) => intervals.every((pinged) => pinged.has(peer)))
}

monitor('a host with a site probes the next host of its own site every interval, wrapping within the site', () => {
  const d = detector('a2', ['a0', 'a1', 'b0', 'b1'])
  d.runUntil(10_000, () => 1)
  assert.equal(pingedEveryInterval(d, 1_000, 10_000), ['a0'])
})

monitor('without link profiles it monitors on the ring of all hosts, as before', () => {
  const { links: _, ...flat } = LAN
  const d = detector('a2', ['a0', 'a1', 'b0', 'b1'], flat)
  d.runUntil(10_000, () => 1)
  assert.equal(pingedEveryInterval(d, 1_000, 10_000), ['b0'])
})

monitor('a host alone in its site monitors on the ring of all hosts', () => {
  const d = detector('c0', ['a0', 'b0'])
  d.runUntil(10_000, () => 1)
  assert.equal(pingedEveryInterval(d, 1_000, 10_000), ['a0'])
})

monitor.run()
