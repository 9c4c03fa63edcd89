// A swarm-key holder that speaks the tunnel protocol by hand, run inside a host's namespace by
// nat-tunnel.test.ts: it joins the reachable host, dials a site host through the relay, and asks that
// host's agent for a tunnel to each target given (slot and port). Prints one JSON line per target
// with the answer and, when accepted, the first bytes the far side sent.
//
//   node --import tsx tunnel-intruder.ts <swarm key file> <join address> <far circuit address> <slot>:<port>…

import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { createHost, identityFromSeed, readSwarmKeyFile, TUNNEL_PROTOCOL } from '../../p2p/index.js'
import { decodeAnswer, encodeRequest, readHead } from '../../node/discovery/tunnel/header.js'
import type { SlotId } from '../../core/index.js'

const [keyFile, join, far, ...targets] = process.argv.slice(2)
/** The first bytes the far side sends after its answer, as text. */
function firstBytes(stream: Stream): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(''), 10_000)
    stream.addEventListener('message', (event) => {
      clearTimeout(timer)
      resolve(new TextDecoder().decode(event.data.subarray()))
    }, { once: true })
  })
}

const { privateKey } = await identityFromSeed(`tunnel-intruder-${process.pid}`)
const host = await createHost({ privateKey, swarmKey: await readSwarmKeyFile(keyFile!), listen: [], join: [join!] })
try {
  // A handshake through the relay can time out on a loaded machine: a few tries, as an agent's redial would.
  let connection
  for (let attempt = 1; connection === undefined; attempt++) {
    try {
      connection = await host.node.dial(multiaddr(far!), { signal: AbortSignal.timeout(30_000) })
    } catch (error) {
      if (attempt >= 3) throw error
    }
  }
  for (const target of targets) {
    const [slot, port] = target.split(':') as [string, string]
    const stream = await connection.newStream(TUNNEL_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
    stream.send(encodeRequest({ slot: slot as SlotId, port: Number(port) }))
    const answer = decodeAnswer(await readHead(stream, AbortSignal.timeout(10_000)))
    let first: string | undefined
    if (typeof answer !== 'string' && answer.ok) first = await firstBytes(stream)
    stream.abort(new Error('done'))
    process.stdout.write(`${JSON.stringify({ target, answer, first })}\n`)
  }
} finally {
  await host.stop()
}
