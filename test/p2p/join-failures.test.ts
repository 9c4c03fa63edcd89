// A join address that cannot be joined is said, not swallowed: per address one log line per reason
// (again only after a quiet period), the failure in joinFailures() while it lasts, and one line when
// the address answers again. The reasons are told apart: another swarm key (or no peer at all),
// another peer than the address names, and nobody answering.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer } from 'node:net'
import { describeDialFailure, generateSwarmKey, joinLabel, type HostTuning } from '../../p2p/index.js'
import { sleep, startPeer, stopAll, waitFor, type TestPeer } from './helpers.js'

const joins = suite('join failures')

/** A TCP port free on 127.0.0.1 now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

const FAST: Partial<HostTuning> = { rejoinIntervalMs: 150, dialTimeoutMs: 1_000, announceIntervalMs: 1_000 }
/**
 * For the peers dialled with the wrong key: a listener resets a connection whose upgrade has not
 * finished within this (the dialler then fails at once) instead of after 3 s (the dialler would
 * time out first; that is reported the same way, only later).
 */
const QUICK_REFUSAL: Partial<HostTuning> = { upgradeTimeoutMs: 200 }

joins('a wrong swarm key is logged once per address, not at every redial, and listed while it lasts', async () => {
  const peers: TestPeer[] = []
  try {
    const cluster = await startPeer({ swarmKey: generateSwarmKey(), seed: 'join-cluster', host: { tuning: QUICK_REFUSAL } })
    peers.push(cluster)
    const target = cluster.host.addresses()[0]!.replace(/\/p2p\/.*$/, '')
    const lines: string[] = []
    const stranger = await startPeer({
      swarmKey: generateSwarmKey(),
      seed: 'join-stranger',
      join: [target],
      host: { tuning: { ...FAST, joinReportRepeatMs: 60_000 }, log: (line) => lines.push(line) },
    })
    peers.push(stranger)
    await waitFor(() => (stranger.host.joinFailures()[0]?.attempts ?? 0) >= 6, 10_000, 'six failed dials')
    assert.equal(lines, [`cannot join ${joinLabel(target)}: pre-shared key mismatch or not a peer`])
    const [failure, ...more] = stranger.host.joinFailures()
    assert.equal(more, [])
    assert.is(failure!.address, target)
    assert.is(failure!.kind, 'handshake')
    assert.is(failure!.reason, 'pre-shared key mismatch or not a peer')
    assert.ok(failure!.since <= failure!.lastAttempt && failure!.lastAttempt <= Date.now())
    assert.equal(cluster.host.joinFailures(), [], 'the cluster side joins nobody')
  } finally {
    await stopAll(peers)
  }
})

joins('the same reason is said again after the quiet period, with how long it has lasted', async () => {
  const peers: TestPeer[] = []
  try {
    const cluster = await startPeer({ swarmKey: generateSwarmKey(), seed: 'join-cluster-2', host: { tuning: QUICK_REFUSAL } })
    peers.push(cluster)
    const target = cluster.host.addresses()[0]!
    const lines: string[] = []
    peers.push(await startPeer({
      swarmKey: generateSwarmKey(),
      seed: 'join-stranger-2',
      join: [target],
      host: { tuning: { ...FAST, joinReportRepeatMs: 700 }, log: (line) => lines.push(line) },
    }))
    await sleep(1_900)
    assert.ok(lines.length >= 2 && lines.length <= 4, `two to four lines in 1.9 s with a 0.7 s quiet period: ${JSON.stringify(lines)}`)
    assert.is(lines[0], `cannot join ${joinLabel(target)}: pre-shared key mismatch or not a peer`)
    for (const line of lines.slice(1)) assert.match(line, /^cannot join 127\.0\.0\.1:\d+: pre-shared key mismatch or not a peer \(failing for \d+ s, \d+ attempts\)$/)
  } finally {
    await stopAll(peers)
  }
})

joins('a new reason is said at once, and the address answering again is said once', async () => {
  const peers: TestPeer[] = []
  const port = await freePort()
  const address = `/ip4/127.0.0.1/tcp/${port}`
  const swarmKey = generateSwarmKey()
  const lines: string[] = []
  const joiner = await startPeer({
    swarmKey,
    seed: 'join-joiner',
    join: [address],
    host: { tuning: { ...FAST, joinUnreachableReportMs: 0 }, log: (line) => lines.push(line) },
  })
  peers.push(joiner)
  try {
    // Nobody listens: refused (said at once here, as the grace is 0).
    await waitFor(() => lines.length >= 1, 5_000, 'the refusal logged')
    assert.is(lines[0], `cannot join 127.0.0.1:${port}: connection refused (nothing listens there)`)
    assert.is(joiner.host.joinFailures()[0]?.kind, 'unreachable')

    // A peer of another cluster takes the port: a new reason, said at once.
    const stranger = await startPeer({ swarmKey: generateSwarmKey(), seed: 'join-other', listen: [address], host: { tuning: QUICK_REFUSAL } })
    await waitFor(() => lines.length >= 2, 5_000, 'the new reason logged')
    assert.match(lines[1]!, new RegExp(`^cannot join 127\\.0\\.0\\.1:${port}: pre-shared key mismatch or not a peer \\(failing for \\d+ s, \\d+ attempts\\)$`))
    assert.is(joiner.host.joinFailures()[0]?.kind, 'handshake')
    await stopAll([stranger])

    // A peer of this cluster takes it: joined, said once, and no failure listed.
    const friend = await startPeer({ swarmKey, seed: 'join-friend', listen: [address] })
    peers.push(friend)
    await waitFor(() => joiner.transport.peers().length === 1, 10_000, 'the joiner connected')
    await waitFor(() => joiner.host.joinFailures().length === 0, 5_000, 'no failure listed')
    await sleep(500)
    const joined = lines.filter((line) => line.startsWith('joined '))
    assert.equal(joined.length, 1, JSON.stringify(lines))
    assert.match(joined[0]!, new RegExp(`^joined 127\\.0\\.0\\.1:${port} after failing for \\d+ s$`))
  } finally {
    await stopAll(peers)
  }
})

joins('dial failures in words: another peer than the address names, refused, timed out, a handshake that did not finish', () => {
  const noise = Object.assign(new Error('Payload identity key 12D3KooWAAA does not match expected remote identity key 12D3KooWBBB'), { name: 'EncryptionFailedError' })
  assert.equal(describeDialFailure(noise, 5_000), { kind: 'wrong-peer', reason: 'the peer there is 12D3KooWAAA, not 12D3KooWBBB as the address says' })
  const reset = Object.assign(new Error('read ECONNRESET'), { name: 'EncryptionFailedError' })
  assert.equal(describeDialFailure(reset, 5_000), { kind: 'handshake', reason: 'pre-shared key mismatch or not a peer' })
  const eof = Object.assign(new Error('Unexpected EOF - stream closed while reading 0/24 bytes'), { name: 'UnexpectedEOFError' })
  assert.is(describeDialFailure(eof, 5_000).kind, 'handshake')
  const refused = Object.assign(new Error('connection error 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
  assert.equal(describeDialFailure(refused, 5_000), { kind: 'unreachable', reason: 'connection refused (nothing listens there)' })
  const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' })
  assert.equal(describeDialFailure(new Error('dial failed', { cause: timeout }), 5_000), { kind: 'unreachable', reason: 'no answer within 5 s' })
  // Timed out once the handshake had begun: not a refusal, so most likely a slow peer, not a key.
  assert.equal(describeDialFailure(new Error('dial failed', { cause: timeout }), 5_000, true), { kind: 'handshake', reason: 'handshake not finished within 5 s (a busy peer, or another swarm key)' })
  assert.equal(describeDialFailure(new Error('no route'), 5_000), { kind: 'unreachable', reason: 'no route' })
})

joins('join addresses are labelled host:port where they are plain TCP', () => {
  assert.is(joinLabel('/ip4/10.0.0.2/tcp/4001'), '10.0.0.2:4001')
  assert.is(joinLabel('/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWAAA'), '10.0.0.2:4001')
  assert.is(joinLabel('/dns4/seed.example/tcp/4001'), 'seed.example:4001')
  assert.is(joinLabel('/ip6/::1/tcp/4001'), '[::1]:4001')
  assert.is(joinLabel('/ip4/10.0.0.2/udp/4001/quic-v1'), '/ip4/10.0.0.2/udp/4001/quic-v1')
})

joins.run()
