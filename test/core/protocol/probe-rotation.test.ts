// Site-aware probe turns and push-pull partners (core/protocol/probe-rotation.ts): site-mates one
// by one, each other site as a whole; with no sites, every member on its own as SWIM does.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { drawBySite, ProbeRotation, siteEntries } from '../../../core/protocol/probe-rotation.js'
import { seededRandom, type PeerId } from '../../../core/index.js'

const p = (name: string) => name as PeerId

/** A rotation over `sites` (peer → site; '' for none), this host being `self`. */
function rotationOf(sites: Record<string, string>, self: string, seed = 1) {
  const random = seededRandom(seed)
  const siteOf = (peer: PeerId) => (sites[peer] ? sites[peer] : undefined)
  const members = Object.keys(sites).filter((peer) => peer !== self).map(p)
  const rotation = new ProbeRotation({
    self: p(self),
    reachable: () => members,
    probeable: () => true,
    siteOf,
    shuffled: <T>(items: T[]) => {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = random.int(i + 1)
        ;[out[i], out[j]] = [out[j]!, out[i]!]
      }
      return out
    },
  })
  return { rotation, siteOf }
}

const rotation = suite('probe rotation')

rotation('with no site every member is probed once a pass', () => {
  const { rotation: r } = rotationOf({ a: '', b: '', c: '', d: '' }, 'a')
  for (let pass = 0; pass < 3; pass++) assert.equal([r.next(), r.next(), r.next()].sort(), ['b', 'c', 'd'])
})

rotation('a host of a site probes each site-mate once a pass and each far site once, its members in turn', () => {
  const sites = { a0: 'a', a1: 'a', a2: 'a', b0: 'b', b1: 'b', b2: 'b', b3: 'b', c0: 'c', x: '' }
  const { rotation: r, siteOf } = rotationOf(sites, 'a0')
  const farSeen: PeerId[] = []
  for (let pass = 0; pass < 4; pass++) {
    const turns = Array.from({ length: 5 }, () => r.next()!)
    assert.equal(turns.filter((peer) => siteOf(peer) === 'a' || siteOf(peer) === undefined).sort(), ['a1', 'a2', 'x'], `pass ${pass}: mates and the member of no site once each`)
    assert.is(turns.filter((peer) => siteOf(peer) === 'b').length, 1, `pass ${pass}: site b once`)
    assert.is(turns.filter((peer) => siteOf(peer) === 'c').length, 1, `pass ${pass}: site c once`)
    farSeen.push(...turns.filter((peer) => siteOf(peer) === 'b'))
  }
  assert.equal([...farSeen].sort(), ['b0', 'b1', 'b2', 'b3'], 'four passes reach every host of site b once')
})

rotation('a member that joins is probed in the current pass', () => {
  const { rotation: r } = rotationOf({ a: '', b: '', c: '' }, 'a')
  r.next()
  r.joined(p('z'), () => 0)
  assert.is(r.next(), 'z')
})

rotation('property: in every pass a host probes each site-mate once and each far site once, whatever the sites', () => {
  const site = fc.constantFrom('', 'a', 'b', 'c')
  fc.assert(fc.property(fc.array(site, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 1_000 }), (labels, seed) => {
    const sites = Object.fromEntries(labels.map((label, i) => [`h${i}`, label]))
    const { rotation: r, siteOf } = rotationOf(sites, 'h0', seed)
    const others = Object.keys(sites).filter((peer) => peer !== 'h0').map(p)
    const entries = siteEntries(others, siteOf(p('h0')), siteOf)
    for (let pass = 0; pass < 2; pass++) {
      const turns = entries.map(() => r.next()!)
      for (const entry of entries) {
        if ('peer' in entry) assert.is(turns.filter((peer) => peer === entry.peer).length, 1)
        else assert.is(turns.filter((peer) => siteOf(peer) === entry.site).length, 1)
      }
    }
  }))
})

rotation('push-pull partners: with no site one draw over the peers; with sites, a far site weighs as much as one site-mate', () => {
  const peers = ['a1', 'b0', 'b1', 'b2', 'b3'].map(p)
  const siteOf = (peer: PeerId) => peer[0]
  assert.is(drawBySite(peers, undefined, siteOf, () => 3), 'b2')
  assert.is(drawBySite([], 'a', siteOf, () => 0), undefined)
  const random = seededRandom(7)
  const counts = new Map<string, number>()
  for (let i = 0; i < 4_000; i++) {
    const partner = drawBySite(peers, 'a', siteOf, (n) => random.int(n))!
    counts.set(siteOf(partner)!, (counts.get(siteOf(partner)!) ?? 0) + 1)
  }
  // Two entries (a1, site b): about half the exchanges each, although site b has four hosts.
  assert.ok(Math.abs(counts.get('a')! - 2_000) < 200 && Math.abs(counts.get('b')! - 2_000) < 200, JSON.stringify([...counts]))
})

rotation.run()
