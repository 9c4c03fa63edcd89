// A connection that opens while join addresses are failing (a partition healed) gives the join dials
// still in flight, begun while the network dropped everything, up for fresh ones: an old dial waits
// for its next SYN retransmission, a fresh one's first SYN goes through now (p2p/host.ts, Rejoiner).
// Run against a stand-in node whose dials the test decides: the first to each address is refused at
// once (the address is failing), every later one hangs until it is aborted.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { multiaddr } from '@multiformats/multiaddr'
import { HOST_DEFAULTS, type HostNode, type HostTuning } from '../../p2p/index.js'
import { Rejoiner } from '../../p2p/host.js'
import { sleep, waitFor } from './helpers.js'

interface StandInDial {
  readonly address: string
  readonly signal: AbortSignal
}

function standInNode(): { node: HostNode; dials: StandInDial[] } {
  const dials: StandInDial[] = []
  const node = {
    dial: (address: { toString(): string }, options: { signal: AbortSignal }) => {
      const first = !dials.some((dial) => dial.address === address.toString())
      dials.push({ address: address.toString(), signal: options.signal })
      if (first) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
      return new Promise((_, reject) => options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true }))
    },
    getConnections: () => [],
    getMultiaddrs: () => [],
  }
  return { node: node as unknown as HostNode, dials }
}

const A = '/ip4/10.0.0.2/tcp/7946'
const B = '/ip4/10.0.0.3/tcp/7946'
/** Redials every 100 ms; a dial never times out within a test. */
const TUNING: HostTuning = { ...HOST_DEFAULTS, rejoinIntervalMs: 100, dialTimeoutMs: 60_000 }

const fresh = suite('join dials given up for fresh ones when the network is back')

fresh('a dial in flight for a while is aborted and made again at once; the abandoned one is no failure', async () => {
  const { node, dials } = standInNode()
  const rejoiner = new Rejoiner(node, [multiaddr(A), multiaddr(B)], 'self', TUNING, () => undefined)
  try {
    rejoiner.start()
    // Refused at once, then dialled again at the next interval: that dial hangs.
    await waitFor(() => dials.length === 4, 2_000, 'a second dial to each address')
    assert.equal(rejoiner.failures().map((failure) => failure.attempts), [1, 1])
    await sleep(400)
    const hanging = dials.slice(2)
    rejoiner.reachedAgain()
    assert.ok(hanging.every((dial) => dial.signal.aborted), 'the old dials are given up')
    await waitFor(() => dials.length === 6, 2_000, 'a fresh dial to each address')
    assert.equal(dials.slice(4).map((dial) => dial.address).sort(), [A, B])
    assert.ok(dials.slice(4).every((dial) => !dial.signal.aborted), 'the fresh dials are under way')
    assert.equal(rejoiner.failures().map((failure) => failure.attempts), [1, 1], 'an abandoned dial is not counted as a failure')
  } finally {
    rejoiner.stop()
  }
})

fresh('a dial begun just now is left alone, and the fresh dials come once per rejoin interval', async () => {
  const { node, dials } = standInNode()
  const rejoiner = new Rejoiner(node, [multiaddr(A)], 'self', { ...TUNING, rejoinIntervalMs: 1_000 }, () => undefined)
  try {
    rejoiner.start()
    await sleep(50)
    assert.is(dials.length, 1, 'refused once; the next interval is a second away')
    // Failing, nothing in flight: dialled at once.
    rejoiner.reachedAgain()
    assert.is(dials.length, 2)
    await sleep(400)
    // Within the same interval: nothing more, though the dial is older than the fresh-dial age now.
    rejoiner.reachedAgain()
    assert.is(dials.length, 2)
    assert.not.ok(dials[1]!.signal.aborted)
  } finally {
    rejoiner.stop()
  }
})

fresh('nothing is dialled afresh while no join address is failing', async () => {
  const { node, dials } = standInNode()
  const rejoiner = new Rejoiner(node, [], 'self', TUNING, () => undefined)
  try {
    rejoiner.start()
    rejoiner.reachedAgain()
    assert.is(dials.length, 0)
  } finally {
    rejoiner.stop()
  }
})

fresh.run()
