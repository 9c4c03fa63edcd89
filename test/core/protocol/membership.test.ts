// Membership (SWIM) through the machine's inputs and outputs: joining, failure detection, refutation,
// indirect probes, graceful leave, restarts and the reconnect that heals partitions.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { suspicionTimeoutMs, type MemberRecord, type MemberStatus, type Message } from '../../../core/index.js'
import { Cluster, makeMachine, p } from './harness.js'

/** A cluster whose membership has settled (everyone knows everyone as alive). */
function settled(peers: number, seed = 1): Cluster {
  const cluster = new Cluster({ peers, seed })
  cluster.startAll()
  cluster.runUntil(3_000)
  assert.ok(cluster.converged(), 'membership settles within 3 s')
  return cluster
}

/** When `observer` first held `target` in each status, watched after every event until `until`. */
function statusTimes(cluster: Cluster, observer: string, target: string, until: number): Map<MemberStatus, number> {
  const first = new Map<MemberStatus, number>()
  cluster.runObserving(() => {
    const status = cluster.record(observer, target)?.status
    if (status !== undefined && !first.has(status)) first.set(status, cluster.now)
  }, until)
  return first
}

// ---------------------------------------------------------------------------------------------------

const Join = suite('membership: joining')

Join('start broadcasts an alive member record and the advert, and sends a digest to each seed but itself', () => {
  const machine = makeMachine({ self: 'p0', incarnation: 7, seeds: [p('p1'), p('p2'), p('p0')] })
  const outputs = machine.start(100)
  const broadcasts = outputs.flatMap((o) => (o.kind === 'broadcast' ? [o.message] : []))
  assert.equal(
    broadcasts.filter((m) => m.kind === 'member').map((m) => (m.kind === 'member' ? m.record : undefined)),
    [{ peer: 'p0', incarnation: 7, status: 'alive' }],
  )
  const advert = broadcasts.find((m) => m.kind === 'advert')
  assert.ok(advert !== undefined && advert.kind === 'advert' && advert.advert.peer === 'p0' && advert.advert.incarnation === 7)
  const digests = outputs.flatMap((o) => (o.kind === 'send' && o.message.kind === 'digest' ? [{ to: o.to, message: o.message }] : []))
  assert.equal(digests.map((d) => d.to), ['p1', 'p2'])
  for (const { message } of digests) {
    assert.ok(message.kind === 'digest')
    assert.is(message.reply, false, 'a join digest asks for an answer')
    // A joiner's full digest is smaller than a summary: it sends that, and the seed answers at once.
    assert.is(message.covers, undefined, 'a full digest')
    assert.is(message.root, undefined)
    assert.ok(message.members.some(([peer, inc, status]) => peer === 'p0' && inc === 7 && status === 'alive'))
  }
})

Join('before start a machine neither answers nor wakes', () => {
  const machine = makeMachine({ self: 'p0' })
  assert.equal(machine.receive(p('p1'), { kind: 'ping', seq: 1, desired: 'x', updates: [] }, 10), [])
  assert.equal(machine.tick(20), [])
  assert.is(machine.nextWakeAt(), Infinity)
})

Join('a new connection sends the peer a digest asking for an answer, but not before start or to itself', () => {
  const machine = makeMachine({ self: 'p0', incarnation: 3 })
  assert.equal(machine.connected(p('p1'), 5), [], 'nothing before start')
  machine.start(10)
  assert.equal(machine.connected(p('p0'), 20), [])
  const outputs = machine.connected(p('p1'), 30)
  assert.is(outputs.length, 1)
  const [out] = outputs
  assert.ok(out !== undefined && out.kind === 'send' && out.to === 'p1' && out.message.kind === 'digest' && !out.message.reply)
})

Join('two peers with no seeds meet through connected() and then know each other as alive', () => {
  const cluster = new Cluster({ peers: 2, seeds: [] })
  // A real host's start broadcasts reach nobody: the mesh forms after.
  const cut = cluster.drop(() => true)
  cluster.start('p0')
  cluster.start('p1')
  cluster.runUntil(100)
  cut()
  assert.not.ok(cluster.converged())
  cluster.connect('p0', 'p1')
  const at = cluster.runUntilTrue(() => cluster.converged(), 1_000)
  assert.ok(at !== undefined && at - 100 < 50, `met at ${at}`)
})

Join('every peer of a five-peer cluster knows every other as alive within three seconds', () => {
  settled(5)
})

Join('a peer started while its seed was down joins through reconnect once the seed is up', () => {
  const cluster = new Cluster({ peers: 2 })
  // Only p1's own reconnect can bring them together: p0's start broadcasts do not reach it.
  const cut = cluster.drop((from, to, message) => from === 'p0' && to === 'p1' && (message.kind === 'member' || message.kind === 'advert'))
  cluster.start('p1')
  cluster.runUntil(1_000)
  cluster.start('p0')
  const at = cluster.runUntilTrue(() => cluster.converged(), 10_000)
  cut()
  assert.ok(at !== undefined, 'they find each other')
  assert.ok(at! <= 1_000 + 2 * cluster.config.reconnectIntervalMs, `joined at ${at}`)
})

// ---------------------------------------------------------------------------------------------------

const Detection = suite('membership: failure detection')

const killOffsets = [0, 125, 250, 375]
for (const offset of killOffsets) {
  Detection(`a peer killed at ${3_000 + offset} ms is suspect within two probe intervals and dead within replaceAfterMs`, () => {
    const cluster = settled(2)
    const killedAt = 3_000 + offset
    cluster.runUntil(killedAt)
    cluster.kill('p1')
    const times = statusTimes(cluster, 'p0', 'p1', killedAt + 5_000)
    const { probeIntervalMs, replaceAfterMs } = cluster.config
    const suspectAt = times.get('suspect')
    const deadAt = times.get('dead')
    assert.ok(suspectAt !== undefined && deadAt !== undefined, 'suspect, then dead')
    assert.ok(suspectAt! - killedAt <= 2 * probeIntervalMs, `suspected ${suspectAt! - killedAt} ms after the kill`)
    assert.ok(Math.abs(deadAt! - suspectAt! - suspicionTimeoutMs(cluster.config)) <= 1, 'the suspicion lasts suspicionTimeoutMs')
    // config.ts: replaceAfterMs is the longest time from a death to the verdict.
    const silence = deadAt! - killedAt
    assert.ok(silence >= replaceAfterMs - probeIntervalMs && silence <= replaceAfterMs + 2 * cluster.latencyMs, `dead ${silence} ms after the kill`)
    assert.equal(cluster.record('p0', 'p1'), { peer: 'p1', incarnation: 1, status: 'dead' })
  })
}

Detection('every survivor holds a killed peer dead, at the incarnation it had', () => {
  const cluster = settled(5)
  cluster.kill('p3')
  cluster.runFor(cluster.config.replaceAfterMs + 2 * cluster.config.probeIntervalMs)
  assert.ok(cluster.allSee('p3', 'dead'))
  for (const id of ['p0', 'p1', 'p2', 'p4']) assert.is(cluster.record(id, 'p3')?.incarnation, 1)
})

// ---------------------------------------------------------------------------------------------------

const Refute = suite('membership: refutation')

const accusations: Array<{ name: string; record: MemberRecord; refutesWith?: number }> = [
  { name: 'suspect at its incarnation', record: { peer: p('p0'), incarnation: 3, status: 'suspect' }, refutesWith: 4 },
  { name: 'dead at its incarnation', record: { peer: p('p0'), incarnation: 3, status: 'dead' }, refutesWith: 4 },
  { name: 'suspect at a higher incarnation', record: { peer: p('p0'), incarnation: 9, status: 'suspect' }, refutesWith: 10 },
  { name: 'suspect at an older incarnation', record: { peer: p('p0'), incarnation: 2, status: 'suspect' } },
  { name: 'alive at its incarnation', record: { peer: p('p0'), incarnation: 3, status: 'alive' } },
]
for (const { name, record, refutesWith } of accusations) {
  Refute(`a peer told it is ${name} ${refutesWith ? `broadcasts alive at incarnation ${refutesWith}` : 'ignores it'}`, () => {
    const machine = makeMachine({ self: 'p0', incarnation: 3 })
    machine.start(0)
    const outputs = machine.receive(p('p1'), { kind: 'member', record }, 10)
    const alive = outputs.flatMap((o) => (o.kind === 'broadcast' && o.message.kind === 'member' ? [o.message.record] : []))
    if (refutesWith === undefined) {
      assert.equal(alive, [])
      assert.is(machine.currentIncarnation(), 3)
    } else {
      assert.equal(alive, [{ peer: 'p0', incarnation: refutesWith, status: 'alive' }])
      assert.is(machine.currentIncarnation(), refutesWith)
      // The new advert carries the new incarnation, so it outranks adverts of the old one.
      const advert = outputs.find((o) => o.kind === 'broadcast' && o.message.kind === 'advert')
      assert.ok(advert?.kind === 'broadcast' && advert.message.kind === 'advert' && advert.message.advert.incarnation === refutesWith)
    }
  })
}

Refute('refutations arriving through ping piggybacks are handled the same way', () => {
  const machine = makeMachine({ self: 'p0', incarnation: 3 })
  machine.start(0)
  const outputs = machine.receive(p('p1'), { kind: 'ping', seq: 1, desired: 'empty', updates: [{ peer: p('p0'), incarnation: 3, status: 'suspect' }] }, 10)
  assert.ok(outputs.some((o) => o.kind === 'broadcast' && o.message.kind === 'member' && o.message.record.incarnation === 4))
  assert.ok(outputs.some((o) => o.kind === 'send' && o.to === 'p1' && o.message.kind === 'ack' && o.message.seq === 1))
})

Refute('a live peer whose acks are lost is suspected but refutes each time and is never declared dead', () => {
  const cluster = settled(4)
  const restore = cluster.drop((from, _to, message) => from === 'p1' && message.kind === 'ack')
  let everDead = false
  cluster.runObserving(() => {
    for (const id of ['p0', 'p2', 'p3']) if (cluster.record(id, 'p1')?.status === 'dead') everDead = true
  }, 6_000)
  restore()
  const suspicions = cluster.messages('member', { since: 3_000 }).filter((m) => m.message.record.peer === 'p1' && m.message.record.status === 'suspect')
  assert.ok(suspicions.length > 0, 'lost acks get it suspected')
  assert.not.ok(everDead, 'refutation keeps it from being declared dead')
  cluster.runFor(2_000)
  const incarnation = cluster.machine('p1').currentIncarnation()
  assert.ok(incarnation > 1, 'it refuted by raising its incarnation')
  assert.ok(cluster.allSee('p1', 'alive', incarnation), 'everyone holds it alive at its latest incarnation')
})

// ---------------------------------------------------------------------------------------------------

const Indirect = suite('membership: indirect probes')

const cutLink = (a: string, b: string) => (from: string, to: string) => (from === a && to === b) || (from === b && to === a)

Indirect('when only the direct link between two peers drops, ping-req through the others keeps both alive', () => {
  const cluster = settled(4)
  cluster.drop(cutLink('p0', 'p1'))
  cluster.runUntil(15_000)
  const requests = cluster.messages('ping-req', { since: 3_000 })
  assert.ok(requests.some((r) => r.peer === 'p0' && r.message.target === 'p1'), 'p0 asks others to probe p1')
  assert.ok(requests.some((r) => r.peer === 'p1' && r.message.target === 'p0'), 'p1 asks others to probe p0')
  const accusations = cluster.messages('member', { since: 3_000 }).filter((m) => m.message.record.status !== 'alive')
  assert.equal(accusations.map((m) => m.message.record), [], 'nobody is suspected')
  assert.ok(cluster.converged())
})

Indirect('with no one to ask, the same cut gets each side suspected and declared dead', () => {
  const cluster = settled(2)
  cluster.drop(cutLink('p0', 'p1'))
  cluster.runUntil(8_000)
  assert.is(cluster.record('p0', 'p1')?.status, 'dead')
  assert.is(cluster.record('p1', 'p0')?.status, 'dead')
})

Indirect('a helper relays the target’s ack to the prober with the target named', () => {
  const helper = makeMachine({ self: 'h' })
  helper.start(0)
  const asked = helper.receive(p('a'), { kind: 'ping-req', seq: 41, target: p('t') }, 10)
  const ping = asked.find((o) => o.kind === 'send' && o.to === 't' && o.message.kind === 'ping')
  assert.ok(ping !== undefined && ping.kind === 'send' && ping.message.kind === 'ping')
  const seq = (ping.message as Extract<Message, { kind: 'ping' }>).seq
  const relayed = helper.receive(p('t'), { kind: 'ack', seq, desired: 'empty', updates: [] }, 12)
  assert.equal(
    relayed.filter((o) => o.kind === 'send' && o.message.kind === 'ack').map((o) => (o.kind === 'send' ? { to: o.to, message: o.message } : undefined)),
    [{ to: 'a', message: { kind: 'ack', seq: 41, desired: 'empty', updates: [], target: 't' } }],
  )
})

// ---------------------------------------------------------------------------------------------------

const Leave = suite('membership: graceful leave')

Leave('others hold a leaving peer as left at once, without suspecting it first, and stop probing it', () => {
  const cluster = settled(4)
  cluster.leave('p3')
  const leftAt = cluster.now
  cluster.runFor(5)
  assert.ok(cluster.allSee('p3', 'left', 2), 'left at a raised incarnation within one delivery')
  cluster.runFor(5_000)
  assert.ok(cluster.allSee('p3', 'left'), 'and it stays left: no one suspects or revives it')
  const suspicions = cluster.messages('member', { since: leftAt }).filter((m) => m.message.record.peer === 'p3' && m.message.record.status !== 'left')
  assert.equal(suspicions.map((m) => m.message.record), [])
  const probes = cluster.messages('ping', { since: leftAt + 10 }).filter((m) => m.to === 'p3')
  assert.is(probes.length, 0, 'a left peer is not probed')
})

Leave('after leave the machine is inert', () => {
  const machine = makeMachine({ self: 'p0' })
  machine.start(0)
  machine.leave(10)
  assert.is(machine.nextWakeAt(), Infinity)
  assert.equal(machine.receive(p('p1'), { kind: 'ping', seq: 1, desired: 'empty', updates: [] }, 20), [])
})

// ---------------------------------------------------------------------------------------------------

const Rejoin = suite('membership: restarts and partitions')

Rejoin('a restarted peer with a higher incarnation is alive again everywhere', () => {
  const cluster = settled(4)
  cluster.kill('p2')
  cluster.runFor(4_000)
  assert.ok(cluster.allSee('p2', 'dead', 1))
  cluster.restart('p2')
  assert.is(cluster.machine('p2').currentIncarnation(), 2)
  cluster.runFor(10)
  assert.ok(cluster.allSee('p2', 'alive', 2))
  cluster.runFor(3_000)
  assert.ok(cluster.converged())
})

Rejoin('a peer restarted before anyone noticed is alive at its new incarnation and never declared dead', () => {
  const cluster = settled(4)
  cluster.kill('p2')
  cluster.runFor(100)
  cluster.restart('p2')
  let everDead = false
  cluster.runObserving(() => {
    for (const id of ['p0', 'p1', 'p3']) if (cluster.record(id, 'p2')?.status === 'dead') everDead = true
  }, cluster.now + 5_000)
  assert.not.ok(everDead)
  assert.ok(cluster.allSee('p2', 'alive', 2))
})

for (const seed of [1, 2, 3]) {
  Rejoin(`a partitioned peer that both sides declared dead rejoins after the heal (seed ${seed})`, () => {
    const cluster = settled(5, seed)
    cluster.partition(['p4'], ['p0', 'p1', 'p2', 'p3'])
    cluster.runUntil(8_000)
    assert.ok(cluster.allSee('p4', 'dead'), 'the majority holds it dead')
    for (const id of ['p0', 'p1', 'p2', 'p3']) assert.is(cluster.record('p4', id)?.status, 'dead', `it holds ${id} dead`)
    cluster.heal()
    const at = cluster.runUntilTrue(() => cluster.converged(), 30_000)
    assert.ok(at !== undefined, 'everyone is alive to everyone again')
    assert.ok(at! - 8_000 <= 15_000, `rejoined ${at! - 8_000} ms after the heal`)
    assert.ok(cluster.machine('p4').currentIncarnation() > 1, 'it refuted the verdict with a higher incarnation')
  })
}

Rejoin('after halves heal, every peer holds every other alive within one reconnect interval', () => {
  // The first exchange across (a reconnect) makes each side refute the other's verdict in its
  // answer and reach out to every other member it holds dead: the whole cluster merges then,
  // not one reconnect per dead member later.
  const worst: number[] = []
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const cluster = settled(6, seed)
    cluster.partition(['p0', 'p1', 'p2'], ['p3', 'p4', 'p5'])
    cluster.runUntil(8_000)
    assert.ok(['p0', 'p1', 'p2'].every((id) => cluster.record('p3', id)?.status === 'dead'), 'each side holds the other dead')
    cluster.heal()
    const at = cluster.runUntilTrue(() => cluster.converged(), 30_000)
    assert.ok(at !== undefined, 'everyone is alive to everyone again')
    worst.push(at! - 8_000)
  }
  console.log(`    halves 3 | 3 healed: all alive to all ${worst.map(Math.round).join(', ')} ms after the heal`)
  const { reconnectIntervalMs } = settled(2).config
  for (const ms of worst) assert.ok(ms <= reconnectIntervalMs + 200, `merged ${ms} ms after the heal`)
})

const Stall = suite('membership: a stalled peer')

// Two machines wired by hand, so one of them can be made to tick late while an ack waits for it.
function pair() {
  const a = makeMachine({ self: 'a', seeds: [p('b')] })
  const b = makeMachine({ self: 'b', seeds: [p('a')] })
  const machines = new Map([[p('a'), a], [p('b'), b]])
  const held: Array<{ to: string; from: string; message: Message }> = []
  const sent: Array<{ from: string; message: Message }> = []
  let holdFor: string | undefined
  const route = (from: string, outputs: ReturnType<typeof a.tick>, now: number): void => {
    for (const output of outputs) {
      if (output.kind !== 'send' && output.kind !== 'broadcast') continue
      sent.push({ from, message: output.message })
      const targets = output.kind === 'send' ? [output.to] : [...machines.keys()].filter((id) => id !== from)
      for (const to of targets) {
        if (to === holdFor) held.push({ to, from, message: output.message })
        else route(to, machines.get(to)!.receive(p(from), output.message, now), now)
      }
    }
  }
  return { a, b, held, sent, route, hold: (id: string | undefined) => void (holdFor = id) }
}

Stall('a peer whose own timer fires late does not suspect a peer whose ack waited behind the stall', () => {
  const { a, b, held, sent, route, hold } = pair()
  route('a', a.start(0), 0)
  route('b', b.start(0), 0)
  // Both run on time for a while: they know each other and probe each other.
  for (let now = 1; now < 3_000; now += 10) {
    if (a.nextWakeAt() <= now) route('a', a.tick(now), now)
    if (b.nextWakeAt() <= now) route('b', b.tick(now), now)
  }
  // a's next probe goes out on time; then a's event loop is stuck for 1.5 s while b's ack waits for it.
  let now = Math.max(3_000, a.nextWakeAt())
  const probesBefore = sent.filter((s) => s.from === 'a' && s.message.kind === 'ping').length
  hold('a')
  while (sent.filter((s) => s.from === 'a' && s.message.kind === 'ping').length === probesBefore) {
    route('a', a.tick(now), now)
    if (b.nextWakeAt() <= now) route('b', b.tick(now), now)
    now = Math.max(now + 1, Math.min(a.nextWakeAt(), b.nextWakeAt()))
  }
  const stalledUntil = now + 1_500
  for (let t = now; t < stalledUntil; t += 10) if (b.nextWakeAt() <= t) route('b', b.tick(t), t)
  const since = sent.length
  hold(undefined)
  // The late tick runs first; the queued messages are taken in right after it.
  route('a', a.tick(stalledUntil), stalledUntil)
  for (const message of held.splice(0)) route(message.to, a.receive(p(message.from), message.message, stalledUntil), stalledUntil)
  for (let t = stalledUntil + 1; t < stalledUntil + 3_000; t += 10) {
    if (a.nextWakeAt() <= t) route('a', a.tick(t), t)
    if (b.nextWakeAt() <= t) route('b', b.tick(t), t)
  }
  const accusations = sent.slice(since).filter((s) => s.message.kind === 'member' && s.message.record.peer === p('b') && s.message.record.status !== 'alive')
  assert.equal(accusations, [], 'b was never suspected')
  assert.ok(a.memberRecords().some((r) => r.peer === p('b') && r.status === 'alive'))
})

Join.run()
Stall.run()
Detection.run()
Refute.run()
Indirect.run()
Leave.run()
Rejoin.run()
