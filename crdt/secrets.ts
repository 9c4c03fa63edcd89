// Secrets: values sealed with the cluster key (AES-256-GCM), names in the clear. Every peer in the
// cluster holds the key (the agent derives it from the private-network key: node/agent/cluster-key.ts),
// so every peer can open them; a copy of the document without the key reveals names, sizes and
// authors only.
//
// The secret's name is bound into the seal as associated data, so a ciphertext copied under another
// name does not open.

import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { ImmutableString } from '@automerge/automerge'
import type { PeerId } from '../core/index.js'
import { SECRET_NAME_PATTERN } from '../core/index.js'
import { commitChange } from './change.js'
import { failure, type DesiredStateError, type EditResult } from './errors.js'
import { isRecordValue, readNumber, readString } from './plain.js'
import { DOCUMENT_LIMITS, type DesiredDoc, type DesiredStateDocument } from './schema.js'

export { SECRET_NAME_PATTERN }
export const CLUSTER_KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

export interface SecretInfo {
  readonly name: string
  readonly version: number
  readonly sizeBytes: number
  readonly author: string
  readonly timeMs: number
}

export interface SecretOptions {
  /** The 96-bit GCM nonce. Random by default; tests pass a fixed one. Never reuse one with a key. */
  readonly iv?: Uint8Array
}

/** Identifies a key without revealing it: a domain-separated hash, 8 bytes in hex. */
export function clusterKeyId(key: Uint8Array): string {
  return createHash('sha256').update('peer-secret-key-id:').update(key).digest().subarray(0, 8).toString('hex')
}

export function setSecret(
  doc: DesiredDoc, name: string, value: string | Uint8Array, key: Uint8Array, author: PeerId, nowMs: number, options: SecretOptions = {},
): EditResult<{ version: number }> {
  if (!SECRET_NAME_PATTERN.test(name)) return failure({ kind: 'invalid-secret-name', secret: name })
  if (key.length !== CLUSTER_KEY_BYTES) return failure({ kind: 'invalid-key', lengthBytes: key.length })
  const plaintext = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value)
  if (plaintext.length > DOCUMENT_LIMITS.secretValueBytes) {
    return failure({ kind: 'secret-too-large', secret: name, sizeBytes: plaintext.length, limitBytes: DOCUMENT_LIMITS.secretValueBytes })
  }
  const iv = options.iv ?? randomBytes(IV_BYTES)
  if (iv.length !== IV_BYTES) throw new Error(`a secret iv must be ${IV_BYTES} bytes`)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(associatedData(name))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  const tag = cipher.getAuthTag()
  const version = (readSecretInfo(doc, name)?.version ?? 0) + 1
  const committed = commitChange(doc, `set secret ${name}`, nowMs, (root) => {
    if (!isRecordValue(root.secrets)) root.secrets = {}
    // Written as one new map: see StoredSecret in schema.ts.
    root.secrets[name] = {
      ciphertext: new Uint8Array(ciphertext),
      iv: new Uint8Array(iv),
      tag: new Uint8Array(tag),
      keyId: new ImmutableString(clusterKeyId(key)),
      version,
      author: new ImmutableString(author),
      timeMs: nowMs,
    }
  })
  return { ok: true, ...committed, version }
}

export function removeSecret(doc: DesiredDoc, name: string, author: PeerId, nowMs: number): EditResult {
  if (readSecretInfo(doc, name) === undefined) return failure({ kind: 'unknown-secret', secret: name })
  const committed = commitChange(doc, `remove secret ${name} by ${author}`, nowMs, (root) => {
    delete root.secrets[name]
  })
  return { ok: true, ...committed }
}

/** Opens a secret with the cluster key. */
export function readSecret(doc: DesiredDoc, name: string, key: Uint8Array): { ok: true; value: Buffer } | { ok: false; error: DesiredStateError } {
  if (key.length !== CLUSTER_KEY_BYTES) return failure({ kind: 'invalid-key', lengthBytes: key.length })
  const stored = storedSecret(doc, name)
  if (stored === undefined) return failure({ kind: 'unknown-secret', secret: name })
  const { ciphertext, iv, tag, keyId } = stored
  if (!(ciphertext instanceof Uint8Array) || !(iv instanceof Uint8Array) || iv.length !== IV_BYTES || !(tag instanceof Uint8Array) || tag.length !== TAG_BYTES) {
    return failure({ kind: 'corrupt-secret', secret: name })
  }
  if (readString(keyId) !== clusterKeyId(key)) return failure({ kind: 'wrong-key', secret: name })
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv)
    decipher.setAAD(associatedData(name))
    decipher.setAuthTag(tag)
    return { ok: true, value: Buffer.concat([decipher.update(ciphertext), decipher.final()]) }
  } catch {
    return failure({ kind: 'corrupt-secret', secret: name })
  }
}

/**
 * Whether the secret `name` exists and opens to exactly `value`: a writer that only wants a new
 * version when the value differs (`peer apply` of file-sourced secrets) asks this first, so an
 * unchanged file does not roll every service that uses it.
 */
export function secretHolds(doc: DesiredDoc, name: string, value: Uint8Array, key: Uint8Array): boolean {
  const opened = readSecret(doc, name, key)
  if (!opened.ok) return false
  try {
    return opened.value.length === value.length && timingSafeEqual(opened.value, value)
  } finally {
    opened.value.fill(0)
  }
}

/** Name, version, size and author of a secret; never its value. */
export function readSecretInfo(doc: DesiredDoc, name: string): SecretInfo | undefined {
  const stored = storedSecret(doc, name)
  if (stored === undefined) return undefined
  return {
    name,
    version: readNumber(stored.version) ?? 0,
    sizeBytes: stored.ciphertext instanceof Uint8Array ? stored.ciphertext.length : 0,
    author: readString(stored.author) ?? '',
    timeMs: readNumber(stored.timeMs) ?? 0,
  }
}

export function secretNames(doc: DesiredDoc): string[] {
  const secrets = (doc as DesiredStateDocument).secrets as unknown
  if (!isRecordValue(secrets)) return []
  return Object.keys(secrets).filter((name) => SECRET_NAME_PATTERN.test(name) && isRecordValue(secrets[name])).sort()
}

function storedSecret(doc: DesiredDoc, name: string): Record<string, unknown> | undefined {
  const secrets = (doc as DesiredStateDocument).secrets as unknown
  if (!isRecordValue(secrets) || !Object.hasOwn(secrets, name)) return undefined
  const entry = secrets[name]
  return isRecordValue(entry) ? entry : undefined
}

function associatedData(name: string): Buffer {
  return Buffer.from(`peer-secret:v1:${name}`, 'utf8')
}
