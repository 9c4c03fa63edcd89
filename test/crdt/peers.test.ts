import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId } from '../../core/placement/ids.js'
import { cordon, desiredState, drain, readPeerSettings, setPeerLabels, uncordon } from '../../crdt/index.js'
import { ok, replica } from './support.mjs'

const Peers = suite('peer settings')
const node = peerId('node-1')

Peers('a peer never mentioned has the defaults', () => {
  const { doc } = replica('peer-a')
  assert.equal(readPeerSettings(doc, node), { peer: node, drain: false, cordon: false, labels: {}, author: '', timeMs: 0 })
})

Peers('drain, cordon and uncordon set and clear the flags, recording who and when', () => {
  const { peer, doc } = replica('peer-a')
  const drained = ok(drain(doc, node, peer, 1_000)).doc
  assert.equal(readPeerSettings(drained, node), { peer: node, drain: true, cordon: false, labels: {}, author: 'peer-a', timeMs: 1_000 })
  const cordoned = ok(cordon(drained, node, peer, 2_000)).doc
  assert.is(readPeerSettings(cordoned, node).cordon, true)
  const cleared = ok(uncordon(cordoned, node, peer, 3_000)).doc
  assert.equal(readPeerSettings(cleared, node), { peer: node, drain: false, cordon: false, labels: {}, author: 'peer-a', timeMs: 3_000 })
})

Peers('setting a flag that is already set makes no change', () => {
  const { peer, doc } = replica('peer-a')
  const drained = ok(drain(doc, node, peer, 1_000)).doc
  const again = ok(drain(drained, node, peer, 2_000))
  assert.is(again.change, null)
  assert.is(again.doc, drained)
  assert.is(ok(uncordon(doc, node, peer, 1_000)).change, null)
})

Peers('labels are set and removed one by one; others stay', () => {
  const { peer, doc } = replica('peer-a')
  const one = ok(setPeerLabels(doc, node, { zone: 'eu', 'example.com/rack': 'r1' }, peer, 1_000)).doc
  const two = ok(setPeerLabels(one, node, { zone: null, disk: 'ssd' }, peer, 2_000)).doc
  assert.equal(readPeerSettings(two, node).labels, { disk: 'ssd', 'example.com/rack': 'r1' })
  assert.is(ok(setPeerLabels(two, node, { disk: 'ssd', absent: null }, peer, 3_000)).change, null)
})

Peers('desiredState lists peers with settings, sorted', () => {
  const { peer, doc } = replica('peer-a')
  const a = ok(drain(doc, 'zeta', peer, 1_000)).doc
  const b = ok(cordon(a, 'alpha', peer, 1_000)).doc
  assert.equal(desiredState(b).peers.map((p) => [p.peer, p.drain, p.cordon]), [['alpha', false, true], ['zeta', true, false]])
})

const errors: Array<[string, (doc: ReturnType<typeof replica>['doc'], author: ReturnType<typeof replica>['peer']) => { ok: boolean }, unknown]> = [
  ['drain of a malformed peer id', (doc, author) => drain(doc, 'a/b', author, 1), { kind: 'invalid-peer', peer: 'a/b' }],
  ['cordon of an empty peer id', (doc, author) => cordon(doc, '', author, 1), { kind: 'invalid-peer', peer: '' }],
  ['a label with a bad name', (doc, author) => setPeerLabels(doc, 'n', { '-x': 'y' }, author, 1), { kind: 'invalid-label', peer: 'n', label: '-x', message: 'not a valid label name' }],
  ['a label value that is too long', (doc, author) => setPeerLabels(doc, 'n', { x: 'v'.repeat(300) }, author, 1), 'invalid-label'],
]
for (const [name, run, expected] of errors) {
  Peers(`refuses ${name}`, () => {
    const { peer, doc } = replica('peer-a')
    const result = run(doc, peer) as { ok: boolean; error?: { kind: string } }
    assert.is(result.ok, false)
    if (typeof expected === 'string') assert.is(result.error?.kind, expected)
    else assert.equal(result.error, expected)
  })
}

Peers.run()
