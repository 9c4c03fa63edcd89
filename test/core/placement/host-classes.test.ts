// Host classes: the planner's memo of couldHost per class of peers with equal drivers and labels
// must answer exactly what couldHost answers for each peer.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { couldHost, placementRequest, type Driver } from '../../../core/index.js'
import { HostClasses } from '../../../core/placement/host-classes.js'
import { makeSpec } from './fixtures.js'

const facts = fc.record({
  drivers: fc.constantFrom<Driver[]>(['docker', 'process'], ['process'], ['docker'], ['process', 'docker'], []),
  labels: fc.dictionary(fc.constantFrom('zone', 'arch', 'ssd', 'host'), fc.constantFrom('a', 'b', 'amd64', 'arm64', 'yes', '')),
})

const spec = fc.record({
  docker: fc.boolean(),
  constraint: fc.constantFrom(undefined, 'zone == a', 'arch in (amd64, arm64)', 'ssd exists', 'arch matches ^arm', 'zone != b', 'host notin (a)'),
}).map(({ docker, constraint }) => placementRequest(makeSpec({ ...(docker ? { image: 'app:1' } : {}), ...(constraint ? { constraints: [constraint] } : {}) })))

const classes = suite('host classes')

classes('answer couldHost for every peer, few classes or many', () => {
  fc.assert(fc.property(fc.array(facts, { maxLength: 60 }), fc.array(spec, { minLength: 1, maxLength: 4 }), (peers, wants) => {
    const memo = new HostClasses(peers)
    for (const want of wants) {
      const filter = memo.filter(want)
      // Twice: the second answer comes from the class's remembered verdict.
      for (let round = 0; round < 2; round++) {
        peers.forEach((peer, i) => assert.is(filter(i), couldHost(want, peer.drivers, peer.labels)))
      }
    }
  }), { numRuns: 200 })
})

classes('past the class limit peers are asked one by one, with the same answers', () => {
  const peers = Array.from({ length: 1500 }, (_, i) => ({ drivers: ['process'] as Driver[], labels: { host: `h${i}`, ...(i % 3 === 0 ? { ssd: 'yes' } : {}) } }))
  const want = placementRequest(makeSpec({ constraints: ['ssd exists'] }))
  const filter = new HostClasses(peers).filter(want)
  peers.forEach((peer, i) => assert.is(filter(i), i % 3 === 0))
})

classes('a list grouped again answers for the facts it holds now, whichever objects it shares with the last', () => {
  // Lists built from a pool of facts objects, so consecutive lists share some objects in some places.
  const pool = fc.array(facts, { minLength: 1, maxLength: 6 })
  fc.assert(fc.property(pool, fc.array(fc.array(fc.nat(5), { maxLength: 30 }), { minLength: 2, maxLength: 4 }), spec, (objects, lists, want) => {
    for (const list of lists) {
      const peers = list.map((i) => objects[i % objects.length]!)
      const filter = new HostClasses(peers).filter(want)
      peers.forEach((peer, i) => assert.is(filter(i), couldHost(want, peer.drivers, peer.labels)))
    }
  }), { numRuns: 200 })
})

classes('the same peers grouped twice keep their labels per class', () => {
  const peers = [{ drivers: ['process'] as Driver[], labels: { zone: 'a' } }, { drivers: ['process'] as Driver[], labels: { zone: 'b' } }]
  const first = new HostClasses(peers)
  const second = new HostClasses([...peers])
  for (const memo of [first, second]) {
    assert.is(memo.label(memo.classAt(0), 'zone'), 'a')
    assert.is(memo.label(memo.classAt(1), 'zone'), 'b')
  }
  // A peer whose labels object changed is grouped anew.
  const third = new HostClasses([peers[0]!, { drivers: ['process'] as Driver[], labels: { zone: 'c' } }])
  assert.is(third.label(third.classAt(1), 'zone'), 'c')
})

classes.run()
