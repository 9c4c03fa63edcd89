// Hole punching's rules (p2p/hole-punch.ts), with the network faked: the punch port, the messages,
// which end offers, what each end dials and as which side of the handshake, the back-off after a
// miss. The real thing, between NAT routers in namespaces: test/hosts/nat-punch.test.ts.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Connection } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { encodePunchMessage, HolePunch, parsePunchMessage, PUNCH_PORT_BASE, PUNCH_PORT_COUNT, punchPortOf, type Mapping, type PunchComponents } from '../../p2p/hole-punch.js'

const rules = suite('hole punch')

const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
const RELAY = '12D3KooWRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR'

/** An open relayed connection to `peer`, as libp2p lists it. */
const relayed = (peer: string) => ({ status: 'open', remotePeer: { toString: () => peer }, remoteAddr: multiaddr(`/ip4/198.51.100.1/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${peer}`) }) as unknown as Connection

interface Dialled { address: string; localPort: number; initiator: boolean }

/** A puncher for `self` whose dials are recorded and answered by `dialAnswer`, and whose requests go to `remote`. */
function puncher(self: string, options: { publicIp?: string; peers?: string[]; remote?: (body: Uint8Array) => Promise<Uint8Array>; dialAnswer?: () => Promise<Connection>; soonAfterRelayedMs?: number } = {}) {
  const dialled: Dialled[] = []
  const logs: string[] = []
  const requests: unknown[] = []
  const components: PunchComponents = {
    transportManager: {
      dialTransportForMultiaddr: () => ({
        dial: async (address: unknown, dialOptions: never) => {
          const { localPort, initiator } = dialOptions as { localPort: number; initiator: boolean }
          dialled.push({ address: String(address), localPort, initiator })
          return (options.dialAnswer ?? (async () => ({ status: 'open', abort: () => undefined }) as unknown as Connection))()
        },
      }),
    },
    upgrader: {} as PunchComponents['upgrader'],
  }
  const listeners = new Set<(event: CustomEvent<Connection>) => void>()
  const punch = new HolePunch({
    node: {
      getConnections: () => (options.peers ?? []).map(relayed),
      addEventListener: ((_: string, listener: (event: CustomEvent<Connection>) => void) => void listeners.add(listener)) as never,
      removeEventListener: ((_: string, listener: (event: CustomEvent<Connection>) => void) => void listeners.delete(listener)) as never,
    },
    ...(options.soonAfterRelayedMs === undefined ? {} : { tuning: { soonAfterRelayedMs: options.soonAfterRelayedMs } }),
    components,
    self,
    publicIp: () => options.publicIp,
    request: async (_peer, body) => {
      requests.push(parsePunchMessage(body))
      return (options.remote ?? (async () => new Uint8Array()))(body)
    },
    log: (line) => void logs.push(line),
  })
  const open = (connection: Connection): void => { for (const listener of listeners) listener(new CustomEvent('connection:open', { detail: connection })) }
  return { punch, dialled, logs, requests, open }
}

rules('the punch port is fixed by the peer id, above the ephemeral range, and spread', () => {
  assert.is(punchPortOf(A), punchPortOf(A))
  const ports = new Set<number>()
  for (let i = 0; i < 200; i++) {
    const port = punchPortOf(`12D3KooWpeer${i}`)
    assert.ok(port >= PUNCH_PORT_BASE && port < PUNCH_PORT_BASE + PUNCH_PORT_COUNT, `${port}`)
    ports.add(port)
  }
  assert.ok(ports.size > 190, `200 ids gave ${ports.size} ports`)
})

rules('messages: an offer of an IPv4 mapping or a go; anything else is refused by name', () => {
  assert.equal(parsePunchMessage(encodePunchMessage({ offer: { ip: '203.0.113.7', port: 61234 } })), { offer: { ip: '203.0.113.7', port: 61234 } })
  assert.equal(parsePunchMessage(encodePunchMessage({ go: true })), { go: true })
  const refused = (text: string): string => {
    try {
      parsePunchMessage(new TextEncoder().encode(text))
    } catch (error) {
      return (error as Error).message
    }
    return 'accepted'
  }
  assert.match(refused('not json'), /not JSON/)
  assert.match(refused('{"offer":{"ip":"::1","port":1}}'), /offer\.ip/)
  assert.match(refused('{"offer":{"ip":"10.0.0.300","port":1}}'), /offer\.ip/)
  assert.match(refused('{"offer":{"ip":"10.0.0.3","port":70000}}'), /offer\.port/)
  assert.match(refused('{"go":1}'), /offer\.ip/)
})

rules('only the end whose id sorts first offers, only to peers reached through a relay alone, only behind NAT', async () => {
  const noMapping = puncher(A, { peers: [B] })
  noMapping.punch.check()
  assert.equal(noMapping.requests, [], 'no router address known: nothing offered')

  const later = puncher(B, { publicIp: '203.0.113.2', peers: [A] })
  later.punch.check()
  assert.equal(later.requests, [], 'the end that sorts second waits to be offered')

  const theirs: Mapping = { ip: '203.0.113.2', port: punchPortOf(B) }
  const first = puncher(A, { publicIp: '203.0.113.1', peers: [B], remote: async (body) => ('offer' in parsePunchMessage(body) ? encodePunchMessage({ offer: theirs }) : new Uint8Array()) })
  first.punch.check()
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(first.requests, [{ offer: { ip: '203.0.113.1', port: punchPortOf(A) } }, { go: true }])
  assert.equal(first.dialled, [{ address: `/ip4/203.0.113.2/tcp/${punchPortOf(B)}/p2p/${B}`, localPort: punchPortOf(A), initiator: true }])
  assert.is(first.punch.succeeded, 1)
  assert.match(first.logs.join('\n'), /hole punched/)
})

rules('a relayed connection opening brings the next look forward; a direct one does not', async () => {
  const theirs: Mapping = { ip: '203.0.113.2', port: punchPortOf(B) }
  const first = puncher(A, { publicIp: '203.0.113.1', peers: [B], soonAfterRelayedMs: 20, remote: async (body) => ('offer' in parsePunchMessage(body) ? encodePunchMessage({ offer: theirs }) : new Uint8Array()) })
  first.punch.start()
  try {
    first.open({ limits: undefined } as unknown as Connection)
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(first.requests, [], 'a direct connection: nothing looked at before the interval')
    first.open(Object.assign(relayed(B), { limits: { seconds: 1_800 } }))
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(first.dialled.length, 1, 'punched within the short wait, long before the 5 s look')
  } finally {
    first.punch.stop()
  }
})

rules('the answering end answers an offer with its own mapping, then dials on the go as the responder', async () => {
  const answering = puncher(B, { publicIp: '203.0.113.2' })
  const answer = parsePunchMessage(await answering.punch.answer(A, encodePunchMessage({ offer: { ip: '203.0.113.1', port: 61001 } })))
  assert.equal(answer, { offer: { ip: '203.0.113.2', port: punchPortOf(B) } })
  assert.equal(answering.dialled, [], 'no dial before the go')
  await answering.punch.answer(A, encodePunchMessage({ go: true }))
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(answering.dialled, [{ address: `/ip4/203.0.113.1/tcp/61001/p2p/${A}`, localPort: punchPortOf(B), initiator: false }])

  const sameRouter = puncher(B, { publicIp: '203.0.113.1' })
  try {
    await sameRouter.punch.answer(A, encodePunchMessage({ offer: { ip: '203.0.113.1', port: 61001 } }))
    assert.unreachable('answered an offer from behind the same router')
  } catch (error) {
    assert.match((error as Error).message, /same NAT router/)
  }

  const notBehindNat = puncher(B)
  try {
    await notBehindNat.punch.answer(A, encodePunchMessage({ offer: { ip: '203.0.113.1', port: 61001 } }))
    assert.unreachable('answered without a mapping')
  } catch (error) {
    assert.match((error as Error).message, /not behind NAT/)
  }
  try {
    await answering.punch.answer(A, encodePunchMessage({ go: true }))
    assert.unreachable('dialled on a go with no offer')
  } catch (error) {
    assert.match((error as Error).message, /go without an offer/)
  }
})

rules('a missed punch is logged once and tried again only after a back-off that doubles', async () => {
  const theirs: Mapping = { ip: '203.0.113.2', port: punchPortOf(B) }
  const missing = puncher(A, {
    publicIp: '203.0.113.1',
    peers: [B],
    remote: async (body) => ('offer' in parsePunchMessage(body) ? encodePunchMessage({ offer: theirs }) : new Uint8Array()),
    dialAnswer: async () => {
      throw new Error('connect timed out')
    },
  })
  await missing.punch.punch(B, 1_000)
  assert.is(missing.punch.failed, 1)
  assert.match(missing.logs.join('\n'), /cannot punch a hole to .* \(connect timed out\): its link stays relayed, tried again in 30 s/)
  missing.punch.check(1_000 + 29_999)
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.is(missing.dialled.length, 1, 'not again within 30 s')
  await missing.punch.punch(B, 1_000 + 30_000)
  assert.is(missing.dialled.length, 2)
  assert.is(missing.logs.filter((line) => line.includes('cannot punch')).length, 1, 'logged once')
  missing.punch.check(1_000 + 30_000 + 59_999)
  await new Promise((resolve) => setTimeout(resolve, 10))
  assert.is(missing.dialled.length, 2, 'the second wait is 60 s')
})

rules.run()
