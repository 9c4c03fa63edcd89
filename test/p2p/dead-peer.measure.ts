// How long until a frozen peer (SIGSTOP: its sockets stay open, it just stops answering) is dropped
// by the connection monitor, and a killed one (SIGKILL: the kernel closes its sockets). Run by hand:
//   node --import tsx test/p2p/dead-peer.measure.ts
// Not part of the suite: each trial waits out real timeouts.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSwarmKey } from '../../p2p/index.js'
import { percentile, startPeer, stopAll, waitFor, type TestPeer } from './helpers.js'

const TRIALS = Number(process.env.TRIALS ?? 5)
const swarmKey = generateSwarmKey()
const frozen: number[] = []
const killed: number[] = []

for (let trial = 0; trial < TRIALS * 2; trial++) {
  const freeze = trial % 2 === 0
  const dir = await mkdtemp(join(tmpdir(), 'peer-child-'))
  const peers: TestPeer[] = []
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/p2p/child-peer.ts'], {
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
    await new Promise((r) => setTimeout(r, 1_500)) // let the monitor take a few RTT samples
    const t0 = performance.now()
    child.kill(freeze ? 'SIGSTOP' : 'SIGKILL')
    await waitFor(() => !(a.transport.peers() as string[]).includes(childId), 30_000, 'the child dropped')
    ;(freeze ? frozen : killed).push(performance.now() - t0)
  } finally {
    await stopAll(peers)
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
}
const fmt = (xs: number[]): string => `p50 ${percentile(xs, 50).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (n=${xs.length})`
console.log(`frozen peer (SIGSTOP) dropped after: ${fmt(frozen)}`)
console.log(`killed peer (SIGKILL) dropped after: ${fmt(killed)}`)
