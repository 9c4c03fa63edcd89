// Which resolver a container gets: the agent's DNS server only where a container can reach it.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { containerResolver } from '../../../node/runtime/docker-driver.js'

const resolver = suite('container resolver')

resolver('the agent\'s DNS on port 53 at a reachable address, with peer as the search domain', () => {
  assert.equal(containerResolver('10.253.0.1:53'), { Dns: ['10.253.0.1'], DnsSearch: ['peer'] })
})

resolver('none on loopback (the container\'s own), on another port (the engine takes none), or without a server', () => {
  assert.equal(containerResolver('127.77.0.1:53'), {})
  assert.equal(containerResolver('10.253.0.1:5353'), {})
  assert.equal(containerResolver(undefined), {})
})

resolver.run()
