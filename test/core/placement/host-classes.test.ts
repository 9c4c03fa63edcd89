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

classes.run()
