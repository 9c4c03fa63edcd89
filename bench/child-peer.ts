// A peer in its own process, for measurements that need one to freeze or die (dead-peer.ts); not a
// benchmark itself (bench/run.ts skips it).
// Reads the swarm key file contents from PEER_SWARM_KEY, prints its first address, and exits when
// its stdin closes (so it never outlives the parent). Echoes every direct message back to its sender,
// as a SWIM peer acks a probe.
import { createHost, P2pTransport } from '../p2p/index.js'

const host = await createHost({
  privateKey: undefined,
  dataDir: process.env.PEER_DATA_DIR,
  swarmKey: process.env.PEER_SWARM_KEY,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  join: (process.env.PEER_JOIN ?? '').split(',').filter((a) => a !== ''),
})
const transport = new P2pTransport(host)
await transport.start()
transport.onMessage((from, message) => void transport.send(from, message))
process.stdout.write(`${host.addresses()[0]}\n`)
const stop = async (): Promise<void> => {
  await transport.stop()
  await host.stop()
  process.exit(0)
}
process.stdin.on('end', () => void stop())
process.stdin.resume()
process.on('SIGTERM', () => void stop())
