import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { randomBytes } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../p2p/noise-crypto.js'

const crypto = suite('noise crypto')

const hex = (bytes: Uint8Array | Uint8ArrayList): string => Buffer.from(bytes.subarray()).toString('hex')

crypto('both ends of an exchange derive the same key, and the same as the library would', () => {
  for (let i = 0; i < 20; i++) {
    const ours = noiseCrypto.generateX25519KeyPair()
    const theirs = noiseCrypto.generateX25519KeyPair()
    assert.is(ours.privateKey.length, 32)
    assert.is(ours.publicKey.length, 32)
    const shared = hex(noiseCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey))
    assert.is(hex(noiseCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey)), shared)
    // A peer running the library's own implementation derives it too: agents of both kinds interoperate.
    assert.is(hex(defaultCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey)), shared)
  }
})

crypto('a static key from a seed matches the library, and keys made elsewhere still work', () => {
  const seed = new Uint8Array(randomBytes(32))
  const mine = noiseCrypto.generateX25519KeyPairFromSeed(seed)
  const library = defaultCrypto.generateX25519KeyPairFromSeed(seed)
  assert.is(hex(mine.publicKey), hex(library.publicKey))
  assert.is(mine.privateKey, seed)
  const other = defaultCrypto.generateX25519KeyPair()
  const shared = hex(defaultCrypto.generateX25519SharedKey(other.privateKey, mine.publicKey))
  assert.is(hex(noiseCrypto.generateX25519SharedKey(mine.privateKey, other.publicKey)), shared)
  assert.is(hex(noiseCrypto.generateX25519SharedKey(other.privateKey, mine.publicKey)), shared)
})

crypto('keys handed over as lists of chunks', () => {
  const ours = noiseCrypto.generateX25519KeyPair()
  const theirs = noiseCrypto.generateX25519KeyPair()
  const split = (bytes: Uint8Array): Uint8ArrayList => new Uint8ArrayList(bytes.subarray(0, 5), bytes.subarray(5))
  const shared = hex(noiseCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey))
  assert.is(hex(noiseCrypto.generateX25519SharedKey(split(ours.privateKey), split(theirs.publicKey))), shared)
})

crypto('a public key that is not a curve point of 32 bytes is refused', () => {
  const ours = noiseCrypto.generateX25519KeyPair()
  assert.throws(() => noiseCrypto.generateX25519SharedKey(ours.privateKey, new Uint8Array(31)))
})

crypto.run()
