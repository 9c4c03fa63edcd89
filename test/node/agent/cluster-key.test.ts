// The cluster key that seals secrets, derived from the swarm key: pinned, since a change would make
// every stored secret unreadable, and independent of the swarm key's own bytes.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readSecret, setSecret, newDocument, peerActor } from '../../../crdt/index.js'
import { peerId } from '../../../core/index.js'
import { generateSwarmKey } from '../../../p2p/index.js'
import { deriveClusterKey } from '../../../node/agent/cluster-key.js'

const key = suite('cluster key')

key('is HKDF-SHA-256 of the swarm key with its own salt and info (a known answer, checked with Python\'s hmac)', () => {
  const swarm = Uint8Array.from({ length: 32 }, (_, i) => i)
  assert.is(Buffer.from(deriveClusterKey(swarm)).toString('hex'), 'cb5aee61155a13bca0d1d43ba895f03300a95ddf361028b42590122219695515')
})

key('is 32 bytes, not the swarm key, the same for the same swarm key and different for another', () => {
  const swarm = generateSwarmKey()
  const derived = deriveClusterKey(swarm.bytes)
  assert.is(derived.length, 32)
  assert.not.equal([...derived], [...swarm.bytes])
  assert.equal([...deriveClusterKey(swarm.bytes)], [...derived])
  assert.not.equal([...deriveClusterKey(generateSwarmKey().bytes)], [...derived])
  assert.throws(() => deriveClusterKey(new Uint8Array(16)), /32 bytes/)
})

key('a secret sealed by one peer opens on another peer of the same swarm key, not with another key', () => {
  const swarm = generateSwarmKey()
  const peer = peerId('peer-a')
  const sealed = setSecret(newDocument(peerActor(peer, new Uint8Array(8))), 'db', 'value', deriveClusterKey(swarm.bytes), peer, 1)
  assert.ok(sealed.ok)
  if (!sealed.ok) return
  const opened = readSecret(sealed.doc, 'db', deriveClusterKey(Uint8Array.from(swarm.bytes)))
  assert.is(opened.ok && opened.value.toString(), 'value')
  const stranger = readSecret(sealed.doc, 'db', deriveClusterKey(generateSwarmKey().bytes))
  assert.equal(stranger, { ok: false, error: { kind: 'wrong-key', secret: 'db' } })
})

key.run()
