// Traffic between sites in the simulator (sim/site-links.ts): which messages count (only between
// peers of different sites, only from the window's start), how the per-pair and per-site figures
// relate, and that asking for them never changes a run.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { peerId, validateServices, type PeerView } from '../../core/index.js'
import { NO_FAULTS } from '../../sim/faults.js'
import { NETWORK_PROFILES } from '../../sim/network.js'
import { Simulation } from '../../sim/runner.js'
import { NO_SITE, SiteLinkLedger } from '../../sim/site-links.js'

const ledger = suite('site links: the ledger')

ledger('messages inside a site, and before the window, are not counted', () => {
  const links = new SiteLinkLedger(['a', 'a', 'b'], 1_000)
  links.record(0, 1, 'ping', 100, 1_500)
  links.record(0, 2, 'ping', 100, 999)
  links.record(0, 2, 'ack', 40, 1_000)
  const figures = links.figures(3_000)
  assert.is(figures.seconds, 2)
  assert.equal(figures.pairs, [{ sites: ['a', 'b'], aToBBytesPerSec: 20, bToABytesPerSec: 0, messagesPerSec: 0.5, bytesPerSecByKind: { ack: 20 } }])
  assert.equal(figures.sites.map((site) => [site.site, site.outBytesPerSec, site.inBytesPerSec]), [['a', 20, 0], ['b', 0, 20]])
})

ledger('each way of a pair is kept apart, named in sorted site order', () => {
  // Peer 0 is in site z, peer 1 in site c: the pair is (c, z) whichever sends.
  const links = new SiteLinkLedger(['z', 'c'], 0)
  links.record(0, 1, 'digest', 300, 0)
  links.record(1, 0, 'digest', 100, 10)
  links.recordEach(0, [1, 1], 'advert', 50, 20)
  const [pair] = links.figures(1_000).pairs
  assert.equal(pair, { sites: ['c', 'z'], aToBBytesPerSec: 100, bToABytesPerSec: 400, messagesPerSec: 4, bytesPerSecByKind: { advert: 100, digest: 400 } })
})

ledger('a peer without a site label stands in a site of its own name', () => {
  const links = new SiteLinkLedger([undefined, 'a'], 0)
  links.record(0, 1, 'ping', 10, 0)
  assert.equal(links.figures(1_000).sites.map((site) => site.site), [NO_SITE, 'a'])
})

ledger('an unknown peer, and a window that ends before it starts, are errors', () => {
  const links = new SiteLinkLedger(['a', 'b'], 500)
  assert.throws(() => links.record(0, 2, 'ping', 10, 600), /no peer 2/)
  assert.throws(() => links.figures(500), /ends \(500 ms\) before it starts/)
})

ledger('every byte that leaves a site enters another: the sites\' outs, their ins and the pairs agree', () => {
  const message = fc.record({ from: fc.nat(5), to: fc.nat(5), bytes: fc.integer({ min: 1, max: 2_000 }), atMs: fc.nat(9_999) })
  fc.assert(fc.property(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 6, maxLength: 6 }), fc.array(message, { maxLength: 60 }), (sites, messages) => {
    const links = new SiteLinkLedger(sites, 0)
    let crossing = 0
    for (const { from, to, bytes, atMs } of messages) {
      links.record(from, to, 'ping', bytes, atMs)
      if (sites[from] !== sites[to]) crossing += bytes
    }
    // Ten seconds: every figure is a sum of whole bytes over 10, so rounding is the only error.
    const figures = links.figures(10_000)
    const outs = figures.sites.reduce((sum, site) => sum + site.outBytesPerSec, 0)
    const ins = figures.sites.reduce((sum, site) => sum + site.inBytesPerSec, 0)
    const pairs = figures.pairs.reduce((sum, pair) => sum + pair.aToBBytesPerSec + pair.bToABytesPerSec, 0)
    const slack = figures.sites.length + 2 * figures.pairs.length
    for (const total of [outs, ins, pairs]) assert.ok(Math.abs(total - crossing / 10) <= slack, `${total} against ${crossing / 10}`)
  }))
})

ledger.run()

const runner = suite('site links: in a run')

function sitePeers(): PeerView[] {
  return ['a', 'a', 'b', 'b'].map((site, i) => ({
    id: peerId(`${site}${i}`), state: 'alive', capacity: { cpuMilli: 2000, memoryMiB: 2048, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: { site }, drivers: ['process'], tasks: [],
  }))
}

function run(siteLinksFromMs?: number) {
  const services = validateServices({ services: { web: { command: 'web', replicas: 4, spreadBy: 'site' } } })
  if (!services.ok) throw new Error(JSON.stringify(services.errors))
  return new Simulation({
    seed: 3, peers: sitePeers(), services: services.services, durationMs: 20_000, faults: NO_FAULTS,
    network: NETWORK_PROFILES.lan, profile: 'lan', ...(siteLinksFromMs === undefined ? {} : { siteLinksFromMs }),
  }).run()
}

runner('an idle two-site cluster sends probes both ways across its one site link, and counting it changes nothing', () => {
  const plain = run()
  const counted = run(10_000)
  assert.is(plain.siteLinks, undefined)
  assert.equal(counted.metrics, plain.metrics)
  const figures = counted.siteLinks!
  assert.is(figures.seconds, 10)
  assert.is(figures.pairs.length, 1)
  const [pair] = figures.pairs
  assert.ok(pair!.aToBBytesPerSec > 0 && pair!.bToABytesPerSec > 0, JSON.stringify(pair))
  assert.ok((pair!.bytesPerSecByKind.ping ?? 0) > 0 && (pair!.bytesPerSecByKind.ack ?? 0) > 0, JSON.stringify(pair))
  // Two sites: what leaves one is what enters the other.
  assert.equal(figures.sites.map((site) => [site.site, site.outBytesPerSec, site.inBytesPerSec]), [['a', pair!.aToBBytesPerSec, pair!.bToABytesPerSec], ['b', pair!.bToABytesPerSec, pair!.aToBBytesPerSec]])
  // Less than everything the run sent: messages inside each site are not on the link.
  assert.ok(pair!.aToBBytesPerSec + pair!.bToABytesPerSec < counted.metrics.bytesPerPeerPerSec * 4, JSON.stringify(counted.metrics))
})

runner.run()
