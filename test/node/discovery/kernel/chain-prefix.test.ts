// The kernel forwarder's chain prefix comes from the agent's peer id, whose base58 tail is mixed case;
// chain prefixes must be capital letters and digits. Every peer id must give a prefix chainNames
// accepts, or the agent that picks kernel forwarding dies at start.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { chainNames } from '../../../../node/discovery/kernel/chains.js'
import { chainPrefixOf } from '../../../../node/discovery/open.js'

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

const prefix = suite('kernel chain prefix of an agent')

prefix('every peer id gives a prefix the chains accept', () => {
  const peerId = fc.array(fc.constantFrom(...BASE58), { minLength: 46, maxLength: 52 }).map((chars) => `12D3KooW${chars.join('')}`)
  fc.assert(fc.property(peerId, (id) => {
    const chains = chainNames(chainPrefixOf(id))
    assert.ok(chains.services.length <= 28, chains.services)
  }))
})

prefix('a peer id such as the agents really have', () => {
  assert.not.throws(() => chainNames(chainPrefixOf('12D3KooWLuHUB3hzTBCSTMjEzhmHVjPTrsvMsDhMQ5wA6TaHY9jG')))
})

prefix.run()
