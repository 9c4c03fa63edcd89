// How long until a frozen peer (SIGSTOP: its sockets stay open, it just stops answering) is dropped
// by the connection monitor, and a killed one (SIGKILL: the kernel closes its sockets). Each trial
// runs the peer in its own process (child-peer.ts) and an observer here, waits until they are
// connected and the monitor has taken a few round-trip samples, then stops the child and times until
// the observer no longer lists it. A frozen peer is measured twice: on a quiet connection, and on a
// busy one — the observer sends it a direct message every 250 ms and the child echoes each (as SWIM
// probes and acks keep a cluster's connections busy), so the monitor has heard from it until it froze
// and does not ping it before. Trials cycle frozen, frozen-busy, killed; each waits out real timeouts.
// Prints one JSON line: p50 and max in ms of each.
//
//   npm run bench -- dead-peer         (5 trials of each)
//   npm run bench -- dead-peer 10      (10 of each)

import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateSwarmKey } from '../p2p/index.js'
import { percentile } from '../sim/metrics.js'
import { pingMessage, startPeer, stopAll, waitFor, type TestPeer } from '../test/p2p/helpers.js'

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child-peer.ts')
const TRIALS = Number(process.argv[2] ?? 5)
if (!(Number.isSafeInteger(TRIALS) && TRIALS >= 1)) throw new Error(`trials must be a whole number of at least 1, got ${process.argv[2]}`)

const swarmKey = generateSwarmKey()
const KINDS = ['frozen', 'frozen-busy', 'killed'] as const
const dropped: Record<(typeof KINDS)[number], number[]> = { frozen: [], 'frozen-busy': [], killed: [] }
const BUSY_SEND_MS = 250

for (let trial = 0; trial < TRIALS * KINDS.length; trial++) {
  const kind = KINDS[trial % KINDS.length]!
  const freeze = kind !== 'killed'
  let sender: NodeJS.Timeout | undefined
  const dir = await mkdtemp(join(tmpdir(), 'peer-child-'))
  const peers: TestPeer[] = []
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, PEER_SWARM_KEY: new TextDecoder().decode(swarmKey.file), PEER_DATA_DIR: dir },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  try {
    const address = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (data: Buffer) => resolve(data.toString().trim()))
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)))
    })
    const childId = address.split('/p2p/')[1]!
    const a = await startPeer({ swarmKey, seed: `observer-${trial}`, join: [address] })
    peers.push(a)
    await waitFor(() => (a.transport.peers() as string[]).includes(childId), 10_000, 'connected to the child')
    if (kind === 'frozen-busy') {
      let seq = 0
      sender = setInterval(() => void a.transport.send(childId, pingMessage(seq++)), BUSY_SEND_MS)
    }
    await new Promise((r) => setTimeout(r, 1_500)) // let the monitor take a few RTT samples
    if (kind === 'frozen-busy' && a.received.length === 0) throw new Error('the child echoed nothing: the busy trial would measure a quiet connection')
    const t0 = performance.now()
    child.kill(freeze ? 'SIGSTOP' : 'SIGKILL')
    await waitFor(() => !(a.transport.peers() as string[]).includes(childId), 30_000, 'the child dropped')
    dropped[kind].push(performance.now() - t0)
  } finally {
    clearInterval(sender)
    await stopAll(peers)
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
}

console.log(JSON.stringify({
  bench: 'dead-peer',
  trials: TRIALS,
  frozenDroppedMsP50: Math.round(percentile(dropped.frozen, 50)),
  frozenDroppedMsMax: Math.round(Math.max(...dropped.frozen)),
  frozenBusyDroppedMsP50: Math.round(percentile(dropped['frozen-busy'], 50)),
  frozenBusyDroppedMsMax: Math.round(Math.max(...dropped['frozen-busy'])),
  killedDroppedMsP50: Math.round(percentile(dropped.killed, 50)),
  killedDroppedMsMax: Math.round(Math.max(...dropped.killed)),
}))
