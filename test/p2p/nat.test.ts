// The pure parts of NAT traversal (p2p/nat.ts, open-stream.ts, failure-log.ts): reachability from
// observed addresses, naming the relay of a circuit, describing a link, choosing the connection a
// stream uses, and the rate-limited failure log. The relays themselves run on real namespaces
// (test/hosts/nat.test.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Connection } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { FailureLog, linkTo, parseAnnouncementBody, ReachabilityObserver, relayOf, type Reachability } from '../../p2p/index.js'
import { usableConnection } from '../../p2p/open-stream.js'

const nat = suite('NAT traversal: pure parts')

const RELAY = '12D3KooWJmZmVk7s2NoHYbsdTVeM1QPr5KNjhTNmMkgCbQsPTdKT'
const PEER = '12D3KooWR5mBwDSn8mzQCDCde14qgB2FdASbx9bvA6FBvh8otCay'
const CIRCUIT = `/ip4/10.200.1.1/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`

function connection(remoteAddr: string, limited: boolean, status = 'open'): Connection {
  return { remoteAddr: multiaddr(remoteAddr), remotePeer: { toString: () => PEER }, status, limits: limited ? { bytes: 1n } : undefined } as unknown as Connection
}

nat('relayOf names the relay of a circuit address and nothing else', () => {
  assert.is(relayOf(CIRCUIT), RELAY)
  assert.is(relayOf(`/ip4/10.200.1.1/tcp/4001/p2p/${RELAY}/p2p-circuit`), RELAY)
  assert.is(relayOf('/ip4/10.200.1.1/tcp/4001'), undefined)
  assert.is(relayOf(`/ip4/10.200.1.1/tcp/4001/p2p/${RELAY}`), undefined)
})

nat('a link is direct when any open connection is, relayed through its relay otherwise, none when nothing is open', () => {
  assert.equal(linkTo([connection(CIRCUIT, true)], PEER), { kind: 'relayed', via: RELAY })
  assert.equal(linkTo([connection(CIRCUIT, true), connection('/ip4/10.1.0.2/tcp/4001', false)], PEER), { kind: 'direct' })
  assert.is(linkTo([connection('/ip4/10.1.0.2/tcp/4001', false, 'closed')], PEER), undefined)
  assert.is(linkTo([connection('/ip4/10.1.0.2/tcp/4001', false)], RELAY), undefined, 'another peer\'s connection')
})

nat('a stream uses an open unlimited connection first, then an open relayed one, never a closed one', () => {
  const direct = connection('/ip4/10.1.0.2/tcp/4001', false)
  const relayed = connection(CIRCUIT, true)
  assert.is(usableConnection([relayed, direct]), direct)
  assert.is(usableConnection([relayed]), relayed)
  assert.is(usableConnection([connection('/ip4/10.1.0.2/tcp/4001', false, 'closing')]), undefined)
})

nat('reachability: nat once one peer sees another IP than ours, public when all see ours, unknown without observations or over relays', () => {
  const changes: Reachability[] = []
  const listeners = new Map<string, (event: CustomEvent<unknown>) => void>()
  const node = {
    addEventListener: (name: string, fn: (event: CustomEvent<unknown>) => void) => listeners.set(name, fn),
    removeEventListener: (name: string) => listeners.delete(name),
    getConnections: () => [],
  }
  const observer = new ReachabilityObserver(node as never, (now) => changes.push(now), () => new Set(['10.1.0.2', '127.0.0.1']))
  observer.start()
  assert.is(observer.reachability(), 'unknown')
  observer.observe('a', multiaddr('/ip4/10.200.1.11/tcp/4001'), CIRCUIT)
  assert.is(observer.reachability(), 'unknown', 'an observation over a relay says nothing')
  observer.observe('a', multiaddr('/ip4/10.1.0.2/tcp/51234'), '/ip4/10.1.0.3/tcp/4001')
  assert.is(observer.reachability(), 'public')
  observer.observe('b', multiaddr('/ip4/10.200.1.11/tcp/40211'), '/ip4/10.200.1.1/tcp/4001')
  assert.is(observer.reachability(), 'nat', 'the router\'s address: translated')
  listeners.get('peer:disconnect')!(new CustomEvent('peer:disconnect', { detail: { toString: () => 'b' } }))
  assert.is(observer.reachability(), 'public', 'the peer that saw translation is gone')
  assert.equal(changes, ['public', 'nat', 'public'])
  observer.stop()
  assert.is(listeners.size, 0)
})

nat('an announcement carries reachability; a missing or unknown value reads as unknown', async () => {
  const author = PEER
  const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
  assert.is(parseAnnouncementBody(encode({ addresses: ['/ip4/10.0.0.2/tcp/4001'], reachability: 'nat' }), author)?.reachability, 'nat')
  assert.is(parseAnnouncementBody(encode({ addresses: ['/ip4/10.0.0.2/tcp/4001'] }), author)?.reachability, 'unknown')
  assert.is(parseAnnouncementBody(encode({ addresses: ['/ip4/10.0.0.2/tcp/4001'], reachability: 'everywhere' }), author)?.reachability, 'unknown')
  assert.is(parseAnnouncementBody(encode({ addresses: [], reachability: 'public' }), author), undefined)
})

nat('undeliverable direct messages: one line at once, then at most one per interval with the count, and one when they go through', () => {
  const lines: string[] = []
  let now = 0
  const log = new FailureLog((line) => lines.push(line), 30_000, () => now)
  log.failed('p', 'ENETUNREACH')
  for (let i = 0; i < 70; i++) {
    now += 500
    log.failed('p', 'ENETUNREACH')
  }
  assert.equal(lines, ['direct messages to p fail: ENETUNREACH', 'direct messages to p fail: ENETUNREACH (60 more failed in the last 30 s)'])
  log.delivered('q')
  assert.is(lines.length, 2, 'a peer that never failed: nothing')
  log.delivered('p')
  assert.is(lines[2], 'direct messages to p go through again after 71 failed over 35 s')
  log.failed('p', 'timeout')
  assert.is(lines[3], 'direct messages to p fail: timeout', 'failing again after going through is news at once')
})

nat.run()
