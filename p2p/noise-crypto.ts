// Noise's X25519 with the keys kept as Node key objects. The library's Node implementation turns
// every key into a DER document and parses it again for each Diffie-Hellman: OpenSSL's decoder then
// costs 370 µs for a private key and 80 µs for a public one, against 37 µs for the exchange itself,
// and a handshake does three exchanges at each end. When a partition heals, every pair across it
// handshakes at once on busy hosts (ten agents on two cores: ≈ 7 % of the heal's CPU went there).
// Here a key pair is made as key objects, each private key's object is remembered beside its bytes,
// and a public key is read as a JWK (7 µs): ≈ 80 µs per exchange. Everything else is the library's.

import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { Uint8ArrayList } from 'uint8arraylist'

/** The DER prefix of an X25519 private key in PKCS #8 (RFC 8410): the raw 32 bytes follow it. */
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])

/** Each private key this module made or read, by the very array Noise holds and hands back. */
const privateKeys = new WeakMap<Uint8Array, KeyObject>()

const bytesOf = (data: Uint8Array | Uint8ArrayList): Uint8Array => (data instanceof Uint8Array ? data : data.subarray())
const base64url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
const fromBase64url = (text: string | undefined): Uint8Array => {
  if (text === undefined) throw new Error('x25519: an exported key lacks its bytes')
  return new Uint8Array(Buffer.from(text, 'base64url'))
}

/** The key object of private bytes: remembered, or read once from PKCS #8 (a key made elsewhere). */
function privateKeyObject(bytes: Uint8Array): KeyObject {
  const known = privateKeys.get(bytes)
  if (known !== undefined) return known
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, bytes]), format: 'der', type: 'pkcs8' })
  privateKeys.set(bytes, key)
  return key
}

/** A private key object's raw private and public bytes (from its JWK, 1 µs). */
function rawPair(privateKey: KeyObject): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const jwk = privateKey.export({ format: 'jwk' })
  return { publicKey: fromBase64url(jwk.x), privateKey: fromBase64url(jwk.d) }
}

export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  generateX25519KeyPair() {
    const key = generateKeyPairSync('x25519').privateKey
    const pair = rawPair(key)
    privateKeys.set(pair.privateKey, key)
    return pair
  },
  generateX25519KeyPairFromSeed(seed: Uint8Array) {
    return { publicKey: rawPair(privateKeyObject(seed)).publicKey, privateKey: seed }
  },
  generateX25519SharedKey(privateKey: Uint8Array | Uint8ArrayList, publicKey: Uint8Array | Uint8ArrayList) {
    const ours = privateKeyObject(bytesOf(privateKey))
    const theirs = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: base64url(bytesOf(publicKey)) }, format: 'jwk' })
    return diffieHellman({ privateKey: ours, publicKey: theirs })
  },
}
