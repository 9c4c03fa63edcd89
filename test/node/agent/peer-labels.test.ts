// The labels every agent gives itself (node/agent/peer-labels.ts): host name, peer id, OS and
// architecture, read from the host; and the operator's labels that cannot sit beside them.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hostname, machine } from 'node:os'
import { BUILT_IN_LABELS, builtInLabels, ownLabelsProblem } from '../../../node/agent/index.js'

const labels = suite('built-in peer labels')

labels('are the host\'s name, the peer id, the platform and the machine architecture', () => {
  assert.equal(builtInLabels('12D3KooWabc', { hostname: 'edge-3', platform: 'linux', machine: 'aarch64' }), {
    'peer.hostname': 'edge-3', 'peer.id': '12D3KooWabc', 'peer.os': 'linux', 'peer.arch': 'aarch64',
  })
})

labels('are read from the running host by default', () => {
  const own = builtInLabels('me')
  assert.equal([own[BUILT_IN_LABELS.hostname], own[BUILT_IN_LABELS.os], own[BUILT_IN_LABELS.arch]], [hostname(), process.platform, machine()])
})

labels('an operator\'s labels may not use the reserved prefix, nor crowd them out of an advert', () => {
  assert.is(ownLabelsProblem({ zone: 'a', 'peer-group': 'x' }), undefined)
  assert.match(ownLabelsProblem({ 'peer.hostname': 'other' }) ?? '', /"peer\.hostname": keys starting with "peer\." are reserved/)
  assert.is(ownLabelsProblem(Object.fromEntries(Array.from({ length: 59 }, (_, i) => [`k${i}`, 'v']))), undefined)
  assert.match(ownLabelsProblem(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v']))) ?? '', /at most 59 labels/)
})

labels.run()
