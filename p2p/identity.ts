// A peer's identity is its Ed25519 key: the peer id other peers know it by is derived from the public
// half, and Noise proves possession of the private half on every connection. Keeping the key in the
// data directory keeps the id stable across restarts, so the cluster sees a restarted peer as the
// same member (its tasks, its slots) rather than a stranger.
//
// The file is libp2p's protobuf encoding of the private key (what go-libp2p and Kubo store too),
// readable by the owner only: anyone holding it can impersonate the peer.

import './polyfill.js'

import { createHash } from 'node:crypto'
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { SetupError } from './errors.js'
import { messageOf } from '../core/index.js'

/** The key file's name inside the data directory. */
export const IDENTITY_FILE = 'identity.key'

/** Owner read/write only; the data directory itself is owner-only too. */
const KEY_FILE_MODE = 0o600
const DATA_DIR_MODE = 0o700

/** Protobuf of an Ed25519 key is 68 bytes; anything far larger is not a key file. */
const MAX_KEY_FILE_BYTES = 16 * 1024

export interface Identity {
  readonly privateKey: PrivateKey
  /** The libp2p peer id (base58), as other peers and the machine name this peer. */
  readonly peerId: string
  /** Where the key lives; undefined for a key made from a seed. */
  readonly path?: string
  /** True when this call created the key (first start). */
  readonly created: boolean
}

/**
 * Loads the key from `<dataDir>/identity.key`, or creates it (mode 0600, written to a temporary file
 * and renamed, so a crash never leaves half a key). Throws SetupError with a message fit for a user
 * when the file is unreadable, not a key, or readable by others.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<Identity> {
  const path = join(dataDir, IDENTITY_FILE)
  const existing = await readKeyFile(path)
  if (existing !== undefined) return { privateKey: existing, peerId: peerIdFromPrivateKey(existing).toString(), path, created: false }

  try {
    await mkdir(dataDir, { recursive: true, mode: DATA_DIR_MODE })
  } catch (error) {
    throw new SetupError('identity-unwritable', `cannot create the data directory ${dataDir}: ${reason(error)}`)
  }
  const privateKey = await generateKeyPair('Ed25519')
  const temporary = `${path}.${process.pid}.tmp`
  try {
    const handle = await open(temporary, 'w', KEY_FILE_MODE)
    try {
      await handle.writeFile(privateKeyToProtobuf(privateKey))
      await handle.sync()
    } finally {
      await handle.close()
    }
    // open() applies the umask to the mode; chmod does not.
    await chmod(temporary, KEY_FILE_MODE)
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => undefined)
    throw new SetupError('identity-unwritable', `cannot write the peer key ${path}: ${reason(error)}`)
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), path, created: true }
}

/**
 * A deterministic identity for tests and simulations: the same seed always gives the same peer id.
 * A string seed is hashed (SHA-256) into the 32 bytes Ed25519 needs; bytes must be exactly 32 long.
 */
export async function identityFromSeed(seed: string | Uint8Array): Promise<Identity> {
  const bytes = typeof seed === 'string' ? createHash('sha256').update(seed).digest() : seed
  if (bytes.length !== 32) throw new SetupError('bad-seed', `an identity seed must be 32 bytes, got ${bytes.length}`)
  const privateKey = await generateKeyPairFromSeed('Ed25519', bytes)
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), created: false }
}

async function readKeyFile(path: string): Promise<PrivateKey | undefined> {
  let mode: number
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new SetupError('identity-unreadable', `the peer key ${path} is not a file`)
    if (info.size > MAX_KEY_FILE_BYTES) throw new SetupError('identity-corrupt', `the peer key ${path} is ${info.size} bytes, too large to be a key`)
    mode = info.mode
  } catch (error) {
    if (error instanceof SetupError) throw error
    if (isCode(error, 'ENOENT')) return undefined
    throw new SetupError('identity-unreadable', `cannot read the peer key ${path}: ${reason(error)}`)
  }
  // Like ssh with a private key: a key others can read is a key others may have copied.
  if ((mode & 0o077) !== 0) {
    throw new SetupError(
      'identity-too-open',
      `the peer key ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    )
  }
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (error) {
    throw new SetupError('identity-unreadable', `cannot read the peer key ${path}: ${reason(error)}`)
  }
  try {
    const key = privateKeyFromProtobuf(bytes)
    if (key.type !== 'Ed25519') throw new Error(`a ${key.type} key, expected Ed25519`)
    return key
  } catch (error) {
    throw new SetupError(
      'identity-corrupt',
      `the peer key ${path} is not a libp2p Ed25519 private key (${reason(error)}); restore it from a backup, or delete it to start as a new peer`,
    )
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code
}

function reason(error: unknown): string {
  return messageOf(error)
}
