// The private-network pre-shared key (libp2p pnet): only peers holding the same 32 bytes can complete
// a connection, so it is what keeps strangers out of the cluster. The file format is the one go-ipfs,
// Kubo and js-libp2p share:
//
//     /key/swarm/psk/1.0.0/
//     /base16/
//     <64 hex digits>
//
// @libp2p/pnet's own parser reads only the third line and reports every problem as "invalid psk",
// so this module checks each line itself and says which one is wrong. It hands pnet a canonical copy
// (lowercase hex, `\n` line ends), which the parser of every version accepts.

import { createHash, randomBytes } from 'node:crypto'
import { chmod, open, readFile, stat } from 'node:fs/promises'
import { SetupError } from './errors.js'
import { messageOf } from '../core/index.js'

export const SWARM_KEY_TAG = '/key/swarm/psk/1.0.0/'
export const SWARM_KEY_ENCODING = '/base16/'
export const SWARM_KEY_BYTES = 32

/** A real key file is 95 bytes; this bounds what is read from a wrong path. */
const MAX_SWARM_KEY_FILE_BYTES = 4 * 1024

export interface SwarmKey {
  /** The 32 secret bytes. */
  readonly bytes: Uint8Array
  /** The key in file form, as @libp2p/pnet's preSharedKey({ psk }) takes it. */
  readonly file: Uint8Array
  /** First 8 hex digits of SHA-256 of the key: safe to log, tells two keys apart. */
  readonly fingerprint: string
}

export type SwarmKeyProblem = 'empty' | 'bad-tag' | 'bad-encoding' | 'bad-length' | 'bad-hex' | 'extra-lines'

export type SwarmKeyResult = { ok: true; key: SwarmKey } | { ok: false; problem: SwarmKeyProblem; message: string }

/** A new random key in file form. */
export function generateSwarmKey(): SwarmKey {
  return swarmKeyFromBytes(randomBytes(SWARM_KEY_BYTES))
}

export function swarmKeyFromBytes(bytes: Uint8Array): SwarmKey {
  if (bytes.length !== SWARM_KEY_BYTES) throw new RangeError(`a swarm key is ${SWARM_KEY_BYTES} bytes, got ${bytes.length}`)
  const hex = Buffer.from(bytes).toString('hex')
  return {
    bytes: Uint8Array.from(bytes),
    file: new TextEncoder().encode(`${SWARM_KEY_TAG}\n${SWARM_KEY_ENCODING}\n${hex}\n`),
    fingerprint: createHash('sha256').update(bytes).digest('hex').slice(0, 8),
  }
}

/**
 * Parses a key file's contents. Accepts `\r\n` line ends, surrounding blank space and uppercase hex
 * (hand-edited files); rejects anything else with the line at fault.
 */
export function parseSwarmKey(contents: string | Uint8Array): SwarmKeyResult {
  const text = typeof contents === 'string' ? contents : new TextDecoder().decode(contents)
  const lines = text.trim().split(/\r?\n/).map((line) => line.trim())
  if (lines.length === 1 && lines[0] === '') return problem('empty', 'the file is empty')
  const [tag, encoding, hex, ...rest] = lines
  if (tag !== SWARM_KEY_TAG) return problem('bad-tag', `line 1 must be ${SWARM_KEY_TAG}, got ${quote(tag)}`)
  if (encoding !== SWARM_KEY_ENCODING) {
    return problem('bad-encoding', `line 2 must be ${SWARM_KEY_ENCODING} (the only encoding supported), got ${quote(encoding)}`)
  }
  if (hex === undefined || hex === '') return problem('bad-length', `line 3 must hold the key as ${SWARM_KEY_BYTES * 2} hex digits, but it is missing`)
  // The key line is secret: point at the bad character rather than echo the line.
  const bad = hex.search(/[^0-9a-fA-F]/)
  if (bad >= 0) return problem('bad-hex', `line 3 must hold only hex digits (0-9, a-f); character ${bad + 1} is not one`)
  if (hex.length !== SWARM_KEY_BYTES * 2) {
    return problem('bad-length', `line 3 must hold ${SWARM_KEY_BYTES * 2} hex digits (${SWARM_KEY_BYTES} bytes), got ${hex.length}`)
  }
  if (rest.length > 0) return problem('extra-lines', `the key file has ${rest.length} unexpected line(s) after the key`)
  return { ok: true, key: swarmKeyFromBytes(Buffer.from(hex, 'hex')) }
}

/**
 * Reads and checks a key file. Throws SetupError naming the path: missing, unreadable, readable by
 * other users (the key is the cluster's only admission check), or malformed.
 */
export async function readSwarmKeyFile(path: string): Promise<SwarmKey> {
  let contents: Buffer
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new SetupError('swarm-key-unreadable', `the swarm key ${path} is not a file`)
    if (info.size > MAX_SWARM_KEY_FILE_BYTES) {
      throw new SetupError('swarm-key-invalid', `the swarm key ${path} is ${info.size} bytes; a key file is under 100 bytes`)
    }
    if ((info.mode & 0o077) !== 0) {
      throw new SetupError(
        'swarm-key-too-open',
        `the swarm key ${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      )
    }
    contents = await readFile(path)
  } catch (error) {
    if (error instanceof SetupError) throw error
    if (isCode(error, 'ENOENT')) {
      throw new SetupError('swarm-key-missing', `the swarm key ${path} does not exist; generate one and copy the same file to every peer`)
    }
    throw new SetupError('swarm-key-unreadable', `cannot read the swarm key ${path}: ${reason(error)}`)
  }
  const parsed = parseSwarmKey(contents)
  if (!parsed.ok) throw new SetupError('swarm-key-invalid', `the swarm key ${path} is malformed: ${parsed.message}`)
  return parsed.key
}

/** Writes a new random key to `path` (mode 0600). Refuses to overwrite: replacing a key splits the cluster. */
export async function createSwarmKeyFile(path: string, key: SwarmKey = generateSwarmKey()): Promise<SwarmKey> {
  try {
    const handle = await open(path, 'wx', 0o600)
    try {
      await handle.writeFile(key.file)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await chmod(path, 0o600)
  } catch (error) {
    if (isCode(error, 'EEXIST')) throw new SetupError('swarm-key-exists', `the swarm key ${path} already exists; not overwriting it`)
    throw new SetupError('swarm-key-unreadable', `cannot write the swarm key ${path}: ${reason(error)}`)
  }
  return key
}

function problem(kind: SwarmKeyProblem, message: string): SwarmKeyResult {
  return { ok: false, problem: kind, message }
}

/** Quotes a line for an error message without echoing a long (possibly secret) value in full. */
function quote(line: string | undefined): string {
  if (line === undefined) return 'nothing'
  return JSON.stringify(line.length > 40 ? `${line.slice(0, 12)}…` : line)
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code
}

function reason(error: unknown): string {
  return messageOf(error)
}
