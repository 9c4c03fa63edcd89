// The cluster key, which seals secrets in the desired state (crdt/secrets.ts), derived from the swarm
// key every peer of the cluster already holds — so there is no second key to distribute, and a peer
// that may connect may also open secrets, as it runs their tasks.
//
// The swarm key itself keys the private network (libp2p pnet). The cluster key is not the same bytes
// but HKDF-SHA-256 of them with a salt and info of its own, so the two uses are independent: what one
// reveals (say, a pnet keystream) says nothing of the other. Changing the salt or the info makes every
// stored secret unreadable (`wrong-key`); test/node/agent/cluster-key.test.ts pins the derivation.

import { hkdfSync } from 'node:crypto'
import { CLUSTER_KEY_BYTES } from '../../crdt/index.js'

const SALT = 'peer/cluster-key'
const INFO = 'peer/secrets/aes-256-gcm/v1'

/** The 32-byte cluster key of the cluster whose swarm key is `swarmKey` (its 32 raw bytes). */
export function deriveClusterKey(swarmKey: Uint8Array): Uint8Array {
  if (swarmKey.length !== 32) throw new RangeError(`a swarm key is 32 bytes, got ${swarmKey.length}`)
  return new Uint8Array(hkdfSync('sha256', swarmKey, SALT, INFO, CLUSTER_KEY_BYTES))
}
