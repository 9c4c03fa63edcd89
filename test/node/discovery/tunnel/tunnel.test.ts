// Tunnels between real libp2p peers on loopback, through a real circuit relay: A reaches B only by a
// relayed connection through R (B reserves a slot on R and A is told nothing but that circuit
// address). B runs a tunnel server whose own tasks are one echo server; a second server on B's host,
// not a task, stands for everything else the host can reach.
//
//   - a connection through the tunnel gets the echo server's answers, both ways, with half-close;
//   - the tunnel runs on a relayed connection of its own (through the same relay), which control
//     streams never use;
//   - B refuses, and logs why, a request for another port (the other server is never connected to),
//     for a task it does not run, and a malformed request.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import { generateSwarmKey, isTunnelConnection, TUNNEL_PROTOCOL } from '../../../../p2p/index.js'
import { usableConnection } from '../../../../p2p/open-stream.js'
import { TunnelClient, TunnelServer } from '../../../../node/discovery/index.js'
import { decodeAnswer, encodeRequest, readHead } from '../../../../node/discovery/tunnel/header.js'
import { spliceStream } from '../../../../node/discovery/tunnel/splice-stream.js'
import type { Endpoint, ServicePort } from '../../../../node/discovery/index.js'
import type { PeerId, SlotId } from '../../../../core/index.js'
import { startPeer, stopAll, waitFor, type TestPeer } from '../../../p2p/helpers.js'

const tunnel = suite('tunnel: service traffic over a relayed libp2p connection')

function listen(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConnection)
  return new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve({ server, port: (server.address() as { port: number }).port })))
}

/** Sends `text`, half-closes, and collects everything until the other side ends. */
function exchange(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    socket.on('data', (chunk: Buffer) => (got += chunk.toString()))
    socket.on('end', () => resolve(got))
    socket.on('error', reject)
    socket.end(text)
  })
}

/** Resolves when `promise` rejects with a message matching `pattern`; fails the test otherwise. */
async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise
  } catch (error) {
    assert.match((error as Error).message, pattern)
    return
  }
  assert.unreachable(`expected a rejection matching ${pattern}`)
}

async function rawRequest(stream: Stream, body: Uint8Array): Promise<ReturnType<typeof decodeAnswer>> {
  stream.send(body)
  return decodeAnswer(await readHead(stream, AbortSignal.timeout(5_000)))
}

tunnel('a connection crosses the relay to the task and back; the tunnel has a connection of its own; other ports, other tasks and junk are refused', async () => {
  const swarmKey = generateSwarmKey()
  const peers: TestPeer[] = []
  const servers: Server[] = []
  let tunnels: TunnelServer | undefined
  try {
    const echo = await listen((socket) => socket.pipe(socket))
    let secretConnections = 0
    const secret = await listen((socket) => {
      secretConnections++
      socket.end('secret')
    })
    servers.push(echo.server, secret.server)

    const r = await startPeer({ swarmKey, seed: 'tunnel-r' })
    peers.push(r)
    // B listens nowhere: like a host behind NAT, it can only be reached through the relay.
    const b = await startPeer({ swarmKey, seed: 'tunnel-b', join: r.host.addresses(), listen: [] })
    peers.push(b)
    await waitFor(() => b.host.peers().includes(r.host.peerId), 10_000, 'B connected to R')
    // B behind NAT would reserve by itself (p2p/nat.ts); on loopback nobody is, so reserve by hand.
    const relayAddress = `${r.host.addresses()[0]}/p2p-circuit`
    await b.host.node.services.listen.transportManager.listen([multiaddr(relayAddress)])
    // A listens nowhere either (another site): neither can dial the other but through the relay.
    const a = await startPeer({ swarmKey, seed: 'tunnel-a', listen: [] })
    peers.push(a)
    await a.host.node.dial(multiaddr(`${relayAddress}/p2p/${b.host.peerId}`))
    await waitFor(() => a.host.linkTo(b.host.peerId)?.kind === 'relayed', 10_000, 'A linked to B through R')

    const lines: string[] = []
    const endpoint: Endpoint = { slot: 'echo/0' as SlotId, peer: b.host.peerId as PeerId, address: '127.0.0.1', port: echo.port, local: true, ready: true, state: 'running' }
    const ports: ServicePort[] = [{ service: 'echo' as ServicePort['service'], target: 7, protocol: 'tcp', endpoints: [endpoint] }]
    tunnels = await TunnelServer.start({ node: b.host.node, links: b.host.tunnels, ports: () => ports, log: (line) => lines.push(line) })

    // Through the tunnel, as the proxy does: the far agent connects to the task, bytes both ways.
    const client = new TunnelClient(a.host.tunnels)
    const far = { ...endpoint, local: false, tunnel: true as const }
    const stream = await client.open(far, AbortSignal.timeout(10_000))
    const { server: front, port: frontPort } = await listen((socket) => spliceStream(socket, stream, () => undefined))
    servers.push(front)
    const big = 'x'.repeat(512 * 1024)
    assert.is(await exchange(connect({ host: '127.0.0.1', port: frontPort, allowHalfOpen: true }), `hello ${big}`), `hello ${big}`)
    assert.is(tunnels.stats().served, 1)

    // Its own relayed connection, marked on both ends; control streams keep to the first one.
    const fromA = a.host.node.getConnections(peerIdFromString(b.host.peerId)).filter((c) => c.status === 'open')
    assert.is(fromA.length, 2, fromA.map((c) => c.remoteAddr.toString()).join(' '))
    const tunnelled = fromA.filter(isTunnelConnection)
    assert.is(tunnelled.length, 1)
    assert.match(tunnelled[0]!.remoteAddr.toString(), /\/p2p-circuit\//)
    assert.ok(fromA.some((c) => !isTunnelConnection(c) && c.remoteAddr.toString().includes('/p2p-circuit/')), 'the control connection is relayed too')
    assert.not.ok(isTunnelConnection(usableConnection(fromA)!), 'control streams avoid the tunnel connection')
    const fromB = b.host.node.getConnections(peerIdFromString(a.host.peerId)).filter((c) => c.status === 'open')
    assert.is(fromB.filter(isTunnelConnection).length, 1, 'B marked the connection the tunnel arrived on')

    // Another port on B's host: refused by B, never connected to.
    await rejects(client.open({ ...far, port: secret.port }, AbortSignal.timeout(10_000)), new RegExp(`tunnel refused by ${b.host.peerId}: task echo/0 does not listen on ${secret.port}`))
    // A task B does not run.
    await rejects(client.open({ ...far, slot: 'db/0' as SlotId }, AbortSignal.timeout(10_000)), /no task db\/0 with a tcp port runs on this agent/)
    // Not a request at all, and a request with an address in it: the shape is checked before anything else.
    const tunnelConnection = fromA.find(isTunnelConnection)!
    const junk = await rawRequest(await tunnelConnection.newStream(TUNNEL_PROTOCOL, { runOnLimitedConnection: true }), Uint8Array.of(4, 0x7b, 0x7d, 0x7b, 0x7d))
    assert.equal(junk, { ok: false, reason: 'request is not JSON' })
    const withAddress = new TextEncoder().encode(JSON.stringify({ slot: 'echo/0', port: secret.port, address: '127.0.0.1' }))
    const addressed = await rawRequest(await tunnelConnection.newStream(TUNNEL_PROTOCOL, { runOnLimitedConnection: true }), Uint8Array.of(withAddress.length, ...withAddress))
    assert.equal(addressed, { ok: false, reason: 'request has unknown fields: address' })
    assert.is(secretConnections, 0, 'the other server was never connected to')
    assert.is(tunnels.stats().refused, 4)
    assert.ok(lines.some((line) => line.startsWith(`tunnel from ${a.host.peerId} refused: task echo/0 does not listen on ${secret.port}`)), lines.join('\n'))
    assert.equal(encodeRequest({ slot: 'echo/0' as SlotId, port: 1 }).length < 64, true)
  } finally {
    await tunnels?.stop()
    for (const server of servers) server.close()
    await stopAll(peers)
  }
})

tunnel.run()
